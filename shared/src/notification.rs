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

/// The largest message SNS publishes: 262,144 bytes for the message and its attributes (names,
/// data types and values) together.
pub const MAX_MESSAGE_BYTES: usize = 262_144;

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
    /// Which part of the VPC's notification this is, when it did not fit one SNS message
    /// ([`Notification::parts`]); absent when whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<Part>,
}

/// The place of a part among the messages one VPC's notification was split into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Part {
    /// 1-based.
    pub number: usize,
    /// How many parts there are.
    pub of: usize,
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
                    part: None,
                }
            })
            .collect()
    }

    /// The notification as SNS messages of at most `limit` bytes each ([`MAX_MESSAGE_BYTES`]
    /// with the attributes, which every part carries whole: [`Notification::attributes`]):
    /// itself when it fits, else numbered parts, each a notification of its own of consecutive
    /// transitions, a finding's transitions never split between two parts. A single finding too
    /// large for a message on its own is a part of its own (SNS refuses it, and the publish fails).
    pub fn parts(&self, limit: usize) -> Vec<Notification> {
        let attributes: usize = self
            .attributes()
            .iter()
            .map(|(name, a)| name.len() + a.data_type.len() + a.value.len())
            .sum();
        let budget = limit.saturating_sub(attributes);
        if self.size() <= budget {
            return vec![self.clone()];
        }
        let of_ts = |transitions: &[Transition]| Notification {
            transitions: transitions.to_vec(),
            part: Some(Part {
                number: usize::MAX,
                of: usize::MAX,
            }),
            ..self.clone()
        };
        let groups: Vec<&[Transition]> = self
            .transitions
            .chunk_by(|a, b| a.finding.key() == b.finding.key())
            .collect();
        // Each group's share of a message: the JSON three times, escaped, and its email lines.
        // Estimated from a message of that group alone (plus a separator per transition), then
        // every part is measured again and halved while it is still too large.
        let empty = of_ts(&[]).size();
        let mut parts: Vec<Vec<Transition>> = Vec::new();
        let mut current: Vec<Transition> = Vec::new();
        let mut used = empty;
        for group in groups {
            let share = of_ts(group).size() - empty + 4 * group.len();
            if !current.is_empty() && used + share > budget {
                parts.push(std::mem::take(&mut current));
                used = empty;
            }
            current.extend_from_slice(group);
            used += share;
        }
        parts.push(current);
        parts.reverse();
        let mut fitted = Vec::new();
        while let Some(part) = parts.pop() {
            let groups = part
                .chunk_by(|a, b| a.finding.key() == b.finding.key())
                .count();
            if groups > 1 && of_ts(&part).size() > budget {
                let mut half = 0;
                for (i, group) in part
                    .chunk_by(|a, b| a.finding.key() == b.finding.key())
                    .enumerate()
                {
                    if i == groups / 2 {
                        break;
                    }
                    half += group.len();
                }
                let mut first = part;
                let second = first.split_off(half);
                parts.push(second);
                parts.push(first);
            } else {
                fitted.push(part);
            }
        }
        let of = fitted.len();
        fitted
            .into_iter()
            .enumerate()
            .map(|(i, transitions)| Notification {
                transitions,
                part: Some(Part { number: i + 1, of }),
                ..self.clone()
            })
            .collect()
    }

    /// The bytes of the published message without its attributes: subject and `Message`.
    fn size(&self) -> usize {
        self.subject().len() + self.message().len()
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
        let part = self
            .part
            .map(|p| format!(", part {}/{}", p.number, p.of))
            .unwrap_or_default();
        let room = MAX_SUBJECT - part.chars().count().min(MAX_SUBJECT);
        if full.chars().count() <= room {
            return full + &part;
        }
        if head.chars().count() <= room {
            return head + &part;
        }
        truncate(&head, room).into_owned() + &part
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
        if let Some(p) = self.part {
            let _ = writeln!(
                out,
                "Part {} of {}: this VPC's transitions did not fit one message.",
                p.number, p.of
            );
        }
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

    /// `n` distinct findings of one VPC, each reported `per_finding` times (opened, then
    /// resolved), with messages of `message_len` characters.
    fn many(n: usize, per_finding: usize, message_len: usize) -> Notification {
        let transitions = (0..n)
            .flat_map(|i| {
                let mut f = finding(RuleId::UnreachableDependency, "vpc-0abc", &format!("s-{i}"));
                f.message = "\"x".repeat(message_len / 2);
                let statuses = [Status::Opened, Status::Resolved];
                statuses[..per_finding]
                    .iter()
                    .map(|&status| Transition {
                        status,
                        finding: f.clone(),
                        remediation: None,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut all = Notification::group("1", "us-east-1", &Trigger::default(), transitions);
        all.remove(0)
    }

    fn published_bytes(n: &Notification, attributes: &BTreeMap<&str, Attribute>) -> usize {
        let attributes: usize = attributes
            .iter()
            .map(|(name, a)| name.len() + a.data_type.len() + a.value.len())
            .sum();
        n.subject().len() + n.message().len() + attributes
    }

    #[test]
    fn parts_fit_the_limit_and_carry_every_transition_once_in_order() {
        // (findings, transitions per finding, message length, limit, parts expected)
        let cases = [
            (3, 1, 100, MAX_MESSAGE_BYTES, Some(1)),
            (300, 1, 600, MAX_MESSAGE_BYTES, None),
            (200, 2, 900, MAX_MESSAGE_BYTES, None),
            (40, 2, 300, 20_000, None),
        ];
        for (n, per, len, limit, expected) in cases {
            let whole = many(n, per, len);
            let attributes = whole.attributes();
            let parts = whole.parts(limit);
            let case = format!("{n} findings ×{per}, {len} chars, limit {limit}");
            if let Some(expected) = expected {
                assert_eq!(parts.len(), expected, "{case}");
            } else {
                assert!(parts.len() > 1, "{case}: needs parts");
            }
            if parts.len() == 1 {
                assert_eq!(parts[0], whole, "{case}: whole, unnumbered");
                continue;
            }
            for (i, part) in parts.iter().enumerate() {
                assert!(
                    published_bytes(part, &attributes) <= limit,
                    "{case}: part {i}"
                );
                assert_eq!(
                    part.part,
                    Some(Part {
                        number: i + 1,
                        of: parts.len()
                    })
                );
                assert!(
                    part.subject()
                        .ends_with(&format!(", part {}/{}", i + 1, parts.len()))
                );
                assert!(part.subject().chars().count() <= MAX_SUBJECT);
                assert_eq!((&part.vpc, &part.trigger), (&whole.vpc, &whole.trigger));
            }
            let rejoined: Vec<&Transition> = parts.iter().flat_map(|p| &p.transitions).collect();
            assert_eq!(
                rejoined,
                whole.transitions.iter().collect::<Vec<_>>(),
                "{case}"
            );
            for pair in parts.windows(2) {
                let (last, first) = (pair[0].transitions.last(), pair[1].transitions.first());
                assert_ne!(
                    last.map(|t| t.finding.key()),
                    first.map(|t| t.finding.key()),
                    "{case}: a finding's transitions stay together"
                );
            }
        }
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
