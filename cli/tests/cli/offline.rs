//! The real `reachguard` binary on the bundled examples and on bad input: exact findings (rule
//! and subject) per example, exit codes, and the text format.

use crate::util::{describe, reachguard, repo};

/// `check --format json` on a file: (exit code, ["rule subject…"]).
fn findings(file: &str, extra: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    let mut args = vec!["check", file, "--format", "json"];
    args.extend_from_slice(extra);
    let out = reachguard(&args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}", describe(&args, &out)));
    let subjects = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let subject = match f["rule"].as_str().unwrap() {
                "unreachable-dependency" => vec!["service", "subnet", "dependency"],
                "endpoint-private-dns-disabled" | "gateway-endpoint-policy-blocks-ecr-layers" => {
                    vec!["endpoint"]
                }
                "vpc-dns-disabled" => vec!["vpc"],
                "endpoint-security-group-blocks-https" => vec!["endpoint", "subnet"],
                "endpoint-az-gap" => vec!["endpoint", "availability_zone"],
                "gateway-endpoint-not-associated" => vec!["endpoint", "route_table"],
                "nat-for-gateway-service" => vec!["vpc", "dependency"],
                "nat-single-az"
                | "nat-port-exhaustion"
                | "nat-packet-drops"
                | "nat-bandwidth-pressure" => vec!["nat_gateway"],
                "egress-not-restricted" => vec!["route_table"],
                "network-acl-blocks-https" => vec!["network_acl", "subnet"],
                "route-blackhole" => vec!["route_table", "destination"],
                "subnet-not-ready" => vec!["subnet", "dependency"],
                other => panic!("unknown rule {other}"),
            };
            let values: Vec<&str> = subject.iter().map(|k| f[*k].as_str().unwrap()).collect();
            format!("{} {}", f["rule"].as_str().unwrap(), values.join(" "))
        })
        .collect();
    (out.status.code().unwrap(), subjects, json)
}

const CHECKOUT: &str = "arn:aws:ecs:us-east-1:111122223333:service/prod/checkout";
const BILLING: &str = "arn:aws:ecs:us-east-1:111122223333:service/prod/billing";

#[test]
fn endpoint_only_example_is_clean() {
    let (code, subjects, json) = findings("examples/endpoint-only-vpc.json", &[]);
    assert_eq!(subjects, Vec::<String>::new());
    assert_eq!(code, 0);
    assert_eq!(
        json["summary"],
        serde_json::json!({"services": 1, "subnets": 2, "findings": 0, "suppressed": 0})
    );
}

#[test]
fn nat_only_example_has_cost_resilience_and_egress_findings() {
    let (code, subjects, _) = findings("examples/nat-only-vpc.json", &[]);
    assert_eq!(
        subjects,
        [
            "egress-not-restricted rtb-0a5d2e8c1b4f60011",
            "endpoint-private-dns-disabled vpce-0a5d2e8c1b4f6l0g0",
            "gateway-endpoint-not-associated vpce-0a5d2e8c1b4f6ddb0 rtb-0a5d2e8c1b4f60011",
            "nat-single-az nat-0a5d2e8c1b4f60a01",
            "subnet-not-ready subnet-0a5d2e8c1b4f600c1 ecr.api",
            "subnet-not-ready subnet-0a5d2e8c1b4f600c1 ecr.dkr",
            "subnet-not-ready subnet-0a5d2e8c1b4f600c1 logs",
            "subnet-not-ready subnet-0a5d2e8c1b4f600c1 s3",
            "nat-for-gateway-service vpc-0a5d2e8c1b4f60001 s3",
        ]
    );
    assert_eq!(code, 1, "high findings fail by default");
    let (code, _, _) = findings("examples/nat-only-vpc.json", &["--fail-on", "critical"]);
    assert_eq!(code, 0, "nothing critical");
}

