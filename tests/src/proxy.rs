//! A loopback HTTP proxy in front of moto that injects faults: a burst of throttling and 503
//! answers, and an operation that is always denied. It counts requests per operation. It speaks just enough HTTP/1.1 for the SDK
//! (`Content-Length` bodies, keep-alive) and forwards everything else to moto unchanged.
//!
//! It also enforces two AWS limits moto does not, always (whatever the [`Plan`]): an EC2 request
//! with more than [`EC2_FILTER_VALUE_LIMIT`] values in one filter is refused with EC2's
//! `FilterLimitExceeded`, and ECS `ListServices` is paged as ECS pages it (10 ARNs per page
//! unless `maxResults` asks for up to 100) where moto answers everything at once. Every request's
//! operation, start and end are kept in order ([`FaultProxy::timeline`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Which requests fail.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// `burst` of the first `2 × burst` requests fail (every other one, so concurrent calls all
    /// get their share), alternately with throttling — `RequestLimitExceeded` (EC2, HTTP 503) or
    /// `ThrottlingException` (JSON protocols, HTTP 400) — and a bare HTTP 503.
    pub burst: usize,
    /// Requests for this operation (`Action=` or `X-Amz-Target`) always fail with an
    /// authorisation error: a permanent failure.
    pub deny: Option<String>,
}

/// EC2 refuses a request with more values than this in one filter (`FilterLimitExceeded`).
pub const EC2_FILTER_VALUE_LIMIT: usize = 200;

/// `ListServices` page size when the request sets no `maxResults` (ECS's default).
const LIST_SERVICES_DEFAULT_PAGE: usize = 10;
/// The largest `maxResults` ECS accepts for `ListServices`.
const LIST_SERVICES_MAX_PAGE: usize = 100;
/// Prefix of the `nextToken`s the proxy issues for `ListServices` (the offset follows).
const LIST_SERVICES_TOKEN: &str = "fault-proxy-offset-";

/// One request as the proxy saw it: from the end of its body to the end of the answer, measured
/// from [`FaultProxy::start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The operation (`DescribeVpcs`, `ListClusters`, …), empty when unrecognised.
    pub operation: String,
    /// When the request was fully received.
    pub start: Duration,
    /// When the answer was fully written.
    pub end: Duration,
    /// The most values any one EC2 filter of the request had (0 without filters).
    pub filter_values: usize,
}

#[derive(Debug)]
struct Counters {
    started: Instant,
    requests: AtomicUsize,
    faults: AtomicUsize,
    by_operation: Mutex<BTreeMap<String, usize>>,
    timeline: Mutex<Vec<Call>>,
}

/// A running proxy; stopped when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, plan: Plan) -> FaultProxy {
        FaultProxy::start_with_latency(upstream, plan, Duration::ZERO).await
    }

    /// As [`FaultProxy::start`], holding every answer back by `latency`: the round trip to a real
    /// AWS endpoint (moto on loopback answers in a few milliseconds), so that calls waiting for
    /// each other cost what they cost on AWS.
    pub async fn start_with_latency(upstream: &str, plan: Plan, latency: Duration) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let counters = Arc::new(Counters {
            started: Instant::now(),
            requests: AtomicUsize::new(0),
            faults: AtomicUsize::new(0),
            by_operation: Mutex::default(),
            timeline: Mutex::default(),
        });
        let shared = (Arc::new(plan), counters.clone(), Arc::new(upstream));
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                // Answers go out at once (no Nagle wait for the next segment).
                let _ = conn.set_nodelay(true);
                let (plan, counters, upstream) = shared.clone();
                tokio::spawn(async move {
                    // A connection error only ends that connection; the SDK retries on another.
                    let _ = serve(conn, &plan, latency, &counters, &upstream).await;
                });
            }
        });
        FaultProxy {
            url,
            counters,
            task,
        }
    }

    /// Requests received.
    pub fn requests(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// Requests received for one operation (`GetMetricData`, …), faults included.
    pub fn requests_for(&self, operation: &str) -> usize {
        self.counters
            .by_operation
            .lock()
            .map_or(0, |ops| ops.get(operation).copied().unwrap_or(0))
    }

    /// Requests answered with a fault.
    pub fn faults(&self) -> usize {
        self.counters.faults.load(Ordering::SeqCst)
    }

    /// Every request answered so far, in the order their answers ended.
    pub fn timeline(&self) -> Vec<Call> {
        self.counters
            .timeline
            .lock()
            .map_or_else(|_| Vec::new(), |calls| calls.clone())
    }

    /// Forgets the requests answered so far (the timeline of the next run starts empty); returns
    /// the time since [`FaultProxy::start`], the origin of the next run's timeline.
    pub fn reset_timeline(&self) -> Duration {
        if let Ok(mut calls) = self.counters.timeline.lock() {
            calls.clear();
        }
        self.counters.started.elapsed()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut conn: TcpStream,
    plan: &Plan,
    latency: Duration,
    counters: &Counters,
    upstream: &str,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some((head, body)) = read_request(&mut conn, &mut buf).await? else {
            return Ok(());
        };
        let start = counters.started.elapsed();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let n = counters.requests.fetch_add(1, Ordering::SeqCst);
        let protocol = Protocol::of(&head, &body);
        let operation = operation(&head, &body);
        if let (Some(op), Ok(mut ops)) = (&operation, counters.by_operation.lock()) {
            *ops.entry(op.clone()).or_default() += 1;
        }
        let filter_values = if protocol == Protocol::Ec2 {
            most_filter_values(&body)
        } else {
            0
        };
        let record = |counters: &Counters| {
            if let Ok(mut calls) = counters.timeline.lock() {
                calls.push(Call {
                    operation: operation.clone().unwrap_or_default(),
                    start,
                    end: counters.started.elapsed(),
                    filter_values,
                });
            }
        };
        let fault = if filter_values > EC2_FILTER_VALUE_LIMIT {
            Some(ec2_error(
                "400 Bad Request",
                "FilterLimitExceeded",
                &format!(
                    "The maximum number of filter values specified on a single call is {EC2_FILTER_VALUE_LIMIT}"
                ),
            ))
        } else if plan
            .deny
            .as_deref()
            .is_some_and(|d| Some(d) == operation.as_deref())
        {
            Some(denied(protocol))
        } else if n < 2 * plan.burst && n.is_multiple_of(2) {
            Some(if n.is_multiple_of(4) {
                throttled(protocol)
            } else {
                unavailable()
            })
        } else {
            None
        };
        match fault {
            Some(response) => {
                counters.faults.fetch_add(1, Ordering::SeqCst);
                conn.write_all(response.as_bytes()).await?;
                record(counters);
            }
            None if operation.as_deref() == Some("ListServices") => {
                // Answered by the proxy itself, which keeps the connection open.
                let response = list_services_page(upstream, &head, &body).await?;
                conn.write_all(&response).await?;
                record(counters);
            }
            None => {
                let response = forward(upstream, &head, &body).await?;
                conn.write_all(&response).await?;
                record(counters);
                // moto answers `Connection: close`; the client reconnects for the next request.
                return Ok(());
            }
        }
    }
}

