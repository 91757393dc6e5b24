//! Classification: what one event means for reachguard — re-evaluate a [`Scope`], or ignore it
//! with a reason a person can read in the log. It owns the order of the checks (a failed call,
//! then a read-only call, then the catalog, then the loop guard, then the trigger's own
//! condition) and the `reachguard event` output shape. Which events are
//! triggers is [`super::catalog`]'s; how ids are found is [`super::scope`]'s.
//!
//! When a trigger's event names nothing we can narrow the work to (`DisassociateRouteTable`
//! names only the association `rtbassoc-…`; a sanitised or truncated record), the scope is the
//! whole account/region, as the sweep's: missing a broken subnet is worse than a wider check.
use std::fmt;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::catalog::{
    API_CALL_DETAIL_TYPE, CatalogEntry, SCHEDULED_DETAIL_TYPE, SCHEDULED_SOURCE, ScopeRule,
    find_trigger, source_of_event_source,
};
use super::decode::{Event, is_record};
use super::loop_guard::{GuardMatch, LoopGuard};
use super::scope::Scope;

/// What the intake makes of one event; serialises to the `reachguard event` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Decision {
    /// Re-evaluate `scope`.
    Evaluate {
        /// Account of the event; `null` when the event does not say (the caller's own).
        account: Option<String>,
        /// Region of the event; `null` when the event does not say (the caller's own).
        region: Option<String>,
        /// The trigger's event name (a CloudTrail `eventName`, an ECS `detail.eventName`, or
        /// `Scheduled Event`).
        event_name: String,
        /// CloudTrail `eventID` (stable across duplicate deliveries), else the envelope's `id`.
        event_id: Option<String>,
        /// What to re-evaluate (boxed: it is most of the decision's size).
        scope: Box<Scope>,
    },
    /// Nothing to do.
    Ignore {
        /// The event's name, if it has one.
        event_name: Option<String>,
        /// Why nothing is done.
        reason: IgnoreReason,
    },
}

/// Why an event is ignored. Serialised as its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreReason {
    /// The call failed (`errorCode` present and not null): nothing changed.
    Failed {
        /// The `errorCode`.
        error_code: String,
    },
    /// A read-only call (`readOnly: true`, or a `Describe…`/`Get…`/`List…` name).
    ReadOnly,
    /// Not in the trigger catalog.
    NotATrigger {
        /// The event as source, detail-type and name.
        event: String,
    },
    /// An envelope of an API call whose `detail` is not a CloudTrail record.
    DetailNotARecord,
    /// A call made by reachguard itself (the loop guard).
    LoopGuard {
        /// The caller's ARN that matched.
        caller: String,
        /// What it matched.
        matched: GuardMatch,
    },
    /// A tagging call without any `reachguard:` key.
    NoReachguardTag,
    /// A `reachguard:` tag on EC2 resources none of which is a VPC, subnet or endpoint.
    NoTaggedNetworkResource,
    /// A `reachguard:` tag on an ECS resource that is not a service.
    NotAService {
        /// The tagged `resourceArn` (empty when the call names none).
        resource: String,
    },
}

impl fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed { error_code } => write!(f, "the call failed ({error_code})"),
            Self::ReadOnly => f.write_str("a read-only call"),
            Self::NotATrigger { event } => write!(f, "not in the trigger catalog: {event}"),
            Self::DetailNotARecord => {
                f.write_str("the envelope's detail is not a CloudTrail record")
            }
            Self::LoopGuard { caller, matched } => {
                write!(f, "loop guard: the caller {caller} is {matched}")
            }
            Self::NoReachguardTag => f.write_str("no tag key starts with reachguard:"),
            Self::NoTaggedNetworkResource => {
                f.write_str("none of the tagged resources is a VPC, subnet or endpoint")
            }
            Self::NotAService { resource } => {
                write!(f, "the tagged resource is not an ECS service: {resource:?}")
            }
        }
    }
}

