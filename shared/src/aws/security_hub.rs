//! AWS Security Hub: imports ASFF findings ([`crate::asff`]) with `BatchImportFindings`, in
//! calls within AWS's limits ([`crate::asff::batches`]), retrying the findings a call reports in
//! `FailedFindings` and returning those that still failed, so that none is dropped unseen.
//!
//! After a finding exists, `BatchImportFindings` cannot change its `Workflow` or `Note` (the
//! customer's investigation fields): [`SecurityHub::set_workflow`] sets them with
//! `BatchUpdateFindings`, at most [`asff::limits::BATCH_UPDATE_FINDINGS`] findings per call,
//! retrying those a call reports in `UnprocessedFindings` the same way.
//!
//! Security Hub accepts a finding under an account's default product only from that account
//! (`AwsAccountId` must be the caller's), so the client must be built from the configuration of
//! the findings' account: the member role's for a member account.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingIdentifier, Compliance, ComplianceStatus, NoteUpdate,
    Partition, Recommendation, RecordState, Remediation, Resource, Severity, SeverityLabel,
    Workflow, WorkflowStatus, WorkflowUpdate,
};

use super::SdkConfig;
use super::error::AdapterError;
use crate::asff::{self, AsffFinding};

/// Attempts per finding: the first import and two retries of what `FailedFindings` names.
const ATTEMPTS: usize = 3;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// Findings Security Hub accepted.
    pub imported: usize,
    /// `BatchImportFindings` calls made (retries included).
    pub calls: usize,
    /// Findings still refused after every attempt: their `Id`, Security Hub's code and message.
    pub failed: Vec<FailedFinding>,
}

/// What a workflow update did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowUpdated {
    /// Findings Security Hub updated (`ProcessedFindings`).
    pub updated: usize,
    /// `BatchUpdateFindings` calls made (retries included).
    pub calls: usize,
    /// Findings still unprocessed after every attempt: their `Id`, Security Hub's code and
    /// message.
    pub failed: Vec<FailedFinding>,
}

/// One finding Security Hub refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedFinding {
    /// The finding's `Id`.
    pub id: String,
    /// `ErrorCode`.
    pub code: String,
    /// `ErrorMessage`.
    pub message: String,
}

/// The Security Hub client of one account and region.
#[derive(Debug, Clone)]
pub struct SecurityHub {
    client: Client,
}

impl SecurityHub {
    /// A client for the account and region of `config`.
    pub fn new(config: &SdkConfig) -> SecurityHub {
        SecurityHub {
            client: Client::new(config),
        }
    }

    /// Imports `findings` (all of this client's account), batched within AWS's limits; the
    /// findings a call refuses are retried, and those refused every time are returned in
    /// [`Imported::failed`]. A failed call fails the import.
    pub async fn import(&self, findings: &[AsffFinding]) -> Result<Imported, AdapterError> {
        let client = self.client.clone();
        let sent = retrying(findings, asff::batches, move |batch| {
            let client = client.clone();
            async move {
                // Its own task, polled from the scheduler's shallow stack: building and
                // serialising `AwsSecurityFinding`s (hundreds of optional members) takes large
                // stack frames in debug builds, which need not stack on the caller's.
                let call = async move {
                    client
                        .batch_import_findings()
                        .set_findings(Some(batch.iter().map(sdk_finding).collect()))
                        .send()
                        .await
                };
                let output = tokio::spawn(call)
                    .await
                    .map_err(|error| AdapterError::Transport {
                        operation: "BatchImportFindings",
                        detail: error.to_string(),
                    })?
                    .map_err(AdapterError::of("BatchImportFindings"))?;
                Ok(output
                    .failed_findings()
                    .iter()
                    .map(|f| FailedFinding {
                        id: f.id().unwrap_or_default().to_string(),
                        code: f.error_code().unwrap_or_default().to_string(),
                        message: f.error_message().unwrap_or_default().to_string(),
                    })
                    .collect())
            }
        })
        .await?;
        Ok(Imported {
            imported: sent.accepted,
            calls: sent.calls,
            failed: sent.failed,
        })
    }

