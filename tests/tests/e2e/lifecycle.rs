//! The finding lifecycle against moto's DynamoDB: findings are announced when they open, resolve
//! or are due a reminder — never twice, never outside the evaluated scope, and exactly once when
//! two evaluations race. The findings come from evaluating the bundled example snapshots.

use std::collections::BTreeSet;

use reachguard_shared::aws::StateTable;
use reachguard_shared::evaluate::evaluate_with_suppressed;
use reachguard_shared::finding::Finding;
use reachguard_shared::lifecycle::{EvaluatedScope, Lease};
use reachguard_shared::model::Topology;
use reachguard_shared::notification::Status;
use reachguard_shared::snapshot::Snapshot;
use reachguard_tests::Account;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

async fn table(account: &Account) -> StateTable {
    account.create_state_table("reachguard-state").await;
    let state = StateTable::new(&account.config, "reachguard-state");
    state.check().await.expect("the new table is reachable");
    state
}

fn example(name: &str) -> Snapshot {
    let path = format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    Snapshot::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Evaluates a snapshot: (current findings, suppressed findings).
fn findings(doc: &Snapshot) -> (Vec<Finding>, Vec<Finding>) {
    let (report, suppressed) = evaluate_with_suppressed(&Topology::from_snapshot(doc).unwrap());
    (report.findings, suppressed)
}

/// A lease of its own for each evaluation, valid for a minute after `now`.
fn lease(now: i64) -> Lease {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Lease {
        claim: format!("claim-{n}"),
        until: now + 60,
    }
}

fn scope(vpcs: &[&str]) -> EvaluatedScope {
    EvaluatedScope {
        account: "111122223333".into(),
        region: "us-east-1".into(),
        vpcs: vpcs.iter().map(|v| v.to_string()).collect(),
        measured: true,
        held: Default::default(),
    }
}

/// Records an evaluation, marks what it claimed announced, and returns the announced
/// (status, rule) pairs.
async fn record(
    state: &StateTable,
    scope: &EvaluatedScope,
    doc: &Snapshot,
    now: i64,
) -> Vec<(Status, String)> {
    let (current, suppressed) = findings(doc);
    let claim = state
        .transitions(scope, &current, &suppressed, now, DAY, &lease(now))
        .await
        .expect("transitions");
    state
        .announced(&claim, claim.findings())
        .await
        .expect("marked announced");
    claim
        .transitions
        .into_iter()
        .map(|t| (t.status, t.finding.rule.as_str().to_string()))
        .collect()
}

const NAT_VPC: &str = "vpc-0a5d2e8c1b4f60001";

#[tokio::test]
async fn break_unrelated_fix_break_again() {
    let account = Account::new().await;
    let state = table(&account).await;
    let vpc = scope(&[NAT_VPC]);
    let broken = example("nat-only-vpc.json");

    let opened = record(&state, &vpc, &broken, 0).await;
    assert_eq!(opened.len(), 9, "{opened:?}");
    assert!(opened.iter().all(|(s, _)| *s == Status::Opened));

    let mut unrelated = broken.clone();
    unrelated.vpcs[0]
        .tags
        .push(reachguard_shared::snapshot::Tag {
            key: "CostCenter".into(),
            value: "42".into(),
        });
    assert_eq!(
        record(&state, &vpc, &unrelated, HOUR).await,
        [],
        "an unrelated change sends nothing"
    );
    assert_eq!(
        record(&state, &vpc, &unrelated, HOUR).await,
        [],
        "a retried invocation repeats nothing"
    );

    let mut fixed = broken.clone();
    fixed.nat_gateways[0].availability_mode = Some("regional".into());
    assert_eq!(
        record(&state, &vpc, &fixed, 2 * HOUR).await,
        [(Status::Resolved, "nat-single-az".to_string())]
    );

    assert_eq!(
        record(&state, &vpc, &broken, 3 * HOUR).await,
        [(Status::Opened, "nat-single-az".to_string())],
        "broken again"
    );
}

#[tokio::test]
async fn reminders_after_the_interval() {
    let account = Account::new().await;
    let state = table(&account).await;
    let vpc = scope(&[NAT_VPC]);
    let doc = example("nat-only-vpc.json");
    record(&state, &vpc, &doc, 0).await;
    assert_eq!(record(&state, &vpc, &doc, DAY - 1).await, []);
    let reminders = record(&state, &vpc, &doc, DAY).await;
    assert_eq!(reminders.len(), 9);
    assert!(reminders.iter().all(|(s, _)| *s == Status::Reminder));
    assert_eq!(record(&state, &vpc, &doc, DAY + HOUR).await, []);
}

#[tokio::test]
async fn concurrent_evaluations_notify_once() {
    let account = Account::new().await;
    let state = table(&account).await;
    let vpc = scope(&[NAT_VPC]);
    let doc = example("nat-only-vpc.json");
    let (a, b) = tokio::join!(record(&state, &vpc, &doc, 0), record(&state, &vpc, &doc, 0));
    let mut rules: Vec<String> = a.iter().chain(&b).map(|(_, rule)| rule.clone()).collect();
    assert_eq!(
        rules.len(),
        9,
        "each transition announced by exactly one invocation: {a:?} {b:?}"
    );
    rules.sort();
    assert_eq!(
        rules.iter().collect::<BTreeSet<_>>().len(),
        6,
        "nine findings of six rules"
    );
}

#[tokio::test]
async fn evaluating_one_vpc_never_resolves_another() {
    let account = Account::new().await;
    let state = table(&account).await;
    let both = scope(&["vpc-0b7f3c9d2e1a80001", "vpc-0b7f3c9d2e1a80002"]);
    let doc = example("broken-vpc.json");
    assert_eq!(record(&state, &both, &doc, 0).await.len(), 22);

    // Only the checkout VPC is evaluated, and it is fixed: nothing fires there any more.
    let mut checkout_fixed = doc.clone();
    checkout_fixed
        .services
        .retain(|s| s.service_arn.ends_with("/billing"));
    let resolved = record(
        &state,
        &scope(&["vpc-0b7f3c9d2e1a80001"]),
        &checkout_fixed,
        HOUR,
    )
    .await;
    assert_eq!(resolved.len(), 15, "{resolved:?}");
    assert!(resolved.iter().all(|(s, _)| *s == Status::Resolved));
    assert_eq!(
        record(&state, &both, &doc, 2 * HOUR).await.len(),
        15,
        "the billing VPC's 7 stayed open: only checkout's reopen"
    );
}

#[tokio::test]
async fn exempt_tags_silence_and_deleted_services_resolve() {
    let account = Account::new().await;
    let state = table(&account).await;
    let vpc = scope(&[NAT_VPC]);
    let doc = example("nat-only-vpc.json");
    record(&state, &vpc, &doc, 0).await;
    let mut exempt = doc.clone();
    exempt.nat_gateways[0]
        .tags
        .push(reachguard_shared::snapshot::Tag {
            key: "reachguard:exempt".into(),
            value: "nat-single-az".into(),
        });
    assert_eq!(
        record(&state, &vpc, &exempt, HOUR).await,
        [],
        "suppressed, not resolved"
    );

    let broken = example("broken-vpc.json");
    let both = scope(&["vpc-0b7f3c9d2e1a80001", "vpc-0b7f3c9d2e1a80002"]);
    record(&state, &both, &broken, 0).await;
    let service = "arn:aws:ecs:us-east-1:111122223333:service/prod/checkout";
    let naming = findings(&broken)
        .0
        .into_iter()
        .filter(|f| f.service.as_deref() == Some(service))
        .count();
    let claim = state
        .resolve_service(
            "111122223333",
            "us-east-1",
            service,
            2 * HOUR,
            &lease(2 * HOUR),
        )
        .await
        .unwrap();
    state.announced(&claim, claim.findings()).await.unwrap();
    let resolved = claim.transitions;
    assert_eq!(
        resolved.len(),
        naming,
        "every open finding that names the service"
    );
    assert!(naming >= 8, "checkout's unreachable dependencies at least");
    assert!(
        resolved
            .iter()
            .all(|t| t.status == Status::Resolved && t.finding.service.as_deref() == Some(service))
    );
    assert!(
        resolved
            .iter()
            .all(|t| t.finding.message.contains("was deleted"))
    );
    assert!(
        state
            .resolve_service(
                "111122223333",
                "us-east-1",
                service,
                3 * HOUR,
                &lease(3 * HOUR)
            )
            .await
            .unwrap()
            .transitions
            .is_empty(),
        "once"
    );
}

#[tokio::test]
async fn an_unreachable_table_fails_the_check() {
    let account = Account::new().await;
    let missing = StateTable::new(&account.config, "no-such-table");
    let err = missing.check().await.unwrap_err().to_string();
    assert!(
        err.starts_with("DescribeTable: ResourceNotFoundException"),
        "{err}"
    );
}

#[tokio::test]
async fn a_released_claim_is_announced_again() {
    let account = Account::new().await;
    let state = table(&account).await;
    let vpc = scope(&[NAT_VPC]);
    let doc = example("nat-only-vpc.json");
    let (current, suppressed) = findings(&doc);
    let first = state
        .transitions(&vpc, &current, &suppressed, 0, DAY, &lease(0))
        .await
        .unwrap();
    assert_eq!(first.transitions.len(), 9);
    // Publishing failed: the retry must announce the same transitions.
    state.release(&first, first.findings()).await.unwrap();
    assert_eq!(
        record(&state, &vpc, &doc, 60).await.len(),
        9,
        "announced again after release"
    );
    assert_eq!(
        record(&state, &vpc, &doc, 120).await,
        [],
        "and then only once"
    );

    let mut fixed = doc.clone();
    fixed.nat_gateways[0].availability_mode = Some("regional".into());
    let (current, suppressed) = findings(&fixed);
    let resolved = state
        .transitions(&vpc, &current, &suppressed, HOUR, DAY, &lease(HOUR))
        .await
        .unwrap();
    assert_eq!(resolved.transitions.len(), 1);
    state.release(&resolved, resolved.findings()).await.unwrap();
    assert_eq!(
        record(&state, &vpc, &fixed, 2 * HOUR).await,
        [(Status::Resolved, "nat-single-az".to_string())],
        "a released resolution too"
    );
}

#[tokio::test]
async fn remediation_attempts_are_recorded_on_the_finding() {
    let account = Account::new().await;
    let state = table(&account).await;
    let vpc = scope(&[NAT_VPC]);
    let doc = example("nat-only-vpc.json");
    record(&state, &vpc, &doc, 0).await;
    let (current, _) = findings(&doc);
    let finding = current.iter().find(|f| !f.remediation.is_empty()).unwrap();
    let partition = vpc.partition(&finding.vpc);
    for t in [10, 20, 30] {
        state
            .record_attempt(
                &partition,
                &finding.key(),
                t,
                Err("UnauthorizedOperation".into()),
                false,
            )
            .await
            .unwrap();
    }
    let stored = state
        .record(&partition, &finding.key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.attempts, [10, 20, 30]);
    assert_eq!(
        stored.last_outcome.as_deref(),
        Some("UnauthorizedOperation")
    );
    assert!(!stored.may_attempt(
        40,
        reachguard_shared::lifecycle::DEFAULT_MAX_ATTEMPTS_PER_DAY
    ));
    assert_eq!(
        record(&state, &vpc, &doc, HOUR).await,
        [],
        "bookkeeping announces nothing"
    );
}
