//! Configuration from the environment: [`Env`] reads variables (an error names the variable and
//! what is wrong, [`ConfigError`]), and [`Settings`] is what the evaluating functions (the event
//! functions and the sweep's worker) need. Read once per cold start; a function with a missing
//! or malformed variable stops at start-up naming it.

use std::fmt;
use std::str::FromStr;

use reachguard_shared::action::ActionName;
use reachguard_shared::aws::MemberRole;
use reachguard_shared::aws::metrics::MetricsDays;
use reachguard_shared::lifecycle::{DEFAULT_MAX_ATTEMPTS_PER_DAY, DEFAULT_REMINDER_HOURS};
use reachguard_shared::remediation::{Mode, RemediationPolicy};
use reachguard_shared::settings::{EvaluationSettings, NatThresholds};

use crate::security_hub::MAX_REMINDER_HOURS;

/// A configuration variable that is missing or unusable. The message names the variable, so a
/// function that fails at start-up says exactly what to fix in its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{variable} is required but not set")]
    Missing {
        /// The variable.
        variable: &'static str,
    },
    /// A variable's value cannot be used.
    #[error("{variable}={value:?}: {reason}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Where configuration comes from: the process environment, or (in tests) any lookup function.
/// Empty values count as unset.
pub struct Env<F = fn(&str) -> Option<String>> {
    lookup: F,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Env {
            lookup: |name| std::env::var(name).ok(),
        }
    }

    /// Fixed variables (tests and tools).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String> + use<>> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Env::from_fn(move |name: &str| map.get(name).cloned())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Variables from `lookup` (tests pass a map).
    pub fn from_fn(lookup: F) -> Self {
        Env { lookup }
    }

    /// The trimmed value of `variable`, `None` when unset or empty.
    pub fn optional(&self, variable: &'static str) -> Option<String> {
        (self.lookup)(variable)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The value of `variable`, or [`ConfigError::Missing`].
    pub fn required(&self, variable: &'static str) -> Result<String, ConfigError> {
        self.optional(variable)
            .ok_or(ConfigError::Missing { variable })
    }

    /// `variable` parsed with [`FromStr`]; `default` when unset.
    pub fn parsed<T>(&self, variable: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.optional(variable) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|e: T::Err| ConfigError::Invalid {
                variable,
                reason: e.to_string(),
                value,
            }),
        }
    }

    /// `variable` as a list (entries separated by commas and/or whitespace), each parsed;
    /// `None` when unset.
    pub fn list<T>(&self, variable: &'static str) -> Result<Option<Vec<T>>, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let Some(value) = self.optional(variable) else {
            return Ok(None);
        };
        value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry.parse().map_err(|e: T::Err| ConfigError::Invalid {
                    variable,
                    value: value.clone(),
                    reason: format!("{entry:?}: {e}"),
                })
            })
            .collect::<Result<Vec<T>, _>>()
            .map(Some)
    }
}

