//! The ASFF mapping of every rule's findings in the bundled examples, the lifecycle states, the
//! limits and the batching.

use std::collections::BTreeMap;

use strum::VariantArray;

use super::*;
use crate::evaluate::evaluate;
use crate::model::Topology;
use crate::notification::RemediationNote;
use crate::rule_id::RuleId;
use crate::snapshot::Snapshot;
use crate::testing::EXAMPLES;

/// 2026-11-28T07:42:13Z.
const NOW: i64 = 1_795_851_733;

/// One finding of every rule, from the bundled examples (between them every rule fires).
fn example_findings() -> BTreeMap<RuleId, Finding> {
    let mut by_rule = BTreeMap::new();
    for (_, json) in EXAMPLES {
        let topology = Topology::from_snapshot(&Snapshot::from_json(json).expect("example parses"))
            .expect("example is valid");
        for finding in evaluate(&topology).findings {
            by_rule.entry(finding.rule).or_insert(finding);
        }
    }
    by_rule
}

/// Every resource type reachguard may name: ASFF types, or `Other` where ASFF has none.
const RESOURCE_TYPES: [&str; 7] = [
    "AwsEcsService",
    "AwsEc2Vpc",
    "AwsEc2Subnet",
    "AwsEc2RouteTable",
    "AwsEc2NetworkAcl",
    "AwsEc2SecurityGroup",
    "Other",
];

#[test]
fn every_rules_example_finding_maps_to_a_valid_asff_finding() {
    // rule → the ASFF type of the subject's first resource (None: not a resource, e.g. the
    // dependency; then the first resource is the next subject field's).
    let cases = [
        (RuleId::UnreachableDependency, "AwsEcsService"),
        (RuleId::EndpointPrivateDnsDisabled, "Other"),
        (RuleId::VpcDnsDisabled, "AwsEc2Vpc"),
        (RuleId::EndpointSecurityGroupBlocksHttps, "Other"),
        (RuleId::EndpointAzGap, "Other"),
        (RuleId::GatewayEndpointNotAssociated, "Other"),
        (RuleId::GatewayEndpointPolicyBlocksEcrLayers, "Other"),
        (RuleId::NatForGatewayService, "AwsEc2Vpc"),
        (RuleId::NatSingleAz, "Other"),
        (RuleId::EgressNotRestricted, "AwsEc2RouteTable"),
        (RuleId::NetworkAclBlocksHttps, "AwsEc2NetworkAcl"),
        (RuleId::RouteBlackhole, "AwsEc2RouteTable"),
        (RuleId::SubnetNotReady, "AwsEc2Subnet"),
        (RuleId::NatPortExhaustion, "Other"),
        (RuleId::NatPacketDrops, "Other"),
        (RuleId::NatBandwidthPressure, "Other"),
    ];
    assert_eq!(cases.len(), RuleId::VARIANTS.len(), "one case per rule");
    let examples = example_findings();
    for (rule, first_type) in cases {
        let finding = examples
            .get(&rule)
            .unwrap_or_else(|| panic!("no example fires {rule}"));
        let asff =
            to_asff(finding, &Observation::open_now(NOW)).unwrap_or_else(|e| panic!("{rule}: {e}"));
        let account = finding
            .account
            .as_deref()
            .expect("examples name the account");
        assert_eq!(validate(&asff), Ok(()), "{rule}");
        assert_eq!(asff.schema_version, "2018-10-08");
        assert_eq!(asff.generator_id, rule.as_str());
        assert_eq!(asff.aws_account_id, account);
        assert_eq!(
            asff.product_arn,
            format!("arn:aws:securityhub:us-east-1:{account}:product/{account}/default"),
            "{rule}"
        );
        assert_eq!(
            asff.id,
            format!("reachguard/{account}/us-east-1/{}", finding.key())
        );
        assert_eq!(
            asff.severity.label,
            finding.severity.as_str().to_uppercase()
        );
        assert!(
            asff.title.starts_with(rule.as_str()),
            "{rule}: {}",
            asff.title
        );
        assert!(
            !asff.description.is_empty()
                && finding
                    .message
                    .starts_with(asff.description.trim_end_matches(crate::text::ELLIPSIS))
        );
        assert!(
            asff.remediation.recommendation.text.len() > 20,
            "{rule}: the fix in words: {:?}",
            asff.remediation.recommendation.text
        );
        assert_eq!(asff.types, [FINDING_TYPE]);
        assert_eq!(asff.created_at, "2026-11-28T07:42:13Z");
        assert_eq!(asff.product_fields["reachguard/rule"], rule.as_str());
        // Resources: valid types, the subject's first, the VPC always there, ARNs of the account.
        let first = &asff.resources[0];
        assert_eq!(first.kind, first_type, "{rule}: {:?}", asff.resources);
        let subject_resource = finding
            .subject()
            .into_iter()
            .find(|(field, _)| ResourceKind::of(*field).is_some())
            .map(|(_, value)| value)
            .expect("every subject names a resource");
        assert!(first.id.ends_with(subject_resource), "{rule}: {}", first.id);
        for resource in &asff.resources {
            assert!(
                RESOURCE_TYPES.contains(&resource.kind.as_str()),
                "{rule}: {resource:?}"
            );
            assert!(
                resource.id.starts_with("arn:aws:"),
                "{rule}: {}",
                resource.id
            );
            assert!(resource.id.contains(account), "{rule}: {}", resource.id);
            // `Other` exactly for the kinds ASFF has no type of, which the ARN names.
            assert_eq!(
                resource.kind == "Other",
                resource.id.contains(":vpc-endpoint/") || resource.id.contains(":natgateway/"),
                "{rule}: {resource:?}"
            );
        }
        assert!(
            asff.resources
                .iter()
                .any(|r| r.kind == "AwsEc2Vpc" && r.id.ends_with(&finding.vpc)),
            "{rule}"
        );
        if let Some(path) = &finding.path {
            assert_eq!(asff.product_fields["reachguard/path/via"], path.via);
        }
        for (index, action) in finding.remediation.iter().enumerate() {
            let plan = &asff.product_fields[&format!("reachguard/remediation/{index}")];
            let parsed: crate::action::Action = serde_json::from_str(plan).expect("plan is JSON");
            assert_eq!(&parsed, action);
            assert!(
                asff.remediation
                    .recommendation
                    .text
                    .contains(action.name().as_str())
            );
        }
    }
}