impl Serialize for IgnoreReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Classifies one event.
pub fn classify(event: &Event, guard: &LoopGuard) -> Decision {
    match event {
        Event::Envelope(envelope) => classify_envelope(envelope, guard),
        Event::Record(record) => classify_api_call(record, Origin::default(), &[], guard),
    }
}

/// Where an event comes from, as far as its envelope says.
#[derive(Debug, Default)]
struct Origin {
    account: Option<String>,
    region: Option<String>,
    event_id: Option<String>,
}

fn classify_envelope(envelope: &EventBridgeEvent<Value>, guard: &LoopGuard) -> Decision {
    let non_empty = |text: &Option<String>| text.clone().filter(|text| !text.is_empty());
    let origin = Origin {
        account: non_empty(&envelope.account),
        region: non_empty(&envelope.region),
        event_id: non_empty(&envelope.id),
    };
    let resources = envelope.resources.as_deref().unwrap_or_default();
    let detail_type = envelope.detail_type.as_str();
    if detail_type == API_CALL_DETAIL_TYPE {
        return match envelope.detail.as_object() {
            Some(record) if is_record(record) => {
                classify_api_call(record, origin, resources, guard)
            }
            _ => ignore(Some(detail_type), IgnoreReason::DetailNotARecord),
        };
    }
    if detail_type == SCHEDULED_DETAIL_TYPE && envelope.source == SCHEDULED_SOURCE {
        return evaluate(origin, detail_type, Scope::account_region());
    }
    let event_name = envelope.detail.get("eventName").and_then(Value::as_str);
    match event_name.and_then(|name| find_trigger(&envelope.source, detail_type, name)) {
        Some(trigger) => scope_of(trigger, &Value::Null, &Value::Null, resources).map_or_else(
            |reason| ignore(Some(trigger.event_name), reason),
            |scope| evaluate(origin, trigger.event_name, scope),
        ),
        None => {
            let event = match event_name {
                Some(name) => format!("{} {detail_type:?} {name}", envelope.source),
                None => format!("{} {detail_type:?}", envelope.source),
            };
            ignore(
                Some(event_name.unwrap_or(detail_type)),
                IgnoreReason::NotATrigger { event },
            )
        }
    }
}

fn classify_api_call(
    record: &Map<String, Value>,
    origin: Origin,
    resources: &[String],
    guard: &LoopGuard,
) -> Decision {
    let event_name = record.get("eventName").and_then(Value::as_str);
    let event_source = record.get("eventSource").and_then(Value::as_str);
    if let Some(error_code) = record.get("errorCode").filter(|code| !code.is_null()) {
        let error_code = text(error_code).unwrap_or_else(|| error_code.to_string());
        return ignore(event_name, IgnoreReason::Failed { error_code });
    }
    if is_read_only(record, event_name) {
        return ignore(event_name, IgnoreReason::ReadOnly);
    }
    let source = event_source.and_then(source_of_event_source);
    let trigger = match (source, event_name) {
        (Some(source), Some(name)) => find_trigger(&source, API_CALL_DETAIL_TYPE, name),
        _ => None,
    };
    let Some(trigger) = trigger else {
        let event = format!(
            "{} {}",
            event_source.unwrap_or("(no eventSource)"),
            event_name.unwrap_or("(no eventName)")
        );
        return ignore(event_name, IgnoreReason::NotATrigger { event });
    };
    if let Some((caller, matched)) = record.get("userIdentity").and_then(|id| guard.check(id)) {
        return ignore(event_name, IgnoreReason::LoopGuard { caller, matched });
    }
    let request = record.get("requestParameters").unwrap_or(&Value::Null);
    let response = record.get("responseElements").unwrap_or(&Value::Null);
    let origin = Origin {
        account: origin.account.or_else(|| {
            field_text(record, "recipientAccountId").or_else(|| {
                let identity = record.get("userIdentity")?;
                text(identity.get("accountId")?)
            })
        }),
        region: origin.region.or_else(|| field_text(record, "awsRegion")),
        event_id: field_text(record, "eventID").or(origin.event_id),
    };
    match scope_of(trigger, request, response, resources) {
        Ok(scope) => evaluate(origin, trigger.event_name, scope),
        Err(reason) => ignore(event_name, reason),
    }
}