/// The configuration of the functions that evaluate (README "The Lambda functions").
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `REACHGUARD_MODE` (default `notify`), `REACHGUARD_MAX_MODE` (the ceiling a VPC's tag may
    /// raise the mode to; default: the mode) and `REACHGUARD_ALLOWED_ACTIONS` (default:
    /// [`ActionName::DEFAULT_ALLOWED`]).
    pub policy: RemediationPolicy,
    /// `REACHGUARD_TOPIC_ARN` (required).
    pub topic_arn: String,
    /// `REACHGUARD_STATE_TABLE` (unset: no lifecycle, every finding is sent).
    pub state_table: Option<String>,
    /// `REACHGUARD_SWEEP_QUEUE_URL` (unset: every evaluation inline and at once; see
    /// [`crate::deferral`]).
    pub sweep_queue_url: Option<String>,
    /// `REACHGUARD_MEMBER_ROLE` and `REACHGUARD_EXTERNAL_ID` (unset: own account only); its
    /// sessions carry the policy's ceiling.
    pub member_role: Option<MemberRole>,
    /// `REACHGUARD_IGNORE_PRINCIPALS`, as configured.
    pub ignore_principals: Option<String>,
    /// `REACHGUARD_REMINDER_HOURS` (default [`DEFAULT_REMINDER_HOURS`]).
    pub reminder_hours: u32,
    /// `REACHGUARD_REMEDIATION_ATTEMPTS_PER_DAY` (default [`DEFAULT_MAX_ATTEMPTS_PER_DAY`]): the
    /// remediation attempts one finding gets in a rolling day (with the state table).
    pub attempts_per_day: usize,
    /// `REACHGUARD_METRICS_DAYS`: NAT gateway metrics lookback (default 7, at most 15).
    pub metrics_days: MetricsDays,
    /// The measured rules' thresholds and the cost rate: `REACHGUARD_NAT_DROP_SHARE`,
    /// `REACHGUARD_NAT_CAPACITY_SHARE`, `REACHGUARD_NAT_PORT_ERRORS`, `REACHGUARD_NAT_USD_PER_GB`
    /// (defaults: AWS's documented figures, the region's published rate), as the CLI's flags.
    pub evaluation: EvaluationSettings,
    /// `REACHGUARD_REGIONS`: the regions reachguard covers (unset: any). The sweep sweeps them;
    /// the event functions ignore, with a reason, events from any other region.
    pub regions: Option<Vec<String>>,
    /// `REACHGUARD_SECURITY_HUB` (`true`/`false`, default `false`): export the transitions to
    /// Security Hub ([`crate::security_hub`]).
    pub security_hub: bool,
}

impl Settings {
    /// Reads the settings; an error names the variable.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Settings, ConfigError> {
        let allowed: Vec<ActionName> = env
            .list("REACHGUARD_ALLOWED_ACTIONS")?
            .unwrap_or_else(|| ActionName::DEFAULT_ALLOWED.to_vec());
        let policy = RemediationPolicy {
            mode: env.parsed("REACHGUARD_MODE", Mode::Notify)?,
            ceiling: env
                .optional("REACHGUARD_MAX_MODE")
                .map(|_| env.parsed("REACHGUARD_MAX_MODE", Mode::Notify))
                .transpose()?,
            allowed: allowed.into_iter().collect(),
        };
        let member_role = env
            .optional("REACHGUARD_MEMBER_ROLE")
            .map(|name| MemberRole {
                name,
                external_id: env.optional("REACHGUARD_EXTERNAL_ID"),
                max_mode: policy.ceiling(),
            });
        Settings {
            policy,
            topic_arn: env.required("REACHGUARD_TOPIC_ARN")?,
            state_table: env.optional("REACHGUARD_STATE_TABLE"),
            sweep_queue_url: env.optional("REACHGUARD_SWEEP_QUEUE_URL"),
            member_role,
            ignore_principals: env.optional("REACHGUARD_IGNORE_PRINCIPALS"),
            reminder_hours: env.parsed("REACHGUARD_REMINDER_HOURS", DEFAULT_REMINDER_HOURS)?,
            attempts_per_day: env.parsed(
                "REACHGUARD_REMEDIATION_ATTEMPTS_PER_DAY",
                DEFAULT_MAX_ATTEMPTS_PER_DAY,
            )?,
            metrics_days: env.parsed("REACHGUARD_METRICS_DAYS", MetricsDays::default())?,
            evaluation: evaluation_settings(env)?,
            regions: env.list("REACHGUARD_REGIONS")?,
            security_hub: env.parsed("REACHGUARD_SECURITY_HUB", false)?,
        }
        .checked()
    }

    /// Why an event from `region` is not evaluated: it is outside `REACHGUARD_REGIONS`. `None`
    /// when it is covered (or says no region: the function's own).
    pub fn uncovered_region(&self, region: Option<&str>) -> Option<String> {
        let (Some(regions), Some(region)) = (&self.regions, region) else {
            return None;
        };
        (!regions.iter().any(|r| r == region)).then(|| {
            format!(
                "region {region} is not one of REACHGUARD_REGIONS ({})",
                regions.join(", ")
            )
        })
    }

    /// With the Security Hub export on, a reminder interval longer than
    /// [`MAX_REMINDER_HOURS`] would let Security Hub expire open findings: refused, naming it.
    fn checked(self) -> Result<Settings, ConfigError> {
        if self.security_hub && self.reminder_hours > MAX_REMINDER_HOURS {
            return Err(ConfigError::Invalid {
                variable: "REACHGUARD_REMINDER_HOURS",
                value: self.reminder_hours.to_string(),
                reason: format!(
                    "with REACHGUARD_SECURITY_HUB=true it must be at most {MAX_REMINDER_HOURS} \
                     (89 days): reminders re-assert open findings before Security Hub's 90-day expiry"
                ),
            });
        }
        Ok(self)
    }
}

