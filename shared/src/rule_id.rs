//! The vocabulary of findings: rule ids with their public contract (severity and subject
//! fields), severities and subject fields. A leaf module: what a rule *does* lives in
//! [`crate::rules`], one file per rule; what its id promises to the outside (the findings JSON,
//! SNS attributes, suppression tags, `--rule`) is fixed here, in one table.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::names::public_names;

/// Severity, most severe first (so sorting puts critical findings on top).
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
    JsonSchema,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Severity {
    /// An outage: tasks cannot start or work.
    Critical,
    /// Broken or unsafe configuration.
    High,
    /// Resilience risk or a path about to break.
    Medium,
    /// Cost.
    Low,
}
public_names!(Severity, "severity");

impl Severity {
    /// True when `self` is `other` or more severe.
    pub fn at_least(self, other: Severity) -> bool {
        self <= other
    }
}

/// A subject field (a member of the findings JSON).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[strum(serialize_all = "snake_case")]
pub enum Field {
    /// `vpc`
    Vpc,
    /// `service`
    Service,
    /// `subnet`
    Subnet,
    /// `dependency`
    Dependency,
    /// `endpoint`
    Endpoint,
    /// `route_table`
    RouteTable,
    /// `nat_gateway`
    NatGateway,
    /// `network_acl`
    NetworkAcl,
    /// `availability_zone`
    AvailabilityZone,
    /// `destination`
    Destination,
}
public_names!(Field, "subject field");

macro_rules! rule_ids {
    ($($variant:ident => $id:literal, $severity:ident, [$($field:ident),*];)*) => {
        /// The rule's stable id (`docs/rules.md`); in catalog order, each with its severity and
        /// subject.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            JsonSchema, strum::IntoStaticStr, strum::VariantArray, strum::Display,
        )]
        pub enum RuleId {
            $(
                #[doc = concat!("`", $id, "`")]
                #[serde(rename = $id)]
                #[strum(serialize = $id)]
                $variant,
            )*
        }

        impl RuleId {
            /// Severity of the rule's findings.
            pub fn severity(self) -> Severity {
                match self { $(RuleId::$variant => Severity::$severity,)* }
            }

            /// The identifying fields of the rule's findings, in order.
            pub fn subject(self) -> &'static [Field] {
                match self { $(RuleId::$variant => &[$(Field::$field),*],)* }
            }
        }
    };
}

rule_ids! {
    UnreachableDependency => "unreachable-dependency", Critical, [Service, Subnet, Dependency];
    EndpointPrivateDnsDisabled => "endpoint-private-dns-disabled", High, [Endpoint];
    VpcDnsDisabled => "vpc-dns-disabled", High, [Vpc];
    EndpointSecurityGroupBlocksHttps => "endpoint-security-group-blocks-https", High, [Endpoint, Subnet];
    EndpointAzGap => "endpoint-az-gap", Medium, [Endpoint, AvailabilityZone];
    GatewayEndpointNotAssociated => "gateway-endpoint-not-associated", Medium, [Endpoint, RouteTable];
    GatewayEndpointPolicyBlocksEcrLayers => "gateway-endpoint-policy-blocks-ecr-layers", High, [Endpoint];
    NatForGatewayService => "nat-for-gateway-service", Low, [Vpc, Dependency];
    NatSingleAz => "nat-single-az", Medium, [NatGateway];
    EgressNotRestricted => "egress-not-restricted", High, [RouteTable];
    NetworkAclBlocksHttps => "network-acl-blocks-https", High, [NetworkAcl, Subnet];
    RouteBlackhole => "route-blackhole", Critical, [RouteTable, Destination];
    SubnetNotReady => "subnet-not-ready", Medium, [Subnet, Dependency];
    NatPortExhaustion => "nat-port-exhaustion", High, [NatGateway];
    NatPacketDrops => "nat-packet-drops", Medium, [NatGateway];
    NatBandwidthPressure => "nat-bandwidth-pressure", Medium, [NatGateway];
}

