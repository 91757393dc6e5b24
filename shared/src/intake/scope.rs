//! The scope of a re-evaluation and how it is read out of an API call: which network resources
//! (by id) and which ECS services an event names. It owns id recognition; it does not decide
//! whether an event is a trigger (that is [`super::classify`]).
//!
//! Ids are found wherever they sit in `requestParameters`/`responseElements`, whatever the EC2
//! dialect (flat camelCase with `{"items": […]}`, or wrapped PascalCase with `{"tag": 1,
//! "content": …}` members and `{"item": …}` sets): a string counts as an id when
//! - its member name says it holds ids (it ends in `Id`/`Ids`, any case, or is ECS's `subnets` /
//!   `securityGroups`); `item`, `items` and `content` pass their parent's name down, and
//! - it is a known prefix (`vpc-`, `subnet-`, …) followed by letters and digits only, so
//!   `vpce-…` is not a VPC, `sgr-…` is not a group, and `rtbassoc-…`, `subnet-cidr-assoc-…` or
//!   DNS names are nothing.
//!
//! Tag members (any name starting with `tag`, e.g. `tagSet`, `TagSpecification`, `tags`) are
//! skipped: their values are free text. Referenced resources count too, on purpose: the security
//! groups of an ingress rule's `UserIdGroupPairs`, the internet gateway or NAT gateway a route
//! points at. Re-evaluating one more VPC costs a lookup; missing one would hide a finding.
use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

/// The resources an event asks to re-evaluate, as `reachguard event` prints them
/// (`reachguard event`): sorted lists, each absent when empty.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// VPC ids (`vpc-…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub vpcs: BTreeSet<String>,
    /// Subnet ids (`subnet-…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub subnets: BTreeSet<String>,
    /// Route table ids (`rtb-…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub route_tables: BTreeSet<String>,
    /// VPC endpoint ids (`vpce-…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub endpoints: BTreeSet<String>,
    /// NAT gateway ids (`nat-…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub nat_gateways: BTreeSet<String>,
    /// Internet gateway ids (`igw-…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub internet_gateways: BTreeSet<String>,
    /// Security group ids (`sg-…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub security_groups: BTreeSet<String>,
    /// Network ACL ids (`acl-…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub network_acls: BTreeSet<String>,
    /// ECS services: the service ARN, or `cluster/name` when the event has no ARN.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub services: BTreeSet<String>,
    /// Re-evaluate everything in the event's account and region (the sweep's scope).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub account_region: bool,
    /// ECS services the event deleted (a subset of `services`): their open findings are
    /// resolved, wherever they are stored.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub deleted_services: BTreeSet<String>,
}

/// A kind of network resource, recognised by the prefix of its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `vpc-…`
    Vpc,
    /// `subnet-…`
    Subnet,
    /// `rtb-…`
    RouteTable,
    /// `vpce-…`
    Endpoint,
    /// `nat-…`
    NatGateway,
    /// `igw-…`
    InternetGateway,
    /// `sg-…`
    SecurityGroup,
    /// `acl-…`
    NetworkAcl,
}

impl ResourceKind {
    const ALL: [ResourceKind; 8] = [
        Self::Vpc,
        Self::Subnet,
        Self::RouteTable,
        Self::Endpoint,
        Self::NatGateway,
        Self::InternetGateway,
        Self::SecurityGroup,
        Self::NetworkAcl,
    ];

    /// The id prefix, dash included.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Vpc => "vpc-",
            Self::Subnet => "subnet-",
            Self::RouteTable => "rtb-",
            Self::Endpoint => "vpce-",
            Self::NatGateway => "nat-",
            Self::InternetGateway => "igw-",
            Self::SecurityGroup => "sg-",
            Self::NetworkAcl => "acl-",
        }
    }

    /// The kind of `id`, if it is one of ours: a known prefix followed by letters and digits.
    pub fn of_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| {
            id.strip_prefix(kind.prefix()).is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            })
        })
    }
}

/// Calls that delete the resource they name, after which `Describe*` no longer returns it.
const DELETED_AT_ONCE: [(&str, ResourceKind); 2] = [
    ("DeleteRouteTable", ResourceKind::RouteTable),
    ("DeleteInternetGateway", ResourceKind::InternetGateway),
];

