//! The trigger catalog (which API calls re-evaluate what; `reachguard patterns` prints its
//! EventBridge patterns): the one table of events that make reachguard re-evaluate something, and
//! the EventBridge patterns rendered from it. The classifier looks triggers up here and the SAM template's rules are checked against
//! [`event_patterns`], so a trigger is added in one place. The scheduled sweep is not a row: a
//! schedule expression selects it, not a pattern.
use serde_json::{Map, Value, json};

/// `detail-type` of CloudTrail-recorded API calls.
pub const API_CALL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// `detail-type` of an EventBridge schedule.
pub const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";
/// `source` of an EventBridge schedule.
pub const SCHEDULED_SOURCE: &str = "aws.events";

/// How a trigger's scope is read from its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeRule {
    /// Every network resource the call names, in its request and its response.
    NamedResources,
    /// The VPCs, subnets and endpoints tagged, when a tag key starts with `reachguard:`.
    ReachguardTaggedNetwork,
    /// The service the call names (with the subnets and groups it names).
    NamedService,
    /// The service the request or response names, which the call deleted: as
    /// [`ScopeRule::NamedService`], and its findings are resolved.
    DeletedService,
    /// The tagged service (`resourceArn`), when a tag key starts with `reachguard:`.
    ReachguardTaggedService,
    /// The service in the native ECS event's `resources[0]`.
    EventResourceService,
}

/// One row of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// EventBridge `source`, e.g. `aws.ec2`.
    pub source: &'static str,
    /// EventBridge `detail-type`.
    pub detail_type: &'static str,
    /// CloudTrail `eventName`, or the native event's `detail.eventName`.
    pub event_name: &'static str,
    /// What changed and what is re-evaluated (for people: docs, `--help`).
    pub reevaluates: &'static str,
    /// How the scope is read from the event.
    pub scope: ScopeRule,
}

const fn api_call(
    source: &'static str,
    event_name: &'static str,
    scope: ScopeRule,
    reevaluates: &'static str,
) -> CatalogEntry {
    CatalogEntry {
        source,
        detail_type: API_CALL_DETAIL_TYPE,
        event_name,
        reevaluates,
        scope,
    }
}

const fn ec2(event_name: &'static str, reevaluates: &'static str) -> CatalogEntry {
    api_call(
        "aws.ec2",
        event_name,
        ScopeRule::NamedResources,
        reevaluates,
    )
}

const fn ecs(
    event_name: &'static str,
    scope: ScopeRule,
    reevaluates: &'static str,
) -> CatalogEntry {
    api_call("aws.ecs", event_name, scope, reevaluates)
}

const fn ecs_native(
    detail_type: &'static str,
    event_name: &'static str,
    reevaluates: &'static str,
) -> CatalogEntry {
    CatalogEntry {
        source: "aws.ecs",
        detail_type,
        event_name,
        reevaluates,
        scope: ScopeRule::EventResourceService,
    }
}

const ROUTE_TABLE_VPC: &str = "a subnet's route table changed: the route table's VPC";
const ROUTES_VPC: &str = "routes changed: the route table's VPC";
const ENDPOINT_VPC: &str = "endpoints changed: the endpoint's VPC (a deleted one is looked up)";
const NAT_VPC: &str = "NAT gateways changed: the NAT gateway's VPC";
const IGW_VPC: &str = "internet access changed: the VPC(s) the gateway was attached to";
const GROUP_VPC: &str = "endpoint reachability on 443 changed: the group's VPC";
const ACL_VPC: &str = "network ACLs changed: the ACL's VPC";
const TAG_VPC: &str = "a reachguard: tag on a VPC, subnet or endpoint changed mode, exemptions \
                       or egress policy: that resource's VPC";

