//! The rule catalog (the structural rules, plus the measured NAT rules that read `NatGatewayMetrics`): the
//! stable public ids in one table, and one module per rule.
//!
//! A rule is a pure function from an [`Evaluation`] to findings. Each module carries its own
//! table-driven tests, and its doc explains it in four `## ` sections — What it checks, Why it
//! matters, Example, Remediation — which the build script copies out for
//! [`RuleId::explanation`]: the text of `reachguard rules --explain` and `docs/rules.md`.

use crate::evaluation::{Evaluation, Findings};
use crate::rule_id::RuleId;

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

/// What a rule is: its id (whose severity and subject are fixed in [`crate::rule_id`]), a
/// one-line summary, and its check.
pub struct Rule {
    /// Stable id.
    pub id: RuleId,
    /// When it fires, in one line (README table, `--help`).
    pub summary: &'static str,
    /// What the rule checks, why it matters, an example and its remediation: the `## `
    /// sections of its module's doc, as Markdown (copied out by `build.rs`, see [`explanation!`]).
    pub explanation: &'static str,
    /// The check.
    pub check: fn(&Evaluation<'_>, &mut Findings),
}

/// The explanation of the rule module named `$module`: its module doc from the first `## `
/// heading on, which `build.rs` writes to `$OUT_DIR/rule_docs/<module>.md`.
macro_rules! explanation {
    ($module:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/rule_docs/", $module, ".md"))
    };
}
use explanation;

/// Every rule, in catalog order (the order of [`RuleId`]'s variants).
pub const RULES: [&Rule; 16] = [
    &unreachable_dependency::RULE,
    &endpoint_private_dns_disabled::RULE,
    &vpc_dns_disabled::RULE,
    &endpoint_security_group_blocks_https::RULE,
    &endpoint_az_gap::RULE,
    &gateway_endpoint_not_associated::RULE,
    &gateway_endpoint_policy_blocks_ecr_layers::RULE,
    &nat_for_gateway_service::RULE,
    &nat_single_az::RULE,
    &egress_not_restricted::RULE,
    &network_acl_blocks_https::RULE,
    &route_blackhole::RULE,
    &subnet_not_ready::RULE,
    &nat_port_exhaustion::RULE,
    &nat_packet_drops::RULE,
    &nat_bandwidth_pressure::RULE,
];

/// The rule registered under `id`.
pub fn rule(id: RuleId) -> &'static Rule {
    RULES[id as usize]
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    #[test]
    fn every_rule_id_has_its_rule_in_catalog_order() {
        assert_eq!(RULES.len(), RuleId::VARIANTS.len());
        for (index, id) in RuleId::VARIANTS.iter().enumerate() {
            assert_eq!(RULES[index].id, *id, "RULES[{index}] is {id}'s module");
            assert_eq!(rule(*id).id, *id);
        }
    }
}
