//! Findings in the AWS Security Finding Format (ASFF), the document AWS Security Hub's
//! `BatchImportFindings` takes: what `check --format asff` prints and what the Lambdas import.
//!
//! Pure: the lifecycle state, the times and what reachguard did are passed in ([`Observation`]);
//! the SDK call is `aws::security_hub`'s. [`limits`] holds AWS's documented limits, the check of
//! a finding against them, and the split of a list of findings into import calls.
//!
//! One reachguard finding is one ASFF finding whose `Id` is built from its identity (account,
//! region and [`Finding::key`]: rule and subject), so every later state of the same finding
//! updates the same Security Hub finding.

pub mod limits;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::account::is_account_id;
use crate::action::{Action, ActionName};
use crate::finding::Finding;
use crate::lifecycle::State;
use crate::notification::RemediationNote;
use crate::rule_id::{Field, Severity};
use crate::rules::rule;
use crate::text::truncate;

pub use limits::{AsffError, batches, validate};

/// The ASFF schema version Security Hub accepts.
pub const SCHEMA_VERSION: &str = "2018-10-08";

/// The top-level members ASFF requires in every finding (`BatchImportFindings` refuses one
/// without them).
pub const REQUIRED_MEMBERS: [&str; 12] = [
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "Types",
    "CreatedAt",
    "UpdatedAt",
    "Severity",
    "Title",
    "Description",
    "Resources",
];

/// The finding type, from the ASFF types taxonomy (namespace/category/classifier): every
/// reachguard rule judges whether (and how) a subnet reaches what it needs.
pub const FINDING_TYPE: &str =
    "Software and Configuration Checks/AWS Security Best Practices/Network Reachability";

/// The prefix of reachguard's `ProductFields` keys (Security Hub reserves `aws/`).
const FIELD_PREFIX: &str = "reachguard/";

/// One finding in ASFF: the members reachguard sets, with ASFF's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// `reachguard/<account>/<region>/<rule>|<subject values>`: stable for one finding.
    pub id: String,
    /// The account's default product: `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
    pub product_arn: String,
    /// The rule id.
    pub generator_id: String,
    /// The account the finding is about (Security Hub imports it only from that account).
    pub aws_account_id: String,
    /// The region the finding is about.
    pub region: String,
    /// [`FINDING_TYPE`].
    pub types: Vec<String>,
    /// When the finding first fired (this opening).
    pub first_observed_at: String,
    /// When an evaluation last saw it firing.
    pub last_observed_at: String,
    /// Equal to `FirstObservedAt`.
    pub created_at: String,
    /// When this state of the finding was produced.
    pub updated_at: String,
    /// The rule's severity.
    pub severity: AsffSeverity,
    /// The rule and the subject, in words.
    pub title: String,
    /// The why: what path was tried and where it broke.
    pub description: String,
    /// The fix, and what reachguard can apply.
    pub remediation: AsffRemediation,
    /// reachguard's own members (path, plan, what was done), as strings.
    pub product_fields: BTreeMap<String, String>,
    /// The resources the finding names, the subject's first.
    pub resources: Vec<AsffResource>,
    /// `FAILED` while the finding fires, `PASSED` once resolved.
    pub compliance: AsffCompliance,
    /// `ACTIVE` while the finding fires, `ARCHIVED` once resolved.
    pub record_state: RecordState,
    /// `NEW`, `SUPPRESSED` (exempt tag) or `RESOLVED`.
    pub workflow: AsffWorkflow,
}

/// `Severity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    /// `CRITICAL`, `HIGH`, `MEDIUM` or `LOW`.
    pub label: String,
}

/// `Remediation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    /// `Recommendation`.
    pub recommendation: AsffRecommendation,
}

/// `Remediation.Recommendation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    /// The fix in words.
    pub text: String,
}

/// One entry of `Resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    /// An ASFF resource type ([`ResourceKind::asff_type`]).
    #[serde(rename = "Type")]
    pub kind: String,
    /// The resource's ARN.
    pub id: String,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// The resource's region.
    pub region: String,
}

/// `Compliance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    /// `FAILED` or `PASSED`.
    pub status: ComplianceStatus,
}

/// `Workflow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffWorkflow {
    /// `NEW`, `SUPPRESSED` or `RESOLVED`.
    pub status: WorkflowStatus,
}

