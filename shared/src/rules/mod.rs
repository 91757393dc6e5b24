//! The rule catalog (RULES.md §3, plus the measured NAT rules that read `NatGatewayMetrics`): the
//! stable public ids in one table, and one module per rule.
//!
//! A rule is a pure function from an [`Evaluation`] to findings. Each module documents what it
//! checks, why it matters and an example, and carries its own table-driven tests.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::evaluate::{Evaluation, Findings};
use crate::finding::Severity;

mod egress_not_restricted;
mod endpoint_az_gap;
mod endpoint_private_dns_disabled;
mod endpoint_security_group_blocks_https;
mod gateway_endpoint_not_associated;
mod gateway_endpoint_policy_blocks_ecr_layers;
mod nat_bandwidth_pressure;
mod nat_for_gateway_service;
mod nat_packet_drops;
mod nat_port_exhaustion;
mod nat_single_az;
mod nat_traffic;
mod network_acl_blocks_https;
mod route_blackhole;
mod subnet_not_ready;
mod unreachable_dependency;
mod vpc_dns_disabled;

#[cfg(test)]
pub(crate) mod testing;

/// A subject field (a member of the findings JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

impl Field {
    /// The JSON member name.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Vpc => "vpc",
            Field::Service => "service",
            Field::Subnet => "subnet",
            Field::Dependency => "dependency",
            Field::Endpoint => "endpoint",
            Field::RouteTable => "route_table",
            Field::NatGateway => "nat_gateway",
            Field::NetworkAcl => "network_acl",
            Field::AvailabilityZone => "availability_zone",
            Field::Destination => "destination",
        }
    }
}

/// What a rule is: its public id, severity, subject and a one-line summary, and its check.
pub struct Rule {
    /// Stable id.
    pub id: RuleId,
    /// Severity of its findings.
    pub severity: Severity,
    /// Identifying fields.
    pub subject: &'static [Field],
    /// When it fires, in one line (README table, `--help`).
    pub summary: &'static str,
    /// The check.
    pub check: fn(&Evaluation<'_>, &mut Findings),
}

macro_rules! rule_ids {
    ($($variant:ident => $id:literal, $module:ident;)*) => {
        /// The stable public rule ids (RULES.md §3): findings, SNS attributes, suppression tags
        /// and `--rule` all use [`RuleId::as_str`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $(#[doc = concat!("`", $id, "`")] $variant,)*
        }

        impl RuleId {
            /// Every rule, in catalog order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            /// The public id.
            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$variant => $id,)* }
            }

            /// The rule's definition.
            pub fn rule(self) -> &'static Rule {
                match self { $(RuleId::$variant => &$module::RULE,)* }
            }
        }
    };
}

rule_ids! {
    UnreachableDependency => "unreachable-dependency", unreachable_dependency;
    EndpointPrivateDnsDisabled => "endpoint-private-dns-disabled", endpoint_private_dns_disabled;
    VpcDnsDisabled => "vpc-dns-disabled", vpc_dns_disabled;
    EndpointSecurityGroupBlocksHttps => "endpoint-security-group-blocks-https", endpoint_security_group_blocks_https;
    EndpointAzGap => "endpoint-az-gap", endpoint_az_gap;
    GatewayEndpointNotAssociated => "gateway-endpoint-not-associated", gateway_endpoint_not_associated;
    GatewayEndpointPolicyBlocksEcrLayers => "gateway-endpoint-policy-blocks-ecr-layers", gateway_endpoint_policy_blocks_ecr_layers;
    NatForGatewayService => "nat-for-gateway-service", nat_for_gateway_service;
    NatSingleAz => "nat-single-az", nat_single_az;
    EgressNotRestricted => "egress-not-restricted", egress_not_restricted;
    NetworkAclBlocksHttps => "network-acl-blocks-https", network_acl_blocks_https;
    RouteBlackhole => "route-blackhole", route_blackhole;
    SubnetNotReady => "subnet-not-ready", subnet_not_ready;
    NatPortExhaustion => "nat-port-exhaustion", nat_port_exhaustion;
    NatPacketDrops => "nat-packet-drops", nat_packet_drops;
    NatBandwidthPressure => "nat-bandwidth-pressure", nat_bandwidth_pressure;
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

    /// Severity of the rule's findings.
    pub fn severity(self) -> Severity {
        self.rule().severity
    }

    /// The rule's subject fields.
    pub fn subject(self) -> &'static [Field] {
        self.rule().subject
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleId::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown rule {s:?}; the rules are: {}", ids.join(", "))
            })
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids of RULES.md §3, verbatim, then the measured NAT rules (README "NAT gateway
    /// metrics").
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
    fn every_catalog_id_appears_exactly_once() {
        let ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(ids, CATALOG);
        for id in CATALOG {
            let rule: RuleId = id.parse().unwrap();
            assert_eq!(rule.rule().id, rule, "{id}'s module registers its own id");
        }
        assert!(
            "no-such-rule"
                .parse::<RuleId>()
                .unwrap_err()
                .contains("route-blackhole")
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
}
