//! NAT gateway measurements: the optional `NatGatewayMetrics` key of the snapshot (CloudWatch
//! `AWS/NATGateway` figures per NAT gateway over a lookback window), validated and indexed for the
//! rules, and what they cost: processed GB and the estimated monthly data-processing charge at the
//! region's published per-GB rate.
//!
//! It owns the arithmetic on the figures (totals, drop share, peaks, cost), not when a figure is
//! a finding (the `nat-*` rules and their [`crate::settings::NatThresholds`]) and not how the
//! figures are read from CloudWatch (the collector, feature `aws`). CloudWatch reports a NAT
//! gateway's traffic as a whole: nothing here can split it by destination.

use rustc_hash::FxHashMap as HashMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::SnapshotError;

/// Bytes in a GB as AWS bills data (2^30).
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;
/// Days in the month AWS prices by (730 hours).
pub const DAYS_PER_MONTH: f64 = 730.0 / 24.0;

/// NAT gateway data-processing rates (USD per GB) per region, the published list prices of
/// <https://aws.amazon.com/vpc/pricing/> as quoted by public pricing summaries read on
/// [`RATES_READ_ON`]. Regions not listed get no cost figure unless
/// [`crate::settings::EvaluationSettings::usd_per_gb`] sets a rate.
pub const DATA_PROCESSING_USD_PER_GB: &[(&str, f64)] = &[
    ("us-east-1", 0.045),
    ("us-east-2", 0.045),
    ("us-west-2", 0.045),
    ("ap-southeast-1", 0.059),
];
/// When [`DATA_PROCESSING_USD_PER_GB`] was read.
pub const RATES_READ_ON: &str = "2026-11-28";

/// The `NatGatewayMetrics` snapshot key: what CloudWatch measured for each NAT gateway over the
/// last `WindowDays` days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NatGatewayMetrics {
    /// Length of the lookback window in days.
    pub window_days: u32,
    /// End of the window (RFC 3339), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// One entry per NAT gateway measured.
    #[serde(default)]
    pub nat_gateways: Vec<NatGatewayTraffic>,
}

/// One NAT gateway's figures over the window: CloudWatch `Sum`s, and the busiest minute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NatGatewayTraffic {
    /// `nat-…`.
    pub nat_gateway_id: String,
    /// `BytesOutToDestination`.
    #[serde(default)]
    pub bytes_out_to_destination: f64,
    /// `BytesInFromDestination`.
    #[serde(default)]
    pub bytes_in_from_destination: f64,
    /// `BytesInFromSource`.
    #[serde(default)]
    pub bytes_in_from_source: f64,
    /// `BytesOutToSource`.
    #[serde(default)]
    pub bytes_out_to_source: f64,
    /// `PacketsOutToDestination`.
    #[serde(default)]
    pub packets_out_to_destination: f64,
    /// `PacketsInFromDestination`.
    #[serde(default)]
    pub packets_in_from_destination: f64,
    /// `PacketsInFromSource`.
    #[serde(default)]
    pub packets_in_from_source: f64,
    /// `PacketsOutToSource`.
    #[serde(default)]
    pub packets_out_to_source: f64,
    /// `PacketsDropCount`.
    #[serde(default)]
    pub packets_drop_count: f64,
    /// `ErrorPortAllocation`: times no source port could be allocated.
    #[serde(default)]
    pub error_port_allocation: f64,
    /// Bytes received (from sources and destinations) in the busiest minute, per second.
    #[serde(default)]
    pub peak_bytes_per_second: f64,
    /// Packets received (from sources and destinations) in the busiest minute, per second.
    #[serde(default)]
    pub peak_packets_per_second: f64,
}