/// `Compliance.Status` values reachguard uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ComplianceStatus {
    /// The finding fires.
    Failed,
    /// The finding no longer fires.
    Passed,
}

/// `RecordState` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordState {
    /// The finding is live.
    Active,
    /// The finding is no longer relevant.
    Archived,
}

/// `Workflow.Status` values reachguard uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkflowStatus {
    /// Not yet reviewed.
    New,
    /// Exempted by a `reachguard:exempt` tag.
    Suppressed,
    /// Fixed (by someone, or by reachguard's remediation).
    Resolved,
}

/// `Note.UpdatedBy` of the notes reachguard writes with `BatchUpdateFindings`.
pub const NOTE_AUTHOR: &str = "reachguard";

impl WorkflowStatus {
    /// The `Note` reachguard writes when it sets this workflow status: why the finding is in it.
    pub fn note(self) -> &'static str {
        match self {
            WorkflowStatus::New => {
                "reachguard: the finding fires and no reachguard:exempt tag suppresses it"
            }
            WorkflowStatus::Suppressed => {
                "reachguard: suppressed by a reachguard:exempt tag; remove the tag to reopen it"
            }
            WorkflowStatus::Resolved => "reachguard: the finding no longer fires",
        }
    }
}

/// The lifecycle of one finding at one evaluation: what the ASFF object reports besides the
/// finding itself. Times are seconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The finding's state.
    pub state: State,
    /// When it first fired (this opening).
    pub first_seen: i64,
    /// When an evaluation last saw it firing.
    pub last_seen: i64,
    /// Now: the `UpdatedAt` of this state.
    pub updated: i64,
    /// What reachguard's remediation did, for a finding it fixed.
    pub remediated: Option<&'a RemediationNote>,
}

impl Observation<'_> {
    /// A finding seen firing for the first time `now` (what `check` and `scan` report: they keep
    /// no state).
    pub fn open_now(now: i64) -> Observation<'static> {
        Observation {
            state: State::Open,
            first_seen: now,
            last_seen: now,
            updated: now,
            remediated: None,
        }
    }
}

/// The kinds of resource a finding names, with their ASFF types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// An ECS service (`AwsEcsService`); its id is already an ARN.
    EcsService,
    /// `AwsEc2Vpc`.
    Vpc,
    /// `AwsEc2Subnet`.
    Subnet,
    /// `AwsEc2RouteTable`.
    RouteTable,
    /// `AwsEc2NetworkAcl`.
    NetworkAcl,
    /// `AwsEc2SecurityGroup`.
    SecurityGroup,
    /// A VPC endpoint: ASFF has no type for it (`AwsEc2VpcEndpointService` is the provider's
    /// endpoint *service*), so `Other`.
    VpcEndpoint,
    /// A NAT gateway: ASFF has no type for it, so `Other`.
    NatGateway,
}

impl ResourceKind {
    /// The kind of resource a subject field names (`None`: the field is not a resource).
    pub fn of(field: Field) -> Option<ResourceKind> {
        match field {
            Field::Service => Some(ResourceKind::EcsService),
            Field::Vpc => Some(ResourceKind::Vpc),
            Field::Subnet => Some(ResourceKind::Subnet),
            Field::RouteTable => Some(ResourceKind::RouteTable),
            Field::NetworkAcl => Some(ResourceKind::NetworkAcl),
            Field::Endpoint => Some(ResourceKind::VpcEndpoint),
            Field::NatGateway => Some(ResourceKind::NatGateway),
            Field::Dependency | Field::AvailabilityZone | Field::Destination => None,
        }
    }

