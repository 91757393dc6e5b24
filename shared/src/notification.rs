//! Notifications (`docs/json.md`, "The notification JSON"): what one SNS message per evaluated VPC says.
//!
//! Pure: builds the notification JSON, the `email` text, the subject (≤ 100 characters) and the
//! message attributes from a list of [`Transition`]s. Publishing is `aws::notify`'s job; deciding
//! which findings opened, resolved or need a reminder is the lifecycle's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::names::{VariantArray, public_names};
use crate::rule_id::Severity;
use crate::text::truncate;

/// The longest subject SNS accepts.
pub const MAX_SUBJECT: usize = 100;

/// What happened to a finding in this invocation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
    JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Status {
    /// Newly found.
    Opened,
    /// No longer found.
    Resolved,
    /// Still open after the reminder interval.
    Reminder,
    /// Fixed by reachguard's remediation.
    Remediated,
    /// A remediation was attempted and failed.
    RemediationFailed,
    /// A planned action was not applied (not allowed, unsafe, or dry-run).
    RemediationSkipped,
}

public_names!(Status, "status");

/// What reachguard did (or planned) about a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RemediationNote {
    /// The action's name (`enable-private-dns`, …).
    pub action: String,
    /// `applied`, `planned`, `skipped` or `failed`.
    pub outcome: String,
    /// What was done, or why not.
    pub detail: String,
}

/// One finding's transition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Transition {
    /// What happened.
    pub status: Status,
    /// The finding (the findings JSON entry).
    pub finding: Finding,
    /// The remediation taken or planned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<RemediationNote>,
}

impl Transition {
    /// `finding` as newly `opened`, with no remediation.
    pub fn opened(finding: Finding) -> Transition {
        Transition {
            status: Status::Opened,
            finding,
            remediation: None,
        }
    }
}

/// The event that caused the evaluation (both `null` for a scan or the sweep).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Trigger {
    /// CloudTrail `eventName`.
    pub event_name: Option<String>,
    /// CloudTrail `eventID`.
    pub event_id: Option<String>,
}

/// The notification of one VPC: the JSON under `default`, `sqs` and `lambda`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Notification {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The VPC.
    pub vpc: String,
    /// What caused the evaluation.
    pub trigger: Trigger,
    /// The transitions, most severe first.
    pub transitions: Vec<Transition>,
}

/// A message attribute: `String` or `String.Array` (whose value is a JSON array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `String` or `String.Array`.
    pub data_type: &'static str,
    /// The value.
    pub value: String,
}

impl Notification {
    /// One notification per VPC with transitions, each sorted most severe first. `account` is
    /// used where a finding does not name its own.
    pub fn group(
        account: &str,
        region: &str,
        trigger: &Trigger,
        transitions: Vec<Transition>,
    ) -> Vec<Notification> {
        let mut by_vpc: BTreeMap<String, Vec<Transition>> = BTreeMap::new();
        for t in transitions {
            by_vpc.entry(t.finding.vpc.clone()).or_default().push(t);
        }
        by_vpc
            .into_iter()
            .map(|(vpc, mut transitions)| {
                transitions.sort_by(|a, b| {
                    (a.finding.severity, a.finding.key(), a.status).cmp(&(
                        b.finding.severity,
                        b.finding.key(),
                        b.status,
                    ))
                });
                let account = transitions
                    .iter()
                    .find_map(|t| t.finding.account.clone())
                    .unwrap_or_else(|| account.to_owned());
                Notification {
                    account,
                    region: region.to_owned(),
                    vpc,
                    trigger: trigger.clone(),
                    transitions,
                }
            })
            .collect()
    }

    /// The most severe finding's severity (`None` without transitions).
    pub fn severity(&self) -> Option<Severity> {
        self.transitions.iter().map(|t| t.finding.severity).min()
    }

