//! Two `cairn serve` processes on one database behind a real load balancer (Debian's
//! haproxy, round-robin, one request per connection, so each request goes to the other
//! process): a session signed in through one works on the other, a deal moved through one
//! is on the board the other serves next, a deactivated user is refused by both, login
//! throttling counts across both, and Stripe events are applied exactly once.
//! scripts/test installs haproxy; without it these tests fail, saying so.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cairn::domain::{Db, signature};
use serde_json::{Value, json};

use crate::cli::{Server, free_port};
use crate::support::*;

/// The two processes, the balancer in front, and the database they share.
struct Cluster {
    db: Db,
    servers: [Server; 2],
    port: u16,
    _balancer: Balancer,
    _database: TempDatabase,
}

struct Balancer(Child);

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const SECRET: &str = "whsec_scale_out_test";

async fn cluster() -> Cluster {
    let database = migrated_database().await;
    let db = Db::connect(&database.url).await.unwrap();
    let env = [
        ("CAIRN_STRIPE_WEBHOOK_SECRET", SECRET),
        ("CAIRN_LOG", "info"),
    ];
    let servers = [
        Server::start_with(&database.url, &env),
        Server::start_with(&database.url, &env),
    ];
    let port = free_port();
    let config = format!(
        "defaults\n  mode http\n  option httpclose\n  timeout connect 2s\n  timeout client 30s\n  \
         timeout server 30s\nfrontend cairn\n  bind 127.0.0.1:{port}\n  default_backend both\n\
         backend both\n  balance roundrobin\n  server a 127.0.0.1:{}\n  server b 127.0.0.1:{}\n",
        servers[0].port, servers[1].port
    );
    let file = std::env::temp_dir().join(format!("cairn-haproxy-{port}.cfg"));
    std::fs::write(&file, config).unwrap();
    let child = Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("the scale-out tests need haproxy (scripts/test installs it): {e}")
        });
    let balancer = Balancer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "haproxy did not start on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    Cluster {
        db,
        servers,
        port,
        _balancer: balancer,
        _database: database,
    }
}

/// An answer: status, headers (lower-case names) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Cluster {
    /// One request through the balancer, on a connection of its own.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
            .collect();
        Answer {
            status,
            headers,
            body: body.to_string(),
        }
    }

    fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Answer {
        let bearer = format!("Bearer {token}");
        let mut headers = vec![("Authorization", bearer.as_str())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.send(method, path, &headers, &body)
    }

    /// Signs in through the balancer as a browser does (the form, its CSRF token, the
    /// session cookie): the cookie, or the refusal's status.
    fn sign_in(&self, email: &str, password: &str) -> Result<String, u16> {
        let form = self.send("GET", "/login", &[], "");
        let cookie = session_cookie(&form).expect("the sign-in form starts a session");
        let csrf = csrf_in(&form.body).expect("the sign-in form has its CSRF token");
        let body = serde_html_form::to_string([
            ("email", email),
            ("password", password),
            ("_csrf", &csrf),
        ])
        .unwrap();
        let cookie_header = format!("cairn_session={cookie}");
        let res = self.send(
            "POST",
            "/login",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Cookie", &cookie_header),
            ],
            &body,
        );
        match res.status {
            303 => Ok(session_cookie(&res).unwrap_or(cookie)),
            other => Err(other),
        }
    }

    /// Whether each process has logged a request for `path` (requests alternate, so a
    /// test's requests reached both).
    fn both_served(&self, path: &str) -> bool {
        let logged = format!("path=\"{path}\"");
        self.servers
            .iter()
            .all(|s| s.log_with(&logged).contains(&logged))
    }
}