    /// The ASFF `Resources[].Type`. ASFF's rule: a supported type where there is one, else
    /// `Other` (<https://docs.aws.amazon.com/securityhub/latest/userguide/asff-resourcedetails-other.html>);
    /// the ARN in `Id` names the kind (`vpc-endpoint/…`, `natgateway/…`). reachguard sends no
    /// `Details`: the finding names resources, it does not describe them (and the SDK's
    /// serialiser of `ResourceDetails`, hundreds of members, overflows a 2 MiB thread stack in
    /// debug builds).
    pub fn asff_type(self) -> &'static str {
        match self {
            ResourceKind::EcsService => "AwsEcsService",
            ResourceKind::Vpc => "AwsEc2Vpc",
            ResourceKind::Subnet => "AwsEc2Subnet",
            ResourceKind::RouteTable => "AwsEc2RouteTable",
            ResourceKind::NetworkAcl => "AwsEc2NetworkAcl",
            ResourceKind::SecurityGroup => "AwsEc2SecurityGroup",
            ResourceKind::VpcEndpoint | ResourceKind::NatGateway => "Other",
        }
    }

    /// The EC2 ARN resource segment (`vpc`, `subnet`, …); `None` for an ECS service.
    fn arn_resource(self) -> Option<&'static str> {
        match self {
            ResourceKind::EcsService => None,
            ResourceKind::Vpc => Some("vpc"),
            ResourceKind::Subnet => Some("subnet"),
            ResourceKind::RouteTable => Some("route-table"),
            ResourceKind::NetworkAcl => Some("network-acl"),
            ResourceKind::SecurityGroup => Some("security-group"),
            ResourceKind::VpcEndpoint => Some("vpc-endpoint"),
            ResourceKind::NatGateway => Some("natgateway"),
        }
    }
}

/// The partition of a region: `aws-cn` for `cn-…`, `aws-us-gov` for `us-gov-…`, else `aws`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The account's default Security Hub product, under which an account imports its own findings.
pub fn product_arn(account: &str, region: &str) -> String {
    format!(
        "arn:{}:securityhub:{region}:{account}:product/{account}/default",
        partition(region)
    )
}

/// The ASFF `Id` of a finding: stable for its identity (account, region, rule, subject).
pub fn finding_id(account: &str, region: &str, finding: &Finding) -> String {
    format!("reachguard/{account}/{region}/{}", finding.key())
}

/// `finding` in ASFF at `observation`. Fails when the finding names no valid account (ASFF
/// requires `AwsAccountId`) or when the result breaks an ASFF limit ([`validate`]).
pub fn to_asff(finding: &Finding, observation: &Observation<'_>) -> Result<AsffFinding, AsffError> {
    let account = finding
        .account
        .as_deref()
        .filter(|a| is_account_id(a))
        .ok_or_else(|| AsffError::NoAccount {
            finding: finding.key(),
        })?;
    let region = finding.region.as_str();
    let (compliance, record_state, workflow) = match observation.state {
        State::Open => (
            ComplianceStatus::Failed,
            RecordState::Active,
            WorkflowStatus::New,
        ),
        State::Suppressed => (
            ComplianceStatus::Failed,
            RecordState::Active,
            WorkflowStatus::Suppressed,
        ),
        State::Resolved => (
            ComplianceStatus::Passed,
            RecordState::Archived,
            WorkflowStatus::Resolved,
        ),
    };
    let asff = AsffFinding {
        schema_version: SCHEMA_VERSION.to_string(),
        id: finding_id(account, region, finding),
        product_arn: product_arn(account, region),
        generator_id: finding.rule.as_str().to_string(),
        aws_account_id: account.to_string(),
        region: region.to_string(),
        types: vec![FINDING_TYPE.to_string()],
        first_observed_at: timestamp(observation.first_seen),
        last_observed_at: timestamp(observation.last_seen),
        created_at: timestamp(observation.first_seen),
        updated_at: timestamp(observation.updated),
        severity: AsffSeverity {
            label: severity_label(finding.severity).to_string(),
        },
        title: truncate(
            &format!("{}: {}", finding.rule, finding.subject_text()),
            limits::TITLE_CHARS,
        )
        .into_owned(),
        description: truncate(&finding.message, limits::DESCRIPTION_CHARS).into_owned(),
        remediation: AsffRemediation {
            recommendation: AsffRecommendation {
                text: truncate(&recommendation(finding), limits::RECOMMENDATION_CHARS).into_owned(),
            },
        },
        product_fields: product_fields(finding, observation.remediated),
        resources: resources(account, finding),
        compliance: AsffCompliance { status: compliance },
        record_state,
        workflow: AsffWorkflow { status: workflow },
    };
    validate(&asff)?;
    Ok(asff)
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
    }
}