/// Every trigger, in catalog order.
pub const TRIGGERS: &[CatalogEntry] = &[
    ec2(
        "CreateSubnet",
        "a new subnet (maybe tagged reachguard:workload=ecs): its VPC",
    ),
    ec2("AssociateRouteTable", ROUTE_TABLE_VPC),
    ec2("DisassociateRouteTable", ROUTE_TABLE_VPC),
    ec2("ReplaceRouteTableAssociation", ROUTE_TABLE_VPC),
    ec2("CreateRoute", ROUTES_VPC),
    ec2("ReplaceRoute", ROUTES_VPC),
    ec2("DeleteRoute", ROUTES_VPC),
    ec2("DeleteRouteTable", ROUTES_VPC),
    ec2("CreateVpcEndpoint", ENDPOINT_VPC),
    ec2("ModifyVpcEndpoint", ENDPOINT_VPC),
    ec2("DeleteVpcEndpoints", ENDPOINT_VPC),
    ec2("CreateNatGateway", NAT_VPC),
    ec2("DeleteNatGateway", NAT_VPC),
    ec2("DetachInternetGateway", IGW_VPC),
    ec2("DeleteInternetGateway", IGW_VPC),
    ec2("AuthorizeSecurityGroupIngress", GROUP_VPC),
    ec2("RevokeSecurityGroupIngress", GROUP_VPC),
    ec2("ModifySecurityGroupRules", GROUP_VPC),
    ec2("CreateNetworkAclEntry", ACL_VPC),
    ec2("ReplaceNetworkAclEntry", ACL_VPC),
    ec2("DeleteNetworkAclEntry", ACL_VPC),
    ec2("ReplaceNetworkAclAssociation", ACL_VPC),
    ec2("ModifyVpcAttribute", "DNS attributes changed: that VPC"),
    api_call(
        "aws.ec2",
        "CreateTags",
        ScopeRule::ReachguardTaggedNetwork,
        TAG_VPC,
    ),
    api_call(
        "aws.ec2",
        "DeleteTags",
        ScopeRule::ReachguardTaggedNetwork,
        TAG_VPC,
    ),
    ecs(
        "CreateService",
        ScopeRule::NamedService,
        "a service, its subnets or its task definition: that service",
    ),
    ecs(
        "UpdateService",
        ScopeRule::NamedService,
        "a service, its subnets or its task definition: that service",
    ),
    ecs(
        "DeleteService",
        ScopeRule::DeletedService,
        "a service is gone: its open findings are resolved",
    ),
    ecs(
        "TagResource",
        ScopeRule::ReachguardTaggedService,
        "a reachguard: tag changed declared needs or exemptions: that service",
    ),
    ecs(
        "UntagResource",
        ScopeRule::ReachguardTaggedService,
        "a reachguard: tag changed declared needs or exemptions: that service",
    ),
    ecs_native(
        "ECS Service Action",
        "SERVICE_TASK_START_IMPAIRED",
        "tasks fail to start, often for a reachability cause: that service",
    ),
    ecs_native(
        "ECS Deployment State Change",
        "SERVICE_DEPLOYMENT_FAILED",
        "a deployment failed, often for a reachability cause: that service",
    ),
];

/// The catalog row of an event, if it is a trigger.
pub fn find_trigger(
    source: &str,
    detail_type: &str,
    event_name: &str,
) -> Option<&'static CatalogEntry> {
    TRIGGERS.iter().find(|trigger| {
        trigger.source == source
            && trigger.detail_type == detail_type
            && trigger.event_name == event_name
    })
}

/// The EventBridge `source` of a CloudTrail `eventSource` (`ec2.amazonaws.com` → `aws.ec2`).
pub fn source_of_event_source(event_source: &str) -> Option<String> {
    let service = event_source.strip_suffix(".amazonaws.com")?;
    Some(format!("aws.{service}"))
}

fn event_source_of_source(source: &str) -> String {
    format!("{}.amazonaws.com", source.trim_start_matches("aws."))
}

