//! The connectivity model: the snapshot document validated, normalised (states, route targets,
//! ports, CIDRs) and indexed so that every lookup during evaluation is a hash probe.
//!
//! It owns the meaning of AWS's shapes (what "associated", "available" or "main" mean); it does
//! not decide reachability ([`crate::paths`]) or compliance ([`crate::rules`]).

use rustc_hash::FxHashMap as HashMap;

use crate::error::SnapshotError;
use crate::nat_metrics::NatMetrics;
use crate::net::{Ipv4Cidr, Ports};
use crate::policy::Policy;
use crate::snapshot::{self, Snapshot};
use crate::tags::Tags;

/// A VPC and its DNS attributes.
#[derive(Debug, Clone)]
pub struct Vpc {
    /// `vpc-…`.
    pub id: String,
    /// Primary IPv4 CIDR, when known.
    pub cidr: Option<Ipv4Cidr>,
    /// `enableDnsSupport` (unknown counts as enabled).
    pub dns_support: bool,
    /// `enableDnsHostnames` (unknown counts as enabled).
    pub dns_hostnames: bool,
    /// Tags.
    pub tags: Tags,
}

/// A subnet.
#[derive(Debug, Clone)]
pub struct Subnet {
    /// `subnet-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// IPv4 CIDR.
    pub cidr: Ipv4Cidr,
    /// Availability zone name.
    pub az: String,
    /// Tags.
    pub tags: Tags,
}

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Within the VPC.
    Local,
    /// `igw-…`.
    InternetGateway(String),
    /// `nat-…`.
    NatGateway(String),
    /// `vpce-…` (a gateway endpoint's prefix-list route).
    GatewayEndpoint(String),
    /// Transit gateway, peering, virtual private gateway, ENI, instance, local/carrier gateway,
    /// Cloud WAN: beyond what the VPC shows; assumed to work.
    Beyond {
        /// What kind of target, for messages (`transit gateway`, …).
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// Egress-only internet gateway (IPv6 only): never carries IPv4.
    EgressOnly(String),
    /// No target recorded.
    Unknown,
}

impl Target {
    /// The target's id (or `local`).
    pub fn id(&self) -> &str {
        match self {
            Target::Local => "local",
            Target::InternetGateway(id)
            | Target::NatGateway(id)
            | Target::GatewayEndpoint(id)
            | Target::EgressOnly(id)
            | Target::Beyond { id, .. } => id,
            Target::Unknown => "(no target)",
        }
    }
}

/// A route.
#[derive(Debug, Clone)]
pub struct Route {
    /// Destination as printed (CIDR or prefix-list id), the `destination` of findings.
    pub destination: String,
    /// True for the IPv4 default route `0.0.0.0/0`.
    pub is_default: bool,
    /// Where it goes.
    pub target: Target,
    /// State `blackhole` (a deleted target).
    pub blackhole: bool,
}

/// A route table.
#[derive(Debug, Clone)]
pub struct RouteTable {
    /// `rtb-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// The VPC's main route table.
    pub main: bool,
    /// Explicitly associated subnets.
    pub subnets: Vec<String>,
    /// Routes.
    pub routes: Vec<Route>,
    /// Tags.
    pub tags: Tags,
}

impl RouteTable {
    /// The active or blackholed `0.0.0.0/0` route.
    pub fn default_route(&self) -> Option<&Route> {
        self.routes.iter().find(|r| r.is_default)
    }
}

/// Gateway or interface endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// Route-table based (S3, DynamoDB).
    Gateway,
    /// ENI based (PrivateLink).
    Interface,
    /// Gateway Load Balancer and others: not a path to an AWS service.
    Other,
}

