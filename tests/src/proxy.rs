//! A loopback HTTP proxy in front of moto that injects faults: a burst of throttling and 503
//! answers, an operation that is always denied, an operation throttled its first n times, an
//! operation that fails a number of times, an `AssumeRole` answered with AWS's `AccessDenied`.
//! It also does what AWS does and moto does not: EC2's `ClientToken` idempotency, SNS's
//! message size limit (moto checks the message alone), and Security Hub's `BatchUpdateFindings`
//! (moto 5.2.5 does not implement it): the proxy answers it itself, as AWS does, every finding
//! identifier processed (at most [`BATCH_UPDATE_FINDINGS_LIMIT`], else `InvalidInputException`)
//! but those [`Plan::unprocessed`] names; the request is kept like any other
//! ([`FaultProxy::bodies_for`]). It can show resources in a state moto
//! never reports: the NAT gateways and VPC endpoints named in [`Plan::pending`] read `pending` in
//! `DescribeNatGateways` and `DescribeVpcEndpoints` answers (moto creates them `available` at
//! once). And it can shape timing: hold an operation's requests unanswered, hold an operation
//! until several callers sent it, delay one caller's requests. It counts requests per operation
//! and keeps every request with the answer sent back ([`FaultProxy::exchanges`]: what `journal`
//! reads). It speaks just enough HTTP/1.1 for the SDK
//! (`Content-Length` bodies, keep-alive) and forwards everything else to moto unchanged.
//!
//! It also enforces two AWS limits moto does not, always (whatever the [`Plan`]): an EC2 request
//! with more than [`EC2_FILTER_VALUE_LIMIT`] values in one filter is refused with EC2's
//! `FilterLimitExceeded`, and ECS `ListServices` is paged as ECS pages it (10 ARNs per page
//! unless `maxResults` asks for up to 100) where moto answers everything at once. Every request's
//! operation, start and end are kept in order ([`FaultProxy::timeline`]).

use std::collections::{BTreeMap, HashMap};
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
    /// NAT gateway and VPC endpoint ids whose `<state>` reads `pending` in the answers to
    /// `DescribeNatGateways` and `DescribeVpcEndpoints`, whatever moto says.
    pub pending: Vec<String>,
    /// The first `n` requests for this operation are throttled (`RequestLimitExceeded` for EC2):
    /// with `n` at least the SDK's attempts, one call fails transiently after its retries.
    pub throttle_first: Option<(String, usize)>,
    /// STS `AssumeRole` of this role ARN is answered as AWS answers a role that does not exist
    /// or does not trust the caller: HTTP 403 `AccessDenied` (moto grants any role).
    pub deny_assume_role: Option<String>,
    /// EC2 idempotency, which moto ignores: a request repeating an earlier request's
    /// `ClientToken` gets the earlier answer, and nothing is created again.
    pub client_tokens: bool,
    /// Requests for this operation wait until `n` of them arrived (or the timeout passed), so
    /// that concurrent callers all pass their reads before any of them writes.
    pub gather: Option<(String, usize, Duration)>,
    /// Requests held back before they are forwarded.
    pub delays: Vec<Delay>,
    /// Requests matching this fail with a bare HTTP 503 (transient), a number of times.
    pub fail: Option<Fail>,
    /// Finding `Id`s the proxy's `BatchUpdateFindings` answer leaves in `UnprocessedFindings`
    /// (`FindingNotFound`), every time.
    pub unprocessed: Vec<String>,
    /// Requests for this operation wait, unanswered, until [`FaultProxy::release_held`] (a call
    /// in flight while something else happens, or when its caller is killed); then the rest of
    /// the plan applies to them.
    pub hold: Option<String>,
}

/// Requests signed with `access_key` whose body contains `containing` wait `by`.
#[derive(Debug, Clone)]
pub struct Delay {
    /// The caller's access key id (`Credential=` of the `Authorization` header).
    pub access_key: String,
    /// Text the request body contains.
    pub containing: String,
    /// How long the request waits.
    pub by: Duration,
}

