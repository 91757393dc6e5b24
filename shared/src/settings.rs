//! Evaluation settings: the thresholds of the measured `nat-*` rules and the cost rate, with the
//! defaults taken from AWS's NAT gateway documentation. The CLI exposes them as flags; the
//! Lambdas evaluate with the defaults.
//!
//! Documented NAT gateway limits the defaults rest on (Amazon VPC User Guide, "NAT gateway
//! basics" and "Monitor NAT gateways with Amazon CloudWatch"): 5 Gbps of bandwidth, scaling
//! automatically up to 100 Gbps; one million packets per second, scaling up to ten million;
//! 55,000 simultaneous connections to each unique destination per IPv4 address, raised by
//! secondary addresses (up to 8 per NAT gateway); `ErrorPortAllocation` above zero means the
//! gateway could not allocate a source port; `PacketsDropCount` above 0.01 % of the traffic is
//! the point to investigate.

/// Thresholds of the `nat-*` rules that read CloudWatch figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NatThresholds {
    /// `nat-port-exhaustion` fires when `ErrorPortAllocation` in the window exceeds this.
    pub port_allocation_errors: f64,
    /// `nat-packet-drops` fires when dropped / received packets exceeds this share.
    pub drop_share: f64,
    /// `nat-bandwidth-pressure` fires when the peak reaches this share of a maximum below.
    pub capacity_share: f64,
    /// The bandwidth a NAT gateway scales to (bits per second).
    pub max_bits_per_second: f64,
    /// The packet rate a NAT gateway scales to (packets per second).
    pub max_packets_per_second: f64,
}

impl Default for NatThresholds {
    fn default() -> Self {
        NatThresholds {
            port_allocation_errors: 0.0,
            drop_share: 0.0001,
            capacity_share: 0.8,
            max_bits_per_second: 100e9,
            max_packets_per_second: 10e6,
        }
    }
}

/// Everything an evaluation can be tuned with.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EvaluationSettings {
    /// Thresholds of the measured NAT rules.
    pub nat: NatThresholds,
    /// NAT data-processing rate (USD per GB) overriding the region's published rate.
    pub usd_per_gb: Option<f64>,
}

/// A setting outside its range.
#[derive(Debug, thiserror::Error)]
#[error("--{setting} {value}: expected {expected}")]
pub struct SettingError {
    /// The setting's name (as the CLI spells it).
    pub setting: &'static str,
    /// The rejected value.
    pub value: f64,
    /// The accepted range.
    pub expected: &'static str,
}

impl EvaluationSettings {
    /// Checks every value's range, naming the first bad one.
    pub fn validate(&self) -> Result<(), SettingError> {
        let share = |setting, value: f64| {
            (value > 0.0 && value <= 1.0)
                .then_some(())
                .ok_or(SettingError {
                    setting,
                    value,
                    expected: "a share in (0, 1]",
                })
        };
        let non_negative = |setting, value: f64| {
            (value.is_finite() && value >= 0.0)
                .then_some(())
                .ok_or(SettingError {
                    setting,
                    value,
                    expected: "a number ≥ 0",
                })
        };
        share("nat-drop-share", self.nat.drop_share)?;
        share("nat-capacity-share", self.nat.capacity_share)?;
        non_negative("nat-port-errors", self.nat.port_allocation_errors)?;
        if let Some(rate) = self.usd_per_gb {
            non_negative("nat-usd-per-gb", rate)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_ranges_are_checked() {
        assert!(EvaluationSettings::default().validate().is_ok());
        let cases: Vec<(&str, EvaluationSettings, &str)> = vec![
            (
                "share above one",
                EvaluationSettings {
                    nat: NatThresholds {
                        capacity_share: 1.5,
                        ..NatThresholds::default()
                    },
                    ..EvaluationSettings::default()
                },
                "nat-capacity-share",
            ),
            (
                "zero drop share",
                EvaluationSettings {
                    nat: NatThresholds {
                        drop_share: 0.0,
                        ..NatThresholds::default()
                    },
                    ..EvaluationSettings::default()
                },
                "nat-drop-share",
            ),
            (
                "negative rate",
                EvaluationSettings {
                    usd_per_gb: Some(-0.01),
                    ..EvaluationSettings::default()
                },
                "nat-usd-per-gb",
            ),
        ];
        for (case, settings, setting) in cases {
            let err = settings.validate().expect_err(case);
            assert_eq!(err.setting, setting, "{case}");
        }
    }
}