    /// Sets the `Workflow.Status` of `findings` (already imported, all of this client's account)
    /// to `status`, with the status's [`asff::WorkflowStatus::note`] as their `Note` (by
    /// [`asff::NOTE_AUTHOR`]), with `BatchUpdateFindings`
    /// (identified by `Id` and `ProductArn`); the findings a call leaves in `UnprocessedFindings`
    /// are retried, and those unprocessed every time are returned in [`WorkflowUpdated::failed`].
    /// A failed call fails the update.
    pub async fn set_workflow(
        &self,
        findings: &[AsffFinding],
        status: asff::WorkflowStatus,
    ) -> Result<WorkflowUpdated, AdapterError> {
        let client = self.client.clone();
        let note = NoteUpdate::builder()
            .text(status.note())
            .updated_by(asff::NOTE_AUTHOR)
            .build();
        let workflow = WorkflowUpdate::builder()
            .status(WorkflowStatus::from(<&str>::from(status)))
            .build();
        let sent = retrying(findings, update_batches, move |batch| {
            let request = client
                .batch_update_findings()
                .set_finding_identifiers(Some(batch.iter().map(identifier).collect()))
                .note(note.clone())
                .workflow(workflow.clone());
            async move {
                let output = request
                    .send()
                    .await
                    .map_err(AdapterError::of("BatchUpdateFindings"))?;
                Ok(output
                    .unprocessed_findings()
                    .iter()
                    .map(|f| FailedFinding {
                        id: f
                            .finding_identifier()
                            .and_then(|i| i.id())
                            .unwrap_or_default()
                            .to_string(),
                        code: f.error_code().unwrap_or_default().to_string(),
                        message: f.error_message().unwrap_or_default().to_string(),
                    })
                    .collect())
            }
        })
        .await?;
        Ok(WorkflowUpdated {
            updated: sent.accepted,
            calls: sent.calls,
            failed: sent.failed,
        })
    }
}

/// What [`retrying`] did: findings accepted, calls made, findings refused every time.
#[derive(Debug, Default)]
struct Sent {
    accepted: usize,
    calls: usize,
    failed: Vec<FailedFinding>,
}

/// Sends `findings` in the batches `batches` makes, one `call` per batch; `call` returns the
/// findings of its batch Security Hub refused (by `Id`). The refused ones are sent again, up to
/// [`ATTEMPTS`] times in all; those refused every time are [`Sent::failed`].
async fn retrying<F, Fut>(
    findings: &[AsffFinding],
    batches: fn(&[AsffFinding]) -> Vec<&[AsffFinding]>,
    call: F,
) -> Result<Sent, AdapterError>
where
    F: Fn(Vec<AsffFinding>) -> Fut,
    Fut: Future<Output = Result<Vec<FailedFinding>, AdapterError>>,
{
    let mut done = Sent::default();
    let mut pending: Vec<AsffFinding> = findings.to_vec();
    for attempt in 1..=ATTEMPTS {
        let mut refused: Vec<AsffFinding> = Vec::new();
        let mut errors: Vec<FailedFinding> = Vec::new();
        for batch in batches(&pending) {
            let failed = call(batch.to_vec()).await?;
            done.calls += 1;
            for finding in batch {
                match failed.iter().find(|f| f.id == finding.id) {
                    Some(error) => {
                        refused.push(finding.clone());
                        errors.push(error.clone());
                    }
                    None => done.accepted += 1,
                }
            }
        }
        if refused.is_empty() || attempt == ATTEMPTS {
            done.failed = errors;
            break;
        }
        pending = refused;
    }
    Ok(done)
}

/// `findings` in `BatchUpdateFindings` calls of at most
/// [`asff::limits::BATCH_UPDATE_FINDINGS`].
fn update_batches(findings: &[AsffFinding]) -> Vec<&[AsffFinding]> {
    findings
        .chunks(asff::limits::BATCH_UPDATE_FINDINGS)
        .collect()
}

/// The `Id` and `ProductArn` that identify `finding` to `BatchUpdateFindings`.
fn identifier(finding: &AsffFinding) -> AwsSecurityFindingIdentifier {
    AwsSecurityFindingIdentifier::builder()
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .build()
}

/// The SDK's shape of an ASFF finding.
fn sdk_finding(finding: &AsffFinding) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .schema_version(&finding.schema_version)
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .generator_id(&finding.generator_id)
        .aws_account_id(&finding.aws_account_id)
        .region(&finding.region)
        .set_types(Some(finding.types.clone()))
        .first_observed_at(&finding.first_observed_at)
        .last_observed_at(&finding.last_observed_at)
        .created_at(&finding.created_at)
        .updated_at(&finding.updated_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(finding.severity.label.as_str()))
                .build(),
        )
        .title(&finding.title)
        .description(&finding.description)
        .remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(&finding.remediation.recommendation.text)
                        .build(),
                )
                .build(),
        )
        .set_product_fields(Some(
            finding
                .product_fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        ))
        .set_resources(Some(finding.resources.iter().map(sdk_resource).collect()))
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(<&str>::from(
                    finding.compliance.status,
                )))
                .build(),
        )
        .record_state(RecordState::from(<&str>::from(finding.record_state)))
        .workflow(
            Workflow::builder()
                .status(WorkflowStatus::from(<&str>::from(finding.workflow.status)))
                .build(),
        )
        .build()
}

fn sdk_resource(resource: &asff::AsffResource) -> Resource {
    Resource::builder()
        .r#type(&resource.kind)
        .id(&resource.id)
        .partition(Partition::from(resource.partition.as_str()))
        .region(&resource.region)
        .build()
}