/// A VPC endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `vpce-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// Gateway, interface, …
    pub kind: EndpointKind,
    /// Short service name (`ecr.dkr`, `s3`), the dependency it serves.
    pub service: String,
    /// Full service name (`com.amazonaws.us-east-1.ecr.dkr`).
    pub service_name: String,
    /// Only `available` endpoints count.
    pub available: bool,
    /// State as reported.
    pub state: String,
    /// Endpoint policy; `None` allows everything.
    pub policy: Option<Policy>,
    /// Gateway: associated route tables.
    pub route_tables: Vec<String>,
    /// Interface: subnets (one per AZ).
    pub subnets: Vec<String>,
    /// Interface: security groups.
    pub security_groups: Vec<String>,
    /// Interface: private DNS.
    pub private_dns: bool,
    /// Tags.
    pub tags: Tags,
}

/// A NAT gateway.
#[derive(Debug, Clone)]
pub struct NatGateway {
    /// `nat-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// Its own subnet (zonal).
    pub subnet: Option<String>,
    /// State `available`.
    pub available: bool,
    /// State as reported.
    pub state: String,
    /// `ConnectivityType` public (missing means public).
    pub public: bool,
    /// `AvailabilityMode` regional: serves every AZ, needs no public subnet.
    pub regional: bool,
    /// A destination-filtering appliance (`network-firewall-proxy`) is attached.
    pub filtered: bool,
    /// Tags.
    pub tags: Tags,
}

/// An internet gateway.
#[derive(Debug, Clone)]
pub struct InternetGateway {
    /// `igw-…`.
    pub id: String,
    /// VPCs it is attached to.
    pub vpcs: Vec<String>,
}

/// One ingress rule of a security group, as far as TCP 443 is concerned.
#[derive(Debug, Clone)]
pub struct Ingress {
    /// Ports admitted (`None`: the rule is for another protocol).
    pub ports: Option<Ports>,
    /// Source CIDRs.
    pub cidrs: Vec<Ipv4Cidr>,
    /// Source security groups.
    pub groups: Vec<String>,
}

/// A security group.
#[derive(Debug, Clone)]
pub struct SecurityGroup {
    /// `sg-…`.
    pub id: String,
    /// Ingress rules.
    pub ingress: Vec<Ingress>,
}

/// A network ACL entry.
#[derive(Debug, Clone)]
pub struct AclEntry {
    /// Evaluation order; 32767 is the final `*`.
    pub rule_number: i64,
    /// Allow or deny.
    pub allow: bool,
    /// TCP ports matched (`None`: protocol is neither `-1` nor TCP, so never matches).
    pub ports: Option<Ports>,
    /// IPv4 CIDR (`None` for IPv6 entries, which never match).
    pub cidr: Option<Ipv4Cidr>,
}

/// A network ACL.
#[derive(Debug, Clone)]
pub struct NetworkAcl {
    /// `acl-…`.
    pub id: String,
    /// `vpc-…`.
    pub vpc: String,
    /// The VPC's default ACL.
    pub default: bool,
    /// Associated subnets.
    pub subnets: Vec<String>,
    /// Inbound entries in rule-number order.
    pub inbound: Vec<AclEntry>,
    /// Outbound entries in rule-number order.
    pub outbound: Vec<AclEntry>,
    /// Tags.
    pub tags: Tags,
}

/// How a service's tasks are launched, as far as dependencies go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// EC2 launch type or an Auto Scaling capacity provider: needs the ECS agent endpoints.
    Ec2,
    /// Fargate only.
    Fargate,
    /// ECS Anywhere: out of scope.
    External,
}