/// Reads one request (head and `Content-Length` body); `None` at a clean end of the connection.
async fn read_request(
    conn: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Ok(Some((head, body)))
}

/// `DescribeVpcs` from `Action=DescribeVpcs&…`, `ListClusters` from
/// `X-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters`.
fn operation(head: &str, body: &[u8]) -> Option<String> {
    let target = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-amz-target")
            .then(|| value.trim().rsplit('.').next().map(str::to_owned))?
    });
    target.or_else(|| {
        String::from_utf8_lossy(body)
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned))
    })
}

/// The sequential waves of `calls`: the longest chain of calls each of which started after the
/// previous one ended (calls that overlap are in the same wave).
pub fn waves(calls: &[Call]) -> usize {
    let mut by_start: Vec<&Call> = calls.iter().collect();
    by_start.sort_by_key(|c| c.start);
    let mut depth: Vec<usize> = Vec::with_capacity(by_start.len());
    for (j, call) in by_start.iter().enumerate() {
        let before = (0..j)
            .filter(|&i| by_start[i].end <= call.start)
            .map(|i| depth[i])
            .max()
            .unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

/// The most values any one filter of an EC2 query request has (`Filter.N.Value.M=…`).
fn most_filter_values(body: &[u8]) -> usize {
    let mut per_filter: BTreeMap<&str, usize> = BTreeMap::new();
    let body = String::from_utf8_lossy(body);
    for key in body
        .split('&')
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k))
    {
        let Some(rest) = key.strip_prefix("Filter.") else {
            continue;
        };
        if let Some((filter, value)) = rest.split_once(".Value.")
            && !value.is_empty()
        {
            *per_filter.entry(filter).or_default() += 1;
        }
    }
    per_filter.into_values().max().unwrap_or(0)
}

