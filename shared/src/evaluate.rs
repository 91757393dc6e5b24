//! Running the rules: the shared [`Evaluation`] (in-scope services, their dependencies and every
//! service-subnet-dependency path, computed once), suppression by `reachguard:exempt`, ordering,
//! and the [`Report`] that `check`, `scan` and the Lambdas print or send.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

use crate::deps::{self, Dependencies};
use crate::finding::{self, Finding, Severity};
use crate::model::{Service, Subnet, Topology};
use crate::paths::{self, Origin, Path};
use crate::rules::{Field, RuleId};
use crate::settings::EvaluationSettings;

/// An in-scope service (ACTIVE, awsvpc, not EXTERNAL) with what the rules need about it.
#[derive(Debug)]
pub struct ServiceContext<'t> {
    /// The service.
    pub service: &'t Service,
    /// Its VPC.
    pub vpc: &'t str,
    /// Its dependencies.
    pub deps: Dependencies,
    /// Its subnets present in the input.
    pub subnets: Vec<&'t Subnet>,
}

impl<'t> ServiceContext<'t> {
    /// The origin of this service's tasks in `subnet`.
    pub fn origin(&self, subnet: &'t Subnet) -> Origin<'t> {
        Origin {
            subnet,
            public_ip: self.service.public_ip,
            security_groups: &self.service.security_groups,
        }
    }
}

/// The path of one service's tasks in one subnet to one dependency.
#[derive(Debug)]
pub struct ServicePath<'t> {
    /// Index into [`Evaluation::services`].
    pub service: usize,
    /// The task subnet.
    pub subnet: &'t Subnet,
    /// The dependency.
    pub dependency: String,
    /// The path and its verdict.
    pub path: Path<'t>,
}

/// Everything the rules share, computed once per topology.
#[derive(Debug)]
pub struct Evaluation<'t> {
    /// The topology.
    pub topology: &'t Topology,
    /// In-scope services.
    pub services: Vec<ServiceContext<'t>>,
    /// Every service × subnet × dependency path.
    pub paths: Vec<ServicePath<'t>>,
    /// Thresholds and rates of the measured rules.
    pub settings: EvaluationSettings,
    paths_of_vpc: HashMap<&'t str, Vec<usize>>,
    service_subnets: BTreeMap<&'t str, &'t Subnet>,
}

impl<'t> Evaluation<'t> {
    /// Computes dependencies and paths for every in-scope service, with default settings.
    pub fn new(topology: &'t Topology) -> Evaluation<'t> {
        Evaluation::with_settings(topology, EvaluationSettings::default())
    }

    /// Computes dependencies and paths for every in-scope service.
    pub fn with_settings(topology: &'t Topology, settings: EvaluationSettings) -> Evaluation<'t> {
        let services: Vec<ServiceContext<'t>> = topology
            .services
            .iter()
            .filter(|s| s.in_scope)
            .filter_map(|service| {
                Some(ServiceContext {
                    service,
                    vpc: topology.vpc_of_service(service)?,
                    deps: deps::of_service(topology, service),
                    subnets: service
                        .subnets
                        .iter()
                        .filter_map(|s| topology.subnet(s))
                        .collect(),
                })
            })
            .collect();
        let mut paths = Vec::new();
        for (index, context) in services.iter().enumerate() {
            for &subnet in &context.subnets {
                let origin = context.origin(subnet);
                for dependency in context.deps.names() {
                    paths.push(ServicePath {
                        service: index,
                        subnet,
                        dependency: dependency.to_string(),
                        path: paths::evaluate(
                            topology,
                            origin,
                            dependency,
                            context.deps.ecr_layers,
                        ),
                    });
                }
            }
        }
        let mut paths_of_vpc: HashMap<&'t str, Vec<usize>> = HashMap::default();
        for (i, p) in paths.iter().enumerate() {
            paths_of_vpc
                .entry(p.subnet.vpc.as_str())
                .or_default()
                .push(i);
        }
        let service_subnets = services
            .iter()
            .flat_map(|s| s.subnets.iter().map(|&sub| (sub.id.as_str(), sub)))
            .collect();
        Evaluation {
            topology,
            services,
            paths,
            settings,
            paths_of_vpc,
            service_subnets,
        }
    }

    /// The paths of one VPC's service subnets (plans look only there, keeping evaluation linear).
    pub fn paths_in(&self, vpc: &str) -> impl Iterator<Item = &ServicePath<'t>> {
        self.paths_of_vpc
            .get(vpc)
            .into_iter()
            .flatten()
            .map(|&i| &self.paths[i])
    }

    /// The context of a path's service.
    pub fn service_of(&self, path: &ServicePath<'t>) -> &ServiceContext<'t> {
        &self.services[path.service]
    }

    /// The origin of a path.
    pub fn origin_of(&self, path: &ServicePath<'t>) -> Origin<'t> {
        self.services[path.service].origin(path.subnet)
    }

    /// A new finding of `rule` in `vpc`, with account and region filled in.
    pub fn finding(&self, rule: RuleId, vpc: &str) -> Finding {
        Finding::new(
            rule,
            self.topology.account.as_deref(),
            &self.topology.region,
            vpc,
        )
    }

    /// VPCs that host an in-scope service, in order.
    pub fn service_vpcs(&self) -> BTreeSet<&'t str> {
        self.services.iter().map(|s| s.vpc).collect()
    }

    /// The distinct subnets of in-scope services, by subnet id.
    pub fn service_subnets(&self) -> &BTreeMap<&'t str, &'t Subnet> {
        &self.service_subnets
    }
}

/// Findings collected from the rules, one per identity (rule + subject): the first one wins.
#[derive(Debug, Default)]
pub struct Findings(BTreeMap<String, Finding>);

impl Findings {
    /// Adds a finding unless one with the same identity exists.
    pub fn push(&mut self, finding: Finding) {
        self.0.entry(finding.key()).or_insert(finding);
    }

    /// The findings collected.
    pub fn into_vec(self) -> Vec<Finding> {
        self.0.into_values().collect()
    }
}

/// Totals of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// The result of an evaluation: the findings JSON of INTERFACES.md plus warnings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    for rule in RuleId::ALL {
        (rule.rule().check)(&evaluation, &mut findings);
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