/// What the proxy remembers across requests: the answers per `ClientToken`, the gathered
/// requests.
#[derive(Debug, Default)]
struct Memory {
    answers: tokio::sync::Mutex<HashMap<String, Vec<u8>>>,
    gathered: AtomicUsize,
    gathering: tokio::sync::Notify,
}

/// Requests that fail with a 503: those of `operation` whose body contains `containing`, the
/// first `times` of them.
#[derive(Debug, Clone, Default)]
pub struct Fail {
    /// The operation, e.g. `Publish`.
    pub operation: String,
    /// Text the request body must contain (form-encoded as sent), e.g. a VPC id.
    pub containing: String,
    /// How many such requests fail (the SDK's own retries count).
    pub times: usize,
}

/// The most SNS publishes: 262,144 bytes of message and attributes (names, data types,
/// values).
pub const SNS_MAX_MESSAGE_BYTES: usize = 262_144;

/// EC2 refuses a request with more values than this in one filter (`FilterLimitExceeded`).
pub const EC2_FILTER_VALUE_LIMIT: usize = 200;

/// `BatchUpdateFindings` refuses a request with more finding identifiers than this.
pub const BATCH_UPDATE_FINDINGS_LIMIT: usize = 100;

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
    failed: AtomicUsize,
    held: Held,
    by_operation: Mutex<BTreeMap<String, usize>>,
    exchanges: Mutex<Vec<Exchange>>,
    timeline: Mutex<Vec<Call>>,
}

/// One request as the SDK sent it, with moto's raw answer (`None` when the proxy answered with a
/// fault).
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request line and headers.
    pub head: String,
    /// The request body.
    pub body: Vec<u8>,
    /// The HTTP response moto sent back.
    pub response: Option<Vec<u8>>,
}

/// Permits for held requests to go on ([`FaultProxy::release_held`]): none at first.
#[derive(Debug)]
struct Held(tokio::sync::Semaphore);

impl Default for Held {
    fn default() -> Self {
        Held(tokio::sync::Semaphore::new(0))
    }
}

