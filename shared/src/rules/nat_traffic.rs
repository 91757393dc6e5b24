//! What the NAT rules share: which working NAT gateways carry service subnets' default route
//! (with the services, subnets and dependencies behind each), and a NAT gateway's measured
//! traffic figures. Not a rule itself.

use std::collections::{BTreeMap, BTreeSet};

use crate::evaluation::Evaluation;
use crate::model::{NatGateway, RouteTarget};
use crate::nat_metrics::{NatGatewayTraffic, NatTrafficFigures, published_rate};
use crate::paths::{Via, nat_break};

/// A working NAT gateway and what goes through it.
#[derive(Debug)]
pub(super) struct Behind<'t> {
    /// The NAT gateway.
    pub nat: &'t NatGateway,
    /// Service subnets whose default route it is.
    pub subnets: BTreeSet<&'t str>,
    /// Short names of the services in those subnets.
    pub services: BTreeSet<&'t str>,
    /// Dependencies whose working path goes through it.
    pub dependencies: BTreeSet<&'t str>,
}

impl Behind<'_> {
    /// `services a, b in subnets x, y` for messages.
    pub fn who(&self) -> String {
        let join = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
        format!(
            "services {} in subnets {}",
            join(&self.services),
            join(&self.subnets)
        )
    }

    /// The dependencies that are AWS services (those an endpoint could carry), joined.
    pub fn aws_dependencies(&self) -> Option<String> {
        let names: Vec<&str> = self
            .dependencies
            .iter()
            .copied()
            .filter(|d| *d != crate::deps::INTERNET)
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }
}

/// The NAT gateways of `vpcs` that are the working default route of in-scope service subnets
/// and that `keep` accepts, by id, with what is behind them.
fn nats_behind<'e>(
    eval: &'e Evaluation<'_>,
    vpcs: &BTreeSet<&str>,
    keep: impl Fn(&str) -> bool,
) -> BTreeMap<&'e str, Behind<'e>> {
    let topology = eval.topology;
    let mut behind: BTreeMap<&'e str, Behind<'e>> = BTreeMap::new();
    for service in eval.services.iter().filter(|s| vpcs.contains(s.vpc)) {
        for &subnet in &service.subnets {
            let route = topology
                .route_table_of(subnet)
                .and_then(|t| t.default_route())
                .filter(|r| !r.blackhole);
            let Some(RouteTarget::NatGateway(id)) = route.map(|r| &r.target) else {
                continue;
            };
            let Some(nat) = topology
                .nat_gateway(id)
                .filter(|n| keep(&n.id) && nat_break(topology, n).is_none())
            else {
                continue;
            };
            let entry = behind.entry(nat.id.as_str()).or_insert_with(|| Behind {
                nat,
                subnets: BTreeSet::new(),
                services: BTreeSet::new(),
                dependencies: BTreeSet::new(),
            });
            entry.subnets.insert(subnet.id.as_str());
            let arn = service.service.arn.as_str();
            entry.services.insert(arn.rsplit('/').next().unwrap_or(arn));
        }
    }
    // Only the kept NAT gateways' VPCs: the paths of other VPCs cannot go through them.
    let vpcs: BTreeSet<&str> = behind.values().map(|b| b.nat.vpc.as_str()).collect();
    for p in vpcs.into_iter().flat_map(|vpc| eval.paths_in(vpc)) {
        if p.path.works()
            && let Via::DefaultRoute(route) = p.path.via
            && let RouteTarget::NatGateway(id) = &route.target
            && let Some(entry) = behind.get_mut(id.as_str())
        {
            entry.dependencies.insert(p.dependency.as_str());
        }
    }
    behind
}

/// The measured NAT gateways whose figures `fire`, behind service subnets, with their figures
/// and the window: empty (and nearly free) without metrics or when no figure fires.
pub(super) fn measured<'e>(
    eval: &'e Evaluation<'_>,
    fire: impl Fn(&NatGatewayTraffic) -> bool,
) -> Vec<(Behind<'e>, &'e NatGatewayTraffic, u32)> {
    let Some(metrics) = eval.topology.nat_metrics.as_ref() else {
        return Vec::new();
    };
    let firing = |nat: &str| metrics.traffic(nat).is_some_and(&fire);
    // Only the services of VPCs with a firing NAT gateway can be behind one.
    let vpcs: BTreeSet<&str> = metrics
        .nat_gateways()
        .filter(|t| fire(t))
        .filter_map(|t| eval.topology.nat_gateway(&t.nat_gateway_id))
        .map(|n| n.vpc.as_str())
        .collect();
    if vpcs.is_empty() {
        return Vec::new();
    }
    nats_behind(eval, &vpcs, firing)
        .into_values()
        .filter_map(|b| {
            let traffic = metrics.traffic(&b.nat.id)?;
            Some((b, traffic, metrics.window_days))
        })
        .collect()
}

/// The processed-GB and cost figures of a NAT gateway, when the snapshot measured it.
pub(super) fn figures(eval: &Evaluation<'_>, nat: &str) -> Option<NatTrafficFigures> {
    let metrics = eval.topology.nat_metrics.as_ref()?;
    let rate = eval
        .settings
        .usd_per_gb
        .or_else(|| published_rate(&eval.topology.region));
    Some(NatTrafficFigures::new(
        metrics.traffic(nat)?,
        metrics.window_days,
        rate,
    ))
}

/// [`figures`], and the clause that ends a message with them, saying that the `share` part of
/// it cannot be told apart (empty without metrics).
pub(super) fn figures_clause(
    eval: &Evaluation<'_>,
    nat: &str,
    share: &str,
) -> (Option<NatTrafficFigures>, String) {
    let figures = figures(eval, nat);
    let clause = figures
        .as_ref()
        .map(|t| format!("; {}", t.sentence(share)))
        .unwrap_or_default();
    (figures, clause)
}

/// A count with thousands separators (`18,240`).
pub(super) fn count(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A percentage for messages: whole percents from 1 %, else two significant digits (`0.041%`,
/// `0.01%`).
pub(super) fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p >= 1.0 {
        return format!("{p:.0}%");
    }
    if p <= 0.0 || !p.is_finite() {
        return "0%".to_string();
    }
    let decimals = (-p.log10().floor()) as usize + 1;
    let text = format!("{p:.decimals$}");
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_messages() {
        let percents = [
            (0.85, "85%"),
            (0.0001, "0.01%"),
            (0.00041, "0.041%"),
            (0.0000999, "0.01%"),
            (0.00000033, "0.000033%"),
            (0.0, "0%"),
        ];
        for (share, text) in percents {
            assert_eq!(percent(share), text, "{share}");
        }
        let counts = [
            (0.0, "0"),
            (999.0, "999"),
            (18_240.0, "18,240"),
            (5.58e10, "55,800,000,000"),
        ];
        for (value, text) in counts {
            assert_eq!(count(value), text, "{value}");
        }
    }
}
