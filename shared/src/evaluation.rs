//! What every rule shares, computed once per topology: the in-scope services (ACTIVE, awsvpc,
//! not EXTERNAL) with their dependencies and subnets, every service × subnet × dependency path,
//! and the [`Findings`] collector the rules push into.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use crate::deps::{self, Dependencies};
use crate::finding::Finding;
use crate::model::{Service, Subnet, Topology};
use crate::paths::{self, Origin, Path};
use crate::rule_id::RuleId;
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