/// A running proxy; stopped when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    counters: Arc<Counters>,
    memory: Arc<Memory>,
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
            failed: AtomicUsize::new(0),
            held: Held::default(),
            by_operation: Mutex::default(),
            exchanges: Mutex::default(),
            timeline: Mutex::default(),
        });
        let memory = Arc::new(Memory::default());
        let shared = (
            Arc::new(plan),
            counters.clone(),
            Arc::new(upstream),
            memory.clone(),
        );
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                // Answers go out at once (no Nagle wait for the next segment).
                let _ = conn.set_nodelay(true);
                let (plan, counters, upstream, memory) = shared.clone();
                tokio::spawn(async move {
                    // A connection error only ends that connection; the SDK retries on another.
                    let _ = serve(conn, &plan, latency, &counters, &upstream, &memory).await;
                });
            }
        });
        FaultProxy {
            url,
            counters,
            memory,
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

    /// The bodies of the requests received for one operation, in order.
    pub fn bodies_for(&self, wanted: &str) -> Vec<String> {
        self.exchanges()
            .into_iter()
            .filter(|e| operation(&e.head, &e.body).as_deref() == Some(wanted))
            .map(|e| String::from_utf8_lossy(&e.body).into_owned())
            .collect()
    }

    /// Distinct `ClientToken`s seen (with [`Plan::client_tokens`]).
    pub async fn client_tokens(&self) -> usize {
        self.memory.answers.lock().await.len()
    }

    /// Lets the held requests (and every later one) go on.
    pub fn release_held(&self) {
        self.counters
            .held
            .0
            .add_permits(tokio::sync::Semaphore::MAX_PERMITS / 2);
    }

    /// Waits until `operation` was requested at least once (each request counts as it arrives,
    /// held or not).
    pub async fn requested(&self, operation: &str) {
        while self.requests_for(operation) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
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

    /// Every request so far, in the order they arrived, with moto's answers.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.counters
            .exchanges
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
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
    memory: &Memory,
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
        let nth_of_operation = match (&operation, counters.by_operation.lock()) {
            (Some(op), Ok(mut ops)) => {
                let count = ops.entry(op.clone()).or_default();
                *count += 1;
                *count
            }
            _ => 0,
        };
        let is = |op: &str| operation.as_deref() == Some(op);
        if plan.hold.as_deref().is_some_and(is) {
            // The semaphore is never closed: this waits for `release_held`.
            let _go_on = counters.held.0.acquire().await;
        }
        let failing = plan.fail.as_ref().is_some_and(|f| {
            is(&f.operation)
                && String::from_utf8_lossy(&body).contains(&f.containing)
                && counters.failed.fetch_add(1, Ordering::SeqCst) < f.times
        });
        let filter_values = if protocol == Protocol::Ec2 {
            most_filter_values(&body)
        } else {
            0
        };
        let fault = if filter_values > EC2_FILTER_VALUE_LIMIT {
            Some(ec2_error(
                "400 Bad Request",
                "FilterLimitExceeded",
                &format!(
                    "The maximum number of filter values specified on a single call is {EC2_FILTER_VALUE_LIMIT}"
                ),
            ))
        } else if plan.deny.as_deref().is_some_and(is) {
            Some(denied(protocol))
        } else if failing {
            Some(unavailable())
        } else if is("Publish") && sns_message_bytes(&body) > SNS_MAX_MESSAGE_BYTES {
            Some(query_error(
                "400 Bad Request",
                "InvalidParameter",
                "Invalid parameter: Message too long",
            ))
        } else if plan
            .throttle_first
            .as_ref()
            .is_some_and(|(op, first)| is(op) && nth_of_operation <= *first)
        {
            Some(throttled(protocol))
        } else if is("AssumeRole")
            && let Some(role) = plan
                .deny_assume_role
                .as_deref()
                .filter(|role| form_value(&body, "RoleArn").as_deref() == Some(*role))
        {
            Some(assume_role_denied(role))
        } else if n < 2 * plan.burst && n.is_multiple_of(2) {
            Some(if n.is_multiple_of(4) {
                throttled(protocol)
            } else {
                unavailable()
            })
        } else {
            None
        };
        let record = |response: Option<&[u8]>| {
            if let Ok(mut exchanges) = counters.exchanges.lock() {
                exchanges.push(Exchange {
                    head: head.clone(),
                    body: body.clone(),
                    response: response.map(<[u8]>::to_vec),
                });
            }
            if let Ok(mut calls) = counters.timeline.lock() {
                calls.push(Call {
                    operation: operation.clone().unwrap_or_default(),
                    start,
                    end: counters.started.elapsed(),
                    filter_values,
                });
            }
        };
        if let Some(response) = fault {
            counters.faults.fetch_add(1, Ordering::SeqCst);
            conn.write_all(response.as_bytes()).await?;
            record(None);
            continue;
        }
        for delay in &plan.delays {
            if access_key(&head).as_deref() == Some(delay.access_key.as_str())
                && String::from_utf8_lossy(&body).contains(&delay.containing)
            {
                tokio::time::sleep(delay.by).await;
            }
        }
        if let Some((op, callers, timeout)) = &plan.gather
            && is(op)
        {
            let notified = memory.gathering.notified();
            if memory.gathered.fetch_add(1, Ordering::SeqCst) + 1 >= *callers {
                memory.gathering.notify_waiters();
            } else {
                let _ = tokio::time::timeout(*timeout, notified).await;
            }
        }
        let token = form_value(&body, "ClientToken").filter(|_| plan.client_tokens);
        let mut response = match token {
            Some(token) => {
                // Held while the first request with the token is answered, as AWS serialises them.
                let mut answers = memory.answers.lock().await;
                match answers.get(&token) {
                    Some(answer) => answer.clone(),
                    None => {
                        let answer = forward(upstream, &head, &body).await?;
                        answers.insert(token, answer.clone());
                        answer
                    }
                }
            }
            None if is("ListServices") => list_services_page(upstream, &head, &body).await?,
            None if is("BatchUpdateFindings") => {
                batch_update_findings(&body, &plan.unprocessed).into_bytes()
            }
            None => forward(upstream, &head, &body).await?,
        };
        if matches!(
            operation.as_deref(),
            Some("DescribeNatGateways" | "DescribeVpcEndpoints")
        ) && !plan.pending.is_empty()
        {
            response = with_pending_states(&response, &plan.pending);
        }
        conn.write_all(&response).await?;
        record(Some(&response));
        if is("ListServices") || is("BatchUpdateFindings") {
            // Answered by the proxy itself, which keeps the connection open.
            continue;
        }
        // moto answers `Connection: close`; the client reconnects for the next request.
        return Ok(());
    }
}

