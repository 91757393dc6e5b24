//! A loopback HTTP proxy in front of moto that injects faults: a burst of throttling and 503
//! answers, an operation that is always denied, an operation that fails a number of times, and
//! one whose requests are held unanswered. It enforces SNS's message size limit as AWS does
//! (moto checks the message alone). It counts requests per operation. It speaks just enough HTTP/1.1 for the SDK
//! (`Content-Length` bodies, keep-alive) and forwards everything else to moto unchanged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Requests matching this fail with a bare HTTP 503 (transient), a number of times.
    pub fail: Option<Fail>,
    /// Requests for this operation wait, unanswered, until [`FaultProxy::release_held`] (a call
    /// in flight while something else happens, or when its caller is killed); then the rest of
    /// the plan applies to them.
    pub hold: Option<String>,
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

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicUsize,
    faults: AtomicUsize,
    failed: AtomicUsize,
    held: Held,
    by_operation: Mutex<BTreeMap<String, usize>>,
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
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, plan: Plan) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let counters = Arc::new(Counters::default());
        let shared = (Arc::new(plan), counters.clone(), Arc::new(upstream));
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (plan, counters, upstream) = shared.clone();
                tokio::spawn(async move {
                    // A connection error only ends that connection; the SDK retries on another.
                    let _ = serve(conn, &plan, &counters, &upstream).await;
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
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut conn: TcpStream,
    plan: &Plan,
    counters: &Counters,
    upstream: &str,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some((head, body)) = read_request(&mut conn, &mut buf).await? else {
            return Ok(());
        };
        let n = counters.requests.fetch_add(1, Ordering::SeqCst);
        let protocol = Protocol::of(&head, &body);
        let operation = operation(&head, &body);
        if let (Some(op), Ok(mut ops)) = (&operation, counters.by_operation.lock()) {
            *ops.entry(op.clone()).or_default() += 1;
        }
        let is = |op: &Option<String>| op.is_some() && *op == operation;
        if is(&plan.hold) {
            // The semaphore is never closed: this waits for `release_held`.
            let _go_on = counters.held.0.acquire().await;
        }
        let failing = plan.fail.as_ref().is_some_and(|f| {
            Some(&f.operation) == operation.as_ref()
                && String::from_utf8_lossy(&body).contains(&f.containing)
                && counters.failed.fetch_add(1, Ordering::SeqCst) < f.times
        });
        let fault = if is(&plan.deny) {
            Some(denied(protocol))
        } else if failing {
            Some(unavailable())
        } else if operation.as_deref() == Some("Publish")
            && sns_message_bytes(&body) > SNS_MAX_MESSAGE_BYTES
        {
            Some(query_error(
                "400 Bad Request",
                "InvalidParameter",
                "Invalid parameter: Message too long",
            ))
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
            }
            None => {
                let response = forward(upstream, &head, &body).await?;
                conn.write_all(&response).await?;
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

async fn forward(upstream: &str, head: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    let head: String = head
        .split_inclusive("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<String>();
    let head = head.trim_end_matches("\r\n").to_owned() + "\r\nConnection: close\r\n\r\n";
    up.write_all(head.as_bytes()).await?;
    up.write_all(body).await?;
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
