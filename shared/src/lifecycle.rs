//! The finding lifecycle: which findings opened, were resolved, or deserve a reminder since the
//! last evaluation, and the remediation bookkeeping that keeps retries from repeating themselves.
//!
//! Pure: [`reconcile`] compares the stored [`Record`]s of an evaluated scope with the current
//! findings at an injected time and returns the [`Update`]s to write. The store
//! (`aws::state`, DynamoDB) writes each update conditionally on the version it read, and only the
//! transitions whose write succeeded are notified, so two concurrent evaluations of one VPC never
//! announce the same transition twice.
//!
//! **Durable announcement.** A transition is recorded on its record as [`Pending`], held by the
//! [`Lease`] of the evaluation that found it (a claim id and an expiry: the invocation's
//! deadline), and removed only once SNS accepted the message that carries it
//! ([`Record::announced`]). A pending transition whose lease expired (its invocation died, or gave
//! it back with [`Record::release`]) is taken over by the next evaluation of its VPC, so a claimed
//! transition is announced at least once, and exactly once unless an invocation outlives its own
//! deadline.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::names::public_names;
use crate::notification::{Status, Transition};

/// Re-notify a finding still open after this many hours unless configured otherwise.
pub const DEFAULT_REMINDER_HOURS: u32 = 24;
/// At most this many remediation attempts per finding per day unless configured otherwise.
pub const DEFAULT_MAX_ATTEMPTS_PER_DAY: usize = 3;
/// Resolved records expire (DynamoDB TTL) this long after resolution.
pub const RESOLVED_RETENTION_SECS: i64 = 30 * 24 * 3600;
const DAY_SECS: i64 = 24 * 3600;

/// A stored finding's state.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum State {
    /// Firing, announced.
    Open,
    /// No longer firing.
    Resolved,
    /// Firing but exempted by a `reachguard:exempt` tag.
    Suppressed,
}

public_names!(State, "finding state");

/// One finding's stored lifecycle (one item of the state table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `<account>#<region>#<vpc>`: one query loads a VPC's records.
    pub partition: String,
    /// The finding's identity ([`Finding::key`]: rule and subject).
    pub key: String,
    /// Current state.
    pub state: State,
    /// First time it fired (this opening).
    pub first_seen: i64,
    /// Last evaluation that saw it firing.
    pub last_seen: i64,
    /// Last notification about it.
    pub last_notified: Option<i64>,
    /// When it was resolved; the TTL is derived from it.
    pub resolved_at: Option<i64>,
    /// Remediation attempts in the last day (epoch seconds).
    pub attempts: Vec<i64>,
    /// Outcome of the last remediation attempt (`applied`, or the error).
    pub last_outcome: Option<String>,
    /// The last failure was already notified.
    pub failure_reported: bool,
    /// The last remediation attempt failed transiently (throttling, 5xx, timeout): while the
    /// finding is open, every evaluation tries its plan again, within the daily attempt limit.
    #[serde(default)]
    pub remediation_due: bool,
    /// The finding as last seen.
    pub finding: Finding,
    /// Optimistic-concurrency version; 0 for a record never stored.
    pub version: u64,
    /// Transitions recorded but not yet accepted by SNS, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Pending>,
}

/// Who announces a pending transition, and until when: the evaluation's claim id and the epoch
/// second its invocation ends (Lambda stops it by then, so an expired lease is an abandoned one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Unique per evaluation.
    pub claim: String,
    /// The lease expires at this epoch second.
    pub until: i64,
}

/// A transition recorded on its finding's record and not yet announced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The evaluation announcing it.
    pub lease: Lease,
    /// What to announce.
    pub transition: Transition,
}

impl Record {
    /// When the store should expire the record (resolved records only).
    pub fn expires_at(&self) -> Option<i64> {
        self.resolved_at.map(|t| t + RESOLVED_RETENTION_SECS)
    }

    /// True when another remediation attempt is allowed (fewer than `max_per_day` in 24 h).
    pub fn may_attempt(&self, now: i64, max_per_day: usize) -> bool {
        self.attempts
            .iter()
            .filter(|&&t| now - t < DAY_SECS)
            .count()
            < max_per_day
    }