/// The access key id a request is signed with (`Credential=<key>/<date>/…`).
fn access_key(head: &str) -> Option<String> {
    let credential = head.split("Credential=").nth(1)?;
    credential.split('/').next().map(str::to_owned)
}

/// A form parameter of a query-protocol body (`RoleArn=arn%3Aaws%3A…`), percent-decoded.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    let body = String::from_utf8_lossy(body);
    let encoded = body
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?;
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                decoded.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                decoded.push(b' ');
                i += 1;
            }
            byte => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
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
/// `X-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters`, and the Security Hub
/// operations from their REST request line ([`SECURITY_HUB_ROUTES`]).
pub fn operation(head: &str, body: &[u8]) -> Option<String> {
    let target = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-amz-target")
            .then(|| value.trim().rsplit('.').next().map(str::to_owned))?
    });
    let request_line = head.lines().next().unwrap_or_default();
    let route = SECURITY_HUB_ROUTES.iter().find_map(|(method, path, name)| {
        let mut words = request_line.split_whitespace();
        let matches = words.next() == Some(*method)
            && words
                .next()
                .is_some_and(|p| p.split('?').next() == Some(*path));
        matches.then(|| (*name).to_owned())
    });
    target.or(route).or_else(|| {
        String::from_utf8_lossy(body)
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned))
    })
}

/// Security Hub's REST operations the proxy names: method, path, operation.
const SECURITY_HUB_ROUTES: [(&str, &str, &str); 2] = [
    ("POST", "/findings/import", "BatchImportFindings"),
    ("PATCH", "/findings/batchupdate", "BatchUpdateFindings"),
];

/// AWS's answer to a `BatchUpdateFindings`: every `FindingIdentifiers` entry processed but those
/// whose `Id` is in `unprocessed` (`FindingNotFound`); `InvalidInputException` for a malformed
/// request or more than [`BATCH_UPDATE_FINDINGS_LIMIT`] identifiers.
fn batch_update_findings(body: &[u8], unprocessed: &[String]) -> String {
    let identifiers = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|request| request.get("FindingIdentifiers").cloned())
        .filter(Value::is_array)
        .unwrap_or(Value::Null);
    let count = identifiers.as_array().map_or(0, Vec::len);
    if count == 0 || count > BATCH_UPDATE_FINDINGS_LIMIT {
        let message = format!(
            "FindingIdentifiers must hold 1 to {BATCH_UPDATE_FINDINGS_LIMIT} entries, got {count}"
        );
        let body =
            serde_json::json!({"Code": "InvalidInputException", "Message": message}).to_string();
        return format!(
            "HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: InvalidInputException\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    }
    let (refused, processed): (Vec<&Value>, Vec<&Value>) =
        identifiers.as_array().into_iter().flatten().partition(|i| {
            i["Id"]
                .as_str()
                .is_some_and(|id| unprocessed.iter().any(|u| u == id))
        });
    let refused: Vec<Value> = refused
        .into_iter()
        .map(|identifier| {
            serde_json::json!({
                "FindingIdentifier": identifier,
                "ErrorCode": "FindingNotFound",
                "ErrorMessage": "Finding Not Found",
            })
        })
        .collect();
    let answer = serde_json::json!({
        "ProcessedFindings": processed,
        "UnprocessedFindings": refused,
    });
    respond("200 OK", "application/json", &answer.to_string())
}

/// The bytes SNS counts of a form-encoded `Publish`: the message, and each attribute's name,
/// data type and value.
fn sns_message_bytes(body: &[u8]) -> usize {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| {
            *name == "Message"
                || (name.starts_with("MessageAttributes.entry.")
                    && [".Name", ".Value.DataType", ".Value.StringValue"]
                        .iter()
                        .any(|part| name.ends_with(part)))
        })
        .map(|(_, value)| form_decoded_len(value))
        .sum()
}

