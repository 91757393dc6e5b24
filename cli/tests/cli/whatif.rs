//! The real `reachguard impact` and `reachguard plan` on the bundled examples and plans (no AWS,
//! no moto): exit codes, the JSON object (findings exactly as `check --format json` prints
//! them), the text and Markdown layouts, and bad input (unknown ids, bad changes, not a plan).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::util::{describe, reachguard, repo};

/// Runs and checks the exit code; returns stdout.
fn run(args: &[&str], code: i32) -> String {
    let out = reachguard(args);
    assert_eq!(out.status.code(), Some(code), "{}", describe(args, &out));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn run_json(args: &[&str], code: i32) -> Value {
    serde_json::from_str(&run(args, code)).expect("one JSON object")
}

/// A file in the temporary directory, unique to this test process.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("reachguard-whatif-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).expect("a writable temp dir");
    path
}

const ENDPOINT_ONLY: &str = "examples/endpoint-only-vpc.json";
const NAT_ONLY: &str = "examples/nat-only-vpc.json";
const S3_ENDPOINT: &str = "vpce-0c4e1a7b2d3f50s30";

#[test]
fn impact_json_is_the_check_findings_of_the_snapshot_without_the_resource() {
    let impact = run_json(
        &["impact", ENDPOINT_ONLY, S3_ENDPOINT, "--format", "json"],
        1,
    );
    let keys: Vec<&str> = impact
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["applied", "not_evaluated", "opened", "resolved", "summary"]
    );
    assert_eq!(impact["applied"], json!([format!("delete {S3_ENDPOINT}")]));
    assert_eq!(
        impact["summary"],
        json!({"applied": 1, "not_evaluated": 0, "opened": 2, "resolved": 0,
               "findings_before": 0, "findings_after": 2})
    );

    // The same snapshot with the endpoint (and its route) removed by hand, through `check`.
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join(ENDPOINT_ONLY)).expect("the example"),
    )
    .expect("JSON");
    doc["VpcEndpoints"]
        .as_array_mut()
        .expect("endpoints")
        .retain(|e| e["VpcEndpointId"] != S3_ENDPOINT);
    for table in doc["RouteTables"].as_array_mut().expect("tables") {
        table["Routes"]
            .as_array_mut()
            .expect("routes")
            .retain(|r| r["GatewayId"] != S3_ENDPOINT);
    }
    let edited = temp_file("without-s3.json", &doc.to_string());
    let check = run_json(
        &[
            "check",
            edited.to_str().expect("UTF-8 path"),
            "--format",
            "json",
        ],
        1,
    );
    std::fs::remove_file(&edited).ok();
    assert_eq!(impact["opened"], check["findings"]);
}

#[test]
fn exit_codes_follow_fail_on_and_bad_input() {
    let move_subnet = "examples/plans/endpoint-only-move-subnet.json";
    let replace_nat = "examples/plans/nat-only-replace-nat-gateway.json";
    let cases: [(&[&str], i32); 8] = [
        // opens a critical finding
        (&["plan", ENDPOINT_ONLY, move_subnet], 1),
        (
            &["plan", ENDPOINT_ONLY, move_subnet, "--fail-on", "critical"],
            1,
        ),
        // opens nothing
        (&["plan", NAT_ONLY, replace_nat, "--fail-on", "low"], 0),
        // one endpoint subnet fewer opens a medium AZ gap: below high, at medium
        (
            &[
                "impact",
                ENDPOINT_ONLY,
                "--change",
                "vpce-0c4e1a7b2d3f50001:subnets=subnet-0c4e1a7b2d3f500a1",
            ],
            0,
        ),
        (
            &[
                "impact",
                ENDPOINT_ONLY,
                "--change",
                "vpce-0c4e1a7b2d3f50001:subnets=subnet-0c4e1a7b2d3f500a1",
                "--fail-on",
                "medium",
            ],
            1,
        ),
        // bad input
        (&["impact", ENDPOINT_ONLY], 2),
        (
            &[
                "impact",
                ENDPOINT_ONLY,
                "--change",
                "vpce-0c4e1a7b2d3f50002:colour=blue",
            ],
            2,
        ),
        (&["plan", ENDPOINT_ONLY, ENDPOINT_ONLY], 2),
    ];
    for (args, code) in cases {
        run(args, code);
    }
}

