//! Running the rules over a topology: suppression by `reachguard:exempt`, ordering, and the
//! [`Report`] that `check`, `scan` and the Lambdas print or send.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evaluation::{Evaluation, Findings};
use crate::finding::{self, Finding};
use crate::model::Topology;
use crate::rule_id::{Field, RuleId, Severity};
use crate::rules;
use crate::settings::EvaluationSettings;

/// Totals of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// In-scope services evaluated.
    pub services: usize,
    /// Distinct service subnets evaluated.
    pub subnets: usize,
    /// Findings reported.
    pub findings: usize,
    /// Findings suppressed by `reachguard:exempt` tags.
    pub suppressed: usize,
}

/// The result of an evaluation, written as the findings JSON (`docs/json.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Findings, sorted by severity, rule, subject.
    pub findings: Vec<Finding>,
    /// Totals.
    pub summary: Summary,
    /// Soft problems with the input (missing ids), which did not stop the evaluation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Report {
    /// Keeps only the findings of `rules` (all when empty).
    pub fn retain_rules(&mut self, rules: &[RuleId]) {
        if !rules.is_empty() {
            self.findings.retain(|f| rules.contains(&f.rule));
            self.summary.findings = self.findings.len();
        }
    }

    /// The most severe finding's severity.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }
}

/// Evaluates every rule over a topology.
pub fn evaluate(topology: &Topology) -> Report {
    evaluate_with_suppressed(topology).0
}

/// Evaluates every rule, and also returns the findings that `reachguard:exempt` tags suppressed
/// (the lifecycle keeps them quiet instead of resolving them).
pub fn evaluate_with_suppressed(topology: &Topology) -> (Report, Vec<Finding>) {
    evaluate_with(topology, EvaluationSettings::default())
}

/// [`evaluate_with_suppressed`] with explicit settings (thresholds of the measured rules, the
/// cost rate).
pub fn evaluate_with(topology: &Topology, settings: EvaluationSettings) -> (Report, Vec<Finding>) {
    let evaluation = Evaluation::with_settings(topology, settings);
    let mut findings = Findings::default();
    for rule in rules::RULES {
        (rule.check)(&evaluation, &mut findings);
    }
    let (mut kept, mut suppressed): (Vec<Finding>, Vec<Finding>) = findings
        .into_vec()
        .into_iter()
        .partition(|f| !is_suppressed(topology, f));
    finding::sort(&mut kept);
    finding::sort(&mut suppressed);
    let report = Report {
        summary: Summary {
            services: evaluation.services.len(),
            subnets: evaluation.service_subnets().len(),
            findings: kept.len(),
            suppressed: suppressed.len(),
        },
        findings: kept,
        warnings: topology.warnings.clone(),
    };
    (report, suppressed)
}

/// A `reachguard:exempt` tag naming the rule on the VPC, or on a resource the subject names.
fn is_suppressed(topology: &Topology, finding: &Finding) -> bool {
    let rule = finding.rule.as_str();
    let vpc = topology
        .vpc(&finding.vpc)
        .is_some_and(|v| v.tags.exempts(rule));
    vpc || finding.subject().into_iter().any(|(field, id)| {
        let tags = match field {
            Field::Service => topology.service(id).map(|s| &s.tags),
            Field::Subnet => topology.subnet(id).map(|s| &s.tags),
            Field::Endpoint => topology.endpoint(id).map(|e| &e.tags),
            Field::RouteTable => topology.route_table(id).map(|t| &t.tags),
            Field::NatGateway => topology.nat_gateway(id).map(|n| &n.tags),
            Field::NetworkAcl => topology.network_acl(id).map(|a| &a.tags),
            Field::Vpc | Field::Dependency | Field::AvailabilityZone | Field::Destination => None,
        };
        tags.is_some_and(|t| t.exempts(rule))
    })
}
