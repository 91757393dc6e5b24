//! The Lambda functions as real Lambdas: a Lambda Runtime API on loopback (the 2018-06-01
//! protocol `lambda_runtime` speaks: `GET …/invocation/next` with the request id and deadline
//! headers, `POST …/invocation/{id}/response` and `…/error`, `POST …/init/error`) and the real
//! function binary started against it with the environment Lambda gives a function.
//!
//! The binaries are those of `target/debug` (next to this test executable), or of the directory
//! `REACHGUARD_LAMBDA_BIN_DIR` names (to measure release builds): `scripts/test` runs
//! `cargo build --workspace --bins` first, because cargo builds other packages' binaries only
//! when asked. A missing binary fails the test with that instruction.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

use crate::http::{Request, Response, Server};

/// How long an invocation may take before the test gives up.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(120);

/// The path of a workspace binary: in `REACHGUARD_LAMBDA_BIN_DIR` when set, else in the target
/// directory of this test executable.
pub fn binary(name: &str) -> PathBuf {
    let dir = match std::env::var_os("REACHGUARD_LAMBDA_BIN_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let exe = std::env::current_exe().expect("test executable path");
            // target/<profile>/deps/<test> → target/<profile>/<name>
            exe.parent()
                .and_then(|deps| deps.parent())
                .expect("target/<profile>")
                .to_path_buf()
        }
    };
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the function binaries first (`cargo build --workspace --bins`, \
         which scripts/test runs before the tests)",
        path.display()
    );
    path
}

/// What an invocation returned: the response body, or the error body the runtime posted
/// (`{"errorType", "errorMessage"}`).
pub type Invocation = Result<Value, Value>;

type Pending = (String, Vec<u8>);

struct State {
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    results: Mutex<HashMap<String, oneshot::Sender<Invocation>>>,
    first_poll: OnceLock<Instant>,
    function_arn: String,
    timeout: Duration,
}

/// A function binary running against its own Runtime API; killed when dropped.
pub struct Lambda {
    name: String,
    queue: mpsc::UnboundedSender<Pending>,
    state: Arc<State>,
    child: tokio::sync::Mutex<Child>,
    logs: Arc<Mutex<Vec<String>>>,
    readers: tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    started: Instant,
    _server: Server,
}

impl Lambda {
    /// Starts the binary `name` (a crate under `functions/`) with `env` on top of the variables
    /// Lambda sets (function name, memory, version, Runtime API address, JSON logs). Nothing
    /// else of the test's environment leaks in.
    pub async fn start(name: &str, env: &[(&str, String)]) -> Lambda {
        Lambda::start_with_timeout(name, env, INVOKE_TIMEOUT).await
    }

    /// [`Lambda::start`] with the function's timeout: each invocation's deadline
    /// (`Lambda-Runtime-Deadline-Ms`) is this long after it is handed out.
    pub async fn start_with_timeout(
        name: &str,
        env: &[(&str, String)],
        timeout: Duration,
    ) -> Lambda {
        Lambda::start_binary(name, binary(name), env, timeout).await
    }

