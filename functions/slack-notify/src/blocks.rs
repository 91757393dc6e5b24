//! The Block Kit message of one notification: a header (the subject), per transition a section
//! (severity, rule and status, service and subnet, the *why*, the *fix* or what was done) with a
//! button to the resource in the AWS console, then the account, region, VPC and trigger as
//! context. Slack's limits are kept: 50 blocks, 150 characters of header, 3000 of section text.

use reachguard_shared::finding::Finding;
use reachguard_shared::notification::{Notification, Transition};
use reachguard_shared::text::truncate;
use serde_json::{Value, json};

/// Slack's limit on a message's blocks.
const MAX_BLOCKS: usize = 50;
/// The header, the overflow line, the divider and the footer take four of them.
const MAX_TRANSITION_BLOCKS: usize = MAX_BLOCKS - 4;
/// Slack's limit on a header's text.
const MAX_HEADER_CHARS: usize = 150;
/// Slack's limit on a section's text.
const MAX_SECTION_CHARS: usize = 3000;

/// The message posted for `n`.
pub fn message(n: &Notification) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&n.subject(), MAX_HEADER_CHARS), "emoji": true}
    })];
    for t in n.transitions.iter().take(MAX_TRANSITION_BLOCKS) {
        blocks.push(transition_block(n, t));
    }
    if n.transitions.len() > MAX_TRANSITION_BLOCKS {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!(
                "…and {} more: see the email or the findings JSON.",
                n.transitions.len() - MAX_TRANSITION_BLOCKS
            )}
        }));
    }
    let trigger = match (&n.trigger.event_name, &n.trigger.event_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (Some(name), None) => name.clone(),
        _ => "scheduled sweep".to_owned(),
    };
    blocks.push(json!({"type": "divider"}));
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": format!(
            "account `{}` · region `{}` · {} · triggered by {}",
            n.account, n.region, n.vpc, trigger
        )}]
    }));
    json!({"text": n.subject(), "blocks": blocks})
}

fn transition_block(n: &Notification, t: &Transition) -> Value {
    let f = &t.finding;
    let mut text = format!(
        "{} *{}* `{}` — {}\n",
        emoji(f.severity.as_str()),
        f.severity.as_str().to_uppercase(),
        f.rule.as_str(),
        t.status.as_str()
    );
    if let Some(service) = &f.service {
        text.push_str(&format!("*Service:* `{}`\n", short_service(service)));
    }
    if let Some(subnet) = &f.subnet {
        let az = f
            .availability_zone
            .as_deref()
            .map(|az| format!(" ({az})"))
            .unwrap_or_default();
        text.push_str(&format!("*Subnet:* `{subnet}`{az}\n"));
    }
    text.push_str(&format!("*What:* {}\n", f.subject_text()));
    text.push_str(&format!("*Why:* {}\n", f.message));
    if f.remediation.is_empty() {
        text.push_str("*Fix:* manual (reachguard does not change this automatically)\n");
    }
    for action in &f.remediation {
        text.push_str(&format!(
            "*Fix:* {} [`{}`]\n",
            action.describe(),
            action.name()
        ));
    }
    if let Some(r) = &t.remediation {
        text.push_str(&format!(
            "*Done:* {} {}: {}\n",
            r.action, r.outcome, r.detail
        ));
    }
    json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(&text, MAX_SECTION_CHARS)},
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open in console"},
            "url": console_url(&n.region, f),
        }
    })
}

fn emoji(severity: &str) -> &'static str {
    match severity {
        "critical" => ":red_circle:",
        "high" => ":large_orange_circle:",
        "medium" => ":large_yellow_circle:",
        _ => ":white_circle:",
    }
}

/// `cluster/name` of a service ARN (`arn:aws:ecs:r:a:service/cluster/name`).
fn short_service(arn: &str) -> &str {
    arn.split_once(":service/").map_or(arn, |(_, rest)| rest)
}

