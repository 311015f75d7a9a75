//! The real `cairn serve` killed with SIGKILL while signed events stream in: after a
//! restart, every event that was answered 2xx is applied exactly once.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn::entities::activity;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::cli::Server;
use crate::stripe_in::{SECRET, events, invoice_paid, now, stripe_app, stripe_header};

/// POSTs one signed event; the status, or an error when the server is gone.
fn post(port: u16, body: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let header = stripe_header(SECRET, now(), body);
    write!(
        s,
        "POST /webhooks/stripe HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Stripe-Signature: {header}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    out.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))
}

/// Four senders post new events until the server stops answering; returns the ids
/// answered 2xx.
fn stream(port: u16, acked: Arc<AtomicUsize>, gone: Arc<AtomicBool>) -> Vec<String> {
    let ok = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let (ok, acked, gone) = (ok.clone(), acked.clone(), gone.clone());
            std::thread::spawn(move || {
                for n in 0..5000 {
                    let id = format!("evt_k{s}_{n}");
                    let body = invoice_paid(&id, &format!("cus_{s}"), "", 100, "usd", now());
                    match post(port, &body) {
                        Ok(status) if (200..300).contains(&status) => {
                            ok.lock().unwrap().push(id);
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(status) => panic!("{id} answered {status}"),
                        Err(_) if gone.load(Ordering::SeqCst) => return,
                        Err(e) => panic!("{id}: {e}"),
                    }
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    ok.lock().unwrap().clone()
}

#[actix_web::test]
async fn every_event_acknowledged_before_a_sigkill_is_applied_once_after_the_restart() {
    let (app, _) = stripe_app().await;
    let env = [("CAIRN_STRIPE_WEBHOOK_SECRET", SECRET)];
    let mut server = Server::start_with(&app.url, &env);
    let (acked, gone) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let port = server.port;
    let sending = {
        let (acked, gone) = (acked.clone(), gone.clone());
        std::thread::spawn(move || stream(port, acked, gone))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.load(Ordering::SeqCst) < 300 {
        assert!(
            Instant::now() < deadline,
            "300 events were not acknowledged in a minute"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    gone.store(true, Ordering::SeqCst);
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    server.child.wait().unwrap();
    let ok = sending.join().unwrap();
    // The killed process's claimed jobs come back when their lease (5 minutes) runs out;
    // the test ends those leases now rather than waiting for them.
    let leases = "UPDATE jobs SET run_after = created_at WHERE state = 'running'";
    crate::support::exec(&app.db, leases).await;
    let restarted = Server::start_with(&app.url, &env);
    let deadline = Instant::now() + Duration::from_secs(60);
    while events(&app.db)
        .await
        .iter()
        .any(|e| e.status != "processed")
    {
        assert!(
            Instant::now() < deadline,
            "events left unapplied after the restart: {}",
            restarted.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored = events(&app.db).await;
    let payments: Vec<String> = activity::Entity::find()
        .filter(activity::Column::Kind.eq("payment"))
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.body)
        .collect();
    assert_eq!(
        payments.len(),
        stored.len(),
        "one payment per stored event, none twice"
    );
    for id in &ok {
        let invoice = format!("invoice in_{id})");
        let n = payments.iter().filter(|p| p.contains(&invoice)).count();
        assert_eq!(n, 1, "{id} was acknowledged, and applied {n} times");
    }
    assert!(ok.len() >= 300, "{} acknowledged", ok.len());
}
