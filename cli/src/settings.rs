//! The evaluation settings as flags (`check` and `scan`): thresholds of the measured NAT rules and
//! the cost rate. Defaults are AWS's documented figures (see `reachguard_shared::settings`).

use anyhow::Context;
use reachguard_shared::settings::{EvaluationSettings, NatThresholds};

/// Thresholds and rates of the rules that read `NatGatewayMetrics`.
#[derive(clap::Args)]
pub struct SettingsArgs {
    /// nat-packet-drops: share of a NAT gateway's packets dropped above which it is reported
    /// (AWS: investigate above 0.01 %).
    #[arg(long, value_name = "SHARE", default_value_t = NatThresholds::default().drop_share)]
    nat_drop_share: f64,
    /// nat-bandwidth-pressure: share of the 100 Gbps / 10 M packets/s a NAT gateway scales to.
    #[arg(long, value_name = "SHARE", default_value_t = NatThresholds::default().capacity_share)]
    nat_capacity_share: f64,
    /// nat-port-exhaustion: ErrorPortAllocation count in the window above which it is reported.
    #[arg(long, value_name = "COUNT", default_value_t = NatThresholds::default().port_allocation_errors)]
    nat_port_errors: f64,
    /// NAT data-processing rate in USD per GB for cost figures (default: the region's published
    /// rate, when known).
    #[arg(long, value_name = "USD")]
    nat_usd_per_gb: Option<f64>,
}

impl SettingsArgs {
    /// The settings, validated (the error names the flag).
    pub fn settings(&self) -> anyhow::Result<EvaluationSettings> {
        let settings = EvaluationSettings {
            nat: NatThresholds {
                drop_share: self.nat_drop_share,
                capacity_share: self.nat_capacity_share,
                port_allocation_errors: self.nat_port_errors,
                ..NatThresholds::default()
            },
            usd_per_gb: self.nat_usd_per_gb,
        };
        settings.validate().context("invalid evaluation setting")?;
        Ok(settings)
    }
}