/// The console page of the finding's most specific subject: the ECS service, else the endpoint,
/// subnet, route table, NAT gateway or ACL, else the VPC.
pub fn console_url(region: &str, f: &Finding) -> String {
    let base = format!("https://{region}.console.aws.amazon.com");
    if let Some(service) = &f.service
        && let Some((cluster, name)) = short_service(service).split_once('/')
    {
        return format!("{base}/ecs/v2/clusters/{cluster}/services/{name}/health?region={region}");
    }
    let vpc = |fragment: String| format!("{base}/vpcconsole/home?region={region}#{fragment}");
    if let Some(id) = &f.endpoint {
        return vpc(format!("EndpointDetails:vpcEndpointId={id}"));
    }
    if let Some(id) = &f.subnet {
        return vpc(format!("SubnetDetails:subnetId={id}"));
    }
    if let Some(id) = &f.route_table {
        return vpc(format!("RouteTableDetails:RouteTableId={id}"));
    }
    if let Some(id) = &f.nat_gateway {
        return vpc(format!("NatGatewayDetails:natGatewayId={id}"));
    }
    if let Some(id) = &f.network_acl {
        return vpc(format!("NetworkAclDetails:networkAclId={id}"));
    }
    vpc(format!("VpcDetails:VpcId={}", f.vpc))
}

#[cfg(test)]
mod tests {
    use reachguard_shared::notification::Trigger;

    use super::*;

    const SERVICE: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";

    fn finding(message: &str) -> Finding {
        serde_json::from_value(json!({
            "rule": "unreachable-dependency", "severity": "critical", "account": null,
            "region": "eu-west-1", "vpc": "vpc-1", "service": SERVICE, "subnet": "subnet-1",
            "dependency": "s3", "endpoint": null, "route_table": null, "nat_gateway": null,
            "network_acl": null, "availability_zone": "eu-west-1a", "destination": null,
            "message": message, "remediation": []
        }))
        .expect("finding")
    }

    fn notification(findings: &[Finding]) -> Notification {
        let trigger = Trigger {
            event_name: Some("DeleteVpcEndpoints".into()),
            event_id: None,
        };
        let opened = findings.iter().cloned().map(Transition::opened).collect();
        Notification::group("111122223333", "eu-west-1", &trigger, opened)
            .pop()
            .expect("one VPC, one notification")
    }

    #[test]
    fn services_are_shortened_and_linked() {
        assert_eq!(short_service(SERVICE), "prod/api");
        let mut f = finding("m");
        assert_eq!(
            console_url("eu-west-1", &f),
            "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/api/health?region=eu-west-1"
        );
        f.service = None;
        assert!(console_url("eu-west-1", &f).ends_with("#SubnetDetails:subnetId=subnet-1"));
        f.subnet = None;
        assert!(console_url("eu-west-1", &f).ends_with("#VpcDetails:VpcId=vpc-1"));
    }

    #[test]
    fn a_message_has_a_header_a_section_per_transition_and_a_footer() {
        let n = notification(&[finding("no route to s3")]);
        let message = message(&n);
        let blocks = message["blocks"].as_array().expect("blocks");
        let kinds: Vec<&str> = blocks.iter().filter_map(|b| b["type"].as_str()).collect();
        assert_eq!(kinds, ["header", "section", "divider", "context"]);
        let section = blocks[1]["text"]["text"].as_str().expect("mrkdwn");
        assert!(
            section.contains("*CRITICAL* `unreachable-dependency` — opened"),
            "{section}"
        );
        assert!(section.contains("*Service:* `prod/api`"), "{section}");
        assert!(
            section.contains("*Subnet:* `subnet-1` (eu-west-1a)"),
            "{section}"
        );
        assert!(section.contains("*Why:* no route to s3"), "{section}");
        assert!(section.contains("*Fix:* manual"), "{section}");
        let footer = blocks[3]["elements"][0]["text"].as_str().expect("context");
        assert!(
            footer.ends_with("triggered by DeleteVpcEndpoints"),
            "{footer}"
        );
    }

    #[test]
    fn slack_limits_are_kept() {
        let findings: Vec<Finding> = (0..MAX_BLOCKS)
            .map(|i| finding(&format!("{i}: {}", "x".repeat(MAX_SECTION_CHARS))))
            .collect();
        let message = message(&notification(&findings));
        let blocks = message["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= MAX_BLOCKS, "{} blocks", blocks.len());
        let overflow = format!("…and {} more", MAX_BLOCKS - MAX_TRANSITION_BLOCKS);
        assert!(
            blocks.iter().any(|b| b["text"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with(&overflow))),
            "the cut transitions are counted"
        );
        for block in blocks {
            let text = block["text"]["text"].as_str().unwrap_or_default();
            let limit = match block["type"].as_str() {
                Some("header") => MAX_HEADER_CHARS,
                _ => MAX_SECTION_CHARS,
            };
            assert!(
                text.chars().count() <= limit,
                "{} chars",
                text.chars().count()
            );
        }
    }
}