/// Answers `ListServices` one page at a time, as ECS does: moto's full answer cut to
/// `maxResults` (default 10, at most 100) from the offset the request's `nextToken` carries.
async fn list_services_page(upstream: &str, head: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut request: Value =
        serde_json::from_slice(body).map_err(|_| invalid("ListServices request is not JSON"))?;
    let page = request["maxResults"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(LIST_SERVICES_DEFAULT_PAGE);
    if page > LIST_SERVICES_MAX_PAGE {
        return Ok(json_error(
            "InvalidParameterException",
            "maxResults must be between 1 and 100",
        )
        .into_bytes());
    }
    let offset = request["nextToken"]
        .as_str()
        .and_then(|t| t.strip_prefix(LIST_SERVICES_TOKEN))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    if let Some(fields) = request.as_object_mut() {
        fields.remove("maxResults");
        fields.remove("nextToken");
    }
    let whole = request.to_string();
    let head: String = head
        .split_inclusive("\r\n")
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}\r\n", whole.len())
            } else {
                line.to_owned()
            }
        })
        .collect();
    let response = forward(upstream, &head, whole.as_bytes()).await?;
    let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(invalid("moto's ListServices answer has no body"));
    };
    if !response.starts_with(b"HTTP/1.1 200") {
        return Ok(response);
    }
    let answer: Value = serde_json::from_slice(&response[split + 4..])
        .map_err(|_| invalid("moto's ListServices answer is not JSON"))?;
    let arns = answer["serviceArns"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let end = (offset + page).min(arns.len());
    let mut paged = serde_json::json!({ "serviceArns": arns[offset.min(end)..end] });
    if end < arns.len() {
        paged["nextToken"] = Value::from(format!("{LIST_SERVICES_TOKEN}{end}"));
    }
    Ok(respond("200 OK", "application/x-amz-json-1.1", &paged.to_string()).into_bytes())
}

async fn forward(upstream: &str, head: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    up.set_nodelay(true)?;
    let head: String = head
        .split_inclusive("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<String>();
    let head = head.trim_end_matches("\r\n").to_owned() + "\r\nConnection: close\r\n\r\n";
    // One write: head and body in separate segments would wait for a delayed ACK.
    up.write_all(&[head.as_bytes(), body].concat()).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    Ok(response)
}

fn respond(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn ec2_error(status: &str, code: &str, message: &str) -> String {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
         <Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>"
    );
    respond(status, "text/xml", &body)
}

fn json_error(code: &str, message: &str) -> String {
    let body = format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}");
    respond("400 Bad Request", "application/x-amz-json-1.1", &body)
}

/// The wire protocol of a request, which decides the shape of an error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// `X-Amz-Target` JSON (ECS, SNS, DynamoDB, …).
    Json,
    /// EC2's query dialect (`<Response><Errors>…`).
    Ec2,
    /// The AWS query protocol of other services (CloudWatch, …: `<ErrorResponse>…`).
    Query,
}

impl Protocol {
    fn of(head: &str, body: &[u8]) -> Protocol {
        if head.to_ascii_lowercase().contains("x-amz-target:") {
            Protocol::Json
        } else if String::from_utf8_lossy(body).contains("Version=2016-11-15") {
            Protocol::Ec2
        } else {
            Protocol::Query
        }
    }
}

fn query_error(status: &str, code: &str, message: &str) -> String {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>\
         </Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
    );
    respond(status, "text/xml", &body)
}

fn throttled(protocol: Protocol) -> String {
    match protocol {
        Protocol::Json => json_error("ThrottlingException", "Rate exceeded"),
        Protocol::Ec2 => ec2_error(
            "503 Service Unavailable",
            "RequestLimitExceeded",
            "Request limit exceeded.",
        ),
        Protocol::Query => query_error("503 Service Unavailable", "Throttling", "Rate exceeded"),
    }
}

fn unavailable() -> String {
    respond(
        "503 Service Unavailable",
        "text/plain",
        "Service Unavailable",
    )
}

fn denied(protocol: Protocol) -> String {
    match protocol {
        Protocol::Json => json_error(
            "AccessDeniedException",
            "User is not authorized to perform this operation",
        ),
        Protocol::Ec2 => ec2_error(
            "403 Forbidden",
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        ),
        Protocol::Query => query_error(
            "403 Forbidden",
            "AccessDenied",
            "User is not authorized to perform this operation",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(start: u64, end: u64) -> Call {
        Call {
            operation: String::new(),
            start: Duration::from_millis(start),
            end: Duration::from_millis(end),
            filter_values: 0,
        }
    }

    #[test]
    fn waves_count_the_longest_chain_of_calls_that_wait_for_each_other() {
        for (calls, expected) in [
            (vec![], 0),
            (vec![call(0, 5)], 1),
            (vec![call(0, 5), call(1, 6), call(2, 4)], 1),
            (vec![call(0, 5), call(5, 9)], 2),
            // The ECS chain beside a slow describe: three deep, whatever the describe does.
            (vec![call(0, 2), call(2, 4), call(4, 6), call(0, 6)], 3),
            (vec![call(0, 2), call(1, 9), call(9, 10)], 2),
        ] {
            assert_eq!(waves(&calls), expected, "{calls:?}");
        }
    }

    #[test]
    fn filter_values_are_counted_per_filter() {
        for (body, expected) in [
            ("Action=DescribeVpcs&Version=2016-11-15", 0),
            (
                "Action=DescribeSubnets&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&Filter.1.Value.2=vpc-2",
                2,
            ),
            (
                "Filter.1.Name=a&Filter.1.Value.1=x&Filter.2.Name=b&Filter.2.Value.1=y&Filter.2.Value.2=z&Filter.2.Value.3=w",
                3,
            ),
        ] {
            assert_eq!(most_filter_values(body.as_bytes()), expected, "{body}");
        }
    }
}
