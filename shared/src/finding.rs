//! A finding: one rule firing on one subject, with the why (message and path) and the what to do
//! (remediation plan). Serialises to the findings JSON (`docs/json.md`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::nat_metrics::NatTrafficFigures;
use crate::paths::PathReport;
use crate::rule_id::{Field, RuleId, Severity};

/// One finding (an entry of the findings JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Rule id.
    pub rule: RuleId,
    /// Severity of the rule.
    pub severity: Severity,
    /// Account id, when known.
    pub account: Option<String>,
    /// Region.
    pub region: String,
    /// The VPC the finding is in.
    pub vpc: String,
    /// Service ARN.
    pub service: Option<String>,
    /// Subnet (for ACL findings: the task subnet).
    pub subnet: Option<String>,
    /// Dependency (`ecr.dkr`, `s3`, `internet`, …).
    pub dependency: Option<String>,
    /// VPC endpoint.
    pub endpoint: Option<String>,
    /// Route table.
    pub route_table: Option<String>,
    /// NAT gateway.
    pub nat_gateway: Option<String>,
    /// Network ACL.
    pub network_acl: Option<String>,
    /// Availability zone name.
    pub availability_zone: Option<String>,
    /// Route destination (CIDR or prefix-list id).
    pub destination: Option<String>,
    /// What path was tried and where it broke, and what to do.
    pub message: String,
    /// The path behind the finding, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathReport>,
    /// The remediation plan (possibly empty: notify-only).
    pub remediation: Vec<Action>,
    /// What the finding's NAT gateway processed and costs, when the snapshot has its metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_traffic: Option<NatTrafficFigures>,
}

impl Finding {
    /// A finding of `rule` in `vpc` with every optional field empty.
    pub fn new(rule: RuleId, account: Option<&str>, region: &str, vpc: &str) -> Finding {
        Finding {
            rule,
            severity: rule.severity(),
            account: account.map(str::to_string),
            region: region.to_string(),
            vpc: vpc.to_string(),
            service: None,
            subnet: None,
            dependency: None,
            endpoint: None,
            route_table: None,
            nat_gateway: None,
            network_acl: None,
            availability_zone: None,
            destination: None,
            message: String::new(),
            path: None,
            remediation: Vec::new(),
            nat_traffic: None,
        }
    }

    /// The value of a subject field.
    pub fn field(&self, field: Field) -> Option<&str> {
        match field {
            Field::Vpc => Some(&self.vpc),
            Field::Service => self.service.as_deref(),
            Field::Subnet => self.subnet.as_deref(),
            Field::Dependency => self.dependency.as_deref(),
            Field::Endpoint => self.endpoint.as_deref(),
            Field::RouteTable => self.route_table.as_deref(),
            Field::NatGateway => self.nat_gateway.as_deref(),
            Field::NetworkAcl => self.network_acl.as_deref(),
            Field::AvailabilityZone => self.availability_zone.as_deref(),
            Field::Destination => self.destination.as_deref(),
        }
    }

    /// The subject: the rule's identifying fields and their values, in the rule's order.
    pub fn subject(&self) -> Vec<(Field, &str)> {
        self.rule
            .subject()
            .iter()
            .map(|&f| (f, self.field(f).unwrap_or("")))
            .collect()
    }

    /// A stable identity: two findings with equal keys are the same finding.
    pub fn key(&self) -> String {
        let mut key = self.rule.as_str().to_string();
        for (_, value) in self.subject() {
            key.push('|');
            key.push_str(value);
        }
        key
    }

    /// The subject in words (`service …, subnet …, dependency …`).
    pub fn subject_text(&self) -> String {
        self.subject()
            .iter()
            .map(|(f, v)| format!("{} {v}", f.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Sort order of the findings JSON: severity, then rule, then subject.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by_cached_key(|f| {
        let subject: Vec<String> = f
            .subject()
            .into_iter()
            .map(|(_, v)| v.to_string())
            .collect();
        (f.severity, f.rule.as_str(), subject)
    });
}
