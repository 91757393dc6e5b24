//! SDK configuration: the default credential chain for the home account, member accounts through
//! STS AssumeRole, and the retry and timeout settings every client gets.
//!
//! Retry is the SDK's *standard* mode with more attempts than its default: exponential backoff
//! with full jitter on throttling (`RequestLimitExceeded`, `ThrottlingException`), 5xx and
//! transport errors, so a burst of throttling slows reachguard down instead of failing it. Every
//! call has an attempt timeout and an operation timeout (all attempts together), so nothing hangs
//! a Lambda invocation until its own deadline.
//!
//! Not *adaptive* mode, deliberately: its client-side rate limiter (aws-smithy-runtime 1.11) is
//! process-wide per service and, after a throttle at the low request rates reachguard runs at,
//! refills at 0.5 tokens/s towards a retry cost of 10, so each throttled retry waits 10–20 s and a
//! short burst outlasted a 60 s operation timeout against the fault proxy
//! (tests/tests/faults.rs). Adaptive mode suits sustained high-rate clients; reachguard makes a
//! few dozen calls per evaluation.

use std::collections::HashMap;
use std::error::Error as _;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_sts::error::SdkError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::{Mutex, OnceCell};

use super::error::{AdapterError, required};
use crate::partition;
use crate::remediation::Mode;
use crate::tags;

/// How every client retries and times out. [`Default`] suits both the CLI and the Lambdas.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Region override; `None` uses the default chain (`AWS_REGION`, profile, IMDS).
    pub region: Option<String>,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First retry delay (exponential with jitter after it).
    pub initial_backoff: Duration,
    /// Limit for one attempt.
    pub attempt_timeout: Duration,
    /// Limit for a whole call, retries included.
    pub operation_timeout: Duration,
    /// Limit for opening a connection.
    pub connect_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            region: None,
            max_attempts: 6,
            initial_backoff: Duration::from_millis(500),
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(3),
        }
    }
}

impl ClientSettings {
    /// Loads the home account's configuration through the default chain (`AWS_PROFILE`,
    /// `AWS_REGION`, `AWS_ENDPOINT_URL`, environment credentials, SSO, IMDS…), with these
    /// retry and timeout settings.
    pub async fn load(&self) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(self.retry_config())
            .timeout_config(self.timeout_config());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        loader.load().await
    }

    /// Applies these settings to an existing configuration (tests build theirs by hand).
    pub fn apply(&self, config: &SdkConfig) -> SdkConfig {
        let mut builder = config
            .to_builder()
            .retry_config(self.retry_config())
            .timeout_config(self.timeout_config());
        if let Some(region) = &self.region {
            builder = builder.region(Region::new(region.clone()));
        }
        builder.build()
    }

    fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
    }

    fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }
}

/// The role reachguard assumes in member accounts (`REACHGUARD_MEMBER_ROLE`,
/// `REACHGUARD_EXTERNAL_ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRole {
    /// Role name; the ARN is `arn:<partition>:iam::<account>:role/<name>`.
    pub name: String,
    /// External id the role's trust policy requires, if any.
    pub external_id: Option<String>,
    /// The deployment's ceiling, passed as the session tag `reachguard:max-mode`: the member
    /// role's write statements require `remediate`, so the central kill switch reaches every
    /// account without a StackSet update.
    pub max_mode: Mode,
}

impl MemberRole {
    /// The role's ARN in `account` of `partition` (the caller's: [`Identity::partition`]).
    pub fn arn(&self, partition: &str, account: &str) -> String {
        format!("arn:{partition}:iam::{account}:role/{}", self.name)
    }
}

/// The caller identity of the home credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Account id.
    pub account: String,
    /// The caller's ARN (for a Lambda function: its assumed-role session).
    pub arn: String,
    /// The caller's partition (`aws`, `aws-cn`, `aws-us-gov`…), from its ARN: the ARNs
    /// reachguard builds (member roles) are in it.
    pub partition: String,
}

/// SDK configurations per account: the home account's, and one per member account reached through
/// [`MemberRole`]. Build it once (at Lambda start-up) and keep it: each member account's
/// credentials provider is created once and its credentials are cached until shortly before they
/// expire, across warm invocations.
#[derive(Debug)]
pub struct Accounts {
    home: SdkConfig,
    member_role: Option<MemberRole>,
    identity: OnceCell<Identity>,
    members: Mutex<HashMap<String, SdkConfig>>,
}

impl Accounts {
    /// `home` is the configuration of the account reachguard runs in; `member_role` is how it
    /// reaches other accounts (`None`: it only works in its own account).
    pub fn new(home: SdkConfig, member_role: Option<MemberRole>) -> Self {
        Accounts {
            home,
            member_role,
            identity: OnceCell::new(),
            members: Mutex::new(HashMap::new()),
        }
    }

    /// The home account's configuration.
    pub fn home(&self) -> &SdkConfig {
        &self.home
    }

    /// Who the home credentials are (STS `GetCallerIdentity`, asked once and cached).
    pub async fn identity(&self) -> Result<&Identity, AdapterError> {
        self.identity
            .get_or_try_init(|| async {
                let me = aws_sdk_sts::Client::new(&self.home)
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(AdapterError::of("GetCallerIdentity"))?;
                let arn = required(me.arn, "GetCallerIdentity", "Arn")?;
                let partition = partition::of_arn(&arn).ok_or(AdapterError::MissingField {
                    operation: "GetCallerIdentity",
                    field: "Arn (arn:<partition>:…)",
                })?;
                Ok(Identity {
                    account: required(me.account, "GetCallerIdentity", "Account")?,
                    partition: partition.to_owned(),
                    arn,
                })
            })
            .await
    }

