//! What-if on the bundled examples and on real Terraform plans:
//! - property: the findings `impact` opens (and resolves) for deleting any endpoints, NAT gateways
//!   and route tables equal the difference between `check` on the snapshot and `check` on a
//!   copy with those resources removed by hand (here, on the raw JSON, as AWS would remove them);
//! - every real plan in `../shared/fixtures/terraform/` (read in place) is read without error,
//!   and each resource it changes is either applied or listed as not evaluated.

use std::collections::BTreeSet;

use proptest::prelude::*;
use reachguard_shared::evaluate::evaluate;
use reachguard_shared::model::Topology;
use reachguard_shared::snapshot::Snapshot;
use reachguard_shared::whatif::{self, change::Change};
use serde_json::Value;

const EXAMPLES: [(&str, &str); 3] = [
    (
        "endpoint-only-vpc",
        include_str!("../../../examples/endpoint-only-vpc.json"),
    ),
    (
        "nat-only-vpc",
        include_str!("../../../examples/nat-only-vpc.json"),
    ),
    (
        "broken-vpc",
        include_str!("../../../examples/broken-vpc.json"),
    ),
];

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("a bundled example")
}

fn array<'v>(doc: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    doc.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Every endpoint, NAT gateway and route table id of an example.
fn resources(doc: &Value) -> Vec<String> {
    let ids = |key: &str, id: &str| -> Vec<String> {
        array(doc, key)
            .filter_map(|r| r[id].as_str().map(str::to_string))
            .collect()
    };
    [
        ids("VpcEndpoints", "VpcEndpointId"),
        ids("NatGateways", "NatGatewayId"),
        ids("RouteTables", "RouteTableId"),
    ]
    .concat()
}

fn is_main_table(doc: &Value, id: &str) -> bool {
    array(doc, "RouteTables").any(|t| {
        t["RouteTableId"] == id && array(t, "Associations").any(|a| a["Main"] == Value::Bool(true))
    })
}

fn retain(doc: &mut Value, key: &str, keep: impl Fn(&Value) -> bool) {
    if let Some(items) = doc.get_mut(key).and_then(Value::as_array_mut) {
        items.retain(keep);
    }
}

/// Removes `id` from the raw document the way AWS deletes it.
fn remove_by_hand(doc: &mut Value, id: &str) {
    retain(doc, "VpcEndpoints", |e| e["VpcEndpointId"] != id);
    retain(doc, "NatGateways", |n| n["NatGatewayId"] != id);
    retain(doc, "RouteTables", |t| t["RouteTableId"] != id);
    for endpoint in doc["VpcEndpoints"].as_array_mut().into_iter().flatten() {
        retain(endpoint, "RouteTableIds", |t| t != id);
    }
    for table in doc["RouteTables"].as_array_mut().into_iter().flatten() {
        // A gateway endpoint's prefix-list routes go with it.
        retain(table, "Routes", |r| r["GatewayId"] != id);
        // Routes to a deleted NAT gateway stay, as blackholes.
        for route in table["Routes"].as_array_mut().into_iter().flatten() {
            if route["NatGatewayId"] == id {
                route["State"] = Value::from("blackhole");
            }
        }
    }
}

fn finding_keys(doc: &Value) -> BTreeSet<String> {
    let snapshot = Snapshot::from_json(&doc.to_string()).expect("a snapshot");
    let topology = Topology::from_snapshot(&snapshot).expect("a topology");
    evaluate(&topology)
        .findings
        .iter()
        .map(|f| f.key())
        .collect()
}

/// Every (example, deletable resources) pair.
fn cases() -> Vec<(usize, Vec<String>)> {
    EXAMPLES
        .iter()
        .enumerate()
        .map(|(i, (_, text))| {
            let doc = json(text);
            let ids = resources(&doc)
                .into_iter()
                .filter(|id| !is_main_table(&doc, id))
                .collect();
            (i, ids)
        })
        .collect()
}

