//! The `unreachable-dependency` rule.
//!
//! ## What it checks
//! For every service subnet and every dependency of its services, the path that captures the
//! traffic works end to end: an S3/DynamoDB gateway endpoint on the subnet's route table, else an
//! interface endpoint with private DNS, else the default route (`0.0.0.0/0`) through a NAT gateway,
//! an internet gateway or another target. The finding's `path` says which path was tried and where
//! it broke.
//!
//! ## Why it matters
//! Tasks that cannot reach ECR, S3, CloudWatch Logs or Secrets Manager fail to start, or start and
//! fail at their first call.
//!
//! ## Example
//! `subnet-a`'s route table has no default route and the VPC has no `ecr.dkr` endpoint → fires for
//! (`svc`, `subnet-a`, `ecr.dkr`) with the plan `create-interface-endpoint`; with a working NAT
//! route it does not fire.
//!
//! ## Remediation
//! An endpoint where one would fix the path: `associate-gateway-endpoint` (free) or
//! `create-gateway-endpoint` (free) for `s3`/`dynamodb`, `create-interface-endpoint` (opt-in:
//! billed hourly per AZ) for the others. No plan when the capturing endpoint is blocked by its
//! security group, a network ACL or its policy, or when an interface endpoint exists but does not
//! capture (private DNS or VPC DNS off): the finding of that other rule carries the fix.

use super::Rule;
use crate::action::Action;
use crate::deps::{GATEWAY_SERVICES, INTERNET};
use crate::evaluation::{Evaluation, Findings, ServicePath};
use crate::model::EndpointKind;
use crate::paths::{Break, capturing_interface_endpoint};
use crate::remediation;
use crate::rule_id::RuleId;

pub(super) const RULE: Rule = Rule {
    id: RuleId::UnreachableDependency,
    summary: "no path from a service subnet to a dependency works",
    explanation: super::explanation!("unreachable_dependency"),
    check,
};

fn check(eval: &Evaluation<'_>, out: &mut Findings) {
    for p in eval.paths.iter().filter(|p| !p.path.works()) {
        let context = eval.service_of(p);
        let origin = eval.origin_of(p);
        let report = p.path.report(eval.topology, origin, &p.dependency);
        let mut f = eval.finding(RULE.id, &p.subnet.vpc);
        f.service = Some(context.service.arn.clone());
        f.subnet = Some(p.subnet.id.clone());
        f.dependency = Some(p.dependency.clone());
        f.route_table = p.path.route_table.map(|t| t.id.clone());
        f.availability_zone = Some(p.subnet.az.clone());
        f.message = format!(
            "tasks in {} cannot reach {} (needed: {}); path tried: {}; broken: {}",
            p.subnet.id,
            p.dependency,
            context
                .deps
                .needs
                .get(&p.dependency)
                .map_or("", String::as_str),
            report.via,
            report.broken_at.as_deref().unwrap_or("")
        );
        f.remediation = plan(eval, p);
        f.path = Some(report);
        out.push(f);
    }
}