impl Scope {
    /// The scope of the sweep: everything in the account and region.
    pub fn account_region() -> Self {
        Self {
            account_region: true,
            ..Self::default()
        }
    }

    /// True when the scope names nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Adds a network resource id of a known kind.
    pub fn insert(&mut self, kind: ResourceKind, id: &str) {
        self.ids_mut(kind).insert(id.to_owned());
    }

    fn ids_mut(&mut self, kind: ResourceKind) -> &mut BTreeSet<String> {
        match kind {
            ResourceKind::Vpc => &mut self.vpcs,
            ResourceKind::Subnet => &mut self.subnets,
            ResourceKind::RouteTable => &mut self.route_tables,
            ResourceKind::Endpoint => &mut self.endpoints,
            ResourceKind::NatGateway => &mut self.nat_gateways,
            ResourceKind::InternetGateway => &mut self.internet_gateways,
            ResourceKind::SecurityGroup => &mut self.security_groups,
            ResourceKind::NetworkAcl => &mut self.network_acls,
        }
    }

    /// Whether re-evaluating this scope of an `event_name` call means the whole account/region:
    /// it asks for it (`account_region`: the event named nothing narrower, as
    /// `DisassociateRouteTable`), or all it names is what the call deleted and AWS stops
    /// describing at once (a deleted route table or internet gateway), so no VPC can be found for
    /// it and the collection falls back to every VPC hosting a service. Deleted endpoints and
    /// NAT gateways stay describable for a while, so their VPC is found.
    pub fn is_regional(&self, event_name: &str) -> bool {
        let mut narrowing = self.clone();
        for (deleter, kind) in DELETED_AT_ONCE {
            if event_name == deleter {
                narrowing.ids_mut(kind).clear();
            }
        }
        narrowing.account_region || narrowing.is_empty()
    }

    /// Adds every network resource id named in `value` (see the module documentation).
    pub fn add_named_resources(&mut self, value: &Value) {
        self.walk(value, false);
    }