impl RuleId {
    /// True for the rules that read CloudWatch figures (`NatGatewayMetrics`): without the
    /// figures they cannot tell whether they would fire.
    pub fn is_measured(self) -> bool {
        matches!(
            self,
            RuleId::NatPortExhaustion | RuleId::NatPacketDrops | RuleId::NatBandwidthPressure
        )
    }
}
public_names!(RuleId, "rule");

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    /// The ids of the catalog, verbatim (the public contract: `docs/rules.md`), then
    /// the measured NAT rules.
    const CATALOG: [&str; 16] = [
        "unreachable-dependency",
        "endpoint-private-dns-disabled",
        "vpc-dns-disabled",
        "endpoint-security-group-blocks-https",
        "endpoint-az-gap",
        "gateway-endpoint-not-associated",
        "gateway-endpoint-policy-blocks-ecr-layers",
        "nat-for-gateway-service",
        "nat-single-az",
        "egress-not-restricted",
        "network-acl-blocks-https",
        "route-blackhole",
        "subnet-not-ready",
        "nat-port-exhaustion",
        "nat-packet-drops",
        "nat-bandwidth-pressure",
    ];

    #[test]
    fn every_catalog_id_appears_exactly_once_and_parses() {
        let ids: Vec<&str> = RuleId::VARIANTS.iter().map(|r| r.as_str()).collect();
        assert_eq!(ids, CATALOG);
        for id in CATALOG {
            let rule: RuleId = id.parse().unwrap();
            assert_eq!(rule.to_string(), id);
            assert_eq!(serde_json::to_value(rule).unwrap(), id);
            assert_eq!(serde_json::from_value::<RuleId>(id.into()).unwrap(), rule);
        }
        let error = "no-such-rule".parse::<RuleId>().unwrap_err();
        assert!(
            error.starts_with(
                "unknown rule \"no-such-rule\"; expected one of: unreachable-dependency,"
            ),
            "{error}"
        );
    }

    #[test]
    fn severities_and_subjects_match_the_catalog() {
        use Field::*;
        let expected: [(&str, Severity, &[Field]); 16] = [
            (
                "unreachable-dependency",
                Severity::Critical,
                &[Service, Subnet, Dependency],
            ),
            ("endpoint-private-dns-disabled", Severity::High, &[Endpoint]),
            ("vpc-dns-disabled", Severity::High, &[Vpc]),
            (
                "endpoint-security-group-blocks-https",
                Severity::High,
                &[Endpoint, Subnet],
            ),
            (
                "endpoint-az-gap",
                Severity::Medium,
                &[Endpoint, AvailabilityZone],
            ),
            (
                "gateway-endpoint-not-associated",
                Severity::Medium,
                &[Endpoint, RouteTable],
            ),
            (
                "gateway-endpoint-policy-blocks-ecr-layers",
                Severity::High,
                &[Endpoint],
            ),
            ("nat-for-gateway-service", Severity::Low, &[Vpc, Dependency]),
            ("nat-single-az", Severity::Medium, &[NatGateway]),
            ("egress-not-restricted", Severity::High, &[RouteTable]),
            (
                "network-acl-blocks-https",
                Severity::High,
                &[NetworkAcl, Subnet],
            ),
            (
                "route-blackhole",
                Severity::Critical,
                &[RouteTable, Destination],
            ),
            ("subnet-not-ready", Severity::Medium, &[Subnet, Dependency]),
            ("nat-port-exhaustion", Severity::High, &[NatGateway]),
            ("nat-packet-drops", Severity::Medium, &[NatGateway]),
            ("nat-bandwidth-pressure", Severity::Medium, &[NatGateway]),
        ];
        for (id, severity, subject) in expected {
            let rule: RuleId = id.parse().unwrap();
            assert_eq!(rule.severity(), severity, "{id}");
            assert_eq!(rule.subject(), subject, "{id}");
        }
    }

    #[test]
    fn severity_and_field_names() {
        let severities: Vec<&str> = Severity::VARIANTS.iter().map(|s| s.as_str()).collect();
        assert_eq!(severities, ["critical", "high", "medium", "low"]);
        for s in Severity::VARIANTS {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(" HIGH ".parse::<Severity>(), Ok(Severity::High));
        assert_eq!(
            "urgent".parse::<Severity>().unwrap_err(),
            "unknown severity \"urgent\"; expected one of: critical, high, medium, low"
        );
        let fields: Vec<&str> = Field::VARIANTS.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "vpc",
                "service",
                "subnet",
                "dependency",
                "endpoint",
                "route_table",
                "nat_gateway",
                "network_acl",
                "availability_zone",
                "destination"
            ]
        );
        assert!(Severity::Critical.at_least(Severity::High));
        assert!(!Severity::Low.at_least(Severity::Medium));
    }
}
