//! Property tests: no JSON, arbitrary or a mutated real payload, makes the event intake panic,
//! and every decision serialises to one line.
use std::{
    fs,
    path::{Path, PathBuf},
};

use proptest::prelude::*;
use reachguard_shared::intake::{self, LoopGuard};
use serde_json::{Map, Value};

const OWN_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/events");

/// The payloads of our own fixtures and, when they are beside the repository, of the team's.
fn real_payloads() -> Vec<Value> {
    let team = reachguard_test_support::shared_folder("fixtures/events");
    [Some(PathBuf::from(OWN_FIXTURES)), team]
        .into_iter()
        .flatten()
        .flat_map(|dir| payloads_in(&dir))
        .collect()
}

/// Keys the intake reads, so arbitrary objects reach its deeper branches.
const KEYS: &[&str] = &[
    "detail-type",
    "source",
    "detail",
    "resources",
    "account",
    "region",
    "id",
    "Records",
    "Events",
    "CloudTrailEvent",
    "eventName",
    "eventSource",
    "errorCode",
    "readOnly",
    "userIdentity",
    "sessionContext",
    "sessionIssuer",
    "arn",
    "requestParameters",
    "responseElements",
    "recipientAccountId",
    "awsRegion",
    "eventID",
    "resourceArn",
    "tags",
    "tagKeys",
    "key",
    "service",
    "serviceName",
    "cluster",
    "serviceArn",
    "item",
    "items",
    "content",
    "vpcId",
    "subnets",
    "tagSet",
];
const STRINGS: &[&str] = &[
    "AWS API Call via CloudTrail",
    "Scheduled Event",
    "aws.events",
    "aws.ecs",
    "aws.ec2",
    "ECS Service Action",
    "SERVICE_TASK_START_IMPAIRED",
    "ec2.amazonaws.com",
    "ecs.amazonaws.com",
    "CreateTags",
    "TagResource",
    "UpdateService",
    "CreateRoute",
    "DescribeVpcs",
    "reachguard:mode",
    "vpc-1",
    "subnet-a",
    "sg-",
    "arn:aws:ecs:r:1:service/c/s",
    "arn:aws:sts::1:assumed-role/ReachguardMember/s",
    "arn:aws:iam::1:role/p/x",
    "",
];

fn guard() -> LoopGuard {
    LoopGuard::from_settings(
        Some("arn:aws:iam::1:role/own"),
        Some("ReachguardMember"),
        Some("arn:aws:iam::1:role/p/*"),
    )
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(STRINGS).prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 8, |inner| {
        let key = prop_oneof![prop::sample::select(KEYS).prop_map(str::to_owned), ".{0,8}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn decide_value(value: Value) {
    let guard = guard();
    if let Ok(events) = intake::decode_value(value) {
        for event in &events {
            let line = serde_json::to_string(&intake::classify(event, &guard));
            assert!(line.is_ok_and(|line| !line.contains('\n')));
        }
    }
}

fn payloads_in(dir: &Path) -> Vec<Value> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| fs::read(entry.path()).ok())
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect()
}

/// A mutation at a node chosen by `path` (each step picks a child modulo the child count).
#[derive(Debug, Clone)]
enum Mutation {
    Drop,
    Replace(Value),
}

fn mutate(value: &mut Value, path: &[usize], mutation: Mutation) {
    let (step, rest) = match path.split_first() {
        Some(split) => split,
        None => {
            if let Mutation::Replace(new) = mutation {
                *value = new;
            }
            return;
        }
    };
    match value {
        Value::Object(members) if !members.is_empty() => {
            let key = members
                .keys()
                .nth(step % members.len())
                .cloned()
                .unwrap_or_default();
            match (rest.is_empty(), &mutation) {
                (true, Mutation::Drop) => {
                    members.remove(&key);
                }
                _ => {
                    if let Some(child) = members.get_mut(&key) {
                        mutate(child, rest, mutation);
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let index = step % items.len();
            match (rest.is_empty(), &mutation) {
                (true, Mutation::Drop) => {
                    items.remove(index);
                }
                _ => {
                    if let Some(child) = items.get_mut(index) {
                        mutate(child, rest, mutation);
                    }
                }
            }
        }
        _ => mutate(value, &[], mutation),
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Drop),
        json_value().prop_map(Mutation::Replace)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        decide_value(value);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = intake::decide(&bytes, &guard());
    }
}

/// The payloads are read once, before the cases (and a missing team folder is reported once).
#[test]
fn mutated_real_payloads_never_panic() {
    let payloads = real_payloads();
    assert!(!payloads.is_empty(), "no fixtures in {OWN_FIXTURES}");
    proptest!(ProptestConfig::with_cases(2000), |(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(
            (prop::collection::vec(any::<usize>(), 0..8), mutation()), 1..6),
    )| {
        let mut payload = pick.get(&payloads).clone();
        for (path, mutation) in mutations {
            mutate(&mut payload, &path, mutation);
            decide_value(payload.clone());
        }
    });
}

#[test]
fn real_payloads_are_found() {
    let own = payloads_in(Path::new(OWN_FIXTURES)).len();
    assert!(own >= 30, "only {own} of our own fixtures found");
    let Some(team) = reachguard_test_support::shared_folder("fixtures/events") else {
        return;
    };
    let team = payloads_in(&team).len();
    assert!(team >= 35, "only {team} team fixtures found");
}