impl NatGatewayTraffic {
    /// The figures by their CloudWatch names, for validation and tests.
    fn figures(&self) -> [(&'static str, f64); 12] {
        [
            ("BytesOutToDestination", self.bytes_out_to_destination),
            ("BytesInFromDestination", self.bytes_in_from_destination),
            ("BytesInFromSource", self.bytes_in_from_source),
            ("BytesOutToSource", self.bytes_out_to_source),
            ("PacketsOutToDestination", self.packets_out_to_destination),
            ("PacketsInFromDestination", self.packets_in_from_destination),
            ("PacketsInFromSource", self.packets_in_from_source),
            ("PacketsOutToSource", self.packets_out_to_source),
            ("PacketsDropCount", self.packets_drop_count),
            ("ErrorPortAllocation", self.error_port_allocation),
            ("PeakBytesPerSecond", self.peak_bytes_per_second),
            ("PeakPacketsPerSecond", self.peak_packets_per_second),
        ]
    }

    /// Bytes the NAT gateway processed: everything it received, from the VPC and from the
    /// destinations (AWS bills data processing in both directions).
    pub fn processed_bytes(&self) -> f64 {
        self.bytes_in_from_source + self.bytes_in_from_destination
    }

    /// Packets the NAT gateway received, from both sides.
    pub fn packets(&self) -> f64 {
        self.packets_in_from_source + self.packets_in_from_destination
    }

    /// Dropped packets as a share of the packets received (1.0 when it dropped packets but
    /// counted none received; 0.0 when it saw nothing).
    pub fn drop_share(&self) -> f64 {
        match self.packets() {
            p if p > 0.0 => self.packets_drop_count / p,
            _ if self.packets_drop_count > 0.0 => 1.0,
            _ => 0.0,
        }
    }

    /// Peak throughput in bits per second.
    pub fn peak_bits_per_second(&self) -> f64 {
        self.peak_bytes_per_second * 8.0
    }
}

/// The validated metrics, indexed by NAT gateway id.
#[derive(Debug, Clone, Default)]
pub struct NatMetrics {
    /// Length of the lookback window in days (at least 1).
    pub window_days: u32,
    traffic: HashMap<String, NatGatewayTraffic>,
}

impl NatMetrics {
    /// Validates the document: a window of at least one day, finite non-negative figures.
    pub fn from_document(doc: &NatGatewayMetrics) -> Result<NatMetrics, SnapshotError> {
        if doc.window_days == 0 {
            return Err(SnapshotError::Shape {
                path: "NatGatewayMetrics.WindowDays".to_string(),
                reason: "must be at least 1 (days of the lookback window)".to_string(),
            });
        }
        let mut traffic = HashMap::default();
        for (i, nat) in doc.nat_gateways.iter().enumerate() {
            for (name, value) in nat.figures() {
                if !value.is_finite() || value < 0.0 {
                    return Err(SnapshotError::Shape {
                        path: format!("NatGatewayMetrics.NatGateways[{i}].{name}"),
                        reason: format!("{value} is not a count: expected a number ≥ 0"),
                    });
                }
            }
            traffic
                .entry(nat.nat_gateway_id.clone())
                .or_insert_with(|| nat.clone());
        }
        Ok(NatMetrics {
            window_days: doc.window_days,
            traffic,
        })
    }

    /// A NAT gateway's figures, when it was measured.
    pub fn traffic(&self, nat: &str) -> Option<&NatGatewayTraffic> {
        self.traffic.get(nat)
    }

    /// Every measured NAT gateway's figures.
    pub fn nat_gateways(&self) -> impl Iterator<Item = &NatGatewayTraffic> {
        self.traffic.values()
    }
}

/// The published data-processing rate of a region, when the table has it.
pub fn published_rate(region: &str) -> Option<f64> {
    DATA_PROCESSING_USD_PER_GB
        .iter()
        .find(|(r, _)| *r == region)
        .map(|&(_, rate)| rate)
}

/// What a NAT gateway processed in the window and what that costs a month: the optional
/// `nat_traffic` member of NAT findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NatTrafficFigures {
    /// The NAT gateway measured.
    pub nat_gateway: String,
    /// Length of the window in days.
    pub window_days: u32,
    /// GB (2^30 bytes) processed in the window, both directions.
    pub processed_gb: f64,
    /// The rate applied (USD per GB): the override, else the region's published rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_gb: Option<f64>,
    /// Processed GB scaled to a 730-hour month × the rate; `None` without a rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_monthly_usd: Option<f64>,
}

impl NatTrafficFigures {
    /// The figures of `traffic` over a `window_days` window at `usd_per_gb`.
    pub fn new(traffic: &NatGatewayTraffic, window_days: u32, usd_per_gb: Option<f64>) -> Self {
        let processed_gb = traffic.processed_bytes() / BYTES_PER_GB;
        let monthly_gb = processed_gb / f64::from(window_days.max(1)) * DAYS_PER_MONTH;
        NatTrafficFigures {
            nat_gateway: traffic.nat_gateway_id.clone(),
            window_days,
            processed_gb,
            usd_per_gb,
            estimated_monthly_usd: usd_per_gb.map(|rate| monthly_gb * rate),
        }
    }

