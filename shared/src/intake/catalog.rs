//! The trigger catalog (which API calls re-evaluate what; `reachguard patterns` prints its
//! EventBridge patterns): the one table of events that make reachguard re-evaluate something, and
//! the EventBridge patterns rendered from it. The classifier looks triggers up here and the SAM template's rules are checked against
//! [`event_patterns`], so a trigger is added in one place. The scheduled sweep is not a row: a
//! schedule expression selects it, not a pattern.
use serde_json::{Map, Value, json};

use crate::tags;

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
    /// Where the request carries the call's tag keys when only `reachguard:` keys make it a
    /// trigger: its EventBridge pattern selects the call only when a key at one of these
    /// `requestParameters` paths starts with [`tags::PREFIX`], so other tag changes never
    /// invoke a function. Empty: every call is selected.
    pub tag_keys_at: &'static [&'static [&'static str]],
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
        tag_keys_at: &[],
    }
}

/// An EC2 tagging call: a trigger only when it names a `reachguard:` key, in the classic
/// `tagSet.items[].key` members or under the newer `<Op>Request` wrapper (`Tag.Key`, one object
/// or an array of them: see the guide's FACTS on CloudTrail request shapes).
const fn ec2_tagging(
    event_name: &'static str,
    tag_keys_at: &'static [&'static [&'static str]],
) -> CatalogEntry {
    CatalogEntry {
        tag_keys_at,
        ..api_call(
            "aws.ec2",
            event_name,
            ScopeRule::ReachguardTaggedNetwork,
            TAG_VPC,
        )
    }
}

/// `tagSet.items[].key`, where CloudTrail records EC2's classic tagging requests.
const TAG_SET_KEYS: &[&str] = &["tagSet", "items", "key"];

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
        tag_keys_at: &[],
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
    ec2_tagging(
        "CreateTags",
        &[TAG_SET_KEYS, &["CreateTagsRequest", "Tag", "Key"]],
    ),
    ec2_tagging(
        "DeleteTags",
        &[TAG_SET_KEYS, &["DeleteTagsRequest", "Tag", "Key"]],
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
/// `detail.eventName`, one `$or` branch per detail-type). Calls with [`CatalogEntry::tag_keys_at`]
/// get a `detail.$or` branch per path that requires a key with the `reachguard:` prefix there.
/// Stable: the SAM template is checked against it.
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
        let api_calls: Vec<&CatalogEntry> = of_source()
            .filter(|t| t.detail_type == API_CALL_DETAIL_TYPE)
            .collect();
        if !api_calls.is_empty() {
            let mut detail = api_call_selection(&api_calls);
            detail.insert(
                "eventSource".into(),
                json!([event_source_of_source(source)]),
            );
            let pattern = json!({
                "source": [source],
                "detail-type": [API_CALL_DETAIL_TYPE],
                "detail": detail,
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

/// The `detail` members selecting `calls` by `eventName`: one list when every call is selected
/// whatever its request, else `$or` of that list and, per tag-key path, the calls whose keys sit
/// there with `requestParameters.<path>: [{"prefix": "reachguard:"}]`.
fn api_call_selection(calls: &[&CatalogEntry]) -> Map<String, Value> {
    let names = |calls: &mut dyn Iterator<Item = &&CatalogEntry>| -> Vec<&str> {
        calls.map(|call| call.event_name).collect()
    };
    let unfiltered = names(&mut calls.iter().filter(|call| call.tag_keys_at.is_empty()));
    let mut paths: Vec<&[&str]> = Vec::new();
    for path in calls.iter().flat_map(|call| call.tag_keys_at.iter()) {
        if !paths.contains(path) {
            paths.push(path);
        }
    }
    let mut selection = Map::new();
    if paths.is_empty() {
        selection.insert("eventName".into(), json!(unfiltered));
        return selection;
    }
    let mut branches = Vec::new();
    if !unfiltered.is_empty() {
        branches.push(json!({ "eventName": unfiltered }));
    }
    for path in paths {
        let tagged = names(&mut calls.iter().filter(|call| call.tag_keys_at.contains(&path)));
        let keys = path.iter().rev().fold(
            json!([{ "prefix": tags::PREFIX }]),
            |inner, member| json!({ *member: inner }),
        );
        branches.push(json!({ "eventName": tagged, "requestParameters": keys }));
    }
    selection.insert("$or".into(), Value::Array(branches));
    selection
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

    /// (source, detail-type, eventName, the `requestParameters` it requires, if any, as JSON).
    type Selection = (String, String, String, Option<String>);

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

    /// The `$or` branches of `object` (itself when it has none), each merged with the members
    /// beside the `$or`.
    fn branches(object: &Value) -> Vec<Map<String, Value>> {
        let mut shared = object.as_object().cloned().unwrap_or_default();
        let Some(Value::Array(alternatives)) = shared.remove("$or") else {
            return vec![shared];
        };
        alternatives
            .iter()
            .map(|alternative| {
                let mut merged = shared.clone();
                merged.extend(alternative.as_object().cloned().unwrap_or_default());
                merged
            })
            .collect()
    }

    /// What a pattern made of exact-string lists, `$or` (top level or in `detail`) and
    /// `requestParameters` selects. Fails on anything else in it.
    fn selected_by(pattern: &Value) -> Vec<Selection> {
        let mut selected = Vec::new();
        for branch in branches(pattern) {
            let field = |name: &str| branch.get(name);
            let detail = field("detail").cloned().unwrap_or(json!({}));
            for detail in branches(&detail) {
                let allowed = ["eventSource", "eventName", "requestParameters"];
                assert!(
                    detail.keys().all(|key| allowed.contains(&key.as_str())),
                    "{detail:?}"
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
                            selected.push((
                                source.clone(),
                                detail_type.clone(),
                                name,
                                detail.get("requestParameters").map(Value::to_string),
                            ));
                        }
                    }
                }
            }
        }
        selected
    }

    /// The `requestParameters` a trigger's selections require: none, or a `reachguard:` key
    /// prefix at each of its tag-key paths.
    fn required_requests(trigger: &CatalogEntry) -> Vec<Option<String>> {
        if trigger.tag_keys_at.is_empty() {
            return vec![None];
        }
        trigger
            .tag_keys_at
            .iter()
            .map(|path| {
                let mut keys = json!([{"prefix": "reachguard:"}]);
                for member in path.iter().rev() {
                    keys = json!({ *member: keys });
                }
                Some(keys.to_string())
            })
            .collect()
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
            for request in required_requests(trigger) {
                let key = (
                    trigger.source.into(),
                    trigger.detail_type.into(),
                    trigger.event_name.into(),
                    request,
                );
                assert_eq!(
                    rule_of.remove(&key).map(|rules| rules.len()),
                    Some(1),
                    "{key:?}"
                );
            }
        }
        assert!(
            rule_of.is_empty(),
            "selected but not in the catalog: {rule_of:?}"
        );
    }

    #[test]
    fn tagging_calls_are_selected_only_with_a_reachguard_key() {
        let ec2 = &event_patterns()["ec2-api-calls"]["detail"];
        let tagged: Vec<&Value> = ec2["$or"]
            .as_array()
            .expect("$or")
            .iter()
            .filter(|branch| branch.get("requestParameters").is_some())
            .collect();
        assert_eq!(
            tagged[0],
            &json!({"eventName": ["CreateTags", "DeleteTags"],
                "requestParameters": {"tagSet": {"items": {"key": [{"prefix": "reachguard:"}]}}}})
        );
        let untagged = &ec2["$or"][0]["eventName"];
        assert!(!strings(Some(untagged)).contains(&"CreateTags".to_owned()));
    }

    /// EventBridge's default quota: 2,048 characters per event pattern (adjustable, so a rule
    /// over it would fail to deploy in an account that never raised it).
    #[test]
    fn patterns_fit_eventbridge_default_size_quota() {
        for (rule, pattern) in event_patterns().as_object().into_iter().flatten() {
            let size = pattern.to_string().chars().count();
            assert!(size <= 2048, "{rule}: {size} characters");
        }
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
