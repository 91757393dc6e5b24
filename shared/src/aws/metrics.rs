//! NAT gateway metrics from CloudWatch (`AWS/NATGateway`, dimension `NatGatewayId`): the
//! `NatGatewayMetrics` key of the snapshot.
//!
//! Per NAT gateway, 14 `MetricStat` queries: the `Sum` over the whole window of the ten metrics of
//! [`SUMS`], and per-minute `Sum` series of the bytes and packets it received from each side,
//! whose busiest minute gives the peaks (computed here: metric-math expressions are not used).
//! The queries go out in `GetMetricData` requests of at most 500 queries
//! ([`QUERIES_PER_REQUEST`]), each paged through `NextToken` (a page holds at most 100,800 data
//! points): ⌈14·N/500⌉ requests plus extra pages for N NAT gateways; every page is counted.
//! CloudWatch keeps 1-minute data for 15 days, so the window is 1 to 15 days.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};

use super::collect::Recorder;
use super::error::AdapterError;
use crate::nat_metrics::{NatGatewayMetrics, NatGatewayTraffic};

/// `GetMetricData` accepts at most this many queries per request.
pub const QUERIES_PER_REQUEST: usize = 500;

/// Where a figure goes in the document.
type Figure = fn(&mut NatGatewayTraffic) -> &mut f64;

/// Metrics summed over the window, with where each goes in the document.
const SUMS: [(&str, Figure); 10] = [
    ("BytesOutToDestination", |t| &mut t.bytes_out_to_destination),
    ("BytesInFromDestination", |t| {
        &mut t.bytes_in_from_destination
    }),
    ("BytesInFromSource", |t| &mut t.bytes_in_from_source),
    ("BytesOutToSource", |t| &mut t.bytes_out_to_source),
    ("PacketsOutToDestination", |t| {
        &mut t.packets_out_to_destination
    }),
    ("PacketsInFromDestination", |t| {
        &mut t.packets_in_from_destination
    }),
    ("PacketsInFromSource", |t| &mut t.packets_in_from_source),
    ("PacketsOutToSource", |t| &mut t.packets_out_to_source),
    ("PacketsDropCount", |t| &mut t.packets_drop_count),
    ("ErrorPortAllocation", |t| &mut t.error_port_allocation),
];

/// Per-minute series: received bytes and packets, whose per-minute totals give the peaks.
const SERIES: [(&str, Peak); 4] = [
    ("BytesInFromSource", Peak::Bytes),
    ("BytesInFromDestination", Peak::Bytes),
    ("PacketsInFromSource", Peak::Packets),
    ("PacketsInFromDestination", Peak::Packets),
];

/// Queries per NAT gateway.
const QUERIES_PER_NAT: usize = SUMS.len() + SERIES.len();

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Peak {
    Bytes,
    Packets,
}

/// The lookback window in days: 1 to 15 (default 7); `REACHGUARD_METRICS_DAYS`, `--metrics-days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsDays(u32);

impl MetricsDays {
    /// The most days of 1-minute data CloudWatch keeps.
    pub const MAX: u32 = 15;

    /// The number of days.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for MetricsDays {
    fn default() -> Self {
        MetricsDays(7)
    }
}

impl FromStr for MetricsDays {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().parse::<u32>() {
            Ok(days) if (1..=Self::MAX).contains(&days) => Ok(MetricsDays(days)),
            _ => Err(format!(
                "expected whole days from 1 to {} (CloudWatch keeps 1-minute data for 15 days)",
                Self::MAX
            )),
        }
    }
}