    /// The pending transitions `claim` holds.
    pub fn held_by<'a>(&'a self, claim: &'a str) -> impl Iterator<Item = &'a Transition> + 'a {
        self.pending
            .iter()
            .filter(move |p| p.lease.claim == claim)
            .map(|p| &p.transition)
    }

    /// Moves the pending transitions whose lease expired at `now` to `lease`.
    pub fn take_over(&mut self, lease: &Lease, now: i64) {
        for pending in self.pending.iter_mut().filter(|p| p.lease.until <= now) {
            pending.lease = lease.clone();
        }
    }

    /// Forgets the transitions `claim` holds: SNS accepted them. Returns whether any were held.
    pub fn announced(&mut self, claim: &str) -> bool {
        let before = self.pending.len();
        self.pending.retain(|p| p.lease.claim != claim);
        self.pending.len() != before
    }

    /// Gives the transitions `claim` holds back (their lease expires now), so that the next
    /// evaluation announces them. Returns whether any were held.
    pub fn release(&mut self, claim: &str) -> bool {
        let mut released = false;
        for pending in self.pending.iter_mut().filter(|p| p.lease.claim == claim) {
            pending.lease.until = 0;
            released = true;
        }
        released
    }

    /// Replaces the transitions `lease` holds with `transitions` (what remediation made of them).
    pub fn settle(&mut self, lease: &Lease, transitions: &[Transition]) {
        self.pending.retain(|p| p.lease.claim != lease.claim);
        self.pending
            .extend(transitions.iter().map(|transition| Pending {
                lease: lease.clone(),
                transition: transition.clone(),
            }));
    }

    /// Records an attempt's outcome. Returns true when it should be notified: always for a
    /// success, once for a failure (until an attempt succeeds or fails differently).
    pub fn record_attempt(&mut self, now: i64, outcome: Result<(), String>) -> bool {
        self.attempts.retain(|&t| now - t < DAY_SECS);
        self.attempts.push(now);
        match outcome {
            Ok(()) => {
                self.last_outcome = Some("applied".to_string());
                self.failure_reported = false;
                true
            }
            Err(error) => {
                let repeated =
                    self.failure_reported && self.last_outcome.as_deref() == Some(&error);
                self.last_outcome = Some(error);
                self.failure_reported = true;
                !repeated
            }
        }
    }
}

/// The account, region and VPCs one evaluation covered: only their records may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedScope {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The VPCs evaluated (whole).
    pub vpcs: BTreeSet<String>,
    /// False when the NAT gateway metrics could not be read: the measured rules' open findings
    /// then stay as they are (neither resolved nor re-announced) instead of being resolved for
    /// lack of figures.
    pub measured: bool,
    /// The keys of the findings held back because they depend only on resources still
    /// `pending`/`deleting` (`crate::settling`): their records stay as they are (an open one is
    /// neither resolved nor re-announced, a new one is not opened) until the re-evaluation.
    pub held: BTreeSet<String>,
}

impl EvaluatedScope {
    /// The partition key of one VPC's records.
    pub fn partition(&self, vpc: &str) -> String {
        partition(&self.account, &self.region, vpc)
    }

    /// Every partition of the scope.
    pub fn partitions(&self) -> Vec<String> {
        self.vpcs.iter().map(|v| self.partition(v)).collect()
    }
}

/// `<account>#<region>#<vpc>`.
pub fn partition(account: &str, region: &str, vpc: &str) -> String {
    format!("{account}#{region}#{vpc}")
}

/// A record to write, conditional on the version read (its pending transitions say what it
/// announces).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The new record (its `version` is the one to write).
    pub record: Record,
    /// The version the write is conditional on (0: the record must not exist yet).
    pub expected_version: u64,
}

fn transition(status: Status, finding: &Finding) -> Transition {
    Transition {
        status,
        finding: finding.clone(),
        remediation: None,
    }
}

/// The evaluation's claim and clock, which every update of [`reconcile`] carries.
struct Claiming<'a> {
    lease: &'a Lease,
    now: i64,
}

impl Claiming<'_> {
    /// The update from `previous` to `record`: the abandoned pending transitions taken over, the
    /// new one (if any) added, both held by the lease.
    fn next(
        &self,
        previous: Option<&Record>,
        mut record: Record,
        transition: Option<Transition>,
    ) -> Update {
        let expected_version = previous.map_or(0, |p| p.version);
        record.take_over(self.lease, self.now);
        if let Some(transition) = transition {
            record.pending.push(Pending {
                lease: self.lease.clone(),
                transition,
            });
        }
        Update {
            record: Record {
                version: expected_version + 1,
                ..record
            },
            expected_version,
        }
    }
}