#[test]
fn an_unknown_resource_is_exit_2_naming_it() {
    for args in [
        &[
            "impact",
            ENDPOINT_ONLY,
            S3_ENDPOINT,
            "vpce-0123456789abcdef0",
        ][..],
        &[
            "impact",
            ENDPOINT_ONLY,
            "--change",
            "subnet-0c4e1a7b2d3f500a1:route-table=rtb-0123456789abcdef0",
        ],
    ] {
        let out = reachguard(args);
        assert_eq!(out.status.code(), Some(2), "{}", describe(args, &out));
        assert!(out.stdout.is_empty(), "{}", describe(args, &out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("0123456789abcdef0 is not in the snapshot"),
            "{}",
            describe(args, &out)
        );
    }
}

#[test]
fn text_lists_what_would_open_and_resolve() {
    let out = run(
        &[
            "impact",
            NAT_ONLY,
            "--change",
            "rtb-0a5d2e8c1b4f60011:0.0.0.0/0:target=igw-0a5d2e8c1b4f60001",
        ],
        1,
    );
    let headings: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("would ") || l.starts_with("summary:"))
        .collect();
    assert_eq!(
        headings,
        [
            "would open: 10 (10 critical)",
            "would resolve: 2 (1 medium, 1 low)",
            "summary: 1 changes applied, 0 not evaluated: opens 10 (10 critical), resolves 2; findings 9 → 17",
        ],
        "{out}"
    );
    assert!(
        out.contains("  MEDIUM   nat-single-az nat-0a5d2e8c1b4f60a01\n"),
        "{out}"
    );
}

#[test]
fn markdown_is_a_pull_request_comment() {
    let plan = "examples/plans/nat-only-add-ecr-endpoint.json";
    let out = run(
        &[
            "plan",
            NAT_ONLY,
            plan,
            "--format",
            "markdown",
            "--fail-on",
            "high",
        ],
        1,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "<!-- reachguard-impact -->", "{out}");
    assert_eq!(
        lines[1],
        format!("### reachguard: Terraform plan {plan}"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("**4 findings would open** (2 critical, 2 high), 0 would be resolved"),
        "{out}"
    );
    let structure: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            l.starts_with('#')
                || l.starts_with("**service")
                || l.starts_with("**vpc")
                || l == &"Nothing."
        })
        .collect();
    assert_eq!(
        structure,
        [
            format!("### reachguard: Terraform plan {plan}").as_str(),
            "#### Would break",
            "**service arn:aws:ecs:us-east-1:111122223333:service/orders/api (vpc-0a5d2e8c1b4f60001)**",
            "**vpc-0a5d2e8c1b4f60001 (VPC-wide)**",
            "#### Would be resolved",
            "Nothing.",
        ],
        "{out}"
    );
    let findings: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("- **"))
        .collect();
    assert_eq!(findings.len(), 4, "{out}");
    assert!(
        findings.iter().any(|l| l.starts_with(
            "- **HIGH** `endpoint-security-group-blocks-https` vpce-&lt;aws_vpc_endpoint.ecr_dkr&gt; / subnet-0a5d2e8c1b4f600a1: "
        )),
        "{out}"
    );
    // Every finding is followed by its fix.
    for pair in lines.windows(2).filter(|pair| pair[0].starts_with("- **")) {
        assert!(pair[1].starts_with("  - fix: "), "{out}");
    }
    assert!(
        out.contains("<details><summary>Applied (2)</summary>"),
        "{out}"
    );
}

#[test]
fn markdown_lists_what_was_not_evaluated() {
    let plan = json!({
        "format_version": "1.2",
        "resource_changes": [
            {"address": "aws_iam_role.task", "mode": "managed", "type": "aws_iam_role", "name": "task",
             "change": {"actions": ["create"], "before": null, "after": {}, "after_unknown": {"id": true}}},
            {"address": "aws_vpc_endpoint.s3", "mode": "managed", "type": "aws_vpc_endpoint", "name": "s3",
             "change": {"actions": ["delete"], "before": {"id": S3_ENDPOINT}, "after": null, "after_unknown": {}}}
        ]
    });
    let path = temp_file("plan.json", &plan.to_string());
    let path_text = path.to_str().expect("UTF-8 path");
    let out = run(
        &["plan", ENDPOINT_ONLY, path_text, "--format", "markdown"],
        1,
    );
    let json = run_json(&["plan", ENDPOINT_ONLY, path_text, "--format", "json"], 1);
    std::fs::remove_file(&path).ok();
    assert!(
        out.contains(
            "<details><summary>Not evaluated (1)</summary>\n\n| resource | reason |\n| --- | --- |\n\
             | `aws_iam_role.task` | aws_iam_role is not part of reachguard's model |\n"
        ),
        "{out}"
    );
    assert_eq!(
        json["not_evaluated"],
        json!([{"resource": "aws_iam_role.task", "reason": "aws_iam_role is not part of reachguard's model"}])
    );
    assert_eq!(json["applied"], json!(["delete aws_vpc_endpoint.s3"]));
}