    /// The home account's id.
    pub async fn home_account(&self) -> Result<&str, AdapterError> {
        Ok(&self.identity().await?.account)
    }

    /// The configuration for `account` ([`Accounts::config_for`]) in `region` (`None`: the
    /// configuration's own).
    pub async fn config_in(
        &self,
        account: &str,
        region: Option<&str>,
    ) -> Result<SdkConfig, AdapterError> {
        let config = self.config_for(account).await?;
        Ok(match region {
            Some(region) if config.region().map(|r| r.as_ref()) != Some(region) => config
                .to_builder()
                .region(Region::new(region.to_owned()))
                .build(),
            _ => config,
        })
    }

    /// The configuration for `account`: the home configuration for the home account, else the
    /// member role's, whose credentials are fetched at once (an error when no member role is
    /// configured; [`AdapterError::MemberRoleDenied`] when STS refuses the role there). Only a
    /// configuration that worked is kept.
    pub async fn config_for(&self, account: &str) -> Result<SdkConfig, AdapterError> {
        let me = self.identity().await?;
        if account == me.account {
            return Ok(self.home.clone());
        }
        let Some(role) = &self.member_role else {
            return Err(AdapterError::Service {
                operation: "AssumeRole",
                code: "NoMemberRole".into(),
                message: format!(
                    "account {account} is not the home account and no member role is configured"
                ),
            });
        };
        let mut members = self.members.lock().await;
        if let Some(config) = members.get(account) {
            return Ok(config.clone());
        }
        let arn = role.arn(&me.partition, account);
        let config =
            assume_role(&self.home, &arn, role.external_id.as_deref(), role.max_mode).await;
        assumable(&config, account, &arn).await?;
        members.insert(account.to_owned(), config.clone());
        Ok(config)
    }
}

/// Fetches `config`'s assumed-role credentials once, so that a role STS refuses fails here,
/// classified and naming `account` and `role` ([`AdapterError::MemberRoleDenied`]), instead of
/// as a dispatch failure (transient to the classification) inside the first call that needs
/// them. The clients' identity cache fetches its own credentials afterwards: one more
/// `AssumeRole` per account and cold start.
async fn assumable(config: &SdkConfig, account: &str, role: &str) -> Result<(), AdapterError> {
    let Some(provider) = config.credentials_provider() else {
        return Ok(());
    };
    let Err(error) = provider.provide_credentials().await else {
        return Ok(());
    };
    let refusal = error
        .source()
        .and_then(|source| source.downcast_ref::<SdkError<AssumeRoleError>>())
        .and_then(|sts| Some((sts.code()?.to_owned(), sts.message().unwrap_or_default())));
    Err(match refusal {
        Some((code, message)) if code == "AccessDenied" => AdapterError::MemberRoleDenied {
            account: account.to_owned(),
            role: role.to_owned(),
            code,
            message: message.to_owned(),
        },
        Some((code, message)) => AdapterError::Service {
            operation: "AssumeRole",
            code,
            message: format!("{role} in account {account}: {message}"),
        },
        None => AdapterError::Transport {
            operation: "AssumeRole",
            detail: format!(
                "{role} in account {account}: {}",
                DisplayErrorContext(&error)
            ),
        },
    })
}

/// A configuration whose credentials come from assuming `role_arn` with `base`'s credentials,
/// the session tagged `reachguard:max-mode=<max_mode>`. The provider fetches lazily; the
/// configuration's identity cache keeps the credentials until shortly before they expire.
pub async fn assume_role(
    base: &SdkConfig,
    role_arn: &str,
    external_id: Option<&str>,
    max_mode: Mode,
) -> SdkConfig {
    let mut builder = AssumeRoleProvider::builder(role_arn)
        .session_name("reachguard")
        .tags([(tags::MAX_MODE, max_mode.to_string())])
        .configure(base);
    if let Some(id) = external_id {
        builder = builder.external_id(id);
    }
    let provider = builder.build().await;
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_role_arn_is_in_the_callers_partition() {
        let role = MemberRole {
            name: "reachguard-member".into(),
            external_id: None,
            max_mode: Mode::Notify,
        };
        for (caller, member_arn) in [
            (
                "arn:aws:sts::111122223333:assumed-role/reachguard-sweep-us-east-1/x",
                "arn:aws:iam::444455556666:role/reachguard-member",
            ),
            (
                "arn:aws-cn:sts::111122223333:assumed-role/reachguard-sweep-cn-north-1/x",
                "arn:aws-cn:iam::444455556666:role/reachguard-member",
            ),
            (
                "arn:aws-us-gov:sts::111122223333:assumed-role/reachguard-sweep-us-gov-west-1/x",
                "arn:aws-us-gov:iam::444455556666:role/reachguard-member",
            ),
        ] {
            let partition = partition::of_arn(caller).expect("an ARN");
            assert_eq!(role.arn(partition, "444455556666"), member_arn);
        }
    }
}
