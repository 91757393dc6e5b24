//! The Security Hub export (`REACHGUARD_SECURITY_HUB=true`): after the SNS publish, each
//! announced transition, and each finding a `reachguard:exempt` tag suppresses, is imported into
//! Security Hub as the next state of the same ASFF finding (the same `Id`):
//!
//! | what | Compliance | RecordState | Workflow |
//! | --- | --- | --- | --- |
//! | `opened`, `reminder` | `FAILED` | `ACTIVE` | `NEW` |
//! | suppressed (exempt tag) | `FAILED` | `ACTIVE` | `SUPPRESSED` |
//! | `resolved`, `remediated` (with what reachguard did) | `PASSED` | `ARCHIVED` | `RESOLVED` |
//!
//! `remediation-failed` and `remediation-skipped` change nothing the finding says. A reminder
//! re-imports the finding with a new `LastObservedAt` and `UpdatedAt` (its first-seen time comes
//! from the state table): since the sweep re-evaluates every account/region, every open finding
//! is re-asserted at least every `REACHGUARD_REMINDER_HOURS`, well inside Security Hub's 90 days
//! (the settings refuse a reminder interval that is not).
//!
//! `BatchImportFindings` sets `Workflow` only when it creates a finding; afterwards the workflow
//! is changed with `BatchUpdateFindings`. So, after the import, the findings it accepted whose
//! workflow the step sets (all but reminders, which leave the customer's workflow alone) get
//! their `Workflow.Status` and a `Note` saying why, with one `BatchUpdateFindings` per status
//! (per 100 findings): `SUPPRESSED` for the suppressed, `NEW` for the opened (a finding whose
//! exempt tag was removed opens again), `RESOLVED` for the resolved and remediated.
//!
//! The calls use the evaluated account's configuration (the member role's for a member
//! account): Security Hub accepts a finding under an account's default product only from that
//! account. A finding Security Hub refuses or leaves unprocessed after the adapter's retries, or
//! a failed call, is logged at error level with its `Id`; the invocation still succeeds, because
//! its transitions are already announced and claimed, so a retry could not export them again.

use reachguard_shared::asff::{AsffFinding, Observation, WorkflowStatus, to_asff};
use reachguard_shared::aws::SecurityHub;
use reachguard_shared::aws::security_hub::{FailedFinding, Imported};
use reachguard_shared::finding::Finding;
use reachguard_shared::lifecycle::{self, State};
use reachguard_shared::notification::{Notification, RemediationNote, Status};

use crate::guard::{Collected, Guard, now};

/// The largest `REACHGUARD_REMINDER_HOURS` with the export on: a reminder re-asserts each open
/// finding before Security Hub's 90-day expiry of findings not updated, with a day to spare.
pub const MAX_REMINDER_HOURS: u32 = 89 * 24;

impl Guard {
    /// Imports the announced transitions and the suppressed findings of one evaluation into
    /// Security Hub, when the export is on (module doc). Returns what was imported, `None` when
    /// the export is off or had nothing to import.
    pub(crate) async fn export_to_security_hub(
        &self,
        at: &Collected<'_>,
        notifications: &[Notification],
    ) -> Option<Imported> {
        if !self.settings.security_hub {
            return None;
        }
        let updated = now();
        let mut findings: Vec<AsffFinding> = Vec::new();
        // The `Id`s whose workflow this step sets (all but reminders).
        let mut workflow_ids: Vec<String> = Vec::new();
        let announced = notifications.iter().flat_map(|n| &n.transitions);
        let states = announced
            .filter_map(|t| {
                let (state, remediated) = state_of(t.status, t.remediation.as_ref())?;
                Some((&t.finding, state, remediated, t.status == Status::Opened))
            })
            .chain(
                at.suppressed
                    .iter()
                    .map(|f| (f, State::Suppressed, None, false)),
            );
        for (finding, state, remediated, opened) in states {
            // A finding that just opened was first seen now; the others' times are recorded.
            let (first_seen, last_seen) = if opened {
                (updated, updated)
            } else {
                self.seen(at, finding, state, updated).await
            };
            let observation = Observation {
                state,
                first_seen,
                last_seen,
                updated,
                remediated,
            };
            match to_asff(finding, &observation) {
                Ok(asff) => {
                    if opened || state != State::Open {
                        workflow_ids.push(asff.id.clone());
                    }
                    findings.push(asff);
                }
                Err(error) => tracing::error!(
                    error = %error,
                    finding = %finding.key(),
                    "finding not exported to Security Hub"
                ),
            }
        }
        if findings.is_empty() {
            return None;
        }
        let account = &at.evaluated.account;
        let hub = SecurityHub::new(at.config);
        match hub.import(&findings).await {
            Ok(imported) => {
                log_refused(account, &imported.failed, "Security Hub refused a finding");
                tracing::info!(
                    account = %account,
                    imported = imported.imported,
                    failed = imported.failed.len(),
                    calls = imported.calls,
                    "exported to Security Hub"
                );
                let accepted = findings.iter().filter(|f| {
                    workflow_ids.contains(&f.id) && imported.failed.iter().all(|r| r.id != f.id)
                });
                set_workflows(&hub, account, accepted).await;
                Some(imported)
            }
            Err(error) => {
                tracing::error!(
                    account = %account,
                    error = %error,
                    findings = findings.len(),
                    ids = ?findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
                    "Security Hub import failed"
                );
                None
            }
        }
    }