/// The length in bytes of a form-encoded value once decoded (`%XX` is one byte, `+` a space).
fn form_decoded_len(value: &str) -> usize {
    value.len() - 2 * value.matches('%').count()
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

/// `response` (an EC2 XML answer) with the `<state>` of each resource in `ids` set to
/// `pending`: the first `<state>` after the element holding the id, within the same item (in
/// EC2's shapes a NAT gateway's or endpoint's state follows its id), and `Content-Length` set to
/// the new body's length.
fn with_pending_states(response: &[u8], ids: &[String]) -> Vec<u8> {
    let text = String::from_utf8_lossy(response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return response.to_vec();
    };
    let mut body = body.to_owned();
    for id in ids {
        let mut from = 0;
        while let Some(at) = body[from..].find(&format!(">{id}</")).map(|i| from + i) {
            from = at + id.len();
            let rest = &body[from..];
            let Some(open) = rest.find("<state>") else {
                break;
            };
            let item_ends = ["<item>", "</item>"]
                .iter()
                .filter_map(|tag| rest.find(tag))
                .min()
                .unwrap_or(usize::MAX);
            let Some(close) = rest.find("</state>").filter(|_| open < item_ends) else {
                continue;
            };
            let range = from + open + "<state>".len()..from + close;
            body.replace_range(range, "pending");
        }
    }
    let head: String = head
        .split("\r\n")
        .map(|line| match line.split_once(':') {
            Some((name, _)) if name.eq_ignore_ascii_case("content-length") => {
                format!("{name}: {}", body.len())
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    format!("{head}\r\n\r\n{body}").into_bytes()
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

/// What STS answers when the role does not exist or its trust policy does not admit the caller
/// (the same answer for both, by design): HTTP 403 with this body.
fn assume_role_denied(role: &str) -> String {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
         <Type>Sender</Type>\n    <Code>AccessDenied</Code>\n    <Message>User: \
         arn:aws:sts::123456789012:assumed-role/reachguard-sweep/reachguard is not authorized \
         to perform: sts:AssumeRole on resource: {role}</Message>\n  </Error>\n  \
         <RequestId>6bbbd2a4-8c2f-4bd4-9a4d-fault-proxy</RequestId>\n</ErrorResponse>\n"
    );
    respond("403 Forbidden", "text/xml", &body)
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

    #[test]
    fn only_the_named_resources_read_pending() {
        let body = "<r><natGatewaySet><item><natGatewayAddressSet><item><status>ok</status>\
                    </item></natGatewayAddressSet><natGatewayId>nat-1</natGatewayId>\
                    <state>available</state></item><item><natGatewayId>nat-2</natGatewayId>\
                    <state>available</state></item></natGatewaySet></r>";
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let rewritten = String::from_utf8(with_pending_states(
            response.as_bytes(),
            &["nat-1".to_owned()],
        ))
        .expect("utf-8");
        let (head, new_body) = rewritten.split_once("\r\n\r\n").expect("head");
        assert!(new_body.contains("nat-1</natGatewayId><state>pending</state>"));
        assert!(new_body.contains("nat-2</natGatewayId><state>available</state>"));
        assert!(head.ends_with(&format!("Content-Length: {}", new_body.len())));
    }
}
