//! Traces over OTLP/HTTP on the real binary, sent to a local receiver
//! (tests/otlp/receiver.py): a request's spans arrive under the trace id it answered
//! with, its statements as children; a collector that is down costs dropped spans and
//! one warning, never a request.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cli::{Server, free_port};
use crate::support::*;

/// The receiver and the span lines it printed
/// (`span <name> <trace id> <parent or -> <attribute keys>`).
struct Receiver {
    _child: Child,
    port: u16,
    spans: Arc<Mutex<Vec<String>>>,
}

fn receiver() -> Receiver {
    let root = env!("CARGO_MANIFEST_DIR");
    let port = free_port();
    let mut child = Command::new("python3")
        .arg(format!("{root}/tests/otlp/receiver.py"))
        .args(["127.0.0.1", &port.to_string()])
        .args(["--parent", &std::process::id().to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("tests/otlp/receiver.py needs python3: {e}"));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        first.starts_with("ready"),
        "the OTLP receiver did not start: {first:?}"
    );
    let spans = Arc::new(Mutex::new(Vec::new()));
    let sink = spans.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Receiver {
        _child: child,
        port,
        spans,
    }
}

impl Receiver {
    /// The spans received once one matches `wanted` (20 s at most).
    fn once(&self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let spans = self.spans.lock().unwrap().clone();
            if spans.iter().any(|s| wanted(s)) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "the span never arrived: {spans:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| {
            l.split_once(": ")
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        })
        .map(|(_, v)| v.trim())
}

#[actix_web::test]
async fn a_request_s_spans_arrive_under_the_trace_id_it_answered_with() {
    let database = migrated_database().await;
    let rx = receiver();
    let endpoint = format!("http://127.0.0.1:{}", rx.port);
    let env = [
        ("CAIRN_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let server = Server::start_with(&database.url, &env);
    // The setup page reads its token's hash from the database.
    let (status, raw) = server.request("GET", "/setup?token=wrong", &[]);
    assert!(status < 500, "{raw}");
    let trace = header(&raw, "x-trace-id")
        .expect("the answer names its trace")
        .to_string();
    assert_eq!(trace.len(), 32, "a W3C trace id: {trace}");
    let spans = rx.once(|s| s.starts_with(&format!("span request {trace} ")));
    assert!(
        spans
            .iter()
            .any(|s| s.starts_with(&format!("span db {trace} ")) && s.contains("db.statement")),
        "the request's statements are its children: {spans:#?}"
    );
    assert!(
        server.log_with(&trace).contains(&trace),
        "the request's log line names the trace"
    );
}

#[actix_web::test]
async fn a_collector_that_is_down_costs_one_warning_and_no_request() {
    let database = migrated_database().await;
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let token = "a-scraper-token-of-length";
    let env = [
        ("CAIRN_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("CAIRN_METRICS_TOKEN", token),
    ];
    let server = Server::start_with(&database.url, &env);
    let bearer = format!("Bearer {token}");
    let deadline = Instant::now() + Duration::from_secs(30);
    // Requests go on while batch after batch fails: until the metrics count two failures.
    loop {
        let (status, raw) = server.request("GET", "/healthz", &[]);
        assert_eq!(status, 200, "requests are unaffected: {raw}");
        let (_, metrics) = server.request("GET", "/metrics", &[("Authorization", &bearer)]);
        let failed: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("cairn_trace_exports_failed_total "))
            .map_or(0.0, |v| v.trim().parse().unwrap());
        if failed >= 2.0 {
            break;
        }
        assert!(Instant::now() < deadline, "no export failed: {metrics}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let warnings = server.log().matches("traces could not be exported").count();
    assert_eq!(
        warnings,
        1,
        "one warning, however many batches fail: {}",
        server.log()
    );
}