#[test]
fn broken_example_has_every_outage_rule() {
    let (code, subjects, json) = findings("examples/broken-vpc.json", &[]);
    let a = "subnet-0b7f3c9d2e1a800a1";
    let b = "subnet-0b7f3c9d2e1a800b1";
    let l = "subnet-0b7f3c9d2e1a801a1";
    let expected: Vec<String> = [
        "route-blackhole rtb-0b7f3c9d2e1a800a1 0.0.0.0/0".to_string(),
        format!("unreachable-dependency {BILLING} {l} ecr.api"),
        format!("unreachable-dependency {BILLING} {l} ecr.dkr"),
        format!("unreachable-dependency {BILLING} {l} logs"),
        format!("unreachable-dependency {CHECKOUT} {a} ecr.dkr"),
        format!("unreachable-dependency {CHECKOUT} {a} logs"),
        format!("unreachable-dependency {CHECKOUT} {a} s3"),
        format!("unreachable-dependency {CHECKOUT} {a} secretsmanager"),
        format!("unreachable-dependency {CHECKOUT} {b} ecr.dkr"),
        format!("unreachable-dependency {CHECKOUT} {b} logs"),
        format!("unreachable-dependency {CHECKOUT} {b} s3"),
        format!("unreachable-dependency {CHECKOUT} {b} secretsmanager"),
        format!("endpoint-security-group-blocks-https vpce-0b7f3c9d2e1a8d0k0 {a}"),
        format!("endpoint-security-group-blocks-https vpce-0b7f3c9d2e1a8d0k0 {b}"),
        "gateway-endpoint-policy-blocks-ecr-layers vpce-0b7f3c9d2e1a80s30".to_string(),
        "nat-port-exhaustion nat-0b7f3c9d2e1a81e01".to_string(),
        format!("network-acl-blocks-https acl-0b7f3c9d2e1a800b1 {b}"),
        "vpc-dns-disabled vpc-0b7f3c9d2e1a80002".to_string(),
        "endpoint-az-gap vpce-0b7f3c9d2e1a8a0i0 us-east-1b".to_string(),
        "endpoint-az-gap vpce-0b7f3c9d2e1a8d0k0 us-east-1b".to_string(),
        "nat-bandwidth-pressure nat-0b7f3c9d2e1a81e01".to_string(),
        "nat-packet-drops nat-0b7f3c9d2e1a81e01".to_string(),
    ]
    .into();
    assert_eq!(subjects, expected);
    assert_eq!(code, 1);
    let first = &json["findings"][0];
    assert_eq!(first["severity"], "critical");
    assert_eq!(first["account"], "111122223333");
    assert_eq!(first["region"], "us-east-1");
    for member in [
        "service",
        "subnet",
        "dependency",
        "endpoint",
        "route_table",
        "nat_gateway",
        "network_acl",
        "availability_zone",
        "destination",
        "message",
        "remediation",
    ] {
        assert!(first.get(member).is_some(), "{member} is always present");
    }
    let logs = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subnet"] == a && f["dependency"] == "logs")
        .unwrap();
    assert_eq!(
        logs["path"]["via"],
        "default route 0.0.0.0/0 -> nat-0b7f3c9d2e1a8dead"
    );
    assert!(
        logs["path"]["broken_at"]
            .as_str()
            .unwrap()
            .contains("blackhole")
    );
    assert_eq!(
        logs["remediation"][0]["action"],
        "create-interface-endpoint"
    );
}

/// Issue 13: the NAT findings carry the measured NAT gateway's processed GB and monthly cost
/// (message and `nat_traffic`), the measured rules' thresholds are flags, and a bad flag is exit 2.
#[test]
fn nat_findings_carry_measured_figures_and_thresholds_are_flags() {
    let (_, _, json) = findings(
        "examples/nat-only-vpc.json",
        &["--rule", "nat-for-gateway-service"],
    );
    let finding = &json["findings"][0];
    let traffic = &finding["nat_traffic"];
    assert_eq!(traffic["nat_gateway"], "nat-0a5d2e8c1b4f60a01");
    assert_eq!(traffic["window_days"], 7);
    assert_eq!(traffic["usd_per_gb"], 0.045, "us-east-1's published rate");
    let gb = traffic["processed_gb"].as_f64().unwrap();
    assert!((gb - 450.9e9 / 1_073_741_824.0).abs() < 1e-6, "{gb}");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("processed 419.9 GB in the last 7 days, about $82.11 a month in data processing at $0.045/GB (its total: CloudWatch does not split NAT traffic by destination; the s3 share needs VPC flow logs)"),
        "{message}"
    );

    let (_, subjects, json) = findings(
        "examples/nat-only-vpc.json",
        &[
            "--nat-drop-share",
            "0.0000001",
            "--nat-usd-per-gb",
            "0.09",
            "--rule",
            "nat-packet-drops",
            "--rule",
            "nat-single-az",
        ],
    );
    assert_eq!(
        subjects,
        [
            "nat-packet-drops nat-0a5d2e8c1b4f60a01",
            "nat-single-az nat-0a5d2e8c1b4f60a01"
        ],
        "120 of 361 M packets is above a 0.00001% threshold"
    );
    assert_eq!(json["findings"][1]["nat_traffic"]["usd_per_gb"], 0.09);

    let (_, subjects, _) = findings("examples/broken-vpc.json", &["--nat-capacity-share", "0.9"]);
    assert!(
        !subjects
            .iter()
            .any(|s| s.starts_with("nat-bandwidth-pressure")),
        "87% < 90%"
    );

    let args = [
        "check",
        "examples/nat-only-vpc.json",
        "--nat-capacity-share",
        "1.5",
    ];
    let out = reachguard(&args);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&args, &out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--nat-capacity-share 1.5: expected a share in (0, 1]"),
        "{}",
        describe(&args, &out)
    );

    let (_, subjects, json) = findings("examples/endpoint-only-vpc.json", &[]);
    assert!(
        subjects.is_empty() && json["findings"].as_array().unwrap().is_empty(),
        "no metrics, no figures"
    );
}