#[test]
fn ids_are_stable_across_runs_and_distinct_across_findings() {
    let first_run = example_findings();
    let second_run = example_findings();
    let mut ids = std::collections::BTreeSet::new();
    for (rule, finding) in &first_run {
        let earlier = to_asff(finding, &Observation::open_now(NOW)).expect("maps");
        let later = to_asff(&second_run[rule], &Observation::open_now(NOW + 86_400)).expect("maps");
        assert_eq!(earlier.id, later.id, "{rule}");
        assert_ne!(earlier.updated_at, later.updated_at);
        assert!(
            ids.insert(earlier.id),
            "{rule}: id shared with another rule"
        );
    }
    let mut blackhole = Finding::new(
        RuleId::RouteBlackhole,
        Some("111122223333"),
        "us-east-1",
        "vpc-1",
    );
    blackhole.route_table = Some("rtb-1".into());
    blackhole.destination = Some("0.0.0.0/0".into());
    assert_eq!(
        finding_id("111122223333", "us-east-1", &blackhole),
        "reachguard/111122223333/us-east-1/route-blackhole|rtb-1|0.0.0.0/0"
    );
}

#[test]
fn lifecycle_states_map_to_compliance_record_state_and_workflow() {
    let finding = example_findings()[&RuleId::RouteBlackhole].clone();
    let note = RemediationNote {
        action: "enable-private-dns".into(),
        outcome: "applied".into(),
        detail: "enabled private DNS on vpce-1".into(),
    };
    let cases = [
        (
            State::Open,
            None,
            ComplianceStatus::Failed,
            RecordState::Active,
            WorkflowStatus::New,
        ),
        (
            State::Suppressed,
            None,
            ComplianceStatus::Failed,
            RecordState::Active,
            WorkflowStatus::Suppressed,
        ),
        (
            State::Resolved,
            None,
            ComplianceStatus::Passed,
            RecordState::Archived,
            WorkflowStatus::Resolved,
        ),
        (
            State::Resolved,
            Some(&note),
            ComplianceStatus::Passed,
            RecordState::Archived,
            WorkflowStatus::Resolved,
        ),
    ];
    for (state, remediated, compliance, record_state, workflow) in cases {
        let observation = Observation {
            state,
            first_seen: NOW - 3600,
            last_seen: NOW - 60,
            updated: NOW,
            remediated,
        };
        let asff = to_asff(&finding, &observation).expect("maps");
        assert_eq!(asff.compliance.status, compliance, "{state}");
        assert_eq!(asff.record_state, record_state, "{state}");
        assert_eq!(asff.workflow.status, workflow, "{state}");
        assert_eq!(asff.first_observed_at, "2026-11-28T06:42:13Z");
        assert_eq!(asff.created_at, asff.first_observed_at);
        assert_eq!(asff.last_observed_at, "2026-11-28T07:41:13Z");
        assert_eq!(asff.updated_at, "2026-11-28T07:42:13Z");
        assert_eq!(
            asff.product_fields
                .get("reachguard/remediated")
                .map(String::as_str),
            remediated.map(|_| "enable-private-dns applied: enabled private DNS on vpce-1"),
        );
    }
}