fn session_cookie(res: &Answer) -> Option<String> {
    res.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .find_map(|(_, v)| v.strip_prefix("cairn_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .filter(|v| !v.is_empty())
}

async fn user_with_token(db: &Db, email: &str, role: &str) -> (i64, String) {
    let user = create_user(db, email, role).await;
    (user.id, create_token(db, email, "write", "").await)
}

#[actix_web::test]
async fn a_session_works_on_both_and_a_moved_deal_is_on_the_other_s_board() {
    let c = cluster().await;
    let (_, token) = user_with_token(&c.db, "ana@example.com", "admin").await;
    let cookie = format!(
        "cairn_session={}",
        c.sign_in("ana@example.com", PASSWORD).unwrap()
    );
    for _ in 0..2 {
        let board = c.send("GET", "/deals", &[("Cookie", &cookie)], "");
        assert_eq!(
            board.status, 200,
            "the session holds on each process: {}",
            board.body
        );
    }
    let pipelines = c.api("GET", "/api/v1/pipelines", &token, None).json();
    let stages = pipelines[0]["stages"].as_array().unwrap();
    let deal = c.api(
        "POST",
        "/api/v1/deals",
        &token,
        Some(json!({"title": "Balanced pilot"})),
    );
    assert_eq!(deal.status, 201, "{}", deal.body);
    let id = deal.json()["id"].as_i64().unwrap();
    let to = &stages[2];
    let path = format!("/api/v1/deals/{id}/move");
    let moved = c.api(
        "POST",
        &path,
        &token,
        Some(json!({"stage_id": to["id"], "version": 1})),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    // The next two board views are served one by each process.
    for _ in 0..2 {
        let board = c.send("GET", "/deals", &[("Cookie", &cookie)], "");
        let card = format!(
            "data-id=\"{id}\" data-version=\"2\" data-stage=\"{}\"",
            to["id"]
        );
        assert!(
            board.body.contains(&card),
            "the deal is in {} on this process's board",
            to["name"]
        );
    }
    assert!(
        c.both_served("/deals"),
        "the balancer sent requests to both processes"
    );
}

#[actix_web::test]
async fn a_user_deactivated_through_one_is_refused_by_both() {
    let c = cluster().await;
    user_with_token(&c.db, "admin@example.com", "admin").await;
    let (rep, rep_token) = user_with_token(&c.db, "rep@example.com", "rep").await;
    let admin = format!(
        "cairn_session={}",
        c.sign_in("admin@example.com", PASSWORD).unwrap()
    );
    let page = c.send("GET", "/settings/users", &[("Cookie", &admin)], "");
    let csrf = csrf_in(&page.body).expect("the users page has its CSRF token");
    let body = serde_html_form::to_string([("_csrf", csrf.as_str())]).unwrap();
    let path = format!("/settings/users/{rep}/deactivate");
    let headers = [
        ("Cookie", admin.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let done = c.send("POST", &path, &headers, &body);
    assert!(done.status == 303 || done.status == 200, "{}", done.body);
    // Documented: at once on PostgreSQL, within 5 s on SQLite.
    let deadline = Instant::now() + Duration::from_secs(6);
    let mut refused = 0;
    while refused < 2 {
        let res = c.api("GET", "/api/v1/contacts", &rep_token, None);
        refused = if res.status == 401 { refused + 1 } else { 0 };
        assert!(
            Instant::now() < deadline,
            "a process still lets the deactivated rep in"
        );
    }
}

#[actix_web::test]
async fn login_throttling_counts_across_both_processes() {
    let c = cluster().await;
    user_with_token(&c.db, "bea@example.com", "rep").await;
    for n in 0..cairn::domain::auth::FREE_PER_ACCOUNT {
        assert_eq!(
            c.sign_in("bea@example.com", "wrong"),
            Err(401),
            "failure {n} is refused"
        );
    }
    assert_eq!(
        c.sign_in("bea@example.com", PASSWORD),
        Err(429),
        "past the free failures, both processes make the next try wait"
    );
}

#[actix_web::test]
async fn stripe_events_through_both_are_applied_exactly_once() {
    let c = cluster().await;
    user_with_token(&c.db, "owner@example.com", "admin").await;
    let now = crate::stripe_in::now();
    let events = 20;
    for n in 0..events {
        let body = crate::stripe_in::invoice_paid(
            &format!("evt_lb_{n}"),
            &format!("cus_lb_{n}"),
            &format!("payer{n}@example.com"),
            1000,
            "usd",
            now,
        );
        let sig = signature::header(SECRET, now, body.as_bytes());
        let headers = [
            ("Stripe-Signature", sig.as_str()),
            ("Content-Type", "application/json"),
        ];
        // Each event twice: Stripe retries, and the retry lands on the other process.
        for _ in 0..2 {
            let res = c.send("POST", "/webhooks/stripe", &headers, &body);
            assert_eq!(res.status, 200, "{}", res.body);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let processed = " WHERE status = 'processed'";
    let app_db = &c.db;
    loop {
        let n = count_where(app_db, "stripe_events", processed).await;
        if n == events {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{n} of {events} events processed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count_where(app_db, "stripe_events", "").await,
        events,
        "each stored once"
    );
    assert_eq!(
        count_where(app_db, "activities", " WHERE kind = 'payment'").await,
        events,
        "each payment recorded once"
    );
}

async fn count_where(db: &Db, table: &str, filter: &str) -> i64 {
    let row = sea_orm::ConnectionTrait::query_one_raw(
        &db.read,
        sea_orm::Statement::from_string(
            db.backend(),
            format!("SELECT COUNT(*) AS n FROM {table}{filter}"),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[actix_web::test]
async fn jobs_are_run_once_by_one_of_the_two_processes() {
    use cairn::jobs::queue::{NewJob, enqueue_many};
    let c = cluster().await;
    let jobs: Vec<NewJob> = (0..300)
        .map(|n| NewJob::new(cairn::jobs::kinds::NOOP, json!({ "n": n })))
        .collect();
    enqueue_many(&c.db.write, &jobs).await.unwrap();
    // Both processes poll the queue (every 250 ms) and claim what is due.
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = " WHERE kind = 'noop' AND state = 'done'";
    while count_where(&c.db, "jobs", done).await < 300 {
        assert!(Instant::now() < deadline, "the jobs were not all run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = " WHERE kind = 'noop' AND attempts <> 1";
    assert_eq!(
        count_where(&c.db, "jobs", again).await,
        0,
        "no job was claimed twice"
    );
}
