//! `reachguard map` and `reachguard report` as the real binary on every bundled example, and the
//! report in a real browser: headless Chromium, driven over the DevTools protocol, opens
//! `report.html` from disk with the network off and checks that it loads without console errors,
//! lists every finding, that the severity filter (operated from the keyboard) hides and shows
//! rows, and that a finding's link lands on its path in the map. It writes a screenshot to
//! `<target>/tmp/report/`. Without Chromium the browser test prints one skip line, unless
//! `REACHGUARD_CI=1`, where it fails.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{describe, reachguard};
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

const EXAMPLES: [&str; 3] = [
    "examples/broken-vpc.json",
    "examples/endpoint-only-vpc.json",
    "examples/nat-only-vpc.json",
];

/// Where test artefacts (the reports and the screenshot) go: under the target dir, not in git.
fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).expect("the target dir is writable");
    dir
}

/// Runs `reachguard args`, asserts exit 0, returns stdout.
fn run_ok(args: &[&str]) -> String {
    let out = reachguard(args);
    assert_eq!(out.status.code(), Some(0), "{}", describe(args, &out));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn map_draws_every_example_in_every_format_with_the_same_bytes_each_time() {
    for example in EXAMPLES {
        for (format, opening) in [
            ("svg", "<svg xmlns="),
            ("dot", "digraph reachguard {"),
            ("mermaid", "flowchart LR"),
        ] {
            let args = ["map", example, "--format", format];
            let first = run_ok(&args);
            assert!(
                first.starts_with(opening),
                "{}",
                &first[..80.min(first.len())]
            );
            assert_eq!(first, run_ok(&args), "{example} {format}: deterministic");
        }
    }
}

#[test]
fn map_draws_one_vpc_to_a_file_and_names_the_vpcs_when_asked_for_an_unknown_one() {
    let file = artefacts().join("billing.svg");
    let file_arg = file.to_str().expect("UTF-8 path");
    let args = [
        "map",
        "examples/broken-vpc.json",
        "--vpc",
        "vpc-0b7f3c9d2e1a80002",
        "-o",
        file_arg,
    ];
    assert_eq!(run_ok(&args), "", "nothing on stdout with -o");
    let svg = std::fs::read_to_string(&file).expect("the map was written");
    assert!(svg.contains(r#"<g id="vpc-0b7f3c9d2e1a80002" class="vpc">"#));
    assert!(!svg.contains(r#"<g id="vpc-0b7f3c9d2e1a80001" class="vpc">"#));

    let args = ["map", "examples/broken-vpc.json", "--vpc", "vpc-nope"];
    let out = reachguard(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&args, &out));
    assert!(
        stderr.contains("vpc-nope") && stderr.contains("vpc-0b7f3c9d2e1a80001"),
        "{stderr}"
    );
}

/// The findings of `check --format json` on an example.
fn findings_of(example: &str) -> Vec<Value> {
    let args = ["check", example, "--format", "json", "--fail-on", "low"];
    let out = reachguard(&args);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}", describe(&args, &out)));
    json["findings"].as_array().cloned().unwrap_or_default()
}

/// A Chromium binary, if one is installed.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Headless Chromium with a fresh profile, and one DevTools session on its first page.
struct Browser {
    child: Child,
    profile: PathBuf,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    /// Events received so far (`method`, `params`).
    events: Vec<(String, Value)>,
}

impl Browser {
    fn launch(binary: &Path) -> Browser {
        let profile =
            std::env::temp_dir().join(format!("reachguard-chromium-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                // No name resolves and every proxied request fails: the network is off.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--proxy-server=http://127.0.0.1:9",
                "--remote-debugging-port=0",
                "--window-size=1400,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("Chromium prints its DevTools URL within 60 s");
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .expect("a ws:// URL");
        let stream = TcpStream::connect(address).expect("the DevTools port accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        let (socket, _) = tungstenite::client(url.as_str(), stream).expect("WebSocket handshake");
        let mut browser = Browser {
            child,
            profile,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let targets = browser.call("Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["targetId"].as_str())
            .expect("a page target")
            .to_string();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": page, "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        browser
    }

    /// Sends a command (to the page session once attached) and returns its result; events that
    /// arrive meanwhile are kept in `events`.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("cannot send {method}: {e}"));
        loop {
            let reply = self.receive(method);
            if reply["id"] == id {
                if let Some(error) = reply.get("error") {
                    panic!("{method} failed: {error}");
                }
                return reply["result"].clone();
            }
        }
    }

    fn receive(&mut self, waiting_for: &str) -> Value {
        loop {
            let message = self
                .socket
                .read()
                .unwrap_or_else(|e| panic!("no reply while waiting for {waiting_for}: {e}"));
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
                if let Some(method) = value["method"].as_str() {
                    self.events
                        .push((method.to_string(), value["params"].clone()));
                }
                return value;
            }
        }
    }

    fn wait_for_event(&mut self, method: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.events.iter().any(|(m, _)| m == method) {
            assert!(start.elapsed() < timeout, "no {method} within {timeout:?}");
            self.receive(method);
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Presses and releases the space bar on the focused element.
    fn press_space(&mut self) {
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": " ", "code": "Space", "text": " ",
                       "windowsVirtualKeyCode": 32, "nativeVirtualKeyCode": 32}),
            );
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Rows of the findings list as the page shows them: `(rule, text, visible)`.
fn rows(browser: &mut Browser) -> Vec<(String, String, bool)> {
    let value = browser.eval(
        "Array.from(document.querySelectorAll('li.finding')).map(li => \
         [li.dataset.rule, li.textContent, li.offsetParent !== null])",
    );
    value
        .as_array()
        .expect("an array of rows")
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap_or_default().to_string(),
                row[1].as_str().unwrap_or_default().to_string(),
                row[2].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn report_opens_offline_in_chromium_with_every_finding_and_working_filters() {
    let Some(binary) = reachguard_test_support::prerequisite(
        chromium(),
        "Chromium for the report's browser test",
        "apt-get install chromium",
    ) else {
        return;
    };
    let example = "examples/broken-vpc.json";
    let html = artefacts().join("broken-vpc.html");
    run_ok(&["report", example, "-o", html.to_str().expect("UTF-8 path")]);
    let expected = findings_of(example);
    assert!(expected.len() > 10, "the broken example has many findings");

    let mut browser = Browser::launch(&binary);
    for domain in [
        "Runtime.enable",
        "Log.enable",
        "Network.enable",
        "Page.enable",
    ] {
        browser.call(domain, json!({}));
    }
    browser.call(
        "Network.emulateNetworkConditions",
        json!({"offline": true, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0}),
    );
    let url = format!(
        "file://{}",
        html.canonicalize().expect("report exists").display()
    );
    browser.call("Page.navigate", json!({"url": url}));
    browser.wait_for_event("Page.loadEventFired", Duration::from_secs(30));

    // Every finding of the example is there, once, and visible.
    let shown = rows(&mut browser);
    assert_eq!(shown.len(), expected.len());
    for finding in &expected {
        let rule = finding["rule"].as_str().unwrap_or_default();
        let message = finding["message"].as_str().unwrap_or_default();
        assert!(
            shown
                .iter()
                .any(|(r, text, visible)| r == rule && text.contains(message) && *visible),
            "{rule}: {message} is not shown"
        );
    }

    // The severity filter, from the keyboard: space on "critical" hides the critical rows only,
    // space again shows them.
    let critical = expected
        .iter()
        .filter(|f| f["severity"] == "critical")
        .count();
    assert!(critical > 0);
    browser.eval("document.querySelector('input[name=severity][value=critical]').focus()");
    browser.press_space();
    let after = rows(&mut browser);
    let visible = after.iter().filter(|(_, _, v)| *v).count();
    assert_eq!(visible, expected.len() - critical, "critical rows hidden");
    let status = browser.eval("document.getElementById('filter-status').textContent");
    assert_eq!(
        status,
        json!(format!(
            "{} of {} findings shown",
            expected.len() - critical,
            expected.len()
        ))
    );
    browser.press_space();
    assert!(
        rows(&mut browser).iter().all(|(_, _, v)| *v),
        "all rows back"
    );

    // The rule filter keeps one rule's rows.
    let kept = browser.eval(
        "(() => { const s = document.getElementById('rule-filter'); s.value = 'vpc-dns-disabled'; \
         s.dispatchEvent(new Event('change', {bubbles: true})); \
         return Array.from(document.querySelectorAll('li.finding')).filter(li => li.offsetParent !== null).map(li => li.dataset.rule); })()",
    );
    assert_eq!(kept, json!(["vpc-dns-disabled"]));
    browser.eval(
        "(() => { const s = document.getElementById('rule-filter'); s.value = ''; \
         s.dispatchEvent(new Event('change', {bubbles: true})); })()",
    );

    // A broken path's finding links to its path on the map.
    let target = browser.eval(
        "(() => { document.querySelector('li.finding[data-rule=\"unreachable-dependency\"] a.on-map').click(); \
         const t = document.querySelector(':target'); return t && t.getAttribute('class'); })()",
    );
    assert_eq!(target, json!("path broken"));

    // Full-page screenshot, kept as a test artefact.
    browser.eval("window.location.hash = ''; window.scrollTo(0, 0)");
    let height = browser.eval("document.documentElement.scrollHeight");
    let shot = browser.call(
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true,
               "clip": {"x": 0, "y": 0, "width": 1400, "height": height, "scale": 1}}),
    );
    let png = data_encoding::BASE64
        .decode(shot["data"].as_str().unwrap_or_default().as_bytes())
        .expect("the screenshot is base64");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let screenshot = artefacts().join("broken-vpc.png");
    std::fs::write(&screenshot, &png).expect("the screenshot is writable");
    eprintln!("screenshot: {}", screenshot.display());

    // Nothing went wrong on the way, and nothing but the file itself was requested.
    let problems: Vec<&Value> = browser
        .events
        .iter()
        .filter(|(method, params)| match method.as_str() {
            "Runtime.exceptionThrown" => true,
            "Runtime.consoleAPICalled" => {
                matches!(params["type"].as_str(), Some("error" | "assert"))
            }
            "Log.entryAdded" => params["entry"]["level"] == "error",
            _ => false,
        })
        .map(|(_, params)| params)
        .collect();
    assert!(problems.is_empty(), "console errors: {problems:?}");
    let requests: Vec<&str> = browser
        .events
        .iter()
        .filter(|(method, _)| method == "Network.requestWillBeSent")
        .filter_map(|(_, params)| params["request"]["url"].as_str())
        .collect();
    assert!(!requests.is_empty(), "the page load was observed");
    assert!(
        requests.iter().all(|u| *u == url),
        "the report fetched more than itself: {requests:?}"
    );
}