#[test]
fn the_json_uses_asff_member_names() {
    let finding = &example_findings()[&RuleId::EndpointPrivateDnsDisabled];
    let json = serde_json::to_value(to_asff(finding, &Observation::open_now(NOW)).unwrap())
        .expect("serialises");
    // The optional members reachguard sets.
    let optional = [
        "FirstObservedAt",
        "LastObservedAt",
        "Remediation",
        "ProductFields",
        "Compliance",
        "RecordState",
        "Workflow",
    ];
    for member in REQUIRED_MEMBERS.into_iter().chain(optional) {
        assert!(json.get(member).is_some(), "{member} missing in {json}");
    }
    assert_eq!(json["Severity"]["Label"], "HIGH");
    assert_eq!(json["Compliance"]["Status"], "FAILED");
    assert_eq!(json["RecordState"], "ACTIVE");
    assert_eq!(json["Workflow"]["Status"], "NEW");
    assert!(json["Remediation"]["Recommendation"]["Text"].is_string());
    let endpoint = &json["Resources"][0];
    assert_eq!(endpoint["Type"], "Other");
    assert_eq!(endpoint["Partition"], "aws");
    assert!(endpoint.get("Details").is_none(), "{endpoint}");
    assert!(
        endpoint["Id"].as_str().is_some_and(
            |id| id.starts_with("arn:aws:ec2:us-east-1:111122223333:vpc-endpoint/vpce-")
        )
    );
}

#[test]
fn long_texts_are_cut_to_the_limits_and_a_finding_without_account_is_refused() {
    let mut finding = example_findings()[&RuleId::UnreachableDependency].clone();
    finding.message = "why ".repeat(1000);
    finding.path = finding.path.map(|mut path| {
        path.steps = vec!["step".repeat(1000)];
        path
    });
    let asff = to_asff(&finding, &Observation::open_now(NOW)).expect("cut to fit");
    assert_eq!(asff.description.chars().count(), limits::DESCRIPTION_CHARS);
    assert!(asff.description.ends_with(crate::text::ELLIPSIS));
    assert_eq!(
        asff.product_fields["reachguard/path/steps"].chars().count(),
        limits::PRODUCT_FIELD_VALUE_CHARS
    );

    for account in [None, Some("123"), Some("")] {
        finding.account = account.map(str::to_string);
        assert!(
            matches!(
                to_asff(&finding, &Observation::open_now(NOW)),
                Err(AsffError::NoAccount { .. })
            ),
            "{account:?}"
        );
    }
}