/// Compares the stored records of `scope` with the current findings (and those suppressed by
/// tags) at time `now`, and returns the writes and transitions. Records outside the scope are
/// never touched. `reminder_secs`: re-announce a finding open at least this long since its last
/// notification. Every transition, new or abandoned by an earlier evaluation (its lease
/// expired), is recorded as pending under `lease`.
pub fn reconcile(
    scope: &EvaluatedScope,
    previous: &[Record],
    current: &[Finding],
    suppressed: &[Finding],
    now: i64,
    reminder_secs: i64,
    lease: &Lease,
) -> Vec<Update> {
    let claiming = Claiming { lease, now };
    let next = |previous, record, transition| claiming.next(previous, record, transition);
    let partitions: BTreeSet<String> = scope.partitions().into_iter().collect();
    let stored: BTreeMap<(&str, &str), &Record> = previous
        .iter()
        .filter(|r| partitions.contains(&r.partition))
        .map(|r| ((r.partition.as_str(), r.key.as_str()), r))
        .collect();
    let mut updates = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (finding, exempt) in current
        .iter()
        .map(|f| (f, false))
        .chain(suppressed.iter().map(|f| (f, true)))
    {
        if !scope.vpcs.contains(&finding.vpc) {
            continue;
        }
        let partition = scope.partition(&finding.vpc);
        let key = finding.key();
        let old = stored.get(&(partition.as_str(), key.as_str())).copied();
        seen.insert((partition.clone(), key.clone()));
        let fresh = || Record {
            partition: partition.clone(),
            key: key.clone(),
            state: State::Open,
            first_seen: now,
            last_seen: now,
            last_notified: None,
            resolved_at: None,
            attempts: Vec::new(),
            last_outcome: None,
            failure_reported: false,
            remediation_due: false,
            finding: finding.clone(),
            version: 0,
            pending: Vec::new(),
        };
        let base = match old {
            Some(r) if r.state != State::Resolved => Record {
                last_seen: now,
                finding: finding.clone(),
                ..r.clone()
            },
            Some(r) => Record {
                version: r.version,
                attempts: r.attempts.clone(),
                pending: r.pending.clone(),
                ..fresh()
            },
            None => fresh(),
        };
        let update = match (exempt, old.map(|r| r.state)) {
            (true, _) => next(
                old,
                Record {
                    state: State::Suppressed,
                    ..base
                },
                None,
            ),
            (false, Some(State::Open)) => {
                let due = base.last_notified.is_none_or(|t| now - t >= reminder_secs);
                if due {
                    let t = transition(Status::Reminder, finding);
                    next(
                        old,
                        Record {
                            last_notified: Some(now),
                            ..base
                        },
                        Some(t),
                    )
                } else {
                    next(old, base, None)
                }
            }
            (false, _) => {
                let t = transition(Status::Opened, finding);
                let record = Record {
                    state: State::Open,
                    last_notified: Some(now),
                    resolved_at: None,
                    ..base
                };
                next(old, record, Some(t))
            }
        };
        updates.push(update);
    }
    for record in stored.values() {
        let unknown = (!scope.measured && record.finding.rule.is_measured())
            || scope.held.contains(&record.key);
        let quiet = record.state == State::Resolved
            || unknown
            || seen.contains(&(record.partition.clone(), record.key.clone()));
        if quiet {
            let abandoned = record.pending.iter().any(|p| p.lease.until <= now);
            if abandoned && !seen.contains(&(record.partition.clone(), record.key.clone())) {
                updates.push(next(Some(record), (*record).clone(), None));
            }
            continue;
        }
        let announced = record.state == State::Open;
        let resolved = Record {
            state: State::Resolved,
            resolved_at: Some(now),
            last_notified: if announced {
                Some(now)
            } else {
                record.last_notified
            },
            ..(*record).clone()
        };
        let t = announced.then(|| transition(Status::Resolved, &record.finding));
        updates.push(next(Some(record), resolved, t));
    }
    updates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule_id::RuleId;

    const HOUR: i64 = 3600;

    fn finding(vpc: &str, endpoint: &str) -> Finding {
        let mut f = Finding::new(
            RuleId::EndpointPrivateDnsDisabled,
            Some("111122223333"),
            "us-east-1",
            vpc,
        );
        f.endpoint = Some(endpoint.to_string());
        f.message = format!("{endpoint} has private DNS disabled");
        f
    }

    fn scope(vpcs: &[&str]) -> EvaluatedScope {
        EvaluatedScope {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            vpcs: vpcs.iter().map(|v| v.to_string()).collect(),
            measured: true,
            held: BTreeSet::new(),
        }
    }

    #[test]
    fn without_metrics_measured_findings_stay_open_and_the_others_resolve() {
        let mut store = Vec::new();
        let vpc = scope(&["vpc-a"]);
        let mut drops = Finding::new(
            RuleId::NatPacketDrops,
            Some("111122223333"),
            "us-east-1",
            "vpc-a",
        );
        drops.nat_gateway = Some("nat-1".into());
        let both = [finding("vpc-a", "vpce-1"), drops];
        assert_eq!(step(&mut store, &vpc, &both, &[], 0).len(), 2);
        let unmeasured = EvaluatedScope {
            measured: false,
            ..vpc.clone()
        };
        assert_eq!(
            step(&mut store, &unmeasured, &[], &[], HOUR),
            [(Status::Resolved, "vpce-1".to_string())],
            "CloudWatch failed: the drops are unknown, not resolved"
        );
        assert_eq!(
            step(&mut store, &vpc, &[], &[], 2 * HOUR),
            [(Status::Resolved, String::new())],
            "metrics back without drops: resolved (`step` reports the endpoint, which it has none of)"
        );
    }

    #[test]
    fn a_held_back_finding_is_neither_resolved_nor_opened() {
        let mut store = Vec::new();
        let vpc = scope(&["vpc-a"]);
        let open = finding("vpc-a", "vpce-1");
        let held = EvaluatedScope {
            held: [open.key(), finding("vpc-a", "vpce-2").key()].into(),
            ..vpc.clone()
        };
        assert_eq!(step(&mut store, &vpc, &[open], &[], 0).len(), 1);
        assert_eq!(
            step(&mut store, &held, &[], &[], HOUR),
            [],
            "vpce-1 held back: still open, not resolved; vpce-2 held back: not opened"
        );
        assert_eq!(
            step(&mut store, &vpc, &[], &[], 2 * HOUR),
            [(Status::Resolved, "vpce-1".to_string())],
            "settled without it: resolved once"
        );
    }

    fn lease(claim: &str, until: i64) -> Lease {
        Lease {
            claim: claim.into(),
            until,
        }
    }

    /// Writes `record` into the in-memory store as the DynamoDB store's conditional put does:
    /// asserts that the stored version (0 for none) is `expected_version`.
    fn put_if_version(store: &mut Vec<Record>, record: Record, expected_version: u64) {
        let existing = store
            .iter()
            .position(|r| r.partition == record.partition && r.key == record.key);
        assert_eq!(existing.map_or(0, |i| store[i].version), expected_version);
        match existing {
            Some(i) => store[i] = record,
            None => store.push(record),
        }
    }

    /// Applies `reconcile` to an in-memory store the way the DynamoDB store does (conditional on
    /// the version) under `lease`, and returns the pending transitions the lease holds, without
    /// announcing them.
    fn claim(
        store: &mut Vec<Record>,
        scope: &EvaluatedScope,
        current: &[Finding],
        now: i64,
        lease: &Lease,
    ) -> Vec<(Status, String)> {
        for u in reconcile(scope, store, current, &[], now, 24 * HOUR, lease) {
            put_if_version(store, u.record, u.expected_version);
        }
        store
            .iter()
            .flat_map(|r| r.held_by(&lease.claim))
            .map(|t| (t.status, t.finding.endpoint.clone().unwrap_or_default()))
            .collect()
    }

    /// One evaluation that announces what it claims: applies `reconcile` as the DynamoDB store
    /// does and returns the statuses announced.
    fn step(
        store: &mut Vec<Record>,
        scope: &EvaluatedScope,
        current: &[Finding],
        suppressed: &[Finding],
        now: i64,
    ) -> Vec<(Status, String)> {
        let lease = lease(&format!("claim-{now}"), now + 60);
        let updates = reconcile(scope, store, current, suppressed, now, 24 * HOUR, &lease);
        let mut announced = Vec::new();
        for u in updates {
            let mut record = u.record;
            for t in record.held_by(&lease.claim) {
                announced.push((t.status, t.finding.endpoint.clone().unwrap_or_default()));
            }
            record.announced(&lease.claim);
            put_if_version(store, record, u.expected_version);
        }
        announced
    }

    #[test]
    fn a_claimed_transition_is_announced_by_whoever_finds_it_abandoned() {
        let vpc = scope(&["vpc-a"]);
        let broken = [finding("vpc-a", "vpce-1")];
        let opened = vec![(Status::Opened, "vpce-1".to_string())];
        let released: fn(&mut Vec<Record>) = |store| {
            store[0].release("first");
        };
        // (case, what happens after the first claim, when the second evaluates, taken over)
        let cases = [
            (
                "the claimant is still within its deadline: left to it",
                None,
                30,
                false,
            ),
            ("its deadline passed (it died): taken over", None, 61, true),
            (
                "it gave the claim back (publish failed): taken over at once",
                Some(released),
                30,
                true,
            ),
        ];
        for (case, between, at, taken) in cases {
            let mut store = Vec::new();
            assert_eq!(
                claim(&mut store, &vpc, &broken, 0, &lease("first", 60)),
                opened,
                "{case}"
            );
            if let Some(between) = between {
                between(&mut store);
            }
            let expected = if taken { opened.clone() } else { Vec::new() };
            assert_eq!(
                claim(&mut store, &vpc, &broken, at, &lease("second", at + 60)),
                expected,
                "{case}"
            );
            assert_eq!(store[0].pending.len(), 1, "{case}: never recorded twice");
        }
    }

    #[test]
    fn an_unannounced_opening_and_its_resolution_are_both_announced() {
        let vpc = scope(&["vpc-a"]);
        let mut store = Vec::new();
        claim(
            &mut store,
            &vpc,
            &[finding("vpc-a", "vpce-1")],
            0,
            &lease("first", 60),
        );
        store[0].release("first");
        assert_eq!(
            step(&mut store, &vpc, &[], &[], 10),
            [
                (Status::Opened, "vpce-1".to_string()),
                (Status::Resolved, "vpce-1".to_string())
            ]
        );
        assert!(store[0].pending.is_empty());
        assert_eq!(step(&mut store, &vpc, &[], &[], 20), [], "then nothing");
    }

    #[test]
    fn settling_replaces_only_the_claims_own_transitions() {
        let vpc = scope(&["vpc-a"]);
        let mut store = Vec::new();
        let (first, second) = (lease("first", 60), lease("second", 60));
        claim(&mut store, &vpc, &[finding("vpc-a", "vpce-1")], 0, &first);
        claim(&mut store, &vpc, &[], 1, &second);
        let mut remediated = store[0].pending[1].transition.clone();
        remediated.status = Status::Remediated;
        store[0].settle(&second, std::slice::from_ref(&remediated));
        let held: Vec<(&str, Status)> = store[0]
            .pending
            .iter()
            .map(|p| (p.lease.claim.as_str(), p.transition.status))
            .collect();
        assert_eq!(
            held,
            [("first", Status::Opened), ("second", Status::Remediated)]
        );
        assert!(store[0].announced("first"));
        assert!(!store[0].announced("first"), "once");
    }

    #[test]
    fn a_finding_is_announced_when_it_opens_resolves_and_reopens() {
        let mut store = Vec::new();
        let vpc = scope(&["vpc-a"]);
        let broken = [finding("vpc-a", "vpce-1")];
        assert_eq!(
            step(&mut store, &vpc, &broken, &[], 0),
            [(Status::Opened, "vpce-1".to_string())],
            "break: notify once"
        );
        assert_eq!(
            step(&mut store, &vpc, &broken, &[], HOUR),
            [],
            "unrelated change: nothing"
        );
        assert_eq!(
            step(&mut store, &vpc, &broken, &[], 2 * HOUR),
            [],
            "retry: nothing"
        );
        assert_eq!(
            step(&mut store, &vpc, &[], &[], 3 * HOUR),
            [(Status::Resolved, "vpce-1".to_string())],
            "fix: one resolved notice"
        );
        assert_eq!(
            step(&mut store, &vpc, &[], &[], 4 * HOUR),
            [],
            "still fixed: nothing"
        );
        assert_eq!(
            store[0].expires_at(),
            Some(3 * HOUR + RESOLVED_RETENTION_SECS)
        );
        assert_eq!(
            step(&mut store, &vpc, &broken, &[], 5 * HOUR),
            [(Status::Opened, "vpce-1".to_string())],
            "break again: notify"
        );
        assert_eq!(store[0].first_seen, 5 * HOUR);
        assert_eq!(store[0].expires_at(), None);
    }

    #[test]
    fn reminders_follow_the_interval() {
        let mut store = Vec::new();
        let vpc = scope(&["vpc-a"]);
        let broken = [finding("vpc-a", "vpce-1")];
        step(&mut store, &vpc, &broken, &[], 0);
        assert_eq!(step(&mut store, &vpc, &broken, &[], 24 * HOUR - 1), []);
        assert_eq!(
            step(&mut store, &vpc, &broken, &[], 24 * HOUR),
            [(Status::Reminder, "vpce-1".to_string())]
        );
        assert_eq!(
            step(&mut store, &vpc, &broken, &[], 30 * HOUR),
            [],
            "the reminder restarts the interval"
        );
        assert_eq!(store[0].first_seen, 0, "a reminder is not a new opening");
    }

    #[test]
    fn evaluating_one_vpc_never_touches_another() {
        let mut store = Vec::new();
        step(
            &mut store,
            &scope(&["vpc-a", "vpc-b"]),
            &[finding("vpc-a", "vpce-a"), finding("vpc-b", "vpce-b")],
            &[],
            0,
        );
        assert_eq!(
            step(&mut store, &scope(&["vpc-a"]), &[], &[], HOUR),
            [(Status::Resolved, "vpce-a".to_string())]
        );
        let b = store.iter().find(|r| r.key.contains("vpce-b")).unwrap();
        assert_eq!(b.state, State::Open, "vpc-b was not evaluated");
        assert_eq!(b.version, 1);
    }

    #[test]
    fn exempted_findings_go_quiet_and_come_back() {
        let mut store = Vec::new();
        let vpc = scope(&["vpc-a"]);
        let f = [finding("vpc-a", "vpce-1")];
        step(&mut store, &vpc, &f, &[], 0);
        assert_eq!(
            step(&mut store, &vpc, &[], &f, HOUR),
            [],
            "tagged exempt: no resolved notice"
        );
        assert_eq!(store[0].state, State::Suppressed);
        assert_eq!(
            step(&mut store, &vpc, &f, &[], 2 * HOUR),
            [(Status::Opened, "vpce-1".to_string())],
            "tag removed: announced again"
        );
        step(&mut store, &vpc, &[], &f, 3 * HOUR);
        assert_eq!(
            step(&mut store, &vpc, &[], &[], 4 * HOUR),
            [],
            "fixed while exempt: resolved silently"
        );
        assert_eq!(store[0].state, State::Resolved);
    }

    #[test]
    fn concurrent_evaluations_conflict_on_the_version() {
        let vpc = scope(&["vpc-a"]);
        let broken = [finding("vpc-a", "vpce-1")];
        let first = reconcile(&vpc, &[], &broken, &[], 0, 24 * HOUR, &lease("a", 60));
        let second = reconcile(&vpc, &[], &broken, &[], 0, 24 * HOUR, &lease("b", 60));
        assert_eq!(first[0].expected_version, 0);
        assert_eq!(
            second[0].expected_version, 0,
            "both condition on absence: only one write can win"
        );
    }

    #[test]
    fn remediation_attempts_are_bounded_and_failures_reported_once() {
        let mut record = reconcile(
            &scope(&["vpc-a"]),
            &[],
            &[finding("vpc-a", "vpce-1")],
            &[],
            0,
            HOUR,
            &lease("a", 60),
        )
        .remove(0)
        .record;
        assert!(record.may_attempt(0, 3));
        assert!(
            record.record_attempt(0, Err("AccessDenied".into())),
            "first failure is reported"
        );
        assert!(
            !record.record_attempt(10, Err("AccessDenied".into())),
            "the same failure is not"
        );
        assert!(
            record.record_attempt(20, Err("Throttling".into())),
            "a different failure is"
        );
        assert!(!record.may_attempt(30, 3), "three attempts in a day");
        assert!(record.may_attempt(DAY_SECS + 1, 3), "the window slides");
        assert!(record.record_attempt(DAY_SECS + 1, Ok(())));
        assert_eq!(
            record.attempts,
            vec![10, 20, DAY_SECS + 1],
            "attempts older than a day are dropped"
        );
        assert!(!record.failure_reported);
    }
}
