//! Smoke tests of the real binary: settings errors, serve, healthcheck, user/token/seed.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn::domain::Db;
use sea_orm::{ConnectionTrait, Statement};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_cairn");

fn cairn(db_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CAIRN_DATABASE_URL", db_url)
        .env("CAIRN_LOG", "info");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `cairn serve`, stopped when dropped.
struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
    port: u16,
}

impl Server {
    fn start(db_url: &str) -> Server {
        let port = free_port();
        let mut child = cairn(db_url)
            .env("CAIRN_BIND", format!("127.0.0.1:{port}"))
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let server = Server { child, log, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server.log().contains("listening on") {
            assert!(
                Instant::now() < deadline,
                "server did not start: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it contains `needle` (lines arrive through a pipe, a little later).
    fn log_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if log.contains(needle) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A raw HTTP/1.0 request; returns (status, headers+body).
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut req = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, out)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_bad_setting_stops_startup_with_one_clear_line_and_exit_code_2() {
    for (name, value) in [
        ("CAIRN_BIND", "not-an-address"),
        ("CAIRN_DATABASE_URL", "mysql://localhost/crm"),
        ("CAIRN_BASE_URL", "ftp://example.com"),
        ("CAIRN_SECRET_KEY", "too-short"),
        ("CAIRN_LOG", "info,[[["),
    ] {
        let out = cairn("sqlite://unused.db")
            .env(name, value)
            .arg("serve")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[actix_web::test]
async fn serve_healthcheck_and_the_operator_commands() {
    let database = fresh_database().await;
    let url = database.url.clone();
    let server = Server::start(&url);
    let log = server.log();
    assert!(
        log.contains("/setup?token="),
        "the setup link is printed: {log}"
    );
    let (status, body) = server.request("GET", "/healthz", &[]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.request("GET", "/static/htmx.min.js", &[]);
    assert_eq!(status, 200);
    assert!(
        body.to_lowercase()
            .contains("content-type: text/javascript")
            || body.to_lowercase().contains("application/javascript")
    );

    let out = cairn(&url)
        .env("CAIRN_BIND", format!("127.0.0.1:{}", server.port))
        .arg("healthcheck")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // user create takes the password from CAIRN_PASSWORD or stdin.
    let out = cairn(&url)
        .env("CAIRN_PASSWORD", PASSWORD)
        .args([
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = cairn(&url)
        .args([
            "user",
            "create",
            "--email",
            "rep@example.com",
            "--name",
            "Rep",
            "--role",
            "rep",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let out = cairn(&url)
        .env("CAIRN_PASSWORD", PASSWORD)
        .args([
            "user",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "pope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown role");

    // token create prints the token and nothing else on stdout.
    let out = cairn(&url)
        .args([
            "token",
            "create",
            "--email",
            "rep@example.com",
            "--name",
            "zapier",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let token = stdout.trim();
    assert!(token.starts_with("cairn_"));
    let auth = format!("Bearer {token}");
    let (status, _) = server.request("GET", "/api/v1/contacts", &[("Authorization", &auth)]);
    assert_eq!(status, 200);
    // Secrets stay out of the log.
    let log = server.log_with("path=\"/api/v1/contacts\"");
    assert!(!log.contains(token));
    assert!(
        log.contains("/api/v1/contacts") && log.contains("status=200"),
        "request log: {log}"
    );

    // Now that users exist, setup is closed.
    let token_in_log = log
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (status, _) = server.request("GET", &format!("/setup?token={token_in_log}"), &[]);
    assert_eq!(status, 404);
    assert!(
        !server
            .log()
            .contains(&format!("/setup?token={token_in_log} ")),
        "query strings are not logged"
    );
    drop(server);

    let out = cairn(&url)
        .env("CAIRN_BIND", format!("127.0.0.1:{}", free_port()))
        .arg("healthcheck")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "nothing listens there");
}

async fn seeded_rows(url: &str) -> Vec<String> {
    let db = Db::connect(url).await.unwrap();
    let rows = db
        .read
        .query_all_raw(Statement::from_string(
            db.backend(),
            "SELECT c.first_name, c.last_name, c.email, c.source, c.created_at, co.name AS company \
             FROM contacts c JOIN companies co ON co.id = c.company_id ORDER BY c.id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            format!(
                "{} {} {} {} {:?} {}",
                r.try_get::<String>("", "first_name").unwrap(),
                r.try_get::<String>("", "last_name").unwrap(),
                r.try_get::<String>("", "email").unwrap(),
                r.try_get::<String>("", "source").unwrap(),
                r.try_get::<chrono::DateTime<chrono::Utc>>("", "created_at")
                    .unwrap(),
                r.try_get::<String>("", "company").unwrap(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn seed_is_deterministic_and_needs_a_user() {
    let (da, db) = (fresh_database().await, fresh_database().await);
    let (a, b) = (da.url.clone(), db.url.clone());
    let out = cairn(&a)
        .args(["seed", "--contacts", "10"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("user create"));

    for url in [&a, &b] {
        let out = cairn(url)
            .env("CAIRN_PASSWORD", PASSWORD)
            .args([
                "user",
                "create",
                "--email",
                "o@example.com",
                "--name",
                "O",
                "--role",
                "rep",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let out = cairn(url)
            .args(["seed", "--contacts", "700", "--seed", "7"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("seeded 700 contacts"));
    }
    let (rows_a, rows_b) = (seeded_rows(&a).await, seeded_rows(&b).await);
    assert_eq!(rows_a.len(), 700);
    assert_eq!(rows_a, rows_b, "same seed, same data");
    let db = Db::connect(&a).await.unwrap();
    let spread = db
        .read
        .query_one_raw(Statement::from_string(
            db.backend(),
            "SELECT COUNT(DISTINCT source) AS sources, MIN(created_at) AS oldest FROM contacts",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        spread.try_get::<i64>("", "sources").unwrap(),
        7,
        "every source appears"
    );
    let oldest: chrono::DateTime<chrono::Utc> = spread.try_get("", "oldest").unwrap();
    let age = chrono::Utc::now() - oldest;
    assert!(
        age > chrono::Duration::days(300) && age < chrono::Duration::days(367),
        "{age:?}"
    );
}
