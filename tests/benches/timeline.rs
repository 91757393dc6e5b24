//! The latency benchmark of issue 12: a moto account (6 VPCs, 5 clusters, 21 services), then
//!
//! - `reachguard scan` (whole account) and `reachguard scan --vpc <id>` (one VPC), each run
//!   `REACHGUARD_BENCH_RUNS` times (default 15) straight against moto: median, fastest and slowest
//!   wall time, process start to exit;
//! - one EventBridge event (a `CreateRoute` from the shared fixtures, on the route table of a VPC
//!   with findings) through the real `network-events` binary on the Runtime-API harness, as often:
//!   the median from handing the event over to the invocation's answer (which comes after the
//!   `Publish`);
//!
//! each straight against moto, then through the fault proxy (no faults) holding every answer back
//! by `REACHGUARD_BENCH_LATENCY_MS` (default 20: an AWS round trip; moto on loopback answers in a
//! few milliseconds but handles one request at a time, so that straight against it overlap gains
//! little). The proxy timestamps every request: the event's figure there is until SNS accepted the
//! `Publish`, and the last run of each build prints its number of calls, its sequential waves
//! ([`waves`]) and each call's start and end, in milliseconds since the process started (scans)
//! or the event was handed over.
//!
//! The binaries are those next to this benchmark (`target/release` under `cargo bench`);
//! `REACHGUARD_BENCH_BEFORE=<dir>` adds the `reachguard` and `network-events` of another build,
//! measured in the same run, interleaved, for a before/after comparison. Figures, never
//! assertions: the README's "Performance" section has the measured ones.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use reachguard_test_support::shared_folder;
use reachguard_tests::large::{self, Shape};
use reachguard_tests::proxy::{Call, FaultProxy, Plan, waves};
use reachguard_tests::runtime::{INVOKE_TIMEOUT, Lambda, binary};
use reachguard_tests::{Account, REGION, moto_url, seed};
use serde_json::Value;

/// The event replayed: a real CloudTrail `CreateRoute` in its EventBridge envelope, in
/// `../shared/fixtures/events/`.
const EVENT_FIXTURE: &str = "aws-mit0-route-monitor__CreateRoute__envelope-1.json";

/// One build's binaries.
struct Build {
    label: &'static str,
    cli: PathBuf,
    function: PathBuf,
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("REACHGUARD_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(15);
    let mut builds = Vec::new();
    if let Some(dir) = std::env::var_os("REACHGUARD_BENCH_BEFORE").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        builds.push(Build {
            label: "before",
            cli: dir.join("reachguard"),
            function: dir.join("network-events"),
        });
    }
    builds.push(Build {
        label: "this build",
        cli: binary("reachguard"),
        function: binary("network-events"),
    });
    for build in &builds {
        for path in [&build.cli, &build.function] {
            assert!(path.exists(), "{} is missing", path.display());
        }
    }

    let seeding = Instant::now();
    let account = Account::new().await;
    let (_, _, broken, _) = tokio::join!(
        seed::endpoint_only(&account),
        seed::nat_only(&account),
        seed::broken(&account),
        large::seed(
            &account,
            Shape {
                vpcs: 3,
                subnets_per_vpc: 6,
                clusters: 2,
                services: 18,
            },
        ),
    );
    println!(
        "seeded 6 VPCs, 5 clusters, 21 services in {:.1} s; {runs} runs per figure, builds interleaved\n",
        seeding.elapsed().as_secs_f64()
    );