/// An ECS service.
#[derive(Debug, Clone)]
pub struct Service {
    /// Service ARN.
    pub arn: String,
    /// `ACTIVE` with `awsvpc` networking and not EXTERNAL: the only services rules consider.
    pub in_scope: bool,
    /// Launch kind.
    pub launch: Launch,
    /// Task subnets.
    pub subnets: Vec<String>,
    /// Task security groups.
    pub security_groups: Vec<String>,
    /// `assignPublicIp: ENABLED`.
    pub public_ip: bool,
    /// ECS Exec.
    pub exec: bool,
    /// Task definition ARN.
    pub task_definition: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// Everything reachguard knows about one account/region, indexed.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Region (from the snapshot, else derived from the subnets' AZs).
    pub region: String,
    /// Account id, when known.
    pub account: Option<String>,
    /// VPCs.
    pub vpcs: Vec<Vpc>,
    /// Subnets.
    pub subnets: Vec<Subnet>,
    /// Route tables.
    pub route_tables: Vec<RouteTable>,
    /// VPC endpoints.
    pub endpoints: Vec<Endpoint>,
    /// NAT gateways.
    pub nat_gateways: Vec<NatGateway>,
    /// Internet gateways.
    pub internet_gateways: Vec<InternetGateway>,
    /// Security groups.
    pub security_groups: Vec<SecurityGroup>,
    /// Network ACLs; `None` when the input had none (no restrictions assumed).
    pub network_acls: Option<Vec<NetworkAcl>>,
    /// ECS services (all of them; see [`Service::in_scope`]).
    pub services: Vec<Service>,
    /// Task definitions, as documents.
    pub task_definitions: Vec<snapshot::TaskDefinition>,
    /// Soft problems (a referenced id missing from the input), reported beside findings.
    pub warnings: Vec<String>,
    /// CloudWatch figures of the NAT gateways, when the snapshot has them.
    pub nat_metrics: Option<NatMetrics>,
    index: Index,
}

#[derive(Debug, Clone, Default)]
struct Index {
    vpc: HashMap<String, usize>,
    subnet: HashMap<String, usize>,
    route_table_of_subnet: HashMap<String, usize>,
    main_route_table: HashMap<String, usize>,
    route_table: HashMap<String, usize>,
    endpoint: HashMap<String, usize>,
    endpoints_of_vpc: HashMap<String, Vec<usize>>,
    nat: HashMap<String, usize>,
    igw: HashMap<String, usize>,
    security_group: HashMap<String, usize>,
    acl_of_subnet: HashMap<String, usize>,
    default_acl: HashMap<String, usize>,
    task_definition: HashMap<String, usize>,
    service: HashMap<String, usize>,
    acl: HashMap<String, usize>,
}

fn state_is(state: Option<&str>, wanted: &str) -> bool {
    state.is_some_and(|s| s.eq_ignore_ascii_case(wanted))
}

fn ec2_tags(tags: &[snapshot::Tag]) -> Tags {
    Tags::new(tags.iter().map(|t| (t.key.clone(), t.value.clone())))
}

fn cidr_at(text: &str, path: impl FnOnce() -> String) -> Result<Ipv4Cidr, SnapshotError> {
    text.parse().map_err(|reason| SnapshotError::Shape {
        path: path(),
        reason,
    })
}

/// The short service name of `com.amazonaws.<region>.<name>` (else the name unchanged).
pub fn short_service_name(service_name: &str) -> &str {
    service_name
        .strip_prefix("com.amazonaws.")
        .and_then(|rest| rest.split_once('.'))
        .map_or(service_name, |(_region, name)| name)
}

/// The region of an availability zone name (`us-east-1a` → `us-east-1`).
fn region_of_az(az: &str) -> &str {
    az.trim_end_matches(|c: char| c.is_ascii_lowercase())
}

