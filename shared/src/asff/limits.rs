//! AWS's documented limits of an ASFF finding and of one `BatchImportFindings` call, the check of
//! a finding against them, and the split of findings into calls.
//!
//! Sources:
//! - required members and their lengths: the `AwsSecurityFinding` API reference,
//!   <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html>, and
//!   "Required top-level ASFF attributes",
//!   <https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html>;
//! - `Resources`: "an array of up to 32 resource objects",
//!   <https://docs.aws.amazon.com/securityhub/latest/userguide/asff-resources.html>;
//! - `ProductFields`: "up to 50 key-value pairs … the key can contain up to 128 characters, and
//!   the value can contain up to 2048 characters" (the API reference above);
//! - `BatchImportFindings`: "up to 100 findings per batch, up to 240 KB per finding, and up to
//!   6 MB per batch",
//!   <https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-batchimportfindings.html>.
//!   The issue asks for at most 240 KB per call, which is stricter than AWS's 6 MB: a batch
//!   here stays within both;
//! - `BatchUpdateFindings`: "can be used to update up to 100 findings at a time"
//!   (`FindingIdentifiers`),
//!   <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html>.

use super::AsffFinding;

/// `Id` and `GeneratorId`: at most 512 characters.
pub const ID_CHARS: usize = 512;
/// `Title`: at most 256 characters.
pub const TITLE_CHARS: usize = 256;
/// `Description`: at most 1,024 characters.
pub const DESCRIPTION_CHARS: usize = 1024;
/// `Remediation.Recommendation.Text`: at most 512 characters.
pub const RECOMMENDATION_CHARS: usize = 512;
/// `Resources`: at least 1, at most 32 entries.
pub const RESOURCES: usize = 32;
/// `ProductFields`: at most 50 pairs.
pub const PRODUCT_FIELDS: usize = 50;
/// A `ProductFields` key: at most 128 characters.
pub const PRODUCT_FIELD_KEY_CHARS: usize = 128;
/// A `ProductFields` value: at most 2,048 characters.
pub const PRODUCT_FIELD_VALUE_CHARS: usize = 2048;
/// One finding: at most 240 KB of JSON.
pub const FINDING_BYTES: usize = 240 * 1024;
/// One `BatchImportFindings` call: at most 100 findings.
pub const BATCH_FINDINGS: usize = 100;
/// One `BatchImportFindings` call: at most 240 KB of findings (see the module doc).
pub const BATCH_BYTES: usize = 240 * 1024;
/// One `BatchUpdateFindings` call: at most 100 `FindingIdentifiers`.
pub const BATCH_UPDATE_FINDINGS: usize = 100;

/// Why a finding cannot be an ASFF finding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsffError {
    /// The finding names no 12-digit account.
    #[error(
        "finding {finding} names no 12-digit account: ASFF requires AwsAccountId (give the snapshot an \"AccountId\")"
    )]
    NoAccount {
        /// The finding's key.
        finding: String,
    },
    /// A required member is empty.
    #[error("ASFF finding {id}: {member} is required and empty")]
    Missing {
        /// The finding's `Id`.
        id: String,
        /// The ASFF member.
        member: &'static str,
    },
    /// A member is longer (or has more entries) than ASFF allows.
    #[error("ASFF finding {id}: {member} has {actual}, at most {limit} allowed")]
    TooLong {
        /// The finding's `Id`.
        id: String,
        /// The ASFF member.
        member: String,
        /// Its length (characters, entries or bytes).
        actual: usize,
        /// ASFF's limit.
        limit: usize,
    },
}

/// Checks `finding` against ASFF's required members and limits (module doc).
pub fn validate(finding: &AsffFinding) -> Result<(), AsffError> {
    let id = &finding.id;
    let required = [
        ("SchemaVersion", &finding.schema_version),
        ("Id", &finding.id),
        ("ProductArn", &finding.product_arn),
        ("GeneratorId", &finding.generator_id),
        ("AwsAccountId", &finding.aws_account_id),
        ("CreatedAt", &finding.created_at),
        ("UpdatedAt", &finding.updated_at),
        ("Title", &finding.title),
        ("Description", &finding.description),
        ("Severity.Label", &finding.severity.label),
    ];
    for (member, value) in required {
        if value.trim().is_empty() {
            return Err(AsffError::Missing {
                id: id.clone(),
                member,
            });
        }
    }
    if finding.types.is_empty() {
        return Err(AsffError::Missing {
            id: id.clone(),
            member: "Types",
        });
    }
    if finding.resources.is_empty() {
        return Err(AsffError::Missing {
            id: id.clone(),
            member: "Resources",
        });
    }
    let too_long = |member: &str, actual: usize, limit: usize| {
        if actual > limit {
            Err(AsffError::TooLong {
                id: id.clone(),
                member: member.to_string(),
                actual,
                limit,
            })
        } else {
            Ok(())
        }
    };
    let chars = |text: &str| text.chars().count();
    too_long("Id", chars(&finding.id), ID_CHARS)?;
    too_long("GeneratorId", chars(&finding.generator_id), ID_CHARS)?;
    too_long("Title", chars(&finding.title), TITLE_CHARS)?;
    too_long(
        "Description",
        chars(&finding.description),
        DESCRIPTION_CHARS,
    )?;
    too_long(
        "Remediation.Recommendation.Text",
        chars(&finding.remediation.recommendation.text),
        RECOMMENDATION_CHARS,
    )?;
    too_long("Resources", finding.resources.len(), RESOURCES)?;
    too_long(
        "ProductFields",
        finding.product_fields.len(),
        PRODUCT_FIELDS,
    )?;
    for (key, value) in &finding.product_fields {
        too_long("a ProductFields key", chars(key), PRODUCT_FIELD_KEY_CHARS)?;
        too_long(
            &format!("ProductFields[{key}]"),
            chars(value),
            PRODUCT_FIELD_VALUE_CHARS,
        )?;
    }
    too_long("the finding's JSON", json_bytes(finding), FINDING_BYTES)
}

/// The findings split into `BatchImportFindings` calls, in order: each call at most
/// [`BATCH_FINDINGS`] findings and [`BATCH_BYTES`] of JSON (a finding is never split; one that
/// alone exceeds the byte limit fails [`validate`]).
pub fn batches(findings: &[AsffFinding]) -> Vec<&[AsffFinding]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (index, finding) in findings.iter().enumerate() {
        let size = json_bytes(finding);
        let full = index - start == BATCH_FINDINGS || bytes + size > BATCH_BYTES;
        if index > start && full {
            out.push(&findings[start..index]);
            start = index;
            bytes = 0;
        }
        bytes += size;
    }
    if start < findings.len() {
        out.push(&findings[start..]);
    }
    out
}

/// The size of a finding's JSON.
pub fn json_bytes(finding: &AsffFinding) -> usize {
    serde_json::to_vec(finding).map_or(usize::MAX, |json| json.len())
}