    /// Transitions per status, in declaration order, statuses without any left out.
    fn counts(&self) -> Vec<(Status, usize)> {
        Status::VARIANTS
            .iter()
            .copied()
            .map(|s| (s, self.transitions.iter().filter(|t| t.status == s).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// `[critical] 2 opened, 1 resolved in vpc-0abc (111122223333 us-east-1)`, shortened to at
    /// most [`MAX_SUBJECT`] characters (first the location goes, then the tail of the counts).
    pub fn subject(&self) -> String {
        let severity = self.severity().map_or("info", Severity::as_str);
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        let head = format!("[{severity}] {} in {}", counts.join(", "), self.vpc);
        let full = format!("{head} ({} {})", self.account, self.region);
        if full.chars().count() <= MAX_SUBJECT {
            return full;
        }
        if head.chars().count() <= MAX_SUBJECT {
            return head;
        }
        truncate(&head, MAX_SUBJECT).into_owned()
    }

    /// The text for people: per transition what broke, why, what to do, and what was done.
    pub fn email(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "reachguard: {} in {} (account {}, {})",
            self.summary(),
            self.vpc,
            self.account,
            self.region
        );
        if let Some(name) = &self.trigger.event_name {
            let id = self.trigger.event_id.as_deref().unwrap_or("no event id");
            let _ = writeln!(out, "Triggered by {name} ({id}).");
        }
        for t in &self.transitions {
            let f = &t.finding;
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "[{}] {} — {}",
                f.severity.as_str().to_uppercase(),
                f.rule.as_str(),
                t.status.as_str()
            );
            let _ = writeln!(out, "  what: {}", f.subject_text());
            let _ = writeln!(out, "  why:  {}", f.message);
            if f.remediation.is_empty() {
                let _ = writeln!(
                    out,
                    "  fix:  manual (reachguard does not change this automatically)"
                );
            }
            for action in &f.remediation {
                let _ = writeln!(out, "  fix:  {} [{}]", action.describe(), action.name());
            }
            if let Some(r) = &t.remediation {
                let _ = writeln!(out, "  done: {} {}: {}", r.action, r.outcome, r.detail);
            }
        }
        out
    }

    fn summary(&self) -> String {
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        counts.join(", ")
    }

    /// The notification JSON.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The `Message` of a `MessageStructure=json` publish: `email` text, the JSON under
    /// `default`, `sqs` and `lambda`.
    pub fn message(&self) -> String {
        let json = self.json();
        serde_json::json!({
            "default": json,
            "sqs": json,
            "lambda": json,
            "email": self.email(),
        })
        .to_string()
    }

    /// The message attributes subscription filter policies select on.
    pub fn attributes(&self) -> BTreeMap<&'static str, Attribute> {
        let string = |value: &str| Attribute {
            data_type: "String",
            value: value.to_owned(),
        };
        let array = |values: Vec<&str>| Attribute {
            data_type: "String.Array",
            value: serde_json::Value::from(values).to_string(),
        };
        let mut rules: Vec<&str> = self
            .transitions
            .iter()
            .map(|t| t.finding.rule.as_str())
            .collect();
        rules.sort_unstable();
        rules.dedup();
        let statuses: Vec<&str> = self.counts().iter().map(|(s, _)| s.as_str()).collect();
        BTreeMap::from([
            (
                "severity",
                string(self.severity().map_or("info", Severity::as_str)),
            ),
            ("rule", array(rules)),
            ("status", array(statuses)),
            ("account", string(&self.account)),
            ("region", string(&self.region)),
            ("vpc", string(&self.vpc)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule_id::RuleId;

    fn finding(rule: RuleId, vpc: &str, subnet: &str) -> Finding {
        let mut f = Finding::new(rule, Some("111122223333"), "us-east-1", vpc);
        f.subnet = Some(subnet.into());
        f.service = Some("arn:aws:ecs:us-east-1:111122223333:service/c/s".into());
        f.dependency = Some("s3".into());
        f.nat_gateway = Some("nat-1".into());
        f.message = "no path".into();
        f
    }

    fn one_vpc() -> Notification {
        let findings = [
            finding(RuleId::NatSingleAz, "vpc-0abc", "subnet-1"),
            finding(RuleId::UnreachableDependency, "vpc-0abc", "subnet-2"),
            finding(RuleId::UnreachableDependency, "vpc-0abc", "subnet-1"),
        ];
        let trigger = Trigger {
            event_name: Some("DeleteVpcEndpoints".into()),
            event_id: Some("e-1".into()),
        };
        let mut all = Notification::group(
            "999999999999",
            "us-east-1",
            &trigger,
            findings.iter().cloned().map(Transition::opened).collect(),
        );
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    #[test]
    fn one_notification_per_vpc() {
        let findings = [
            finding(RuleId::NatSingleAz, "vpc-a", "s"),
            finding(RuleId::NatSingleAz, "vpc-b", "s"),
        ];
        let all = Notification::group(
            "1",
            "us-east-1",
            &Trigger::default(),
            findings.iter().cloned().map(Transition::opened).collect(),
        );
        let vpcs: Vec<&str> = all.iter().map(|n| n.vpc.as_str()).collect();
        assert_eq!(vpcs, ["vpc-a", "vpc-b"]);
        assert!(Notification::group("1", "r", &Trigger::default(), Vec::new()).is_empty());
    }

    #[test]
    fn transitions_are_ordered_by_severity() {
        let n = one_vpc();
        let order: Vec<(&str, Option<&str>)> = n
            .transitions
            .iter()
            .map(|t| (t.finding.rule.as_str(), t.finding.subnet.as_deref()))
            .collect();
        assert_eq!(
            order,
            [
                ("unreachable-dependency", Some("subnet-1")),
                ("unreachable-dependency", Some("subnet-2")),
                ("nat-single-az", Some("subnet-1")),
            ]
        );
        assert_eq!(n.account, "111122223333", "the findings' account wins");
    }

    #[test]
    fn subject_counts_statuses_and_names_the_vpc() {
        let mut n = one_vpc();
        assert_eq!(
            n.subject(),
            "[critical] 3 opened in vpc-0abc (111122223333 us-east-1)"
        );
        n.transitions[2].status = Status::Resolved;
        assert_eq!(
            n.subject(),
            "[critical] 2 opened, 1 resolved in vpc-0abc (111122223333 us-east-1)"
        );
    }

    #[test]
    fn subject_never_exceeds_100_characters() {
        let mut n = one_vpc();
        for (i, &s) in Status::VARIANTS.iter().enumerate() {
            n.transitions[i % 3].status = s;
            n.transitions.push(n.transitions[0].clone());
        }
        n.vpc = format!("vpc-{}", "0".repeat(40));
        let subject = n.subject();
        assert!(subject.chars().count() <= MAX_SUBJECT, "{subject}");
        assert!(subject.starts_with("[critical] "));
    }

    #[test]
    fn attributes_select_by_severity_rule_status_and_place() {
        let attrs = one_vpc().attributes();
        let get = |k: &str| (attrs[k].data_type, attrs[k].value.as_str());
        assert_eq!(get("severity"), ("String", "critical"));
        assert_eq!(
            get("rule"),
            (
                "String.Array",
                r#"["nat-single-az","unreachable-dependency"]"#
            )
        );
        assert_eq!(get("status"), ("String.Array", r#"["opened"]"#));
        assert_eq!(get("account"), ("String", "111122223333"));
        assert_eq!(get("region"), ("String", "us-east-1"));
        assert_eq!(get("vpc"), ("String", "vpc-0abc"));
    }

    #[test]
    fn message_carries_json_for_machines_and_text_for_people() {
        let n = one_vpc();
        let message: serde_json::Value = serde_json::from_str(&n.message()).expect("message JSON");
        for key in ["default", "sqs", "lambda"] {
            let inner: serde_json::Value =
                serde_json::from_str(message[key].as_str().expect("string"))
                    .expect("notification JSON");
            assert_eq!(inner["vpc"], "vpc-0abc");
            assert_eq!(inner["trigger"]["event_name"], "DeleteVpcEndpoints");
            assert_eq!(inner["transitions"][0]["status"], "opened");
            assert_eq!(
                inner["transitions"][0]["finding"]["rule"],
                "unreachable-dependency"
            );
            assert!(inner["transitions"][0].get("remediation").is_none());
        }
        let email = message["email"].as_str().expect("email");
        assert!(
            email.starts_with("reachguard: 3 opened in vpc-0abc (account 111122223333, us-east-1)")
        );
        assert!(email.contains("Triggered by DeleteVpcEndpoints (e-1)."));
        assert!(email.contains("[CRITICAL] unreachable-dependency — opened"));
        assert!(email.contains("why:  no path"));
    }

    #[test]
    fn a_remediation_note_is_part_of_the_transition() {
        let mut n = one_vpc();
        n.transitions[0].status = Status::Remediated;
        n.transitions[0].remediation = Some(RemediationNote {
            action: "associate-gateway-endpoint".into(),
            outcome: "applied".into(),
            detail: "associated vpce-1 with rtb-1".into(),
        });
        let json: serde_json::Value = serde_json::from_str(&n.json()).expect("json");
        assert_eq!(json["transitions"][0]["remediation"]["outcome"], "applied");
        assert!(
            n.email()
                .contains("done: associate-gateway-endpoint applied: associated vpce-1 with rtb-1")
        );
    }
}