/// The scope of a trigger's event; an error when the trigger's own condition is not met.
fn scope_of(
    trigger: &CatalogEntry,
    request: &Value,
    response: &Value,
    resources: &[String],
) -> Result<Scope, IgnoreReason> {
    let mut scope = Scope::default();
    match trigger.scope {
        ScopeRule::NamedResources => {
            scope.add_named_resources(request);
            scope.add_named_resources(response);
        }
        ScopeRule::ReachguardTaggedNetwork => {
            if !names_reachguard_tag(request) {
                return Err(IgnoreReason::NoReachguardTag);
            }
            scope.add_named_resources(request);
            scope.retain_tag_readers();
            if scope.is_empty() {
                return Err(IgnoreReason::NoTaggedNetworkResource);
            }
        }
        ScopeRule::NamedService | ScopeRule::DeletedService => {
            scope.add_named_resources(request);
            scope.add_named_resources(response);
            let service = named_service(request, response);
            if trigger.scope == ScopeRule::DeletedService {
                scope.deleted_services.extend(service.clone());
            }
            scope.services.extend(service);
        }
        ScopeRule::ReachguardTaggedService => {
            if !names_reachguard_tag(request) {
                return Err(IgnoreReason::NoReachguardTag);
            }
            let resource = non_empty(request.get("resourceArn")).unwrap_or_default();
            if !is_ecs_service_arn(resource) {
                let resource = resource.to_owned();
                return Err(IgnoreReason::NotAService { resource });
            }
            scope.services.insert(resource.to_owned());
        }
        ScopeRule::EventResourceService => {
            scope.services.extend(resources.first().cloned());
        }
    }
    if scope.is_empty() {
        scope.account_region = true;
    }
    Ok(scope)
}

fn evaluate(origin: Origin, event_name: &str, scope: Scope) -> Decision {
    Decision::Evaluate {
        account: origin.account,
        region: origin.region,
        event_name: event_name.to_owned(),
        event_id: origin.event_id,
        scope: Box::new(scope),
    }
}

fn ignore(event_name: Option<&str>, reason: IgnoreReason) -> Decision {
    Decision::Ignore {
        event_name: event_name.map(str::to_owned),
        reason,
    }
}

/// `readOnly: true` (or `"true"`), or a name that only reads.
fn is_read_only(record: &Map<String, Value>, event_name: Option<&str>) -> bool {
    let flagged = match record.get("readOnly") {
        Some(Value::Bool(read_only)) => *read_only,
        Some(Value::String(read_only)) => read_only.eq_ignore_ascii_case("true"),
        _ => false,
    };
    flagged
        || event_name.is_some_and(|name| {
            ["Describe", "Get", "List"]
                .iter()
                .any(|verb| name.starts_with(verb))
        })
}

/// A scalar as text: a non-empty string, or a number (numbers may stand for strings).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn field_text(record: &Map<String, Value>, name: &str) -> Option<String> {
    text(record.get(name)?)
}

/// Whether a tagging call names a `reachguard:` key: EC2 `tagSet`/`Tag` members' `key`/`Key`,
/// ECS `tags[].key` and `tagKeys[]`, wherever they sit.
fn names_reachguard_tag(value: &Value) -> bool {
    let is_ours = |key: &Value| {
        key.as_str()
            .is_some_and(|key| key.starts_with(crate::tags::PREFIX))
    };
    match value {
        Value::Array(items) => items.iter().any(names_reachguard_tag),
        Value::Object(members) => {
            members
                .iter()
                .any(|(name, member)| match name.to_ascii_lowercase().as_str() {
                    "key" => is_ours(member),
                    "tagkeys" => member
                        .as_array()
                        .is_some_and(|keys| keys.iter().any(is_ours)),
                    _ => names_reachguard_tag(member),
                })
        }
        _ => false,
    }
}