#[test]
fn examples_show_every_rule() {
    let mut rules: Vec<String> = [
        "examples/endpoint-only-vpc.json",
        "examples/nat-only-vpc.json",
        "examples/broken-vpc.json",
    ]
    .iter()
    .flat_map(|f| findings(f, &[]).1)
    .map(|s| s.split(' ').next().unwrap().to_string())
    .collect();
    rules.sort();
    rules.dedup();
    assert_eq!(rules.len(), 16, "{rules:?}");
}

#[test]
fn rule_filter_and_bundled_default() {
    let (_, subjects, json) = findings(
        "examples/broken-vpc.json",
        &["--rule", "endpoint-az-gap", "--rule", "vpc-dns-disabled"],
    );
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert_eq!(json["summary"]["findings"], 3);
    let out = reachguard(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&["check"], &out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bundled examples/broken-vpc.json"));
    let bundled: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        bundled,
        findings("examples/broken-vpc.json", &[]).2,
        "the bundled default is the example file"
    );
}

#[test]
fn text_report_groups_by_service_and_ends_with_a_summary() {
    let args = ["check", "examples/nat-only-vpc.json"];
    let out = reachguard(&args);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        text.starts_with("vpc-0a5d2e8c1b4f60001 (VPC-wide)\n"),
        "{}",
        describe(&args, &out)
    );
    assert!(
        text.contains("  MEDIUM   nat-single-az nat-0a5d2e8c1b4f60a01\n"),
        "{}",
        describe(&args, &out)
    );
    assert!(text.contains(
        "fix: enable private DNS on endpoint vpce-0a5d2e8c1b4f6l0g0 [enable-private-dns]"
    ));
    assert!(text.trim_end().ends_with(
        "summary: 1 services, 2 subnets: 9 findings (2 high, 6 medium, 1 low), 0 suppressed"
    ));
    assert!(!text.contains('\u{1b}'), "no colour when not a TTY");
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let dir = std::env::temp_dir().join(format!("reachguard-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("not-json.json", "{\"Vpcs\": [", "not valid JSON"),
        (
            "wrong-shape.json",
            r#"{"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": 42, "AvailabilityZone": "us-east-1a"}]}"#,
            "Subnets[0].CidrBlock: invalid type: integer `42`, expected a string",
        ),
        (
            "bad-cidr.json",
            r#"{"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.0.0/40", "AvailabilityZone": "us-east-1a"}]}"#,
            "Subnets[0].CidrBlock: expected an IPv4 CIDR",
        ),
        (
            "bad-policy.json",
            r#"{"VpcEndpoints": [{"VpcEndpointId": "vpce-1", "VpcEndpointType": "Gateway", "VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3", "PolicyDocument": "{nope"}]}"#,
            "VpcEndpoints[0].PolicyDocument: not a JSON policy document",
        ),
        ("array.json", "[]", "(top level): expected a JSON object"),
    ];
    for (name, content, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let path = path.to_str().unwrap();
        let args = ["check", path];
        let out = reachguard(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&args, &out));
        assert!(
            stderr.contains(expected),
            "{name}: {}",
            describe(&args, &out)
        );
        assert!(
            out.stdout.is_empty(),
            "no partial result: {}",
            describe(&args, &out)
        );
    }
    let out = reachguard(&["check", "no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read snapshot no/such/file.json")
    );
    let out = reachguard(&[
        "check",
        "examples/broken-vpc.json",
        "--rule",
        "no-such-rule",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected one of: unreachable-dependency")
    );
}

