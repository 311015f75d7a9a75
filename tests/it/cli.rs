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

pub(crate) fn cairn(db_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CAIRN_DATABASE_URL", db_url)
        .env("CAIRN_LOG", "info");
    cmd
}

/// Runs `cairn ARGS` on `db_url` and returns what it printed, failing with its errors
/// when it did not succeed.
pub(crate) fn stdout_of(db_url: &str, args: &[&str]) -> String {
    let out = cairn(db_url).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "cairn {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("cairn prints UTF-8")
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `cairn serve`, stopped when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    log: Arc<Mutex<String>>,
    pub(crate) port: u16,
}

impl Server {
    fn start(db_url: &str) -> Server {
        Server::start_with(db_url, &[])
    }

    /// `cairn serve` with extra environment variables. A free port can be taken by
    /// another test's server between `free_port` and the bind: then on another one.
    pub(crate) fn start_with(db_url: &str, env: &[(&str, &str)]) -> Server {
        for _ in 0..4 {
            if let Some(server) = Server::try_start(db_url, env) {
                return server;
            }
        }
        panic!("cairn serve found no free port in four tries");
    }

    /// The server once it listens, or None when its port was taken meanwhile.
    fn try_start(db_url: &str, env: &[(&str, &str)]) -> Option<Server> {
        let port = free_port();
        let mut child = cairn(db_url)
            .envs(env.iter().copied())
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
            if server.log().contains("Address already in use") {
                return None; // dropped: its process is killed
            }
            assert!(
                Instant::now() < deadline,
                "server did not start: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it contains `needle` (lines arrive through a pipe, a little later).
    pub(crate) fn log_with(&self, needle: &str) -> String {
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
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
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

/// A command's output, which must be a success; anything else fails with its stderr.
pub(crate) fn succeeded(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `cairn user create` with the password from CAIRN_PASSWORD.
fn user_create(url: &str, email: &str, role: &str) -> Command {
    let mut cmd = cairn(url);
    cmd.env("CAIRN_PASSWORD", PASSWORD).args([
        "user", "create", "--email", email, "--name", "Ops", "--role", role,
    ]);
    cmd
}

#[actix_web::test]
async fn serve_prints_the_setup_link_and_answers_healthz_static_files_and_healthcheck() {
    let database = fresh_database().await;
    let server = Server::start(&database.url);
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
    succeeded(
        cairn(&database.url)
            .env("CAIRN_BIND", format!("127.0.0.1:{}", server.port))
            .arg("healthcheck"),
    );
}

#[actix_web::test]
async fn healthcheck_fails_when_nothing_listens() {
    let database = fresh_database().await;
    let out = cairn(&database.url)
        .env("CAIRN_BIND", format!("127.0.0.1:{}", free_port()))
        .arg("healthcheck")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "nothing listens there");
}

/// user create takes the password from CAIRN_PASSWORD or stdin.
#[actix_web::test]
async fn user_create_takes_the_password_from_the_environment_or_stdin() {
    let database = fresh_database().await;
    let url = database.url.clone();
    succeeded(&mut user_create(&url, "ops@example.com", "admin"));
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
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the password from stdin: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = Db::connect(&url).await.unwrap();
    let stmt = Statement::from_string(db.backend(), "SELECT COUNT(*) AS n FROM users");
    let row = db.read.query_one_raw(stmt).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 2, "both users exist");
}

#[actix_web::test]
async fn user_create_refuses_an_unknown_role() {
    let database = fresh_database().await;
    let out = user_create(&database.url, "x@example.com", "pope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown role");
}

/// token create prints the token and nothing else on stdout; the token opens the API and
/// stays out of the request log.
#[actix_web::test]
async fn a_token_from_token_create_opens_the_api_and_stays_out_of_the_log() {
    let database = fresh_database().await;
    let server = Server::start(&database.url);
    succeeded(&mut user_create(&database.url, "rep@example.com", "rep"));
    let out = succeeded(cairn(&database.url).args([
        "token",
        "create",
        "--email",
        "rep@example.com",
        "--name",
        "zapier",
    ]));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let token = stdout.trim();
    assert!(token.starts_with("cairn_"));
    let auth = format!("Bearer {token}");
    let (status, _) = server.request("GET", "/api/v1/contacts", &[("Authorization", &auth)]);
    assert_eq!(status, 200);
    let log = server.log_with("path=\"/api/v1/contacts\"");
    assert!(!log.contains(token), "secrets stay out of the log");
    assert!(
        log.contains("/api/v1/contacts") && log.contains("status=200"),
        "request log: {log}"
    );
}

#[actix_web::test]
async fn setup_closes_once_a_user_exists_and_its_link_is_not_logged() {
    let database = fresh_database().await;
    let server = Server::start(&database.url);
    succeeded(&mut user_create(&database.url, "ops@example.com", "admin"));
    let log = server.log();
    let token_in_log = log
        .split("token=")
        .nth(1)
        .expect("the setup link is printed")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (status, _) = server.request("GET", &format!("/setup?token={token_in_log}"), &[]);
    assert_eq!(status, 404);
    let log = server.log_with("path=\"/setup\"");
    assert!(
        !log.contains(&format!("/setup?token={token_in_log} ")),
        "query strings are not logged: {log}"
    );
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
