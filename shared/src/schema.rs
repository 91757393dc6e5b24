//! JSON Schemas of the three documents reachguard exchanges, derived from the Rust types (their
//! doc comments become the descriptions): the findings JSON it writes (`check --format json`,
//! `scan --format json`), the notification JSON it publishes to SNS, and the snapshot document it
//! reads. Checked in under `docs/schema/` (a test keeps them equal) and printed by
//! `reachguard schema NAME`.

use schemars::generate::SchemaSettings;

use crate::evaluate::Report;
use crate::names::public_names;
use crate::notification::Notification;
use crate::snapshot::Snapshot;

/// A document with a schema; its name is what `reachguard schema` takes, and the file name under
/// `docs/schema/`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray, strum::Display,
)]
#[strum(serialize_all = "lowercase")]
pub enum Document {
    /// The findings JSON ([`Report`]).
    Findings,
    /// The notification JSON ([`Notification`]): the `default`/`sqs`/`lambda` SNS message.
    Notification,
    /// The snapshot document ([`Snapshot`]).
    Snapshot,
}

public_names!(Document, "document");

impl Document {
    /// The checked-in file of this schema, relative to the repository root.
    pub fn path(self) -> String {
        format!("docs/schema/{}.json", self.as_str())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::VariantArray;
    use crate::rule_id::RuleId;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_documents() {
        for &document in Document::VARIANTS {
            assert_eq!(document.as_str().parse(), Ok(document));
        }
        let err = "finding".parse::<Document>().unwrap_err();
        assert!(err.contains("findings, notification, snapshot"), "{err}");
    }

    #[test]
    fn rule_ids_are_one_of_every_id_in_catalog_order() {
        let schema: serde_json::Value =
            serde_json::from_str(&Document::Findings.schema()).expect("schema JSON");
        let choices = &schema["$defs"]["RuleId"]["oneOf"];
        let ids: Vec<&str> = choices
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|choice| choice["const"].as_str())
            .collect();
        let expected: Vec<&str> = RuleId::VARIANTS.iter().map(|id| id.as_str()).collect();
        assert_eq!(ids, expected, "{choices}");
    }
}