    /// One sentence for messages: the NAT gateway's total and its monthly cost, and that
    /// CloudWatch cannot say which part of it is `share` (`s3`, `cross-AZ`, …).
    pub fn sentence(&self, share: &str) -> String {
        let cost = match (self.estimated_monthly_usd, self.usd_per_gb) {
            (Some(monthly), Some(rate)) => {
                format!(", about ${monthly:.2} a month in data processing at ${rate}/GB")
            }
            _ => String::new(),
        };
        format!(
            "NAT gateway {} processed {:.1} GB in the last {} days{cost} (its total: CloudWatch does not split NAT traffic by destination; the {share} share needs VPC flow logs)",
            self.nat_gateway, self.processed_gb, self.window_days
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(id: &str) -> NatGatewayTraffic {
        NatGatewayTraffic {
            nat_gateway_id: id.into(),
            ..Default::default()
        }
    }

    #[test]
    fn drop_share_cases() {
        let cases: Vec<(&str, f64, f64, f64, f64)> = vec![
            ("nothing seen", 0.0, 0.0, 0.0, 0.0),
            ("drops but no packets counted", 0.0, 0.0, 5.0, 1.0),
            ("one in ten thousand", 6_000.0, 4_000.0, 1.0, 0.0001),
            ("no drops", 10.0, 10.0, 0.0, 0.0),
        ];
        for (case, from_source, from_destination, drops, expected) in cases {
            let t = NatGatewayTraffic {
                packets_in_from_source: from_source,
                packets_in_from_destination: from_destination,
                packets_drop_count: drops,
                ..traffic("nat-a")
            };
            assert!((t.drop_share() - expected).abs() < 1e-12, "{case}");
        }
    }

    #[test]
    fn cost_scales_the_window_to_a_month() {
        let t = NatGatewayTraffic {
            bytes_in_from_source: 3.0 * BYTES_PER_GB,
            bytes_in_from_destination: 4.0 * BYTES_PER_GB,
            // Outbound counters are the same bytes leaving: not counted twice.
            bytes_out_to_destination: 3.0 * BYTES_PER_GB,
            bytes_out_to_source: 4.0 * BYTES_PER_GB,
            ..traffic("nat-a")
        };
        let f = NatTrafficFigures::new(&t, 7, Some(0.045));
        assert_eq!(f.processed_gb, 7.0);
        let monthly = f.estimated_monthly_usd.unwrap();
        assert!((monthly - 7.0 / 7.0 * DAYS_PER_MONTH * 0.045).abs() < 1e-9);
        assert!(
            f.sentence("s3")
                .starts_with("NAT gateway nat-a processed 7.0 GB in the last 7 days, about $1.37 a month in data processing at $0.045/GB"),
            "{}",
            f.sentence("s3")
        );
        let unpriced = NatTrafficFigures::new(&t, 7, None);
        assert_eq!(unpriced.estimated_monthly_usd, None);
        assert!(!unpriced.sentence("s3").contains('$'));
        assert!(unpriced.sentence("s3").contains(
            "does not split NAT traffic by destination; the s3 share needs VPC flow logs"
        ));
    }

    #[test]
    fn published_rates() {
        assert_eq!(published_rate("us-east-1"), Some(0.045));
        assert_eq!(published_rate("mars-north-1"), None);
    }

    #[test]
    fn validation_names_the_bad_member() {
        let cases: Vec<(&str, NatGatewayMetrics, Option<&str>)> = vec![
            (
                "valid",
                NatGatewayMetrics {
                    window_days: 7,
                    end_time: None,
                    nat_gateways: vec![traffic("nat-a")],
                },
                None,
            ),
            (
                "zero-day window",
                NatGatewayMetrics::default(),
                Some("NatGatewayMetrics.WindowDays"),
            ),
            (
                "negative count",
                NatGatewayMetrics {
                    window_days: 7,
                    end_time: None,
                    nat_gateways: vec![
                        traffic("nat-a"),
                        NatGatewayTraffic {
                            packets_drop_count: -1.0,
                            ..traffic("nat-b")
                        },
                    ],
                },
                Some("NatGatewayMetrics.NatGateways[1].PacketsDropCount"),
            ),
        ];
        for (case, doc, bad_path) in cases {
            match (NatMetrics::from_document(&doc), bad_path) {
                (Ok(m), None) => assert!(m.traffic("nat-a").is_some(), "{case}"),
                (Err(SnapshotError::Shape { path, .. }), Some(expected)) => {
                    assert_eq!(path, expected, "{case}")
                }
                (other, _) => panic!("{case}: {other:?}"),
            }
        }
    }
}