impl Topology {
    /// Validates and indexes a snapshot. Fails on the first malformed member, naming its path;
    /// references to ids the snapshot lacks become [`Topology::warnings`].
    pub fn from_snapshot(doc: &Snapshot) -> Result<Topology, SnapshotError> {
        let attributes: HashMap<&str, &snapshot::VpcAttributes> = doc
            .vpc_attributes
            .iter()
            .map(|a| (a.vpc_id.as_str(), a))
            .collect();
        let vpcs = doc
            .vpcs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let attrs = attributes.get(v.vpc_id.as_str());
                let flag =
                    |get: fn(&snapshot::VpcAttributes) -> Option<snapshot::AttributeBoolean>| {
                        attrs.and_then(|a| get(a)).is_none_or(|b| b.value)
                    };
                Ok(Vpc {
                    id: v.vpc_id.clone(),
                    cidr: v
                        .cidr_block
                        .as_deref()
                        .map(|c| cidr_at(c, || format!("Vpcs[{i}].CidrBlock")))
                        .transpose()?,
                    dns_support: flag(|a| a.enable_dns_support),
                    dns_hostnames: flag(|a| a.enable_dns_hostnames),
                    tags: ec2_tags(&v.tags),
                })
            })
            .collect::<Result<_, SnapshotError>>()?;
        let subnets = doc
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Subnet {
                    id: s.subnet_id.clone(),
                    vpc: s.vpc_id.clone(),
                    cidr: cidr_at(&s.cidr_block, || format!("Subnets[{i}].CidrBlock"))?,
                    az: s.availability_zone.clone(),
                    tags: ec2_tags(&s.tags),
                })
            })
            .collect::<Result<_, SnapshotError>>()?;
        let route_tables = doc.route_tables.iter().map(route_table).collect();
        let endpoints = doc
            .vpc_endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| endpoint(i, e))
            .collect::<Result<_, _>>()?;
        let nat_gateways = doc.nat_gateways.iter().map(nat_gateway).collect();
        let internet_gateways = doc
            .internet_gateways
            .iter()
            .map(|g| InternetGateway {
                id: g.internet_gateway_id.clone(),
                vpcs: g
                    .attachments
                    .iter()
                    .filter(|a| {
                        a.state.is_none()
                            || state_is(a.state.as_deref(), "available")
                            || state_is(a.state.as_deref(), "attached")
                    })
                    .map(|a| a.vpc_id.clone())
                    .collect(),
            })
            .collect();
        let security_groups = doc
            .security_groups
            .iter()
            .enumerate()
            .map(|(i, g)| security_group(i, g))
            .collect::<Result<_, _>>()?;
        let network_acls = doc
            .network_acls
            .as_ref()
            .map(|acls| {
                acls.iter()
                    .enumerate()
                    .map(|(i, a)| network_acl(i, a))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let services = doc.services.iter().map(service).collect();
        let region = doc
            .region
            .clone()
            .or_else(|| {
                doc.subnets
                    .first()
                    .map(|s| region_of_az(&s.availability_zone).to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let mut topology = Topology {
            region,
            account: doc.account_id.clone(),
            vpcs,
            subnets,
            route_tables,
            endpoints,
            nat_gateways,
            internet_gateways,
            security_groups,
            network_acls,
            services,
            task_definitions: doc.task_definitions.clone(),
            warnings: Vec::new(),
            nat_metrics: doc
                .nat_gateway_metrics
                .as_ref()
                .map(NatMetrics::from_document)
                .transpose()?,
            index: Index::default(),
        };
        topology.reindex();
        topology.warnings = topology.dangling_references();
        Ok(topology)
    }

    /// Rebuilds the lookup indexes; call after changing the collections (the remediation
    /// simulation does).
    pub fn reindex(&mut self) {
        fn by_id<T>(items: &[T], id: impl Fn(&T) -> &str) -> HashMap<String, usize> {
            let mut map = HashMap::with_capacity_and_hasher(items.len(), Default::default());
            for (i, item) in items.iter().enumerate() {
                map.entry(id(item).to_string()).or_insert(i);
            }
            map
        }
        let mut index = Index {
            vpc: by_id(&self.vpcs, |v| &v.id),
            subnet: by_id(&self.subnets, |s| &s.id),
            route_table: by_id(&self.route_tables, |t| &t.id),
            service: by_id(&self.services, |s| &s.arn),
            acl: self
                .network_acls
                .as_deref()
                .map(|acls| by_id(acls, |a| &a.id))
                .unwrap_or_default(),
            endpoint: by_id(&self.endpoints, |e| &e.id),
            nat: by_id(&self.nat_gateways, |n| &n.id),
            igw: by_id(&self.internet_gateways, |g| &g.id),
            security_group: by_id(&self.security_groups, |g| &g.id),
            task_definition: by_id(&self.task_definitions, |t| &t.task_definition_arn),
            ..Index::default()
        };
        for (i, table) in self.route_tables.iter().enumerate() {
            if table.main {
                index.main_route_table.entry(table.vpc.clone()).or_insert(i);
            }
            for subnet in &table.subnets {
                index
                    .route_table_of_subnet
                    .entry(subnet.clone())
                    .or_insert(i);
            }
        }
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            index
                .endpoints_of_vpc
                .entry(endpoint.vpc.clone())
                .or_default()
                .push(i);
        }
        for (i, acl) in self.network_acls.iter().flatten().enumerate() {
            if acl.default {
                index.default_acl.entry(acl.vpc.clone()).or_insert(i);
            }
            for subnet in &acl.subnets {
                index.acl_of_subnet.entry(subnet.clone()).or_insert(i);
            }
        }
        self.index = index;
    }

    fn dangling_references(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for service in self.services.iter().filter(|s| s.in_scope) {
            for subnet in service.subnets.iter().filter(|s| self.subnet(s).is_none()) {
                warnings.push(format!(
                    "service {} uses subnet {subnet}, which is not in the input: skipped",
                    service.arn
                ));
            }
            for group in service
                .security_groups
                .iter()
                .filter(|g| self.security_group(g).is_none())
            {
                warnings.push(format!(
                    "service {} uses security group {group}, which is not in the input: skipped",
                    service.arn
                ));
            }
        }
        for endpoint in self.endpoints.iter().filter(|e| e.available) {
            for group in endpoint
                .security_groups
                .iter()
                .filter(|g| self.security_group(g).is_none())
            {
                warnings.push(format!(
                    "endpoint {} uses security group {group}, which is not in the input: skipped",
                    endpoint.id
                ));
            }
            for subnet in endpoint.subnets.iter().filter(|s| self.subnet(s).is_none()) {
                warnings.push(format!(
                    "endpoint {} has subnet {subnet}, which is not in the input: its network ACL is not checked",
                    endpoint.id
                ));
            }
        }
        warnings
    }

    /// A VPC by id.
    pub fn vpc(&self, id: &str) -> Option<&Vpc> {
        self.index.vpc.get(id).map(|&i| &self.vpcs[i])
    }

    /// A subnet by id.
    pub fn subnet(&self, id: &str) -> Option<&Subnet> {
        self.index.subnet.get(id).map(|&i| &self.subnets[i])
    }

    /// The subnet's route table: its explicit association, else the VPC's main route table.
    pub fn route_table_of(&self, subnet: &Subnet) -> Option<&RouteTable> {
        self.index
            .route_table_of_subnet
            .get(&subnet.id)
            .or_else(|| self.index.main_route_table.get(&subnet.vpc))
            .map(|&i| &self.route_tables[i])
    }

    /// A route table by id.
    pub fn route_table(&self, id: &str) -> Option<&RouteTable> {
        self.index
            .route_table
            .get(id)
            .map(|&i| &self.route_tables[i])
    }

    /// A network ACL by id.
    pub fn network_acl(&self, id: &str) -> Option<&NetworkAcl> {
        let acls = self.network_acls.as_ref()?;
        self.index.acl.get(id).map(|&i| &acls[i])
    }

    /// A service by ARN.
    pub fn service(&self, arn: &str) -> Option<&Service> {
        self.index.service.get(arn).map(|&i| &self.services[i])
    }

    /// An endpoint by id.
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.index.endpoint.get(id).map(|&i| &self.endpoints[i])
    }

    /// Every endpoint of a VPC (any state).
    pub fn endpoints_in(&self, vpc: &str) -> impl Iterator<Item = &Endpoint> + use<'_> {
        self.index
            .endpoints_of_vpc
            .get(vpc)
            .into_iter()
            .flatten()
            .map(|&i| &self.endpoints[i])
    }

    /// The available endpoints of `kind` for `service` (short name) in a VPC.
    pub fn available_endpoints(
        &self,
        vpc: &str,
        kind: EndpointKind,
        service: &str,
    ) -> impl Iterator<Item = &Endpoint> {
        self.endpoints_in(vpc)
            .filter(move |e| e.available && e.kind == kind && e.service == service)
    }

    /// A NAT gateway by id.
    pub fn nat_gateway(&self, id: &str) -> Option<&NatGateway> {
        self.index.nat.get(id).map(|&i| &self.nat_gateways[i])
    }

    /// An internet gateway by id.
    pub fn internet_gateway(&self, id: &str) -> Option<&InternetGateway> {
        self.index.igw.get(id).map(|&i| &self.internet_gateways[i])
    }

    /// A security group by id.
    pub fn security_group(&self, id: &str) -> Option<&SecurityGroup> {
        self.index
            .security_group
            .get(id)
            .map(|&i| &self.security_groups[i])
    }

    /// The network ACL of a subnet: its association, else the VPC's default ACL; `None` when the
    /// input has no ACLs (no restriction).
    pub fn network_acl_of(&self, subnet: &Subnet) -> Option<&NetworkAcl> {
        let acls = self.network_acls.as_ref()?;
        self.index
            .acl_of_subnet
            .get(&subnet.id)
            .or_else(|| self.index.default_acl.get(&subnet.vpc))
            .map(|&i| &acls[i])
    }

    /// A task definition by ARN.
    pub fn task_definition(&self, arn: &str) -> Option<&snapshot::TaskDefinition> {
        self.index
            .task_definition
            .get(arn)
            .map(|&i| &self.task_definitions[i])
    }

    /// The VPC of a service: that of its first subnet present in the input.
    pub fn vpc_of_service(&self, service: &Service) -> Option<&str> {
        service
            .subnets
            .iter()
            .find_map(|s| self.subnet(s))
            .map(|s| s.vpc.as_str())
    }
}

