//! A loopback HTTP proxy in front of moto that injects faults: a burst of throttling and 503
//! answers, and an operation that is always denied. It counts requests per operation and keeps
//! every request with moto's answer ([`FaultProxy::exchanges`]: what `journal` reads). It can
//! also show resources in a state moto never reports: the NAT gateways and VPC endpoints named in
//! [`Plan::pending`] read `pending` in `DescribeNatGateways` and `DescribeVpcEndpoints` answers
//! (moto creates them `available` at once). It speaks just enough HTTP/1.1 for the SDK
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
    /// NAT gateway and VPC endpoint ids whose `<state>` reads `pending` in the answers to
    /// `DescribeNatGateways` and `DescribeVpcEndpoints`, whatever moto says.
    pub pending: Vec<String>,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicUsize,
    faults: AtomicUsize,
    by_operation: Mutex<BTreeMap<String, usize>>,
    exchanges: Mutex<Vec<Exchange>>,
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

    /// The bodies of the requests received for one operation, in order.
    pub fn bodies_for(&self, wanted: &str) -> Vec<String> {
        self.exchanges()
            .into_iter()
            .filter(|e| operation(&e.head, &e.body).as_deref() == Some(wanted))
            .map(|e| String::from_utf8_lossy(&e.body).into_owned())
            .collect()
    }

    /// Requests answered with a fault.
    pub fn faults(&self) -> usize {
        self.counters.faults.load(Ordering::SeqCst)
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
        let fault = if plan
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
        let record = |response: Option<&[u8]>| {
            if let Ok(mut exchanges) = counters.exchanges.lock() {
                exchanges.push(Exchange {
                    head: head.clone(),
                    body: body.clone(),
                    response: response.map(<[u8]>::to_vec),
                });
            }
        };
        match fault {
            Some(response) => {
                counters.faults.fetch_add(1, Ordering::SeqCst);
                record(None);
                conn.write_all(response.as_bytes()).await?;
            }
            None => {
                let mut response = forward(upstream, &head, &body).await?;
                if matches!(
                    operation.as_deref(),
                    Some("DescribeNatGateways" | "DescribeVpcEndpoints")
                ) && !plan.pending.is_empty()
                {
                    response = with_pending_states(&response, &plan.pending);
                }
                record(Some(&response));
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
pub fn operation(head: &str, body: &[u8]) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