    fn walk(&mut self, value: &Value, holds_ids: bool) {
        match value {
            Value::String(text) if holds_ids => {
                if let Some(kind) = ResourceKind::of_id(text) {
                    self.insert(kind, text);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.walk(item, holds_ids)),
            Value::Object(members) => {
                for (name, member) in members {
                    let name = name.to_ascii_lowercase();
                    if name.starts_with("tag") {
                        continue;
                    }
                    let member_holds_ids = match name.as_str() {
                        "item" | "items" | "content" => holds_ids,
                        "subnets" | "securitygroups" => true,
                        _ => name.ends_with("id") || name.ends_with("ids"),
                    };
                    self.walk(member, member_holds_ids);
                }
            }
            _ => {}
        }
    }

    /// Keeps only what reachguard reads tags from (VPCs, subnets, endpoints): the resources
    /// whose `reachguard:` tags change a mode, an exemption or an egress policy.
    pub fn retain_tag_readers(&mut self) {
        *self = Self {
            vpcs: std::mem::take(&mut self.vpcs),
            subnets: std::mem::take(&mut self.subnets),
            endpoints: std::mem::take(&mut self.endpoints),
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_are_recognised_by_prefix_and_shape() {
        assert_eq!(ResourceKind::of_id("vpc-0abc"), Some(ResourceKind::Vpc));
        assert_eq!(
            ResourceKind::of_id("vpce-0abc"),
            Some(ResourceKind::Endpoint)
        );
        assert_eq!(
            ResourceKind::of_id("rtb-xxx"),
            Some(ResourceKind::RouteTable)
        );
        for not_ours in [
            "sgr-0abc",
            "rtbassoc-0abc",
            "subnet-cidr-assoc-1",
            "vpc-",
            "i-0abc",
        ] {
            assert_eq!(ResourceKind::of_id(not_ours), None, "{not_ours}");
        }
        assert_eq!(
            ResourceKind::of_id("vpce-0a-b.s3.us-east-1.vpce.amazonaws.com"),
            None
        );
    }

    #[test]
    fn both_ec2_dialects_and_sets() {
        let mut scope = Scope::default();
        scope.add_named_resources(&json!({
            "DeleteVpcEndpointsRequest": {"VpcEndpointId": [
                {"tag": 1, "content": "vpce-1"}, {"tag": 2, "content": "vpce-2"}]},
            "subnetIdSet": {"item": [{"subnetId": "subnet-1"}]},
            "routeTableIdSet": "",
            "groupSet": {"items": [{"groupId": "sg-1", "groupName": "vpc-named-like-an-id"}]},
        }));
        assert_eq!(
            scope.endpoints,
            BTreeSet::from(["vpce-1".into(), "vpce-2".into()])
        );
        assert_eq!(scope.subnets, BTreeSet::from(["subnet-1".into()]));
        assert_eq!(scope.security_groups, BTreeSet::from(["sg-1".into()]));
        assert!(scope.vpcs.is_empty());
    }

    #[test]
    fn tags_and_free_text_are_not_ids() {
        let mut scope = Scope::default();
        scope.add_named_resources(&json!({
            "tagSet": {"item": {"key": "Name", "value": "vpc-main"}},
            "TagSpecification": {"tag": 1, "Tag": {"tag": 1, "Key": "Id", "Value": "vpc-1"}},
            "description": "vpc-1",
            "taskDefinition": "vpc-proxy",
        }));
        assert!(scope.is_empty());
    }

    #[test]
    fn ecs_network_configuration() {
        let mut scope = Scope::default();
        scope.add_named_resources(&json!({"networkConfiguration": {"awsvpcConfiguration": {
            "subnets": ["subnet-1", "..."], "securityGroups": ["sg-1"]}}}));
        assert_eq!(scope.subnets, BTreeSet::from(["subnet-1".into()]));
        assert_eq!(scope.security_groups, BTreeSet::from(["sg-1".into()]));
    }

    #[test]
    fn regional_scopes() {
        let named = |kind, id: &str| {
            let mut scope = Scope::default();
            scope.insert(kind, id);
            scope
        };
        let mut route_table_and_vpc = named(ResourceKind::RouteTable, "rtb-1");
        route_table_and_vpc.insert(ResourceKind::Vpc, "vpc-1");
        // (case, event, scope, regional)
        let cases = [
            (
                "names nothing narrower",
                "DisassociateRouteTable",
                Scope::account_region(),
                true,
            ),
            (
                "names nothing at all",
                "CreateRoute",
                Scope::default(),
                true,
            ),
            (
                "a deleted route table is gone",
                "DeleteRouteTable",
                named(ResourceKind::RouteTable, "rtb-1"),
                true,
            ),
            (
                "a deleted internet gateway is gone",
                "DeleteInternetGateway",
                named(ResourceKind::InternetGateway, "igw-1"),
                true,
            ),
            (
                "the VPC beside the deleted table narrows it",
                "DeleteRouteTable",
                route_table_and_vpc,
                false,
            ),
            (
                "a changed route table is found",
                "CreateRoute",
                named(ResourceKind::RouteTable, "rtb-1"),
                false,
            ),
            (
                "a detached internet gateway is found",
                "DetachInternetGateway",
                named(ResourceKind::InternetGateway, "igw-1"),
                false,
            ),
            (
                "deleted endpoints stay describable",
                "DeleteVpcEndpoints",
                named(ResourceKind::Endpoint, "vpce-1"),
                false,
            ),
            (
                "deleted NAT gateways stay describable",
                "DeleteNatGateway",
                named(ResourceKind::NatGateway, "nat-1"),
                false,
            ),
        ];
        for (case, event, scope, regional) in cases {
            assert_eq!(scope.is_regional(event), regional, "{case}");
        }
    }

    #[test]
    fn serialises_only_what_it_holds() {
        let mut scope = Scope::default();
        scope.insert(ResourceKind::Vpc, "vpc-1");
        assert_eq!(
            serde_json::to_value(&scope).ok(),
            Some(json!({"vpcs": ["vpc-1"]}))
        );
        assert_eq!(
            serde_json::to_value(Scope::account_region()).ok(),
            Some(json!({"account_region": true}))
        );
    }
}