fn route_table(t: &snapshot::RouteTable) -> RouteTable {
    let associated = |a: &&snapshot::RouteTableAssociation| {
        a.association_state
            .as_ref()
            .and_then(|s| s.state.as_deref())
            .is_none_or(|s| s.eq_ignore_ascii_case("associated"))
    };
    RouteTable {
        id: t.route_table_id.clone(),
        vpc: t.vpc_id.clone(),
        main: t.associations.iter().filter(associated).any(|a| a.main),
        subnets: t
            .associations
            .iter()
            .filter(associated)
            .filter_map(|a| a.subnet_id.clone())
            .collect(),
        routes: t.routes.iter().map(route).collect(),
        tags: ec2_tags(&t.tags),
    }
}

fn route(r: &snapshot::Route) -> Route {
    let beyond = |kind, id: &String| Target::Beyond {
        kind,
        id: id.clone(),
    };
    let target = if let Some(id) = &r.nat_gateway_id {
        Target::NatGateway(id.clone())
    } else if let Some(id) = &r.gateway_id {
        match id.split('-').next() {
            _ if id == "local" => Target::Local,
            Some("igw") => Target::InternetGateway(id.clone()),
            Some("vpce") => Target::GatewayEndpoint(id.clone()),
            Some("vgw") => beyond("virtual private gateway", id),
            _ => beyond("gateway", id),
        }
    } else if let Some(id) = &r.transit_gateway_id {
        beyond("transit gateway", id)
    } else if let Some(id) = &r.vpc_peering_connection_id {
        beyond("peering connection", id)
    } else if let Some(id) = &r.network_interface_id {
        beyond("network interface", id)
    } else if let Some(id) = &r.instance_id {
        beyond("instance", id)
    } else if let Some(id) = &r.local_gateway_id {
        beyond("local gateway", id)
    } else if let Some(id) = &r.carrier_gateway_id {
        beyond("carrier gateway", id)
    } else if let Some(id) = &r.core_network_arn {
        beyond("core network", id)
    } else if let Some(id) = &r.egress_only_internet_gateway_id {
        Target::EgressOnly(id.clone())
    } else {
        Target::Unknown
    };
    let destination = r
        .destination_cidr_block
        .clone()
        .or_else(|| r.destination_prefix_list_id.clone())
        .or_else(|| r.destination_ipv6_cidr_block.clone())
        .unwrap_or_default();
    Route {
        is_default: r.destination_cidr_block.as_deref() == Some("0.0.0.0/0"),
        destination,
        target,
        blackhole: state_is(r.state.as_deref(), "blackhole"),
    }
}

