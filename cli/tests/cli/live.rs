//! The live commands (`scan`, `snapshot`, `remediate`) against moto, through the real binary.
//! Each test seeds its own moto account (see `reachguard_tests`).

use std::collections::BTreeSet;
use std::process::{Command, Output};

use reachguard_tests::proxy::{FaultProxy, Plan};
use reachguard_tests::{Account, moto_url, seed};
use serde_json::Value;

/// Runs `reachguard` as `account` against moto (plus `env`), and checks the exit code; on a
/// mismatch it prints the command, stdout and stderr.
fn reachguard_env(account: &Account, args: &[&str], env: &[(&str, &str)], expect: i32) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reachguard"));
    cmd.args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_REGION");
    for (k, v) in account.cli_env() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run reachguard");
    assert_eq!(
        out.status.code(),
        Some(expect),
        "reachguard {}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn reachguard(account: &Account, args: &[&str], expect: i32) -> Output {
    reachguard_env(account, args, &[], expect)
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Each finding as `rule key=value…` over its subject fields (RULES.md §3).
fn subjects(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let rule = f["rule"].as_str().expect("rule");
            let keys: &[&str] = match rule {
                "unreachable-dependency" => &["service", "subnet", "dependency"],
                "gateway-endpoint-not-associated" => &["endpoint", "route_table"],
                "nat-for-gateway-service" => &["vpc", "dependency"],
                "nat-single-az"
                | "nat-port-exhaustion"
                | "nat-packet-drops"
                | "nat-bandwidth-pressure" => &["nat_gateway"],
                other => panic!("unexpected rule {other} in {f:#}"),
            };
            let values: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}={}", f[k].as_str().unwrap_or("null")))
                .collect();
            format!("{rule} {}", values.join(" "))
        })
        .collect()
}

