//! The harness of reachguard's end-to-end tests: a moto server, one fresh AWS account per test,
//! SDK clients for it, the three reference topologies seeded through the SDK, and a fault proxy.
//!
//! **Isolation.** All tests of a run share one moto server (started by `scripts/test`, which
//! exports `REACHGUARD_MOTO_URL`; when that is unset, the first test starts one and a watchdog
//! stops it when the test process exits). Each test works in its own account: [`Account::new`]
//! assumes a role into a fresh 12-digit account id through STS, and moto keeps every account's
//! EC2, ECS, SNS and SQS resources apart. Tests therefore run in parallel and never see each
//! other's resources, and no reset is needed.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};

pub mod http;
pub mod journal;
pub mod large;
pub mod proxy;
pub mod queue;
pub mod runtime;
pub mod seed;

/// The region every test uses.
pub const REGION: &str = "us-east-1";

/// The moto server of this run (started on first use when `scripts/test` did not start one).
pub fn moto_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("REACHGUARD_MOTO_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start_moto(),
    })
}

/// Starts `moto_server` from the repository's `.venv` on a free loopback port, with a shell
/// watchdog that stops it when this process exits.
fn start_moto() -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let server = format!("{root}/.venv/bin/moto_server");
    assert!(
        std::path::Path::new(&server).exists(),
        "{server} is missing: run scripts/test (it creates .venv with moto[server])"
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let watchdog = format!(
        "{server} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {pid} 2>/dev/null; do sleep 1; done; kill $m",
        pid = std::process::id()
    );
    let mut watchdog = Command::new("sh")
        .args(["-c", &watchdog])
        .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        .stdin(Stdio::null())
        .spawn()
        .expect("start moto_server");
    // Reaps the watchdog when it ends (with this process).
    std::thread::spawn(move || watchdog.wait());
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

/// A configuration for `endpoint` with fixed credentials (moto accepts any).
pub async fn config_with(endpoint: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .load()
        .await
}

/// A fresh AWS account in moto, reached through STS AssumeRole.
#[derive(Debug, Clone)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// Credentials of the assumed role (they select the account in moto).
    pub credentials: Credentials,
    /// SDK configuration for moto with those credentials.
    pub config: SdkConfig,
}

impl Account {
    /// A new account nobody else uses in this moto server.
    pub async fn new() -> Account {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{:05}{:07}",
            std::process::id() % 100_000,
            NEXT.fetch_add(1, Ordering::Relaxed) + 1
        );
        let base = config_with(
            moto_url(),
            Credentials::new("testing", "testing", None, None, "test"),
        )
        .await;
        Account::assume(&base, &id).await
    }

    /// Assumes `arn:aws:iam::<id>:role/reachguard-test` with `base`'s credentials.
    pub async fn assume(base: &SdkConfig, id: &str) -> Account {
        let out = aws_sdk_sts::Client::new(base)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{id}:role/reachguard-test"))
            .role_session_name("reachguard-test")
            .send()
            .await
            .expect("AssumeRole");
        let c = out.credentials.expect("assumed credentials");
        let credentials = Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "assumed",
        );
        let config = config_with(moto_url(), credentials.clone()).await;
        Account {
            id: id.to_owned(),
            credentials,
            config,
        }
    }

    /// The same account's configuration, reaching moto through `endpoint` (a fault proxy).
    pub async fn through(&self, endpoint: &str) -> SdkConfig {
        config_with(endpoint, self.credentials.clone()).await
    }

    /// EC2 client.
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config)
    }

    /// CloudWatch client.
    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.config)
    }

    /// ECS client.
    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.config)
    }

    /// SNS client.
    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.config)
    }

    /// SQS client.
    /// Stores `secret` (the Slack webhook, as JSON or a bare URL) in Secrets Manager; returns its
    /// ARN.
    pub async fn slack_secret(&self, secret: &str) -> String {
        aws_sdk_secretsmanager::Client::new(&self.config)
            .create_secret()
            .name("reachguard/slack")
            .secret_string(secret)
            .send()
            .await
            .expect("CreateSecret")
            .arn
            .expect("secret arn")
    }

    /// Creates the lifecycle's state table (the key schema of `infra/template.yaml`).
    pub async fn create_state_table(&self, name: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("key")
        };
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute")
        };
        aws_sdk_dynamodb::Client::new(&self.config)
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attribute("pk"))
            .attribute_definitions(attribute("sk"))
            .send()
            .await
            .expect("CreateTable");
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    /// The environment that makes the `reachguard` binary act as this account against moto
    /// through the default credential chain (nothing else from the host's AWS setup leaks in).
    pub fn cli_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", moto_url().to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            (
                "AWS_ACCESS_KEY_ID",
                self.credentials.access_key_id().to_owned(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.credentials.secret_access_key().to_owned(),
            ),
            (
                "AWS_SESSION_TOKEN",
                self.credentials
                    .session_token()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            (
                "AWS_CONFIG_FILE",
                "/nonexistent/reachguard-test-config".to_owned(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/reachguard-test-credentials".to_owned(),
            ),
        ]
    }
}