/// The service an ECS call names: the ARN of the response's `service`, else a requested
/// `service` that is an ARN, else `cluster/name` from the request (the cluster's name from its
/// ARN; ECS's `default` cluster when none is given).
fn named_service(request: &Value, response: &Value) -> Option<String> {
    let requested = non_empty(request.get("service"));
    let arn = non_empty(
        response
            .get("service")
            .and_then(|service| service.get("serviceArn")),
    )
    .or(requested.filter(|service| service.starts_with("arn:")));
    if let Some(arn) = arn {
        return Some(arn.to_owned());
    }
    let name = non_empty(request.get("serviceName")).or(requested)?;
    let cluster = non_empty(request.get("cluster")).map_or("default", |cluster| {
        cluster
            .rsplit_once(":cluster/")
            .map_or(cluster, |(_, name)| name)
    });
    Some(format!("{cluster}/{name}"))
}

fn non_empty(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

/// `arn:<partition>:ecs:<region>:<account>:service/…`
fn is_ecs_service_arn(arn: &str) -> bool {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(fields.as_slice(), ["arn", _, "ecs", _, _, resource] if resource.starts_with("service/"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn services_named_by_ecs_calls() {
        let named = |request: Value, response: Value| named_service(&request, &response);
        let arn = "arn:aws:ecs:us-east-1:111122223333:service/prod/web";
        assert_eq!(
            named(json!({}), json!({"service": {"serviceArn": arn}})).as_deref(),
            Some(arn)
        );
        assert_eq!(
            named(json!({"service": arn}), json!(null)).as_deref(),
            Some(arn)
        );
        assert_eq!(
            named(
                json!({"cluster": "arn:aws:ecs:us-east-1:1:cluster/prod", "service": "web"}),
                json!(null)
            )
            .as_deref(),
            Some("prod/web")
        );
        assert_eq!(
            named(json!({"serviceName": "web"}), json!("")).as_deref(),
            Some("default/web")
        );
        assert_eq!(named(json!({"cluster": "prod"}), json!(null)), None);
    }

    #[test]
    fn ecs_service_arns() {
        assert!(is_ecs_service_arn(
            "arn:aws:ecs:us-east-1:1:service/prod/web"
        ));
        assert!(is_ecs_service_arn(
            "arn:aws-cn:ecs:cn-north-1:1:service/web"
        ));
        assert!(!is_ecs_service_arn("arn:aws:ecs:us-east-1:1:cluster/prod"));
        assert!(!is_ecs_service_arn("arn:aws:ec2:us-east-1:1:service/x"));
        assert!(!is_ecs_service_arn(""));
    }

    #[test]
    fn reachguard_tag_keys_in_every_style() {
        assert!(names_reachguard_tag(
            &json!({"tagSet": {"items": [{"key": "reachguard:mode"}]}})
        ));
        assert!(names_reachguard_tag(
            &json!({"R": {"Tag": {"tag": 1, "Key": "reachguard:x"}}})
        ));
        assert!(names_reachguard_tag(
            &json!({"tagKeys": ["Name", "reachguard:needs"]})
        ));
        assert!(!names_reachguard_tag(
            &json!({"tags": [{"key": "Name", "value": "reachguard:x"}]})
        ));
    }

    #[test]
    fn read_only_by_flag_or_name() {
        let record = |value: Value| value.as_object().cloned().unwrap_or_default();
        assert!(is_read_only(
            &record(json!({"readOnly": "true"})),
            Some("CreateRoute")
        ));
        assert!(is_read_only(
            &record(json!({"readOnly": false})),
            Some("DescribeVpcs")
        ));
        assert!(!is_read_only(
            &record(json!({"readOnly": null})),
            Some("CreateRoute")
        ));
    }

    #[test]
    fn failure_is_checked_before_anything_else() {
        let event = Event::Record(
            json!({"eventName": "DescribeVpcs", "errorCode": 5, "readOnly": true})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let decision = classify(&event, &LoopGuard::default());
        assert_eq!(
            serde_json::to_value(decision).ok(),
            Some(
                json!({"action": "ignore", "event_name": "DescribeVpcs", "reason": "the call failed (5)"})
            )
        );
    }
}
