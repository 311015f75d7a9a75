//! `cairn serve`'s operating settings, on the real binary: `/metrics` on a separate
//! address without a token (and only there without one), and log lines as JSON.
use std::io::{Read, Write};
use std::net::TcpStream;

use crate::cli::{Server, free_port};
use crate::support::*;

/// A raw HTTP/1.0 GET to `port`: (status, headers and body).
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, out)
}

#[actix_web::test]
async fn the_separate_metrics_address_serves_the_metrics_alone_without_a_token() {
    let database = fresh_database().await;
    let port = free_port();
    let at = format!("127.0.0.1:{port}");
    let server = Server::start_with(&database.url, &[("CAIRN_METRICS_BIND", &at)]);
    let (status, body) = get(port, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("cairn_build_info"), "{body}");
    let (status, _) = get(port, "/healthz");
    assert_eq!(status, 404, "the metrics address serves nothing else");
    let (status, body) = server.request("GET", "/metrics", &[]);
    assert_eq!(
        status, 401,
        "the pages' address still needs a token: {body}"
    );
}

#[actix_web::test]
async fn with_the_json_format_every_log_line_is_one_json_object() {
    let database = fresh_database().await;
    let server = Server::start_with(&database.url, &[("CAIRN_LOG_FORMAT", "json")]);
    let (status, raw) = server.request("GET", "/healthz", &[]);
    assert_eq!(status, 200);
    assert!(
        !raw.to_lowercase().contains("x-trace-id"),
        "without CAIRN_OTLP_ENDPOINT there are no traces: {raw}"
    );
    let log = server.log_with("/healthz");
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(v["level"].is_string(), "each line has its level: {line}");
    }
    let request = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["path"] == "/healthz")
        .expect("the request is logged");
    assert_eq!(
        request["status"], 200,
        "its fields are the object's own: {request}"
    );
}