/// Every EC2 resource id an account holds, by kind: what "changed nothing" and "created nothing
/// new" compare.
pub async fn inventory(account: &Account) -> serde_json::Value {
    let ec2 = account.ec2();
    let endpoints = ec2
        .describe_vpc_endpoints()
        .send()
        .await
        .expect("DescribeVpcEndpoints");
    let sgs = ec2
        .describe_security_groups()
        .send()
        .await
        .expect("DescribeSecurityGroups");
    let mut ep: Vec<serde_json::Value> = endpoints
        .vpc_endpoints()
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": e.vpc_endpoint_id(),
                "service": e.service_name(),
                "state": e.state().map(|s| s.as_str().to_lowercase()),
                "route_tables": e.route_table_ids(),
                "subnets": e.subnet_ids(),
                "private_dns": e.private_dns_enabled(),
            })
        })
        .collect();
    ep.sort_by_key(|v| v["id"].to_string());
    let mut groups: Vec<serde_json::Value> = sgs
        .security_groups()
        .iter()
        .map(|g| serde_json::json!({"id": g.group_id(), "rules": g.ip_permissions().len()}))
        .collect();
    groups.sort_by_key(|v| v["id"].to_string());
    serde_json::json!({"endpoints": ep, "security_groups": groups})
}

/// `guard`'s evaluation of every VPC of `account` in [`REGION`] (the sweep's work item).
pub async fn evaluate_account(
    guard: &reachguard_pipeline::Guard,
    account: &Account,
) -> reachguard_pipeline::Evaluated {
    let target = reachguard_pipeline::AccountRegion {
        account: Some(account.id.clone()),
        region: Some(REGION.into()),
    };
    guard
        .evaluate(
            &target,
            &reachguard_shared::aws::Scope::account_region(),
            &reachguard_shared::notification::Trigger::default(),
        )
        .await
        .expect("evaluation")
}

/// Scans `scope` and publishes every finding as `opened`, one message per VPC (what the guard
/// does without a state table), only once the scan succeeded. Returns the scan and the SNS
/// message ids.
pub async fn scan_and_publish(
    collector: &reachguard_shared::aws::Collector,
    notifier: &reachguard_shared::aws::Notifier,
    scope: &reachguard_shared::aws::Scope,
    trigger: &reachguard_shared::notification::Trigger,
) -> Result<(reachguard_pipeline::scan::Scan, Vec<String>), reachguard_pipeline::EvaluationError> {
    use reachguard_shared::notification::{Notification, Transition};
    let scan = reachguard_pipeline::scan::scan(collector, scope).await?;
    let snapshot = &scan.collection.snapshot;
    let notifications = Notification::group(
        snapshot.account_id.as_deref().unwrap_or_default(),
        snapshot.region.as_deref().unwrap_or_default(),
        trigger,
        scan.report
            .findings
            .iter()
            .cloned()
            .map(Transition::opened)
            .collect(),
    );
    let ids = notifier
        .publish_all(&notifications)
        .await
        .into_iter()
        .map(|published| published.result)
        .collect::<Result<_, _>>()?;
    Ok((scan, ids))
}