fn endpoint(i: usize, e: &snapshot::VpcEndpoint) -> Result<Endpoint, SnapshotError> {
    let kind = match e.vpc_endpoint_type.to_ascii_lowercase().as_str() {
        "gateway" => EndpointKind::Gateway,
        "interface" => EndpointKind::Interface,
        _ => EndpointKind::Other,
    };
    let policy = e
        .policy_document
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(Policy::parse)
        .transpose()
        .map_err(|reason| SnapshotError::Shape {
            path: format!("VpcEndpoints[{i}].PolicyDocument"),
            reason,
        })?;
    Ok(Endpoint {
        id: e.vpc_endpoint_id.clone(),
        vpc: e.vpc_id.clone(),
        kind,
        service: short_service_name(&e.service_name).to_string(),
        service_name: e.service_name.clone(),
        available: state_is(e.state.as_deref(), "available"),
        state: e.state.clone().unwrap_or_default(),
        policy,
        route_tables: e.route_table_ids.clone(),
        subnets: e.subnet_ids.clone(),
        security_groups: e.groups.iter().map(|g| g.group_id.clone()).collect(),
        private_dns: e.private_dns_enabled.unwrap_or(false),
        tags: ec2_tags(&e.tags),
    })
}

fn nat_gateway(n: &snapshot::NatGateway) -> NatGateway {
    NatGateway {
        id: n.nat_gateway_id.clone(),
        vpc: n.vpc_id.clone(),
        subnet: n.subnet_id.clone(),
        available: state_is(n.state.as_deref(), "available"),
        state: n.state.clone().unwrap_or_default(),
        public: n.connectivity_type.is_none() || state_is(n.connectivity_type.as_deref(), "public"),
        regional: state_is(n.availability_mode.as_deref(), "regional"),
        filtered: n.attached_appliances.iter().any(|a| {
            state_is(a.appliance_type.as_deref(), "network-firewall-proxy")
                && state_is(a.attachment_state.as_deref(), "attached")
        }),
        tags: ec2_tags(&n.tags),
    }
}