/// The fix for a broken path: endpoints for missing routes; nothing where another rule owns the
/// fix (security group, ACL, policy, private DNS) or no endpoint can help (`internet`).
fn plan(eval: &Evaluation<'_>, p: &ServicePath<'_>) -> Vec<Action> {
    let owned_elsewhere = matches!(
        p.path.broken,
        Some(
            Break::SecurityGroup(_)
                | Break::Acl(_)
                | Break::PolicyBlocksEcrLayers(_)
                | Break::EndpointWithoutSubnets(_)
                | Break::NoRouteTable
        )
    );
    let vpc = p.subnet.vpc.as_str();
    let dependency = p.dependency.as_str();
    if owned_elsewhere || dependency == INTERNET {
        return Vec::new();
    }
    if GATEWAY_SERVICES.contains(&dependency) {
        let has_gateway = eval
            .topology
            .available_endpoints(vpc, EndpointKind::Gateway, dependency)
            .next()
            .is_some();
        return match (has_gateway, p.path.route_table) {
            (true, Some(table)) => {
                remediation::associate_gateway_endpoint(eval, vpc, dependency, &table.id)
                    .map(|(_, action)| action)
                    .into_iter()
                    .collect()
            }
            (true, None) => Vec::new(),
            (false, _) => vec![remediation::create_gateway_endpoint(eval, vpc, dependency)],
        };
    }
    // An interface endpoint that exists but does not capture (private DNS off, VPC DNS off) is
    // fixed by the rules that own those settings, not by a second endpoint.
    let endpoint_exists = eval
        .topology
        .available_endpoints(vpc, EndpointKind::Interface, dependency)
        .next()
        .is_some();
    if endpoint_exists || capturing_interface_endpoint(eval.topology, vpc, dependency).is_some() {
        return Vec::new();
    }
    remediation::create_interface_endpoint(eval, vpc, dependency)
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Topo, acl_entry};

    fn fires(t: Topo) -> Vec<String> {
        t.subjects(RuleId::UnreachableDependency)
    }

    fn one(dep: &str) -> Vec<String> {
        vec![format!("svc|subnet-a|{dep}")]
    }

    #[test]
    fn paths_of_rules_md_section_2() {
        let all_four = ["ecr.api", "ecr.dkr", "logs", "s3"]
            .map(|d| format!("svc|subnet-a|{d}"))
            .to_vec();
        let cases: Vec<(&str, Topo, Vec<String>)> = vec![
            ("endpoint-only VPC works", Topo::endpoint_only(), vec![]),
            ("working NAT works", Topo::nat_only(), vec![]),
            ("no route, no endpoint: everything unreachable", Topo::base(), all_four.clone()),
            ("NAT not available", Topo::nat_only().nat_mut("nat-a", |n| n.state = Some("deleted".into())), all_four.clone()),
            ("private NAT", Topo::nat_only().nat_mut("nat-a", |n| n.connectivity_type = Some("private".into())), all_four.clone()),
            ("zonal NAT without its own IGW route", Topo::nat_only().route_table("rtb-pub", |t| { t.routes.pop(); }), all_four.clone()),
            ("regional NAT needs no public subnet", Topo::base().nat("nat-r", "subnet-pub-a").nat_mut("nat-r", |n| { n.availability_mode = Some("regional".into()); n.subnet_id = None; }).default_route("rtb-private", "nat-r").route_table("rtb-pub", |t| { t.routes.pop(); }), vec![]),
            ("IGW route without public IP", Topo::base().default_route("rtb-private", "igw-1"), all_four.clone()),
            ("IGW route with public IP", Topo::base().default_route("rtb-private", "igw-1").service_mut("svc", |s| s.network_configuration.as_mut().unwrap().awsvpc_configuration.as_mut().unwrap().assign_public_ip = Some("ENABLED".into())), vec![]),
            ("transit gateway assumed to work", Topo::base().default_route("rtb-private", "tgw-1"), vec![]),
            ("peering assumed to work", Topo::base().default_route("rtb-private", "pcx-1"), vec![]),
            ("blackhole default route", Topo::nat_only().route_table("rtb-private", |t| t.routes.last_mut().unwrap().state = Some("blackhole".into())), all_four.clone()),
            ("S3 interface endpoint does not serve ECR layers", Topo::endpoint_only().with(|d| d.vpc_endpoints.retain(|e| e.vpc_endpoint_id != "vpce-s3")).interface_endpoint("vpce-s3i", "s3", &["subnet-a"]), one("s3")),
            ("gateway endpoint on another route table", Topo::endpoint_only().endpoint_mut("vpce-s3", |e| e.route_table_ids = vec!["rtb-pub".into()]), one("s3")),
            ("pending endpoint does not count", Topo::endpoint_only().endpoint_mut("vpce-logs", |e| e.state = Some("pending".into())), one("logs")),
            ("private DNS disabled captures nothing", Topo::endpoint_only().endpoint_mut("vpce-logs", |e| e.private_dns_enabled = Some(false)), one("logs")),
            ("private DNS disabled, NAT fallback works", Topo::nat_only().interface_endpoint("vpce-logs", "logs", &["subnet-a"]).endpoint_mut("vpce-logs", |e| e.private_dns_enabled = Some(false)), vec![]),
            ("VPC DNS off: endpoints capture nothing", Topo::endpoint_only().vpc_dns(true, false), ["ecr.api", "ecr.dkr", "logs"].map(|d| format!("svc|subnet-a|{d}")).to_vec()),
            ("captured but security group blocks, NAT does not help", Topo::endpoint_only().nat("nat-a", "subnet-pub-a").default_route("rtb-private", "nat-a").endpoint_ingress(vec![]), ["ecr.api", "ecr.dkr", "logs"].map(|d| format!("svc|subnet-a|{d}")).to_vec()),
            ("ACL denies ephemeral return traffic", Topo::nat_only().acl(&["subnet-a"], vec![acl_entry(100, true, true, None, "0.0.0.0/0"), acl_entry(100, false, true, Some((0, 1023)), "0.0.0.0/0")]), all_four.clone()),
            ("gateway endpoint policy without the layer bucket", Topo::endpoint_only().endpoint_mut("vpce-s3", |e| e.policy_document = Some(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::my-bucket/*"}]}"#.into())), one("s3")),
            ("main route table used without association", Topo::nat_only().route_table("rtb-private", |t| t.associations.clear()).default_route("rtb-main", "nat-a"), vec![]),
        ];
        for (case, topo, expected) in cases {
            assert_eq!(fires(topo), expected, "{case}");
        }
    }

    #[test]
    fn message_names_the_path_and_the_break() {
        let f = &Topo::nat_only()
            .nat_mut("nat-a", |n| n.state = Some("failed".into()))
            .findings(RuleId::UnreachableDependency)[0];
        assert!(
            f.message.contains("default route 0.0.0.0/0 -> nat-a"),
            "{}",
            f.message
        );
        assert!(
            f.message
                .contains("NAT gateway nat-a is failed, not available"),
            "{}",
            f.message
        );
        let path = f.path.as_ref().unwrap();
        assert_eq!(path.via, "default route 0.0.0.0/0 -> nat-a");
        assert_eq!(f.route_table.as_deref(), Some("rtb-private"));
        assert_eq!(f.availability_zone.as_deref(), Some("us-east-1a"));
    }

    #[test]
    fn plans_per_rules_md_section_4() {
        let plans = |t: Topo| -> Vec<(String, Vec<&'static str>)> {
            t.findings(RuleId::UnreachableDependency)
                .into_iter()
                .map(|f| {
                    (
                        f.dependency.unwrap(),
                        f.remediation.iter().map(|a| a.name().as_str()).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(
            plans(Topo::base()),
            vec![
                ("ecr.api".to_string(), vec!["create-interface-endpoint"]),
                ("ecr.dkr".to_string(), vec!["create-interface-endpoint"]),
                ("logs".to_string(), vec!["create-interface-endpoint"]),
                ("s3".to_string(), vec!["create-gateway-endpoint"]),
            ]
        );
        let unassociated =
            Topo::endpoint_only().endpoint_mut("vpce-s3", |e| e.route_table_ids.clear());
        assert_eq!(
            plans(unassociated),
            vec![("s3".to_string(), vec!["associate-gateway-endpoint"])]
        );
        let dns_off = Topo::endpoint_only()
            .endpoint_mut("vpce-logs", |e| e.private_dns_enabled = Some(false));
        assert_eq!(
            plans(dns_off),
            vec![("logs".to_string(), vec![])],
            "enable-private-dns belongs to its own rule"
        );
        let internet = Topo::base()
            .with(|d| d.task_definitions[0].container_definitions[0].image = Some("nginx".into()));
        assert!(
            plans(internet)
                .iter()
                .any(|(d, p)| d == "internet" && p.is_empty())
        );
    }
}