    let latency = Duration::from_millis(
        std::env::var("REACHGUARD_BENCH_LATENCY_MS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(20),
    );
    let proxy = FaultProxy::start_with_latency(moto_url(), Plan::default(), latency).await;
    let latency_ms = latency.as_millis();
    let scoped = ["--vpc".to_owned(), broken.vpc.clone()];
    for (title, args) in [
        ("reachguard scan (whole account)", &[][..]),
        ("reachguard scan --vpc <one VPC>", &scoped[..]),
    ] {
        for (endpoint, how) in [
            (moto_url(), "moto".to_owned()),
            (
                proxy.url.as_str(),
                format!("moto + {latency_ms} ms per call"),
            ),
        ] {
            println!("== {title}, {how}");
            let mut walls = vec![Vec::new(); builds.len()];
            let mut last = vec![(Vec::new(), Duration::ZERO, Duration::ZERO); builds.len()];
            for _ in 0..runs {
                for (i, build) in builds.iter().enumerate() {
                    let origin = proxy.reset_timeline();
                    let wall = scan(&account, &build.cli, args, endpoint).await;
                    walls[i].push(wall);
                    last[i] = (proxy.timeline(), origin, wall);
                }
            }
            report(&builds, &walls);
            if endpoint == proxy.url {
                for (build, (calls, origin, wall)) in builds.iter().zip(&last) {
                    print_timeline(build.label, calls, *origin, *wall);
                }
            }
            println!();
        }
    }

    let topic = account
        .sns()
        .create_topic()
        .name("bench-findings")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("topic arn");
    let event = create_route_event(&account.id, &broken.route_table);
    for (endpoint, how) in [
        (
            moto_url(),
            "moto: event in → invocation answered (after the Publish)".to_owned(),
        ),
        (
            proxy.url.as_str(),
            format!("moto + {latency_ms} ms per call: event in → SNS Publish accepted"),
        ),
    ] {
        println!("== EventBridge CreateRoute → network-events, {how}");
        let mut lambdas = Vec::new();
        for build in &builds {
            let mut env = account.cli_env();
            env.retain(|(name, _)| *name != "AWS_ENDPOINT_URL");
            env.push(("AWS_ENDPOINT_URL", endpoint.to_owned()));
            env.push(("REACHGUARD_TOPIC_ARN", topic.clone()));
            env.push(("REACHGUARD_MODE", "notify".to_owned()));
            let lambda = Lambda::start_binary(
                "network-events",
                build.function.clone(),
                &env,
                INVOKE_TIMEOUT,
            )
            .await;
            lambda.cold_start().await;
            // Not measured: the first invocation.
            event_to_publish(&lambda, &proxy, &event).await;
            lambdas.push(lambda);
        }
        let mut latencies = vec![Vec::new(); builds.len()];
        let mut last = vec![(Vec::new(), Duration::ZERO, Duration::ZERO); builds.len()];
        for _ in 0..runs {
            for (i, lambda) in lambdas.iter().enumerate() {
                let (calls, origin, answered, accepted) =
                    event_to_publish(lambda, &proxy, &event).await;
                let measured = if endpoint == proxy.url {
                    accepted
                } else {
                    answered
                };
                latencies[i].push(measured);
                last[i] = (calls, origin, measured);
            }
        }
        report(&builds, &latencies);
        if endpoint == proxy.url {
            for (build, (calls, origin, accepted)) in builds.iter().zip(&last) {
                print_timeline(build.label, calls, *origin, *accepted);
            }
        }
        println!();
    }
}

/// Runs `reachguard scan <args>` against `endpoint`; its wall time, process start to exit.
async fn scan(account: &Account, cli: &Path, args: &[String], endpoint: &str) -> Duration {
    let mut command = tokio::process::Command::new(cli);
    command
        .arg("scan")
        .args(args)
        .env_clear()
        .envs(account.cli_env())
        .env("AWS_ENDPOINT_URL", endpoint)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let out = command.output().await.expect("run reachguard scan");
    let wall = started.elapsed();
    // 0: no findings, 1: findings; anything else is a failed scan, not a figure.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{} scan failed ({}): {}",
        cli.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    wall
}

/// Hands `event` to `lambda`: the calls it made through the proxy, when it was handed over (on
/// the proxy's clock), how long until the invocation was answered and, when it went through the
/// proxy, until SNS accepted its `Publish` (zero otherwise).
async fn event_to_publish(
    lambda: &Lambda,
    proxy: &FaultProxy,
    event: &Value,
) -> (Vec<Call>, Duration, Duration, Duration) {
    let origin = proxy.reset_timeline();
    let started = Instant::now();
    lambda
        .invoke(event)
        .await
        .unwrap_or_else(|e| panic!("invocation failed: {e}\n{}", lambda.logs()));
    let answered = started.elapsed();
    let calls = proxy.timeline();
    let accepted = calls
        .iter()
        .filter(|c| c.operation == "Publish")
        .map(|c| c.end.saturating_sub(origin))
        .max()
        .unwrap_or_default();
    (calls, origin, answered, accepted)
}

/// The fixture's `CreateRoute`, moved to `account`, the test region and `route_table` (its target
/// dropped: only the route table is evaluated).
fn create_route_event(account: &str, route_table: &str) -> Value {
    let folder = shared_folder("fixtures/events").unwrap_or_else(|| {
        panic!("../shared/fixtures/events beside the repository is missing: the event benchmark replays {EVENT_FIXTURE}")
    });
    let text =
        std::fs::read_to_string(folder.join(EVENT_FIXTURE)).expect("the CreateRoute fixture");
    let mut event: Value = serde_json::from_str(&text).expect("fixture JSON");
    event["account"] = account.into();
    event["region"] = REGION.into();
    let detail = &mut event["detail"];
    detail["awsRegion"] = REGION.into();
    detail["recipientAccountId"] = account.into();
    detail["userIdentity"]["accountId"] = account.into();
    detail["requestParameters"] = serde_json::json!({
        "routeTableId": route_table,
        "destinationCidrBlock": "192.1.0.0/16",
    });
    event
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median, fastest and slowest of each build; the speed-up of the last over the first.
fn report(builds: &[Build], figures: &[Vec<Duration>]) {
    let mut medians = Vec::new();
    for (build, figures) in builds.iter().zip(figures) {
        let mut sorted = figures.clone();
        sorted.sort();
        let median = sorted[sorted.len() / 2];
        medians.push(median);
        println!(
            "  {:<10} median {:7.1} ms   fastest {:7.1} ms   slowest {:7.1} ms",
            build.label,
            millis(median),
            millis(sorted[0]),
            millis(sorted[sorted.len() - 1])
        );
    }
    if let [before, .., after] = medians[..] {
        println!(
            "  speed-up {:.2}× (median before / median this build)",
            before.as_secs_f64() / after.as_secs_f64()
        );
    }
}

/// One run's calls: count, waves, then each call's start and end since `origin`.
fn print_timeline(label: &str, calls: &[Call], origin: Duration, total: Duration) {
    let mut calls: Vec<&Call> = calls.iter().collect();
    calls.sort_by_key(|c| c.start);
    let owned: Vec<Call> = calls.iter().map(|c| (*c).clone()).collect();
    println!(
        "  timeline, {label}: {} calls in {} waves, {:.1} ms in all (through the proxy)",
        calls.len(),
        waves(&owned),
        millis(total)
    );
    for call in calls {
        println!(
            "    {:7.1} → {:7.1} ms  {}",
            millis(call.start.saturating_sub(origin)),
            millis(call.end.saturating_sub(origin)),
            call.operation
        );
    }
}