/// Ports a protocol/port-range pair covers for TCP (`None`: not TCP at all).
fn tcp_ports(protocol: &str, from: Option<i64>, to: Option<i64>) -> Option<Ports> {
    match protocol.to_ascii_lowercase().as_str() {
        "-1" | "all" => Some(Ports::ALL),
        "tcp" | "6" => match (from, to) {
            (Some(from), Some(to)) => Ports::clamped(from, to),
            _ => Some(Ports::ALL),
        },
        _ => None,
    }
}

fn security_group(i: usize, g: &snapshot::SecurityGroup) -> Result<SecurityGroup, SnapshotError> {
    let ingress = g
        .ip_permissions
        .iter()
        .enumerate()
        .map(|(j, p)| {
            Ok(Ingress {
                ports: tcp_ports(&p.ip_protocol, p.from_port, p.to_port),
                cidrs: p
                    .ip_ranges
                    .iter()
                    .enumerate()
                    .map(|(k, r)| {
                        cidr_at(&r.cidr_ip, || {
                            format!("SecurityGroups[{i}].IpPermissions[{j}].IpRanges[{k}].CidrIp")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                groups: p
                    .user_id_group_pairs
                    .iter()
                    .filter_map(|pair| pair.group_id.clone())
                    .collect(),
            })
        })
        .collect::<Result<_, SnapshotError>>()?;
    Ok(SecurityGroup {
        id: g.group_id.clone(),
        ingress,
    })
}

fn network_acl(i: usize, a: &snapshot::NetworkAcl) -> Result<NetworkAcl, SnapshotError> {
    let mut inbound = Vec::new();
    let mut outbound = Vec::new();
    for (j, e) in a.entries.iter().enumerate() {
        let entry = AclEntry {
            rule_number: e.rule_number,
            allow: e.rule_action.eq_ignore_ascii_case("allow"),
            ports: tcp_ports(
                &e.protocol,
                e.port_range.map(|p| p.from),
                e.port_range.map(|p| p.to),
            ),
            cidr: e
                .cidr_block
                .as_deref()
                .map(|c| cidr_at(c, || format!("NetworkAcls[{i}].Entries[{j}].CidrBlock")))
                .transpose()?,
        };
        if e.egress {
            outbound.push(entry);
        } else {
            inbound.push(entry);
        }
    }
    inbound.sort_by_key(|e| e.rule_number);
    outbound.sort_by_key(|e| e.rule_number);
    Ok(NetworkAcl {
        id: a.network_acl_id.clone(),
        vpc: a.vpc_id.clone(),
        default: a.is_default,
        subnets: a.associations.iter().map(|s| s.subnet_id.clone()).collect(),
        inbound,
        outbound,
        tags: ec2_tags(&a.tags),
    })
}

fn service(s: &snapshot::EcsService) -> Service {
    let awsvpc = s
        .network_configuration
        .as_ref()
        .and_then(|n| n.awsvpc_configuration.as_ref());
    let launch = match s
        .launch_type
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("EXTERNAL") => Launch::External,
        Some("FARGATE") => Launch::Fargate,
        Some(_) => Launch::Ec2,
        None if s.capacity_provider_strategy.is_empty() => Launch::Ec2,
        None => {
            let fargate_only = s.capacity_provider_strategy.iter().all(|p| {
                matches!(
                    p.capacity_provider.to_ascii_uppercase().as_str(),
                    "FARGATE" | "FARGATE_SPOT"
                )
            });
            if fargate_only {
                Launch::Fargate
            } else {
                Launch::Ec2
            }
        }
    };
    Service {
        arn: s.service_arn.clone(),
        in_scope: state_is(s.status.as_deref(), "active")
            && awsvpc.is_some()
            && launch != Launch::External,
        launch,
        subnets: awsvpc.map(|a| a.subnets.clone()).unwrap_or_default(),
        security_groups: awsvpc
            .map(|a| a.security_groups.clone())
            .unwrap_or_default(),
        public_ip: awsvpc.is_some_and(|a| state_is(a.assign_public_ip.as_deref(), "enabled")),
        exec: s.enable_execute_command,
        task_definition: s.task_definition.clone(),
        tags: Tags::new(s.tags.iter().map(|t| (t.key.clone(), t.value.clone()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_and_regions() {
        assert_eq!(
            short_service_name("com.amazonaws.us-east-1.ecr.dkr"),
            "ecr.dkr"
        );
        assert_eq!(short_service_name("com.amazonaws.eu-west-3.s3"), "s3");
        assert_eq!(short_service_name("aws.sagemaker.x"), "aws.sagemaker.x");
        assert_eq!(region_of_az("us-east-1a"), "us-east-1");
    }

    #[test]
    fn bad_members_name_their_path() {
        let doc: Snapshot = serde_json::from_str(
            r#"{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.0.0/24","AvailabilityZone":"us-east-1a"},
                           {"SubnetId":"subnet-2","VpcId":"vpc-1","CidrBlock":"10.0.300.0/24","AvailabilityZone":"us-east-1a"}]}"#,
        )
        .unwrap();
        let err = Topology::from_snapshot(&doc).unwrap_err().to_string();
        assert!(
            err.starts_with("Subnets[1].CidrBlock: expected an IPv4 CIDR"),
            "{err}"
        );
    }
}