/// Breaks one member of a valid finding (given one of its resources to copy).
type Breakage = fn(&mut AsffFinding, &AsffResource);

#[test]
fn validate_names_the_member_that_breaks_a_limit() {
    let valid = to_asff(
        &example_findings()[&RuleId::RouteBlackhole],
        &Observation::open_now(NOW),
    )
    .expect("maps");
    let resource = valid.resources[0].clone();
    let cases: [(&str, Breakage); 7] = [
        ("Title", |f, _| f.title = "t".repeat(257)),
        ("Description", |f, _| f.description = String::new()),
        ("Id", |f, _| f.id = "i".repeat(513)),
        ("Resources", |f, _| f.resources.clear()),
        ("Resources", |f, r| f.resources = vec![r.clone(); 33]),
        ("ProductFields", |f, _| {
            f.product_fields = (0..51).map(|i| (format!("k{i}"), "v".into())).collect()
        }),
        ("ProductFields[k]", |f, _| {
            f.product_fields = BTreeMap::from([("k".into(), "v".repeat(2049))])
        }),
    ];
    for (member, break_it) in cases {
        let mut broken = valid.clone();
        break_it(&mut broken, &resource);
        let error = validate(&broken).expect_err(member).to_string();
        assert!(error.contains(member), "{member}: {error}");
    }
}

#[test]
fn batches_hold_at_most_100_findings_and_240_kb_and_keep_every_finding_in_order() {
    let template = to_asff(
        &example_findings()[&RuleId::UnreachableDependency],
        &Observation::open_now(NOW),
    )
    .expect("maps");
    let findings = |count: usize, description_chars: usize| -> Vec<AsffFinding> {
        (0..count)
            .map(|i| AsffFinding {
                id: format!("{}-{i}", template.id),
                description: "d".repeat(description_chars),
                ..template.clone()
            })
            .collect()
    };
    let bytes = |batch: &[AsffFinding]| batch.iter().map(limits::json_bytes).sum::<usize>();
    // (findings, description size): small findings fill calls by count, large ones by bytes.
    for (count, description_chars) in [
        (0, 10),
        (1, 10),
        (100, 10),
        (101, 10),
        (250, 10),
        (250, 1000),
    ] {
        let all = findings(count, description_chars);
        let split = batches(&all);
        assert!(
            split.len() >= count.div_ceil(limits::BATCH_FINDINGS),
            "{count} findings"
        );
        for batch in &split {
            assert!(!batch.is_empty() && batch.len() <= limits::BATCH_FINDINGS);
            assert!(
                bytes(batch) <= limits::BATCH_BYTES,
                "{} bytes",
                bytes(batch)
            );
        }
        // A call is closed only when the next finding would not fit: no needless calls.
        for pair in split.windows(2) {
            let next = limits::json_bytes(&pair[1][0]);
            assert!(
                pair[0].len() == limits::BATCH_FINDINGS
                    || bytes(pair[0]) + next > limits::BATCH_BYTES,
                "{count} findings: a call closed early"
            );
        }
        let rejoined: Vec<&str> = split
            .iter()
            .flat_map(|b| b.iter().map(|f| f.id.as_str()))
            .collect();
        let original: Vec<&str> = all.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(rejoined, original);
    }
    assert!(batches(&findings(250, 10)).len() >= 3);
    assert!(batches(&findings(250, 1000)).len() > batches(&findings(250, 10)).len());
}

#[test]
fn timestamps_are_iso_8601_utc() {
    for (epoch, text) in [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (NOW, "2026-11-28T07:42:13Z"),
        (4_102_444_799, "2099-12-31T23:59:59Z"),
    ] {
        assert_eq!(timestamp(epoch), text, "{epoch}");
    }
}

#[test]
fn partitions_follow_the_region() {
    for (region, partition_name) in [
        ("us-east-1", "aws"),
        ("eu-west-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
    ] {
        assert_eq!(partition(region), partition_name);
        assert_eq!(
            product_arn("111122223333", region),
            format!(
                "arn:{partition_name}:securityhub:{region}:111122223333:product/111122223333/default"
            )
        );
    }
}
