//! GET /metrics: refused without a token, readable with `CAIRN_METRICS_TOKEN` or a token
//! made under Settings → Monitoring (until it is revoked), parsed as Prometheus parses
//! it, and moving when requests, sign-ins and jobs happen. The recorder is the test
//! process's, shared by every test: counters are compared before and after, and the
//! scrapes of these tests take turns (each sets the database gauges from its own
//! database just before rendering).
use std::io::Write;
use std::process::{Command, Stdio};

use cairn::config::{Config, Secret};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::support::*;

static TURNS: Mutex<()> = Mutex::const_new(());

const TOKEN: &str = "a-scraper-token-of-length";

fn with_token(app: &TestApp) -> Config {
    let mut config = Config::for_database(&app.url);
    config.metrics_token = Some(Secret(TOKEN.into()));
    config
}

/// `text` as the official Prometheus client's parser reads it (tests/metrics/parse.py):
/// `{"help": {family: text}, "samples": [{"name", "labels", "value"}]}`.
fn parsed(text: &str) -> Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new("python3")
        .arg(format!("{root}/tests/metrics/parse.py"))
        .env("PYTHONPATH", format!("{root}/target/python"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("tests/metrics/parse.py needs python3: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Prometheus' parser refused the metrics (scripts/test installs prometheus_client \
         into target/python): {stderr}\n{text}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// GET /metrics presenting `token`.
async fn with_bearer<S: TestService>(client: &mut Client<S>, token: &str) -> Response {
    let req = actix_web::test::TestRequest::get()
        .uri("/metrics")
        .insert_header(("authorization", format!("Bearer {token}")));
    client.send(req).await
}

/// The metrics as Prometheus reads them, scraped with `token`.
async fn scrape<S: TestService>(client: &mut Client<S>, token: &str) -> Value {
    let _turn = TURNS.lock().await;
    let res = with_bearer(client, token).await;
    assert_eq!(res.status, 200, "the scrape was refused: {}", res.text());
    parsed(&res.text())
}

/// The sum of the samples named `name` whose labels include `labels` (0 when none).
fn value(s: &Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    s["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["name"] == name)
        .filter(|x| labels.iter().all(|(k, v)| x["labels"][k] == *v))
        .map(|x| x["value"].as_f64().unwrap())
        .sum()
}

#[actix_web::test]
async fn a_scrape_without_the_token_or_with_a_wrong_one_is_refused() {
    let app = TestApp::new().await;
    let mut client = app.client_with(with_token(&app)).await;
    let res = client.get("/metrics").await;
    assert_eq!(res.status, 401, "no token: {}", res.text());
    assert_eq!(
        res.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"metrics\""),
        "the refusal says how to authenticate"
    );
    let wrong = with_bearer(&mut client, "not-the-token-at-all").await;
    assert_eq!(wrong.status, 401, "a wrong token: {}", wrong.text());
}

#[actix_web::test]
async fn without_any_token_configured_nobody_reads_the_metrics() {
    let app = TestApp::new().await;
    let mut client = app.client().await;
    let res = with_bearer(&mut client, "").await;
    assert_eq!(res.status, 401, "metrics are never public by default");
}

#[actix_web::test]
async fn the_environment_s_token_reads_metrics_that_parse_and_name_the_build() {
    let app = TestApp::new().await;
    let mut client = app.client_with(with_token(&app)).await;
    let s = scrape(&mut client, TOKEN).await;
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        value(&s, "cairn_build_info", &[("version", version)]),
        1.0,
        "build info names this version"
    );
    assert!(
        s["help"]["cairn_http_requests"]
            .as_str()
            .is_some_and(|h| h.starts_with("HTTP requests")),
        "each metric is described: {}",
        s["help"]
    );
}

#[actix_web::test]
async fn requests_are_counted_by_route_pattern_and_status_class() {
    let app = TestApp::new().await;
    let mut client = app.client_with(with_token(&app)).await;
    let route = [
        ("route", "/contacts/{id}"),
        ("method", "GET"),
        ("status", "4xx"),
    ];
    let before = value(
        &scrape(&mut client, TOKEN).await,
        "cairn_http_requests_total",
        &route,
    );
    for id in [9_000_001, 9_000_002, 9_000_003] {
        let res = client.get(&format!("/api/v1/contacts/{id}")).await;
        assert_eq!(res.status, 401, "signed out, the API refuses");
        let res = client.get(&format!("/contacts/{id}")).await;
        assert_eq!(res.status, 303, "signed out, the page sends to sign in");
    }
    let s = scrape(&mut client, TOKEN).await;
    let seen = [
        ("route", "/contacts/{id}"),
        ("method", "GET"),
        ("status", "3xx"),
    ];
    assert!(
        value(&s, "cairn_http_requests_total", &seen) >= 3.0,
        "the three page requests are counted under their pattern"
    );
    assert!(value(&s, "cairn_http_requests_total", &route) >= before);
    assert!(
        !s["samples"].to_string().contains("9000001"),
        "no series names a record's id"
    );
    let timed = [("route", "/api/v1/contacts/{id}")];
    assert!(
        value(&s, "cairn_http_request_duration_seconds_count", &timed) >= 3.0,
        "the API requests are timed"
    );
}

#[actix_web::test]
async fn sign_ins_and_failed_sign_ins_are_counted() {
    let app = TestApp::new().await;
    app.user("metrics-admin@example.com", "admin").await;
    let mut client = app.client_with(with_token(&app)).await;
    let before = scrape(&mut client, TOKEN).await;
    let ok = value(&before, "cairn_logins_total", &[("outcome", "succeeded")]);
    let failed = value(&before, "cairn_logins_total", &[("outcome", "failed")]);
    let mut browser = app.client().await;
    let res = browser
        .sign_in("metrics-admin@example.com", "not the password")
        .await;
    assert_eq!(res.status, 401, "a wrong password is refused");
    let res = browser.sign_in("metrics-admin@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "the right one signs in: {}", res.text());
    let after = scrape(&mut client, TOKEN).await;
    assert!(value(&after, "cairn_logins_total", &[("outcome", "succeeded")]) >= ok + 1.0);
    assert!(value(&after, "cairn_logins_total", &[("outcome", "failed")]) >= failed + 1.0);
}

#[actix_web::test]
async fn waiting_jobs_show_by_kind_and_state_and_pools_by_use() {
    let app = TestApp::new().await;
    let when = chrono::Utc::now() + chrono::Duration::hours(1);
    let job = cairn::jobs::queue::NewJob::new("metrics.test", serde_json::json!({})).at(when);
    cairn::jobs::queue::enqueue(&app.db, &job).await.unwrap();
    let mut client = app.client_with(with_token(&app)).await;
    let s = scrape(&mut client, TOKEN).await;
    assert_eq!(
        value(
            &s,
            "cairn_jobs",
            &[("kind", "metrics.test"), ("state", "queued")]
        ),
        1.0,
        "the queued job is counted"
    );
    let pool = if app.db.is_sqlite() {
        "write"
    } else {
        "shared"
    };
    assert!(
        value(&s, "cairn_db_pool_max_connections", &[("pool", pool)]) >= 1.0,
        "the pools are described"
    );
}

#[actix_web::test]
async fn a_token_made_in_settings_reads_the_metrics_until_revoked() {
    let app = TestApp::new().await;
    let mut admin = app.signed_in("monitor@example.com", "admin").await;
    let page = admin.get("/settings/monitoring").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let made = admin.post_form("/settings/monitoring/token", &[]).await;
    assert_eq!(made.status, 200, "{}", made.text());
    let html = made.text();
    let start = html
        .find("cairn_metrics_")
        .expect("the new token is shown once");
    let token: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut scraper = app.client().await;
    scrape(&mut scraper, &token).await;
    let again = admin.get("/settings/monitoring").await;
    assert!(
        !again.text().contains(&token),
        "the token is not shown again"
    );
    let revoked = admin
        .post_form("/settings/monitoring/token/revoke", &[])
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.text());
    let res = with_bearer(&mut scraper, &token).await;
    assert_eq!(res.status, 401, "a revoked token is refused");
    assert_eq!(
        app.count_where("audit_log", " WHERE entity = 'metrics_token'")
            .await,
        2,
        "making and revoking are audited"
    );
}

#[test]
fn the_grafana_dashboard_reads_only_metrics_the_server_exports() {
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../contrib/grafana-dashboard.json"))
            .expect("the dashboard is JSON");
    let declared = include_str!("../../src/telemetry.rs");
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    assert!(exprs.len() > 10, "the dashboard has its queries");
    for expr in &exprs {
        let names = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("cairn_"));
        for name in names {
            let metric = name.trim_end_matches("_bucket");
            assert!(
                declared.contains(&format!("\"{metric}\"")),
                "the dashboard reads {metric}, which src/telemetry.rs does not export: {expr}"
            );
        }
    }
}