fn example_and_deletions() -> impl Strategy<Value = (usize, Vec<String>)> {
    prop::sample::select(cases()).prop_flat_map(|(example, ids)| {
        (
            Just(example),
            prop::sample::subsequence(ids.clone(), 1..=3.min(ids.len())),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn impact_equals_check_with_the_resources_removed_by_hand(
        (example, ids) in example_and_deletions()
    ) {
        let (name, text) = EXAMPLES[example];
        let before_doc = json(text);
        let mut after_doc = before_doc.clone();
        for id in &ids {
            remove_by_hand(&mut after_doc, id);
        }
        let before = finding_keys(&before_doc);
        let after = finding_keys(&after_doc);

        let snapshot = Snapshot::from_json(text).expect("a snapshot");
        let changes: Vec<Change> = ids.iter().cloned().map(Change::Delete).collect();
        let edited = whatif::change::apply(&snapshot, &changes).expect("known ids");
        prop_assert!(edited.not_evaluated.is_empty(), "{name}: {:?}", edited.not_evaluated);
        let impact = whatif::compare(&snapshot, edited).expect("evaluates");

        let opened: BTreeSet<String> = impact.opened.iter().map(|f| f.key()).collect();
        let resolved: BTreeSet<String> = impact.resolved.iter().map(|f| f.key()).collect();
        prop_assert_eq!(&opened, &after.difference(&before).cloned().collect(), "{} {:?}", name, ids);
        prop_assert_eq!(&resolved, &before.difference(&after).cloned().collect(), "{} {:?}", name, ids);
    }
}

#[test]
fn every_endpoint_nat_gateway_and_route_table_alone() {
    for (name, text) in EXAMPLES {
        let doc = json(text);
        let snapshot = Snapshot::from_json(text).expect("a snapshot");
        let before = finding_keys(&doc);
        for id in resources(&doc) {
            let edited = whatif::change::apply(&snapshot, &[Change::Delete(id.clone())])
                .unwrap_or_else(|e| panic!("{name} {id}: {e}"));
            let impact = whatif::compare(&snapshot, edited).expect("evaluates");
            let opened: BTreeSet<String> = impact.opened.iter().map(|f| f.key()).collect();
            if is_main_table(&doc, &id) {
                // A main route table cannot be deleted: reported, nothing simulated.
                assert_eq!(impact.not_evaluated.len(), 1, "{name} {id}");
                assert!(
                    opened.is_empty() && impact.resolved.is_empty(),
                    "{name} {id}"
                );
                continue;
            }
            let mut after_doc = doc.clone();
            remove_by_hand(&mut after_doc, &id);
            let after = finding_keys(&after_doc);
            assert_eq!(
                opened,
                after.difference(&before).cloned().collect(),
                "{name} {id}"
            );
        }
    }
}

#[test]
fn unknown_ids_are_errors_naming_them() {
    let snapshot = Snapshot::from_json(EXAMPLES[0].1).expect("a snapshot");
    for id in [
        "vpce-0000",
        "rtb-0c4e1a7b2d3f50011:10.9.9.0/24",
        "sg-0c4e1a7b2d3f50e01:ingress:99",
    ] {
        let error = whatif::change::apply(&snapshot, &[Change::Delete(id.into())])
            .expect_err(id)
            .to_string();
        assert!(error.contains(id), "{error}");
    }
}

/// Every managed resource a plan changes (not `no-op` / `read`), by address.
fn changed_addresses(plan: &Value) -> BTreeSet<String> {
    array(plan, "resource_changes")
        .filter(|c| c["mode"] != "data")
        .filter(|c| {
            let actions = &c["change"]["actions"];
            actions != &serde_json::json!(["no-op"]) && actions != &serde_json::json!(["read"])
        })
        .filter_map(|c| c["address"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn real_plans_are_read_and_every_change_is_accounted_for() {
    // The team's real plans, beside the repository (never copied into it).
    let Some(dir) = reachguard_test_support::shared_folder("fixtures/terraform") else {
        return;
    };
    let snapshot = Snapshot::from_json(EXAMPLES[2].1).expect("a snapshot");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("a readable folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no plan in {}", dir.display());
    for path in files {
        let name = path.display();
        let text = std::fs::read_to_string(&path).expect("a readable plan");
        let edited =
            whatif::terraform::apply(&snapshot, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut seen: Vec<String> = edited
            .applied
            .iter()
            .map(|a| {
                a.split_once(' ')
                    .map_or(a.clone(), |(_, address)| address.to_string())
            })
            .chain(edited.not_evaluated.iter().map(|n| n.resource.clone()))
            .collect();
        let count = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), count, "{name}: a resource is listed twice");
        let expected = changed_addresses(&serde_json::from_str(&text).expect("JSON"));
        assert_eq!(
            seen.into_iter().collect::<BTreeSet<_>>(),
            expected,
            "{name}: applied or not evaluated must cover every change"
        );
        assert!(
            edited.not_evaluated.iter().all(|n| !n.reason.is_empty()),
            "{name}"
        );
        whatif::compare(&snapshot, edited).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