#[test]
fn readme_rule_table_is_the_generated_catalog() {
    let out = reachguard(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(table.lines().count(), 18, "header, separator and 16 rules");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(&table),
        "README.md's rule table differs from `reachguard rules`:\n{table}"
    );
}

#[test]
fn rules_explain_prints_one_rule_and_rejects_unknown_ids() {
    let out = reachguard(&["rules", "--explain", "nat-single-az"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("# nat-single-az\n\nSeverity: medium. Subject: nat_gateway.\n"),
        "{text}"
    );
    for section in ["What it checks", "Why it matters", "Example", "Remediation"] {
        assert!(
            text.contains(&format!("\n## {section}\n")),
            "{section}: {text}"
        );
    }
    let args = ["rules", "--explain", "nat-multi-az"];
    let out = reachguard(&args);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&args, &out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected one of: unreachable-dependency"),
        "{}",
        describe(&args, &out)
    );
}

/// The commands the generated files' staleness tests name print exactly those files.
#[test]
fn rules_docs_and_schemas_print_the_checked_in_files() {
    let mut cases = vec![(
        vec!["rules", "--format", "docs"],
        "docs/rules.md".to_string(),
    )];
    for name in ["findings", "notification", "snapshot"] {
        cases.push((vec!["schema", name], format!("docs/schema/{name}.json")));
    }
    for (args, file) in cases {
        let out = reachguard(&args);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
        let checked_in = std::fs::read_to_string(repo().join(&file)).unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout) == checked_in,
            "`reachguard {}` differs from {file}",
            args.join(" ")
        );
    }
    let out = reachguard(&["schema", "findings.json"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A real payload of the team's fixtures (beside the repository; skipped on a clone without them).
#[test]
fn event_decides_a_team_fixture_and_honours_ignored_principals() {
    let Some(team_fixtures) = reachguard_test_support::shared_folder("fixtures/events") else {
        return;
    };
    let fixture = team_fixtures.join("panther__CreateRoute__1.json");
    let fixture = fixture.to_str().unwrap();
    let out = reachguard(&["event", fixture]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe(&["event", fixture], &out)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line,
        serde_json::json!({"action": "evaluate", "account": "123456789012", "region": "us-west-2", "event_name": "CreateRoute", "event_id": "1", "scope": {"route_tables": ["rtb-1"], "internet_gateways": ["igw-1"]}})
    );
    let out = reachguard(&[
        "event",
        fixture,
        "--ignore-principal",
        "arn:aws:iam::123456789012:role/*",
    ]);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["action"], "ignore", "{line}");
}

#[test]
fn event_prints_one_line_per_event_and_rejects_non_events() {
    let log = repo().join("shared/tests/fixtures/events/cloudtrail__Records__failed-and-ok.json");
    let out = reachguard(&["event", log.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        2,
        "one line per record"
    );

    let dir = std::env::temp_dir().join(format!("reachguard-event-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in [
        ("garbage.json", "not json"),
        ("object.json", r#"{"hello": "world"}"#),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let args = ["event", path.to_str().unwrap()];
        let out = reachguard(&args);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&args, &out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(name),
            "{}",
            describe(&args, &out)
        );
    }
}

#[test]
fn patterns_select_the_trigger_catalog() {
    let out = reachguard(&["patterns"]);
    assert_eq!(out.status.code(), Some(0));
    let patterns: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&String> = patterns.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        ["ec2-api-calls", "ecs-api-calls", "ecs-native-events"]
    );
    assert_eq!(
        patterns["ec2-api-calls"]["source"],
        serde_json::json!(["aws.ec2"])
    );
    let ec2 = &patterns["ec2-api-calls"]["detail"]["$or"];
    assert!(
        ec2[0]["eventName"]
            .as_array()
            .unwrap()
            .contains(&"DeleteVpcEndpoints".into())
    );
    assert_eq!(
        ec2[1],
        serde_json::json!({"eventName": ["CreateTags", "DeleteTags"],
            "requestParameters": {"tagSet": {"items": {"key": [{"prefix": "reachguard:"}]}}}})
    );
}