/// The evaluation settings from the environment, each range-checked (the error names the
/// variable).
fn evaluation_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<EvaluationSettings, ConfigError> {
    let defaults = NatThresholds::default();
    let settings = EvaluationSettings {
        nat: NatThresholds {
            drop_share: env.parsed("REACHGUARD_NAT_DROP_SHARE", defaults.drop_share)?,
            capacity_share: env.parsed("REACHGUARD_NAT_CAPACITY_SHARE", defaults.capacity_share)?,
            port_allocation_errors: env.parsed(
                "REACHGUARD_NAT_PORT_ERRORS",
                defaults.port_allocation_errors,
            )?,
            ..defaults
        },
        usd_per_gb: env
            .optional("REACHGUARD_NAT_USD_PER_GB")
            .map(|_| env.parsed("REACHGUARD_NAT_USD_PER_GB", 0.0))
            .transpose()?,
    };
    settings.validate().map_err(|error| ConfigError::Invalid {
        variable: variable_of(error.setting),
        value: error.value.to_string(),
        reason: format!("expected {}", error.expected),
    })?;
    Ok(settings)
}

/// The variable behind one of [`EvaluationSettings::validate`]'s setting names.
fn variable_of(setting: &str) -> &'static str {
    match setting {
        "nat-drop-share" => "REACHGUARD_NAT_DROP_SHARE",
        "nat-capacity-share" => "REACHGUARD_NAT_CAPACITY_SHARE",
        "nat-port-errors" => "REACHGUARD_NAT_PORT_ERRORS",
        _ => "REACHGUARD_NAT_USD_PER_GB",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::from_pairs(pairs)
    }

    #[test]
    fn missing_and_invalid_values_name_the_variable() {
        let e = env(&[("A", "  "), ("N", "x1")]);
        assert_eq!(
            e.required("A").unwrap_err().to_string(),
            "A is required but not set"
        );
        let err = e.parsed::<u32>("N", 3).unwrap_err().to_string();
        assert!(err.starts_with("N=\"x1\": "), "{err}");
        assert_eq!(e.parsed::<u32>("UNSET", 3), Ok(3));
    }

    #[test]
    fn lists_split_on_commas_and_spaces() {
        let e = env(&[("L", " 1, 2  3,,"), ("B", "1,x")]);
        assert_eq!(e.list::<u32>("L"), Ok(Some(vec![1, 2, 3])));
        assert_eq!(e.list::<u32>("UNSET"), Ok(None));
        assert!(
            e.list::<u32>("B")
                .unwrap_err()
                .to_string()
                .contains("\"x\"")
        );
    }
    #[test]
    fn settings_defaults_and_errors() {
        let s = Settings::from_env(&env(&[("REACHGUARD_TOPIC_ARN", "arn:t")])).expect("settings");
        assert_eq!(s.policy, RemediationPolicy::default());
        assert_eq!(s.reminder_hours, 24);
        assert_eq!(s.attempts_per_day, 3);
        assert_eq!(s.evaluation, EvaluationSettings::default());
        assert_eq!(s.member_role, None);
        assert_eq!(s.sweep_queue_url, None);
        assert_eq!(s.regions, None);
        assert_eq!(
            s.uncovered_region(Some("ap-south-2")),
            None,
            "unset: every region"
        );

        let missing = Settings::from_env(&env(&[])).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "REACHGUARD_TOPIC_ARN is required but not set"
        );
        let bad = Settings::from_env(&env(&[
            ("REACHGUARD_TOPIC_ARN", "arn:t"),
            ("REACHGUARD_MODE", "fix-it"),
        ]))
        .unwrap_err();
        assert!(
            bad.to_string().starts_with("REACHGUARD_MODE=\"fix-it\""),
            "{bad}"
        );
        let bad = Settings::from_env(&env(&[
            ("REACHGUARD_TOPIC_ARN", "arn:t"),
            ("REACHGUARD_MAX_MODE", "on"),
        ]))
        .unwrap_err();
        assert!(
            bad.to_string().starts_with("REACHGUARD_MAX_MODE=\"on\""),
            "{bad}"
        );
        let bad = Settings::from_env(&env(&[
            ("REACHGUARD_TOPIC_ARN", "arn:t"),
            (
                "REACHGUARD_ALLOWED_ACTIONS",
                "enable-private-dns,delete-vpc",
            ),
        ]))
        .unwrap_err();
        assert!(bad.to_string().contains("delete-vpc"), "{bad}");
    }

    #[test]
    fn settings_from_every_variable() {
        let s = Settings::from_env(&env(&[
            ("REACHGUARD_TOPIC_ARN", "arn:t"),
            ("REACHGUARD_MODE", "dry-run"),
            ("REACHGUARD_MAX_MODE", "remediate"),
            ("REACHGUARD_STATE_TABLE", "state"),
            ("REACHGUARD_SWEEP_QUEUE_URL", "https://sqs/q"),
            ("REACHGUARD_MEMBER_ROLE", "rg-member"),
            ("REACHGUARD_EXTERNAL_ID", "x-1"),
            (
                "REACHGUARD_ALLOWED_ACTIONS",
                "add-endpoint-subnet enable-private-dns",
            ),
            ("REACHGUARD_IGNORE_PRINCIPALS", "arn:aws:iam::1:role/rg-*"),
            ("REACHGUARD_REMINDER_HOURS", "6"),
            ("REACHGUARD_REMEDIATION_ATTEMPTS_PER_DAY", "1"),
            ("REACHGUARD_NAT_DROP_SHARE", "0.001"),
            ("REACHGUARD_NAT_CAPACITY_SHARE", "0.5"),
            ("REACHGUARD_NAT_PORT_ERRORS", "10"),
            ("REACHGUARD_NAT_USD_PER_GB", "0.05"),
            ("REACHGUARD_REGIONS", "eu-west-1, us-east-1"),
        ]))
        .expect("settings");
        assert_eq!(s.policy.mode, Mode::DryRun);
        assert_eq!(s.policy.ceiling, Some(Mode::Remediate));
        assert_eq!(s.state_table.as_deref(), Some("state"));
        assert_eq!(s.sweep_queue_url.as_deref(), Some("https://sqs/q"));
        assert_eq!(
            s.member_role,
            Some(MemberRole {
                name: "rg-member".into(),
                external_id: Some("x-1".into()),
                max_mode: Mode::Remediate,
            })
        );
        assert_eq!(
            s.policy.allowed,
            BTreeSet::from([ActionName::AddEndpointSubnet, ActionName::EnablePrivateDns])
        );
        assert_eq!(s.reminder_hours, 6);
        assert_eq!(s.attempts_per_day, 1);
        assert_eq!(s.evaluation.nat.drop_share, 0.001);
        assert_eq!(s.evaluation.nat.capacity_share, 0.5);
        assert_eq!(s.evaluation.nat.port_allocation_errors, 10.0);
        assert_eq!(s.evaluation.usd_per_gb, Some(0.05));
        for (region, covered) in [
            (Some("eu-west-1"), true),
            (Some("us-east-1"), true),
            (None, true),
            (Some("us-west-2"), false),
        ] {
            let why = s.uncovered_region(region);
            assert_eq!(why.is_none(), covered, "{region:?}: {why:?}");
        }
        assert_eq!(
            s.uncovered_region(Some("us-west-2")).as_deref(),
            Some("region us-west-2 is not one of REACHGUARD_REGIONS (eu-west-1, us-east-1)")
        );
        let bad = Settings::from_env(&env(&[
            ("REACHGUARD_TOPIC_ARN", "arn:t"),
            ("REACHGUARD_NAT_CAPACITY_SHARE", "1.5"),
        ]))
        .unwrap_err();
        assert_eq!(
            bad.to_string(),
            "REACHGUARD_NAT_CAPACITY_SHARE=\"1.5\": expected a share in (0, 1]"
        );
    }
}