    /// When `finding` first fired (this opening) and was last seen firing: from the state table
    /// when it has the finding's record, else now (no table).
    async fn seen(
        &self,
        at: &Collected<'_>,
        finding: &Finding,
        state: State,
        now: i64,
    ) -> (i64, i64) {
        let Some(table) = &self.state else {
            return (now, now);
        };
        let evaluated = at.evaluated;
        let partition = lifecycle::partition(&evaluated.account, &evaluated.region, &finding.vpc);
        match table.record(&partition, &finding.key()).await {
            Ok(Some(record)) if state == State::Resolved => (record.first_seen, record.last_seen),
            Ok(Some(record)) => (record.first_seen, now),
            Ok(None) => (now, now),
            Err(error) => {
                tracing::warn!(error = %error, finding = %finding.key(), "first-seen time unknown: using now");
                (now, now)
            }
        }
    }
}

/// Sets the workflow of the imported `findings` to the status each carries, one
/// `BatchUpdateFindings` per status (module doc), logging what Security Hub left unprocessed.
async fn set_workflows<'a>(
    hub: &SecurityHub,
    account: &str,
    findings: impl Iterator<Item = &'a AsffFinding>,
) {
    let findings: Vec<&AsffFinding> = findings.collect();
    for status in [
        WorkflowStatus::Suppressed,
        WorkflowStatus::New,
        WorkflowStatus::Resolved,
    ] {
        let these: Vec<AsffFinding> = findings
            .iter()
            .filter(|f| f.workflow.status == status)
            .map(|f| (*f).clone())
            .collect();
        if these.is_empty() {
            continue;
        }
        let workflow = <&str>::from(status);
        match hub.set_workflow(&these, status).await {
            Ok(updated) => {
                log_refused(
                    account,
                    &updated.failed,
                    "Security Hub left a finding's workflow unchanged",
                );
                tracing::info!(
                    account = %account,
                    workflow,
                    updated = updated.updated,
                    failed = updated.failed.len(),
                    calls = updated.calls,
                    "Security Hub workflow set"
                );
            }
            Err(error) => tracing::error!(
                account = %account,
                workflow,
                error = %error,
                ids = ?these.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
                "Security Hub workflow update failed"
            ),
        }
    }
}

/// Logs each finding Security Hub refused every time, at error level with its `Id`.
fn log_refused(account: &str, refused: &[FailedFinding], what: &'static str) {
    for failed in refused {
        tracing::error!(
            account = %account,
            id = %failed.id,
            code = %failed.code,
            message = %failed.message,
            "{what}"
        );
    }
}

/// The lifecycle state a transition puts the Security Hub finding in (`None`: no change).
fn state_of(
    status: Status,
    remediation: Option<&RemediationNote>,
) -> Option<(State, Option<&RemediationNote>)> {
    match status {
        Status::Opened | Status::Reminder => Some((State::Open, None)),
        Status::Resolved => Some((State::Resolved, None)),
        Status::Remediated => Some((State::Resolved, remediation)),
        Status::RemediationFailed | Status::RemediationSkipped => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Env, Settings};

    #[test]
    fn the_export_is_off_by_default_and_refuses_reminders_past_security_hubs_expiry() {
        // (REACHGUARD_SECURITY_HUB, REACHGUARD_REMINDER_HOURS) → the export, or the error.
        let cases: [(&str, &str, Result<bool, &str>); 6] = [
            ("", "", Ok(false)),
            ("false", "100000", Ok(false)),
            ("true", "", Ok(true)),
            ("true", "2136", Ok(true)),
            (
                "true",
                "2137",
                Err(
                    "REACHGUARD_REMINDER_HOURS=\"2137\": with REACHGUARD_SECURITY_HUB=true it must be at most 2136",
                ),
            ),
            ("yes", "", Err("REACHGUARD_SECURITY_HUB=\"yes\"")),
        ];
        for (export, hours, expected) in cases {
            let env = Env::from_pairs(&[
                ("REACHGUARD_TOPIC_ARN", "arn:t"),
                ("REACHGUARD_SECURITY_HUB", export),
                ("REACHGUARD_REMINDER_HOURS", hours),
            ]);
            match (Settings::from_env(&env), expected) {
                (Ok(settings), Ok(on)) => assert_eq!(settings.security_hub, on, "{export} {hours}"),
                (Err(error), Err(start)) => {
                    assert!(
                        error.to_string().starts_with(start),
                        "{export} {hours}: {error}"
                    )
                }
                (got, _) => panic!("{export} {hours}: {got:?}"),
            }
        }
    }

    #[test]
    fn transitions_map_to_security_hub_states() {
        let note = RemediationNote {
            action: "enable-private-dns".into(),
            outcome: "applied".into(),
            detail: "enabled".into(),
        };
        let cases = [
            (Status::Opened, Some((State::Open, None))),
            (Status::Reminder, Some((State::Open, None))),
            (Status::Resolved, Some((State::Resolved, None))),
            (Status::Remediated, Some((State::Resolved, Some(&note)))),
            (Status::RemediationFailed, None),
            (Status::RemediationSkipped, None),
        ];
        for (status, expected) in cases {
            assert_eq!(state_of(status, Some(&note)), expected, "{status}");
        }
    }
}