    /// Starts the function `name` from the binary at `path` (a release build to measure, or
    /// another build to compare with), as [`Lambda::start_with_timeout`] does.
    pub async fn start_binary(
        name: &str,
        path: PathBuf,
        env: &[(&str, String)],
        timeout: Duration,
    ) -> Lambda {
        let (queue, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            next: tokio::sync::Mutex::new(receiver),
            results: Mutex::new(HashMap::new()),
            first_poll: OnceLock::new(),
            function_arn: format!(
                "arn:aws:lambda:{}:000000000000:function:{name}",
                crate::REGION
            ),
            timeout,
        });
        let handler_state = state.clone();
        let server = Server::start(move |request| {
            let state = handler_state.clone();
            async move { runtime_api(&state, request).await }
        })
        .await;
        let mut command = Command::new(path);
        command
            .env_clear()
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_RUNTIME_API", &server.addr)
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn().expect("start the function binary");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect_lines(out, logs.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect_lines(err, logs.clone()));
        }
        Lambda {
            name: name.to_owned(),
            queue,
            state,
            child: tokio::sync::Mutex::new(child),
            logs,
            readers: tokio::sync::Mutex::new(readers),
            started,
            _server: server,
        }
    }

    /// Invokes the function with `event` and waits for its response or error. Panics (with the
    /// function's logs) when the process exits or the invocation times out.
    pub async fn invoke(&self, event: &Value) -> Invocation {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let id = format!("req-{:08}", NEXT.fetch_add(1, Ordering::Relaxed));
        let (sender, mut receiver) = oneshot::channel();
        self.state
            .results
            .lock()
            .expect("results")
            .insert(id.clone(), sender);
        self.queue
            .send((id, event.to_string().into_bytes()))
            .expect("queue the event");
        let deadline = Instant::now() + INVOKE_TIMEOUT;
        loop {
            tokio::select! {
                result = &mut receiver => return result.expect("the invocation's result"),
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if let Ok(Some(status)) = self.child.lock().await.try_wait() {
                        panic!("{} exited ({status}) during an invocation:\n{}", self.name, self.logs());
                    }
                    assert!(Instant::now() < deadline, "{}: no result after {INVOKE_TIMEOUT:?}:\n{}", self.name, self.logs());
                }
            }
        }
    }

    /// Kills the process (as Lambda does at a timeout, or a crash would) and waits for it.
    pub async fn kill(&self) {
        let mut child = self.child.lock().await;
        child.kill().await.expect("kill the function");
    }

    /// Process start → first `GET …/invocation/next` (the cold start without the first event).
    pub async fn cold_start(&self) -> Duration {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(polled) = self.state.first_poll.get() {
                return *polled - self.started;
            }
            if let Ok(Some(status)) = self.child.lock().await.try_wait() {
                panic!(
                    "{} exited ({status}) before polling:\n{}",
                    self.name,
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} never polled:\n{}",
                self.name,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits for the process to exit (a start-up failure) and for its output to be read, and
    /// returns its status.
    pub async fn exit_status(&self) -> ExitStatus {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.lock().await.wait())
            .await
            .unwrap_or_else(|_| panic!("{} did not exit:\n{}", self.name, self.logs()))
            .expect("wait for the function");
        for reader in self.readers.lock().await.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
        }
        status
    }

    /// The process's peak resident memory so far (`VmHWM`, KiB; `None` once it has exited).
    pub async fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.lock().await.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Everything the function printed so far (its JSON log lines).
    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs").join("\n")
    }

    /// The log lines that are JSON objects.
    pub fn log_records(&self) -> Vec<Value> {
        self.logs
            .lock()
            .expect("logs")
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

fn collect_lines<R>(stream: R, logs: Arc<Mutex<Vec<String>>>) -> tokio::task::JoinHandle<()>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut logs) = logs.lock() {
                logs.push(line);
            }
        }
    })
}

async fn runtime_api(state: &State, request: Request) -> Response {
    const PREFIX: &str = "/2018-06-01/runtime/";
    let Some(route) = request.path.strip_prefix(PREFIX) else {
        return Response::new(404, "not a Runtime API path");
    };
    if request.method == "GET" && route == "invocation/next" {
        let _ = state.first_poll.set(Instant::now());
        let Some((id, body)) = state.next.lock().await.recv().await else {
            return Response::new(500, "the harness is gone");
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() + state.timeout.as_millis())
            .unwrap_or_default();
        return Response::new(200, body)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header("lambda-runtime-invoked-function-arn", &state.function_arn)
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000",
            );
    }
    if request.method == "POST" && route == "init/error" {
        return Response::new(202, "{}");
    }
    if request.method == "POST"
        && let Some(rest) = route.strip_prefix("invocation/")
        && let Some((id, kind)) = rest.split_once('/')
    {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let result = match kind {
            "response" => Ok(body),
            "error" => Err(body),
            _ => return Response::new(404, "unknown invocation endpoint"),
        };
        if let Some(sender) = state.results.lock().expect("results").remove(id) {
            let _ = sender.send(result);
        }
        return Response::new(202, "{}");
    }
    Response::new(404, "unknown Runtime API endpoint")
}
