//! The [`Topology`]'s lookup maps, built by [`Topology::reindex`], and the lookups that use them.

use rustc_hash::FxHashMap as HashMap;

use super::{
    Endpoint, EndpointKind, InternetGateway, NatGateway, NetworkAcl, RouteTable, SecurityGroup,
    Service, Subnet, Topology, Vpc,
};
use crate::snapshot;

/// Positions in the [`Topology`]'s collections by id (or by VPC or subnet where a lookup needs it).
#[derive(Debug, Clone, Default)]
pub(super) struct Index {
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

impl Topology {
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
