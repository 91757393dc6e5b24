//! JSON Schemas of the three documents reachguard exchanges, derived from the Rust types (their
//! doc comments become the descriptions): the findings JSON it writes (`check --format json`,
//! `scan --format json`), the notification JSON it publishes to SNS, and the snapshot document it
//! reads. Checked in under `docs/schema/` (a test keeps them equal) and printed by
//! `reachguard schema NAME`.

use std::borrow::Cow;
use std::str::FromStr;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::evaluate::Report;
use crate::notification::Notification;
use crate::rules::RuleId;
use crate::snapshot::Snapshot;

/// A document with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The findings JSON ([`Report`]).
    Findings,
    /// The notification JSON ([`Notification`]): the `default`/`sqs`/`lambda` SNS message.
    Notification,
    /// The snapshot document ([`Snapshot`]).
    Snapshot,
}

impl Document {
    /// Every document.
    pub const ALL: [Document; 3] = [
        Document::Findings,
        Document::Notification,
        Document::Snapshot,
    ];

    /// The name `reachguard schema` takes, and the file name under `docs/schema/`.
    pub fn name(self) -> &'static str {
        match self {
            Document::Findings => "findings",
            Document::Notification => "notification",
            Document::Snapshot => "snapshot",
        }
    }

    /// The checked-in file of this schema, relative to the repository root.
    pub fn path(self) -> String {
        format!("docs/schema/{}.json", self.name())
    }

    /// The schema (JSON Schema 2020-12) as pretty-printed JSON with a final newline.
    ///
    /// The documents reachguard writes are described as serialised (a member that is always
    /// written is required, even when it may be `null`); the snapshot, which it reads, as
    /// deserialised (every member with a default is optional).
    pub fn schema(self) -> String {
        let (settings, title) = match self {
            Document::Findings => (writes(), "reachguard findings JSON"),
            Document::Notification => (writes(), "reachguard notification JSON"),
            Document::Snapshot => (SchemaSettings::draft2020_12(), "reachguard snapshot"),
        };
        let mut generator = settings.into_generator();
        let mut schema = match self {
            Document::Findings => generator.root_schema_for::<Report>(),
            Document::Notification => generator.root_schema_for::<Notification>(),
            Document::Snapshot => generator.root_schema_for::<Snapshot>(),
        };
        schema.insert("title".to_owned(), title.into());
        let mut text = serde_json::to_string_pretty(&schema)
            .unwrap_or_else(|e| unreachable!("a schema is a JSON value, so it serialises: {e}"));
        text.push('\n');
        text
    }
}

/// Settings for a document reachguard writes.
fn writes() -> SchemaSettings {
    SchemaSettings::draft2020_12().for_serialize()
}

impl FromStr for Document {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Document::ALL
            .into_iter()
            .find(|document| document.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Document::ALL.iter().map(|d| d.name()).collect();
                format!(
                    "unknown document {name:?}; the documents are: {}",
                    names.join(", ")
                )
            })
    }
}

/// A rule id is one of the catalog's strings (`RuleId` serialises by hand, so it describes
/// itself by hand too).
impl JsonSchema for RuleId {
    fn schema_name() -> Cow<'static, str> {
        "RuleId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = RuleId::ALL.iter().map(|id| id.as_str()).collect();
        json_schema!({
            "description": "The rule's stable id (docs/rules.md).",
            "type": "string",
            "enum": ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_documents() {
        for document in Document::ALL {
            assert_eq!(document.name().parse(), Ok(document));
        }
        let err = "finding".parse::<Document>().unwrap_err();
        assert!(err.contains("findings, notification, snapshot"), "{err}");
    }

    #[test]
    fn rule_ids_are_an_enum_of_every_id() {
        let schema: serde_json::Value =
            serde_json::from_str(&Document::Findings.schema()).expect("schema JSON");
        let ids = &schema["$defs"]["RuleId"]["enum"];
        assert_eq!(
            ids.as_array().map(Vec::len),
            Some(RuleId::ALL.len()),
            "{ids}"
        );
        assert_eq!(ids[0], "unreachable-dependency");
    }
}