fn expected(items: &[String]) -> BTreeSet<String> {
    items.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_finds_exactly_the_expected_findings_in_each_reference_vpc() {
    let account = Account::new().await;
    let (ep, nat, broken) = tokio::join!(
        seed::endpoint_only(&account),
        seed::nat_only(&account),
        seed::broken(&account)
    );

    let out = reachguard(&account, &["scan", "--vpc", &ep.vpc, "--format", "json"], 0);
    let report = json(&out);
    assert_eq!(subjects(&report), BTreeSet::new());
    assert_eq!(report["summary"]["services"], 1);
    assert_eq!(report["summary"]["subnets"], 2);

    // Low and medium findings only: below the default --fail-on high.
    let out = reachguard(
        &account,
        &["scan", "--vpc", &nat.vpc, "--format", "json"],
        0,
    );
    let nat_id = nat.nat_gateway.as_deref().expect("nat");
    assert_eq!(
        subjects(&json(&out)),
        expected(&[
            format!("nat-for-gateway-service vpc={} dependency=s3", nat.vpc),
            format!("nat-single-az nat_gateway={nat_id}"),
        ])
    );
    reachguard(
        &account,
        &["scan", "--vpc", &nat.vpc, "--fail-on", "medium"],
        1,
    );

    let out = reachguard(
        &account,
        &["scan", "--vpc", &broken.vpc, "--format", "json"],
        1,
    );
    let report = json(&out);
    let svc = &broken.service_arn;
    let (a, b) = (&broken.subnets[0], &broken.subnets[1]);
    assert_eq!(
        subjects(&report),
        expected(&[
            format!(
                "gateway-endpoint-not-associated endpoint={} route_table={}",
                broken.endpoints["s3"], broken.route_table
            ),
            format!("unreachable-dependency service={svc} subnet={a} dependency=s3"),
            format!("unreachable-dependency service={svc} subnet={b} dependency=s3"),
            format!("unreachable-dependency service={svc} subnet={a} dependency=dynamodb"),
            format!("unreachable-dependency service={svc} subnet={b} dependency=dynamodb"),
        ])
    );
    for f in report["findings"].as_array().expect("findings") {
        assert_eq!(f["account"], account.id.as_str());
        assert_eq!(f["region"], "us-east-1");
        assert_eq!(f["vpc"], broken.vpc.as_str());
    }

    // The text report names the same findings, grouped, with the fix; `--report` also writes
    // the HTML report of the same findings.
    let html =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scan-{}.html", account.id));
    let html_arg = html.to_str().expect("UTF-8 path");
    let out = reachguard(
        &account,
        &["scan", "--vpc", &broken.vpc, "--report", html_arg],
        1,
    );
    let page = std::fs::read_to_string(&html).expect("scan --report wrote the report");
    assert_eq!(page.matches(r#"<li class="finding""#).count(), 5);
    assert!(page.contains(&format!(r#"<g id="{}" class="vpc">"#, broken.vpc)));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("unreachable-dependency"), "{text}");
    assert!(text.contains("associate-gateway-endpoint"), "{text}");
    assert!(
        text.contains("summary: 1 services, 2 subnets: 5 findings"),
        "{text}"
    );
    assert!(
        out.stderr.is_empty(),
        "no progress output when stderr is not a terminal"
    );
}

/// Issue 16: `scan --format asff` prints one ASFF object per finding of `--format json`, in the
/// scanned account (the one Security Hub would import them into).
#[tokio::test(flavor = "multi_thread")]
async fn scan_prints_one_asff_finding_per_finding_in_the_scanned_account() {
    let account = Account::new().await;
    let broken = seed::broken(&account).await;
    let report = json(&reachguard(
        &account,
        &["scan", "--vpc", &broken.vpc, "--format", "json"],
        1,
    ));
    let asff = json(&reachguard(
        &account,
        &["scan", "--vpc", &broken.vpc, "--format", "asff"],
        1,
    ));
    let findings = report["findings"].as_array().expect("findings");
    let asff = asff.as_array().expect("an array of ASFF findings");
    assert_eq!(asff.len(), findings.len());
    for (object, finding) in asff.iter().zip(findings) {
        assert_eq!(object["AwsAccountId"], account.id.as_str());
        assert_eq!(object["GeneratorId"], finding["rule"]);
        assert_eq!(
            object["ProductArn"],
            format!(
                "arn:aws:securityhub:us-east-1:{0}:product/{0}/default",
                account.id
            )
        );
        assert!(
            object["Resources"]
                .as_array()
                .expect("resources")
                .iter()
                .any(|r| r["Id"].as_str().is_some_and(|id| id.ends_with(&broken.vpc)))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_then_check_agrees_with_scan() {
    let account = Account::new().await;
    tokio::join!(
        seed::endpoint_only(&account),
        seed::nat_only(&account),
        seed::broken(&account)
    );

    let snapshot = reachguard(&account, &["snapshot"], 0);
    let doc: Value = json(&snapshot);
    assert_eq!(doc["AccountId"], account.id.as_str());
    assert_eq!(doc["services"].as_array().map(Vec::len), Some(3));
    let file = std::env::temp_dir().join(format!("reachguard-snapshot-{}.json", account.id));
    std::fs::write(&file, &snapshot.stdout).expect("write snapshot");

    let checked = reachguard(
        &account,
        &["check", file.to_str().expect("path"), "--format", "json"],
        1,
    );
    let scanned = reachguard(&account, &["scan", "--format", "json"], 1);
    std::fs::remove_file(&file).ok();
    let (checked, scanned) = (json(&checked), json(&scanned));
    assert_eq!(checked, scanned);
    // 0 + 2 + 5 findings, as the per-VPC scans find.
    assert_eq!(
        scanned["findings"].as_array().map(Vec::len),
        Some(7),
        "{scanned:#}"
    );
}

/// Issue 13: two NAT-only VPCs, CloudWatch figures for both NAT gateways (one overloaded, one
/// quiet), scanned through a counting proxy: one `GetMetricData` request, the measured findings
/// and the GB/cost figures; then CloudWatch denied: a warning and the same network findings.
#[tokio::test(flavor = "multi_thread")]
async fn scan_reads_nat_metrics_in_one_request_and_survives_cloudwatch_denied() {
    const GB: f64 = 1_073_741_824.0;
    let account = Account::new().await;
    let (busy, quiet) = tokio::join!(
        seed::nat_only_named(&account, "busy", 4),
        seed::nat_only_named(&account, "quiet", 5)
    );
    let busy_nat = busy.nat_gateway.clone().expect("nat");
    let quiet_nat = quiet.nat_gateway.clone().expect("nat");
    seed::nat_metrics(
        &account,
        &busy_nat,
        &[
            // The busiest minute: 675 GB received (11.25 GB/s = 90 Gbps), 180 M packets.
            ("BytesInFromSource", 30, 540e9),
            ("BytesInFromDestination", 30, 135e9),
            ("BytesInFromSource", 20, 60e9),
            ("BytesOutToSource", 30, 134e9),
            ("PacketsInFromSource", 30, 1.2e8),
            ("PacketsInFromDestination", 30, 0.6e8),
            // 0.02 % of the packets, above AWS's 0.01 %.
            ("PacketsDropCount", 30, 36_000.0),
            ("ErrorPortAllocation", 25, 7.0),
        ],
    )
    .await;
    seed::nat_metrics(
        &account,
        &quiet_nat,
        &[
            ("BytesInFromSource", 10, 3.0 * GB),
            ("BytesInFromDestination", 10, 7.0 * GB),
            ("PacketsInFromSource", 10, 1e6),
            ("PacketsInFromDestination", 10, 2e6),
        ],
    )
    .await;
    let network = [
        format!("nat-for-gateway-service vpc={} dependency=s3", busy.vpc),
        format!("nat-for-gateway-service vpc={} dependency=s3", quiet.vpc),
        format!("nat-single-az nat_gateway={busy_nat}"),
        format!("nat-single-az nat_gateway={quiet_nat}"),
    ];
    let args = [
        "scan", "--vpc", &busy.vpc, "--vpc", &quiet.vpc, "--format", "json",
    ];

    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let out = reachguard_env(&account, &args, &[("AWS_ENDPOINT_URL", &proxy.url)], 1);
    assert_eq!(
        proxy.requests_for("GetMetricData"),
        1,
        "28 queries for two NAT gateways: one request"
    );
    let report = json(&out);
    let mut all = network.to_vec();
    all.extend([
        format!("nat-port-exhaustion nat_gateway={busy_nat}"),
        format!("nat-packet-drops nat_gateway={busy_nat}"),
        format!("nat-bandwidth-pressure nat_gateway={busy_nat}"),
    ]);
    assert_eq!(subjects(&report), expected(&all));
    let finding = |rule: &str, nat: &str| {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["rule"] == rule && f["nat_gateway"] == nat)
            .unwrap_or_else(|| panic!("{rule} for {nat} in {report:#}"))
            .clone()
    };
    let quiet_cost = finding("nat-for-gateway-service", &quiet_nat);
    assert_eq!(quiet_cost["nat_traffic"]["processed_gb"], 10.0);
    assert!(
        quiet_cost["message"]
            .as_str()
            .expect("message")
            .contains("processed 10.0 GB in the last 7 days, about $1.96 a month in data processing at $0.045/GB (its total: CloudWatch does not split NAT traffic by destination; the s3 share needs VPC flow logs)"),
        "{quiet_cost:#}"
    );
    let busy_gb = finding("nat-single-az", &busy_nat)["nat_traffic"]["processed_gb"]
        .as_f64()
        .expect("processed_gb");
    assert!((busy_gb - 735e9 / GB).abs() < 1e-6, "{busy_gb}");
    let ports = finding("nat-port-exhaustion", &busy_nat);
    assert!(
        ports["message"]
            .as_str()
            .expect("message")
            .contains("7 times in the last 7 days"),
        "{ports:#}"
    );
    let peak = finding("nat-bandwidth-pressure", &busy_nat);
    assert!(
        peak["message"]
            .as_str()
            .expect("message")
            .contains("peaked at 90.0 Gbps (90% of the 100 Gbps"),
        "{peak:#}"
    );
    let drops = finding("nat-packet-drops", &busy_nat);
    assert!(
        drops["message"]
            .as_str()
            .expect("message")
            .contains("dropped 36,000 of the 180,000,000 packets"),
        "{drops:#}"
    );
    assert!(report.get("warnings").is_none(), "{report:#}");

    let denied = FaultProxy::start(
        moto_url(),
        Plan {
            burst: 0,
            deny: Some("GetMetricData".into()),
            ..Plan::default()
        },
    )
    .await;
    let out = reachguard_env(&account, &args, &[("AWS_ENDPOINT_URL", &denied.url)], 0);
    assert_eq!(denied.faults(), 1, "denied once, not retried");
    let report = json(&out);
    assert_eq!(
        subjects(&report),
        expected(&network),
        "network findings unchanged"
    );
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f.get("nat_traffic").is_none()),
        "no figures without metrics"
    );
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("NAT gateway metrics not collected (GetMetricData: AccessDenied"),
        "{warnings}"
    );

    reachguard(&account, &["scan", "--metrics-days", "16"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_without_a_reachable_endpoint_exits_2_naming_the_operation() {
    let account = Account::new().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let out = reachguard_env(&account, &["scan"], &[("AWS_ENDPOINT_URL", &url)], 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot collect"), "{stderr}");
    assert!(
        stderr.contains("Describe") || stderr.contains("List"),
        "names the operation: {stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// `(action name, outcome)` of every action of a `remediate --format json` report.
fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["action"]["action"].as_str().expect("name").to_owned(),
                a["outcome"].as_str().expect("outcome").to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn remediate_dry_run_plans_and_changes_nothing() {
    let account = Account::new().await;
    let broken = seed::broken(&account).await;
    let before = reachguard_tests::inventory(&account).await;

    let out = reachguard(
        &account,
        &[
            "remediate",
            "--dry-run",
            "--vpc",
            &broken.vpc,
            "--format",
            "json",
        ],
        1,
    );
    let report = json(&out);
    assert_eq!(report["mode"], "dry-run");
    assert_eq!(
        outcomes(&report),
        pairs(&[
            ("create-gateway-endpoint", "planned"),
            ("associate-gateway-endpoint", "planned")
        ])
    );
    assert!(report["after"].is_null());
    assert_eq!(
        reachguard_tests::inventory(&account).await,
        before,
        "dry-run changed nothing in moto"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn remediate_apply_does_what_the_plan_says_and_a_rescan_is_clean() {
    let account = Account::new().await;
    let broken = seed::broken(&account).await;

    let out = reachguard(
        &account,
        &[
            "remediate",
            "--apply",
            "--vpc",
            &broken.vpc,
            "--format",
            "json",
        ],
        0,
    );
    let report = json(&out);
    assert_eq!(
        outcomes(&report),
        pairs(&[
            ("create-gateway-endpoint", "applied"),
            ("associate-gateway-endpoint", "applied")
        ])
    );
    assert_eq!(
        report["before"]["findings"].as_array().map(Vec::len),
        Some(5)
    );
    assert_eq!(report["after"]["findings"], serde_json::json!([]));

    // moto holds the association and the new endpoint, on the planned route table, tagged.
    let s3 = seed::endpoints_for(&account, &broken.vpc, "s3").await;
    assert_eq!(s3.len(), 1);
    assert!(s3[0].route_table_ids().contains(&broken.route_table));
    let dynamodb = seed::endpoints_for(&account, &broken.vpc, "dynamodb").await;
    assert_eq!(dynamodb.len(), 1);
    assert_eq!(
        dynamodb[0].route_table_ids(),
        std::slice::from_ref(&broken.route_table)
    );
    assert!(
        dynamodb[0]
            .tags()
            .iter()
            .any(|t| t.key() == Some("reachguard:created-by"))
    );
    let create = &report["actions"][0]["action"];
    assert_eq!(
        create["route_tables"],
        serde_json::json!([broken.route_table])
    );

    // A second scan is clean; a second apply has nothing to do and creates nothing.
    let out = reachguard(
        &account,
        &["scan", "--vpc", &broken.vpc, "--format", "json"],
        0,
    );
    assert_eq!(json(&out)["findings"], serde_json::json!([]));
    let inventory = reachguard_tests::inventory(&account).await;
    let out = reachguard(&account, &["remediate", "--apply", "--vpc", &broken.vpc], 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to remediate"));
    assert_eq!(reachguard_tests::inventory(&account).await, inventory);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_vpc_mode_tag_and_the_allow_list_limit_what_is_applied() {
    let account = Account::new().await;
    let broken = seed::broken(&account).await;

    // Only create-gateway-endpoint is allowed: the association is skipped, with the reason.
    let out = reachguard(
        &account,
        &[
            "remediate",
            "--apply",
            "--vpc",
            &broken.vpc,
            "--allow",
            "create-gateway-endpoint",
            "--format",
            "json",
        ],
        1,
    );
    let report = json(&out);
    assert_eq!(
        outcomes(&report),
        pairs(&[
            ("create-gateway-endpoint", "applied"),
            ("associate-gateway-endpoint", "skipped")
        ])
    );
    assert_eq!(
        report["actions"][1]["detail"],
        "associate-gateway-endpoint is not in the allow-list"
    );
    assert!(
        !seed::endpoints_for(&account, &broken.vpc, "s3").await[0]
            .route_table_ids()
            .contains(&broken.route_table)
    );
    assert_eq!(
        report["after"]["findings"].as_array().map(Vec::len),
        Some(3),
        "the S3 findings remain"
    );

    // `reachguard:mode=notify` on the VPC overrides --apply.
    seed::tag(&account, &broken.vpc, "reachguard:mode", "notify").await;
    let before = reachguard_tests::inventory(&account).await;
    let out = reachguard(
        &account,
        &[
            "remediate",
            "--apply",
            "--vpc",
            &broken.vpc,
            "--format",
            "json",
        ],
        1,
    );
    let report = json(&out);
    assert_eq!(
        outcomes(&report),
        pairs(&[("associate-gateway-endpoint", "skipped")])
    );
    assert_eq!(
        report["actions"][0]["detail"],
        format!("mode is notify for {}", broken.vpc)
    );
    assert_eq!(reachguard_tests::inventory(&account).await, before);
}