/// The EventBridge event patterns that select exactly the catalog's triggers, keyed by rule
/// name: per source, `<service>-api-calls` (CloudTrail API calls by `eventSource` and
/// `eventName`) and `<service>-native-events` (the service's own events by `detail-type` and
/// `detail.eventName`, one `$or` branch per detail-type). Stable: the SAM template is checked
/// against it.
pub fn event_patterns() -> Value {
    let mut patterns = Map::new();
    for source in unique(TRIGGERS.iter().map(|trigger| trigger.source)) {
        let service = source.trim_start_matches("aws.");
        let of_source = || TRIGGERS.iter().filter(move |t| t.source == source);
        let names_of = |detail_type: &str| -> Vec<&str> {
            of_source()
                .filter(|t| t.detail_type == detail_type)
                .map(|t| t.event_name)
                .collect()
        };
        let api_calls = names_of(API_CALL_DETAIL_TYPE);
        if !api_calls.is_empty() {
            let pattern = json!({
                "source": [source],
                "detail-type": [API_CALL_DETAIL_TYPE],
                "detail": {"eventSource": [event_source_of_source(source)], "eventName": api_calls},
            });
            patterns.insert(format!("{service}-api-calls"), pattern);
        }
        let native_types = unique(
            of_source()
                .map(|t| t.detail_type)
                .filter(|detail_type| *detail_type != API_CALL_DETAIL_TYPE),
        );
        let branches: Vec<Value> = native_types
            .into_iter()
            .map(|detail_type| {
                json!({"detail-type": [detail_type], "detail": {"eventName": names_of(detail_type)}})
            })
            .collect();
        let pattern = match branches.as_slice() {
            [] => continue,
            [Value::Object(single)] => {
                let mut single = single.clone();
                single.insert("source".into(), json!([source]));
                Value::Object(single)
            }
            _ => json!({"source": [source], "$or": branches}),
        };
        patterns.insert(format!("{service}-native-events"), pattern);
    }
    Value::Object(patterns)
}

/// The distinct items, in first-seen order.
fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut distinct = Vec::new();
    for item in items {
        if !distinct.contains(&item) {
            distinct.push(item);
        }
    }
    distinct
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    type Selection = (String, String, String);

    fn strings(value: Option<&Value>) -> Vec<String> {
        value
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What a pattern made only of exact-string lists and `$or` selects, as
    /// (source, detail-type, eventName) triples. Fails on anything else in it.
    fn selected_by(pattern: &Value) -> Vec<Selection> {
        let branches = match pattern.get("$or").and_then(Value::as_array) {
            Some(branches) => branches.clone(),
            None => vec![json!({})],
        };
        let mut selected = Vec::new();
        for branch in branches {
            let field = |name: &str| branch.get(name).or_else(|| pattern.get(name));
            let detail = field("detail").cloned().unwrap_or(json!({}));
            let allowed: [&str; 2] = ["eventSource", "eventName"];
            let keys: Vec<&String> = detail
                .as_object()
                .map(|d| d.keys().collect())
                .unwrap_or_default();
            assert!(
                keys.iter().all(|key| allowed.contains(&key.as_str())),
                "{detail}"
            );
            for source in strings(field("source")) {
                if let Some(event_sources) = detail.get("eventSource") {
                    assert_eq!(
                        strings(Some(event_sources)),
                        [event_source_of_source(&source)]
                    );
                }
                for detail_type in strings(field("detail-type")) {
                    for name in strings(detail.get("eventName")) {
                        selected.push((source.clone(), detail_type.clone(), name));
                    }
                }
            }
        }
        selected
    }

    #[test]
    fn patterns_select_exactly_the_catalog() {
        let patterns = event_patterns();
        let mut rule_of: BTreeMap<Selection, Vec<String>> = BTreeMap::new();
        for (rule, pattern) in patterns.as_object().into_iter().flatten() {
            for selection in selected_by(pattern) {
                rule_of.entry(selection).or_default().push(rule.clone());
            }
        }
        for trigger in TRIGGERS {
            let key = (
                trigger.source.into(),
                trigger.detail_type.into(),
                trigger.event_name.into(),
            );
            assert_eq!(
                rule_of.remove(&key).map(|rules| rules.len()),
                Some(1),
                "{key:?}"
            );
        }
        assert!(
            rule_of.is_empty(),
            "selected but not in the catalog: {rule_of:?}"
        );
    }

    #[test]
    fn catalog_rows_are_unique_and_documented() {
        for (index, trigger) in TRIGGERS.iter().enumerate() {
            assert!(!trigger.reevaluates.is_empty());
            let again = find_trigger(trigger.source, trigger.detail_type, trigger.event_name);
            assert_eq!(
                again,
                Some(trigger),
                "row {index} is shadowed by an earlier one"
            );
        }
    }

    #[test]
    fn rule_names_are_stable() {
        let names: Vec<String> = event_patterns()
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            names,
            ["ec2-api-calls", "ecs-api-calls", "ecs-native-events"]
        );
    }

    #[test]
    fn event_sources_map_to_sources() {
        assert_eq!(
            source_of_event_source("ec2.amazonaws.com").as_deref(),
            Some("aws.ec2")
        );
        assert_eq!(source_of_event_source("ec2"), None);
    }
}