/// The fix: the rule's Remediation section, then the plan and whether reachguard applies it.
fn recommendation(finding: &Finding) -> String {
    let mut text = remediation_section(rule(finding.rule).explanation);
    for action in &finding.remediation {
        let who = if ActionName::DEFAULT_ALLOWED.contains(&action.name()) {
            "reachguard applies it in remediate mode"
        } else {
            "reachguard applies it in remediate mode when REACHGUARD_ALLOWED_ACTIONS allows it"
        };
        text.push_str(&format!(
            " Plan: {} ({}: {who}).",
            action.describe(),
            action.name()
        ));
    }
    text
}

/// The `## Remediation` section of a rule's explanation, on one line.
fn remediation_section(explanation: &str) -> String {
    let section = explanation
        .split("## Remediation")
        .nth(1)
        .unwrap_or_default()
        .split("\n## ")
        .next()
        .unwrap_or_default();
    section.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// reachguard's members: the VPC, the subject, the path, the plan and what was done, each value
/// cut to ASFF's limit.
fn product_fields(
    finding: &Finding,
    remediated: Option<&RemediationNote>,
) -> BTreeMap<String, String> {
    let mut fields: Vec<(String, String)> = vec![
        ("rule".into(), finding.rule.as_str().into()),
        ("vpc".into(), finding.vpc.clone()),
    ];
    for (field, value) in finding.subject() {
        fields.push((format!("subject/{field}"), value.to_string()));
    }
    if let Some(path) = &finding.path {
        fields.push(("path/via".into(), path.via.clone()));
        fields.push(("path/steps".into(), path.steps.join(" → ")));
        if let Some(broken_at) = &path.broken_at {
            fields.push(("path/broken_at".into(), broken_at.clone()));
        }
    }
    for (index, action) in finding.remediation.iter().enumerate() {
        let plan = serde_json::to_string(action).unwrap_or_else(|_| action.describe());
        fields.push((format!("remediation/{index}"), plan));
    }
    if let Some(note) = remediated {
        fields.push((
            "remediated".into(),
            format!("{} {}: {}", note.action, note.outcome, note.detail),
        ));
    }
    fields
        .into_iter()
        .take(limits::PRODUCT_FIELDS)
        .map(|(key, value)| {
            (
                format!("{FIELD_PREFIX}{key}"),
                truncate(&value, limits::PRODUCT_FIELD_VALUE_CHARS).into_owned(),
            )
        })
        .collect()
}

/// The resources a finding names: its subject's first, in the subject's order, then the others
/// it carries and the security groups its plan changes, each once, at most [`limits::RESOURCES`].
fn resources(account: &str, finding: &Finding) -> Vec<AsffResource> {
    const OTHERS: [Field; 7] = [
        Field::Service,
        Field::Endpoint,
        Field::NatGateway,
        Field::NetworkAcl,
        Field::RouteTable,
        Field::Subnet,
        Field::Vpc,
    ];
    let named = finding
        .rule
        .subject()
        .iter()
        .chain(OTHERS.iter())
        .filter_map(|&field| Some((ResourceKind::of(field)?, finding.field(field))));
    let security_groups = finding.remediation.iter().filter_map(|a| match a {
        Action::AllowHttpsFromVpc { security_group, .. } => {
            Some((ResourceKind::SecurityGroup, Some(security_group.as_str())))
        }
        _ => None,
    });
    let mut out: Vec<AsffResource> = Vec::new();
    for (kind, id) in named.chain(security_groups) {
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            continue;
        };
        let resource = resource(kind, account, &finding.region, id);
        if !out.iter().any(|r| r.id == resource.id) {
            out.push(resource);
        }
    }
    out.truncate(limits::RESOURCES);
    out
}

fn resource(kind: ResourceKind, account: &str, region: &str, id: &str) -> AsffResource {
    let partition = partition(region);
    let arn = match kind.arn_resource() {
        Some(segment) => format!("arn:{partition}:ec2:{region}:{account}:{segment}/{id}"),
        None => id.to_string(),
    };
    AsffResource {
        kind: kind.asff_type().to_string(),
        id: arn,
        partition: partition.to_string(),
        region: region.to_string(),
    }
}

/// Seconds since the epoch as an ISO 8601 UTC timestamp (`2026-11-28T07:42:13Z`), the format
/// ASFF's date fields take.
pub fn timestamp(epoch_secs: i64) -> String {
    let days = epoch_secs.div_euclid(86_400);
    let secs = epoch_secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
