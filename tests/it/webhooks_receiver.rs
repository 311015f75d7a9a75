//! A real HTTP receiver for webhook tests: a small server on a loopback port that checks
//! each delivery's `Cairn-Signature` itself (HMAC-SHA256 of "t.body", Stripe's scheme,
//! written here independently of the product's code), records what it got, and answers
//! what the test tells it to (a status, or a redirect).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use cairn::domain::Db;
use cairn::domain::webhooks::{self, endpoints};
use cairn::jobs::{Clock, Options, Runner, Running, kinds};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Got {
    pub headers: HashMap<String, String>,
    pub body: String,
    /// The signature matched the body under the secret, within five minutes.
    pub signed: bool,
}

impl Got {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

#[derive(Default)]
struct Inner {
    got: Vec<Got>,
    secret: String,
    /// Answers for the next requests, in order; then `status`.
    plan: Vec<u16>,
    status: u16,
    location: Option<String>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Starts a receiver answering 200 on a free loopback port.
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Mutex::new(Inner {
            status: 200,
            ..Default::default()
        }));
        let shared = inner.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            inner,
        }
    }

    pub fn expect_secret(&self, secret: &str) {
        self.inner.lock().unwrap().secret = secret.to_string();
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: u16) {
        self.inner.lock().unwrap().status = status;
    }

    /// Answers each of `statuses` once, in order, before the usual answer.
    pub fn then_answer(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().plan = statuses.to_vec();
    }

    /// Answers 302 to `location` from now on.
    pub fn redirect_to(&self, location: &str) {
        let mut i = self.inner.lock().unwrap();
        i.status = 302;
        i.location = Some(location.to_string());
    }

    pub fn got(&self) -> Vec<Got> {
        self.inner.lock().unwrap().got.clone()
    }

    /// Waits (up to 20 s) until `n` requests arrived; all of them.
    pub async fn wait_for(&self, n: usize) -> Vec<Got> {
        let deadline = Instant::now() + StdDuration::from_secs(20);
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} requests, not {n}: {got:?}",
                got.len()
            );
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    }
}

/// Reads one request, records it, answers.
async fn serve(mut stream: TcpStream, inner: Arc<Mutex<Inner>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
    let (status, location) = {
        let mut i = inner.lock().unwrap();
        let signed = verify(headers.get("cairn-signature"), &body, &i.secret);
        i.got.push(Got {
            headers,
            body,
            signed,
        });
        let status = if i.plan.is_empty() {
            i.status
        } else {
            i.plan.remove(0)
        };
        (status, i.location.clone())
    };
    let reply = format!("{{\"received\":{status}}}");
    let location = location
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 {status} X\r\n{location}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Stripe's check: `t=…,v1=…`, v1 = hex HMAC-SHA256 of "t.body", t within 5 minutes.
fn verify(header: Option<&String>, body: &str, secret: &str) -> bool {
    let Some(header) = header else { return false };
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    sigs.contains(&expected)
}

/// The job workers with the webhook job; `allow_private` as CAIRN_WEBHOOKS_ALLOW_PRIVATE.
pub fn runner(db: &Db, clock: &Clock, allow_private: bool) -> Running {
    let hooks = Arc::new(webhooks::Env::new(allow_private, "https://crm.example.com"));
    let registry = kinds::registry_with(Arc::new(cairn::mail::Env::default()), hooks);
    let options = Options {
        workers: 2,
        poll: StdDuration::from_millis(20),
        clock: clock.clone(),
        ..Default::default()
    };
    Runner::new(db.clone(), registry, options).start()
}

/// An endpoint for `url` subscribed to `events`, made by a new admin; its id and secret.
pub async fn endpoint(app: &TestApp, url: &str, kind: &str, events: &[&str]) -> (i64, String) {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let admin = app.user(&format!("hooks-{n}@example.com"), "admin").await;
    let input = endpoints::EndpointInput {
        url: url.into(),
        kind: kind.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
    };
    let (e, secret) = endpoints::create(&app.db, &admin, &input).await.unwrap();
    (e.id, secret)
}

/// The deliveries of endpoint `id`, oldest first.
pub async fn deliveries(db: &Db, id: i64) -> Vec<cairn::entities::webhook_delivery::Model> {
    use cairn::entities::webhook_delivery as d;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    d::Entity::find()
        .filter(d::Column::EndpointId.eq(id))
        .order_by_asc(d::Column::Id)
        .all(&db.read)
        .await
        .unwrap()
}

/// Waits (up to 20 s) until delivery `id` satisfies `done`; the delivery.
pub async fn wait_delivery(
    db: &Db,
    id: i64,
    what: &str,
    done: impl Fn(&cairn::entities::webhook_delivery::Model) -> bool,
) -> cairn::entities::webhook_delivery::Model {
    use cairn::entities::webhook_delivery as d;
    use sea_orm::EntityTrait;
    let deadline = Instant::now() + StdDuration::from_secs(20);
    loop {
        let row = d::Entity::find_by_id(id)
            .one(&db.read)
            .await
            .unwrap()
            .unwrap();
        if done(&row) {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "delivery {id} never became {what}: {row:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}
