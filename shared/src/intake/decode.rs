//! Decoding: which inputs carry events, and cutting them into single events ("Shapes
//! the intake must accept"). It owns the containers — an EventBridge envelope, a bare CloudTrail
//! record, a `{"Records": […]}` log file, CloudTrail `LookupEvents` output (`{"Events":
//! [{"CloudTrailEvent": "<record as a JSON string>"}]}`) and JSON arrays of any of these — and
//! rejects input that holds no event. What an event means is [`super::classify`]'s business.
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::{Map, Value};

/// One event, as delivered.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An EventBridge envelope; its `detail` is a CloudTrail record for API calls.
    Envelope(Box<EventBridgeEvent<Value>>),
    /// A CloudTrail record without an envelope (log files, replays, the CLI).
    Record(Map<String, Value>),
}

/// Input that holds no event: the Lambda logs it and succeeds, the CLI exits 2.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Not JSON at all (or truncated). The parser's message is part of this error's (not a
    /// separate source), so a one-line report says where the JSON broke.
    #[error("not valid JSON: {0}")]
    Syntax(serde_json::Error),
    /// JSON, but not an event (or a container of events) at `path`.
    #[error("not an event at {path}: {reason}")]
    NotAnEvent {
        /// Where in the input, e.g. `$.Records[2]`.
        path: String,
        /// What was found instead.
        reason: String,
    },
}

/// Decodes raw input into its events, in input order.
pub fn decode(input: &[u8]) -> Result<Vec<Event>, IntakeError> {
    let value = serde_json::from_slice(input).map_err(IntakeError::Syntax)?;
    decode_value(value)
}

/// Decodes parsed input into its events, in input order. An input without any event (an empty
/// array or log file) is an error too: nothing in it can ever be evaluated.
pub fn decode_value(value: Value) -> Result<Vec<Event>, IntakeError> {
    let mut events = Vec::new();
    collect(value, "$", &mut events)?;
    if events.is_empty() {
        return Err(not_an_event("$", "it holds no event"));
    }
    Ok(events)
}

fn not_an_event(path: &str, reason: impl Into<String>) -> IntakeError {
    IntakeError::NotAnEvent {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn collect(value: Value, path: &str, events: &mut Vec<Event>) -> Result<(), IntakeError> {
    let mut object = match value {
        Value::Object(object) => object,
        Value::Array(items) => {
            for (index, item) in items.into_iter().enumerate() {
                collect(item, &format!("{path}[{index}]"), events)?;
            }
            return Ok(());
        }
        other => return Err(not_an_event(path, described(&other))),
    };
    if object.contains_key("detail-type") {
        let envelope = serde_json::from_value(Value::Object(object))
            .map_err(|err| not_an_event(path, format!("an EventBridge envelope with {err}")))?;
        events.push(Event::Envelope(Box::new(envelope)));
        return Ok(());
    }
    for container in ["Records", "Events"] {
        if let Some(items) = object.remove(container) {
            let path = format!("{path}.{container}");
            return match items {
                Value::Array(_) => collect(items, &path, events),
                other => Err(not_an_event(&path, described(&other))),
            };
        }
    }
    if let Some(Value::String(record)) = object.get("CloudTrailEvent") {
        let path = format!("{path}.CloudTrailEvent");
        let record = serde_json::from_str::<Value>(record)
            .map_err(|err| not_an_event(&path, format!("not valid JSON: {err}")))?;
        return match record {
            Value::Object(record) if is_record(&record) => {
                events.push(Event::Record(record));
                Ok(())
            }
            _ => Err(not_an_event(&path, "not a CloudTrail record")),
        };
    }
    if is_record(&object) {
        events.push(Event::Record(object));
        return Ok(());
    }
    Err(not_an_event(
        path,
        "an object with neither detail-type (EventBridge), eventName (CloudTrail) nor Records",
    ))
}

/// A CloudTrail record names its API call.
pub(super) fn is_record(object: &Map<String, Value>) -> bool {
    object.get("eventName").is_some_and(Value::is_string)
}

/// What a JSON value is, for messages ("a number").
fn described(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(input: &str) -> String {
        match decode(input.as_bytes()) {
            Ok(events) => panic!("decoded {} events from {input}", events.len()),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn containers() {
        let record = r#"{"eventName": "CreateRoute"}"#;
        let envelope =
            format!(r#"{{"detail-type": "x", "source": "aws.ec2", "detail": {record}}}"#);
        let lookup = format!(
            r#"{{"Events": [{{"CloudTrailEvent": {}}}]}}"#,
            serde_json::json!(record)
        );
        let inputs = [
            (record.to_owned(), 1),
            (envelope.clone(), 1),
            (format!(r#"{{"Records": [{record}, {record}]}}"#), 2),
            (format!("[{envelope}, {record}, [{record}]]"), 3),
            (lookup, 1),
        ];
        for (input, count) in inputs {
            assert_eq!(
                decode(input.as_bytes()).map(|e| e.len()).ok(),
                Some(count),
                "{input}"
            );
        }
    }

    #[test]
    fn what_is_not_an_event() {
        assert!(error_of("{").starts_with("not valid JSON"));
        assert_eq!(error_of("[]"), "not an event at $: it holds no event");
        assert_eq!(error_of("5"), "not an event at $: a number");
        assert!(
            error_of(r#"[{"eventName": "X"}, {"foo": 1}]"#).starts_with("not an event at $[1]")
        );
        assert_eq!(
            error_of(r#"{"Records": {}}"#),
            "not an event at $.Records: an object"
        );
        assert!(error_of(r#"{"detail-type": "x"}"#).contains("missing field `source`"));
        assert!(error_of(r#"{"CloudTrailEvent": "{}"}"#).ends_with("not a CloudTrail record"));
    }
}