impl fmt::Display for MetricsDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Reads the figures of `nats` for the `days` before now.
pub(super) async fn nat_gateway_metrics(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    nats: &[&str],
    days: MetricsDays,
    rec: &Recorder,
) -> Result<NatGatewayMetrics, AdapterError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let end = i64::try_from(now - now % 60).unwrap_or(i64::MAX);
    let window = i64::from(days.get()) * 86_400;
    let queries = queries(nats, days);
    let mut traffic: Vec<NatGatewayTraffic> = nats
        .iter()
        .map(|id| NatGatewayTraffic {
            nat_gateway_id: (*id).to_string(),
            ..Default::default()
        })
        .collect();
    // (NAT index, peak kind) → minute → total.
    let mut minutes: BTreeMap<(usize, Peak), BTreeMap<i64, f64>> = BTreeMap::new();
    for batch in queries.chunks(QUERIES_PER_REQUEST) {
        let mut pages = cloudwatch
            .get_metric_data()
            .start_time(DateTime::from_secs(end - window))
            .end_time(DateTime::from_secs(end))
            .scan_by(ScanBy::TimestampAscending)
            .set_metric_data_queries(Some(batch.to_vec()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            rec.record("GetMetricData");
            let page = page.map_err(AdapterError::of("GetMetricData"))?;
            for result in page.metric_data_results() {
                let Some((nat, query)) = result.id().and_then(parse_id) else {
                    continue;
                };
                let (Some(figures), values) = (traffic.get_mut(nat), result.values()) else {
                    continue;
                };
                match SUMS.get(query) {
                    Some((_, field)) => *field(figures) += values.iter().sum::<f64>(),
                    None => {
                        let Some((_, peak)) = SERIES.get(query - SUMS.len()) else {
                            continue;
                        };
                        let series = minutes.entry((nat, *peak)).or_default();
                        for (at, value) in result.timestamps().iter().zip(values) {
                            *series.entry(at.secs()).or_default() += value;
                        }
                    }
                }
            }
        }
    }
    for ((nat, peak), series) in minutes {
        let busiest = series.values().copied().fold(0.0, f64::max) / 60.0;
        let figures = &mut traffic[nat];
        match peak {
            Peak::Bytes => figures.peak_bytes_per_second = busiest,
            Peak::Packets => figures.peak_packets_per_second = busiest,
        }
    }
    Ok(NatGatewayMetrics {
        window_days: days.get(),
        end_time: DateTime::from_secs(end)
            .fmt(aws_sdk_cloudwatch::primitives::DateTimeFormat::DateTime)
            .ok(),
        nat_gateways: traffic,
    })
}

/// Every query, `n{nat}_{query}` by id: the window sums, then the per-minute series.
fn queries(nats: &[&str], days: MetricsDays) -> Vec<MetricDataQuery> {
    let window = i32::try_from(days.get() * 86_400).unwrap_or(i32::MAX);
    let stat = |nat: &str, metric: &str, period: i32| {
        MetricStat::builder()
            .metric(
                Metric::builder()
                    .namespace("AWS/NATGateway")
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name("NatGatewayId").value(nat).build())
                    .build(),
            )
            .period(period)
            .stat("Sum")
            .build()
    };
    let mut queries = Vec::with_capacity(nats.len() * QUERIES_PER_NAT);
    for (i, nat) in nats.iter().enumerate() {
        let metrics = SUMS
            .iter()
            .map(|(metric, _)| (metric, window))
            .chain(SERIES.iter().map(|(metric, _)| (metric, 60)));
        for (q, (metric, period)) in metrics.enumerate() {
            queries.push(
                MetricDataQuery::builder()
                    .id(format!("n{i}_{q}"))
                    .metric_stat(stat(nat, metric, period))
                    .return_data(true)
                    .build(),
            );
        }
    }
    queries
}

/// `n{nat}_{query}` → (nat, query).
fn parse_id(id: &str) -> Option<(usize, usize)> {
    let (nat, query) = id.strip_prefix('n')?.split_once('_')?;
    Some((nat.parse().ok()?, query.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_queries_per_nat_in_batches_of_500() {
        let nats: Vec<String> = (0..36).map(|i| format!("nat-{i}")).collect();
        let ids: Vec<&str> = nats.iter().map(String::as_str).collect();
        let all = queries(&ids, MetricsDays::default());
        assert_eq!(all.len(), 36 * QUERIES_PER_NAT);
        assert_eq!(
            all.chunks(QUERIES_PER_REQUEST).count(),
            2,
            "504 queries: two requests"
        );
        let last = all.last().expect("queries");
        assert_eq!(last.id(), Some("n35_13"));
        assert_eq!(parse_id("n35_13"), Some((35, 13)));
        let stat = last
            .metric_stat()
            .expect("a MetricStat query, never an expression");
        assert_eq!((stat.period(), stat.stat()), (Some(60), Some("Sum")));
        let first = all[0].metric_stat().expect("stat");
        assert_eq!(first.period(), Some(7 * 86_400), "the whole window");
        assert_eq!(
            first.metric().and_then(|m| m.metric_name()),
            Some("BytesOutToDestination")
        );
    }

    #[test]
    fn metrics_days_range() {
        assert_eq!("7".parse::<MetricsDays>(), Ok(MetricsDays(7)));
        assert_eq!(" 15 ".parse::<MetricsDays>().map(MetricsDays::get), Ok(15));
        for bad in ["0", "16", "-1", "a week"] {
            let err = bad.parse::<MetricsDays>().expect_err(bad);
            assert!(err.contains("1 to 15"), "{err}");
        }
    }
}
