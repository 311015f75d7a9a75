//! The counter cache behind the board and the deal table builds a value once when many
//! ask for it at the same moment (single flight), and a failed or abandoned build leaves
//! nothing behind.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn::domain::cache::CounterCache;
use futures_util::future::join_all;

/// A build that counts itself and gives the other requests time to arrive.
async fn counted(builds: &AtomicUsize, value: u32) -> Result<u32, String> {
    builds.fetch_add(1, Ordering::SeqCst);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    Ok(value)
}

#[actix_web::test]
async fn many_requests_for_one_key_at_once_build_it_once() {
    let cache = CounterCache::<&str, u32>::new(8);
    let builds = AtomicUsize::new(0);
    let asks = (0..20).map(|_| cache.get_or_build("board", 7, || counted(&builds, 42)));
    let got = join_all(asks).await;
    assert_eq!(
        builds.load(Ordering::SeqCst),
        1,
        "one build for 20 requests"
    );
    assert!(got.iter().all(|v| v.as_deref() == Ok(&42)), "all get it");
    assert_eq!(cache.flights(), 0, "no build is left in the map");
}

#[actix_web::test]
async fn different_keys_build_each_their_own() {
    let cache = CounterCache::<u32, u32>::new(8);
    let builds = &AtomicUsize::new(0);
    let asks = (0..6).map(|i| cache.get_or_build(i % 3, 1, move || counted(builds, i % 3)));
    let got = join_all(asks).await;
    assert_eq!(builds.load(Ordering::SeqCst), 3, "one build per key");
    for (i, v) in got.iter().enumerate() {
        assert_eq!(
            v.as_deref(),
            Ok(&(i as u32 % 3)),
            "request {i} gets its key's value"
        );
    }
    assert_eq!(cache.flights(), 0);
}

#[actix_web::test]
async fn a_moved_counter_builds_again() {
    let cache = CounterCache::<&str, u32>::new(8);
    let builds = AtomicUsize::new(0);
    cache
        .get_or_build("board", 1, || counted(&builds, 1))
        .await
        .unwrap();
    let kept = cache.get_or_build("board", 1, || counted(&builds, 9)).await;
    assert_eq!(kept.as_deref(), Ok(&1), "the same counter is a hit");
    let fresh = cache.get_or_build("board", 2, || counted(&builds, 2)).await;
    assert_eq!(fresh.as_deref(), Ok(&2), "a change retires the kept value");
    assert_eq!(builds.load(Ordering::SeqCst), 2);
}

#[actix_web::test]
async fn a_failed_build_is_not_handed_on_and_the_next_waiter_builds() {
    let cache = CounterCache::<&str, u32>::new(8);
    let builds = AtomicUsize::new(0);
    let failing = cache.get_or_build("board", 3, || async {
        builds.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Err::<u32, String>("database gone".into())
    });
    let waiting = cache.get_or_build("board", 3, || counted(&builds, 5));
    let (failed, waited) = tokio::join!(failing, waiting);
    assert_eq!(failed.err().as_deref(), Some("database gone"));
    assert_eq!(
        waited.as_deref(),
        Ok(&5),
        "the waiter built its own after the failure"
    );
    assert_eq!(builds.load(Ordering::SeqCst), 2);
    assert_eq!(cache.flights(), 0, "the failure left nothing behind");
}

#[actix_web::test]
async fn an_abandoned_build_leaves_nothing_behind() {
    let cache = Arc::new(CounterCache::<&str, u32>::new(8));
    let builds = AtomicUsize::new(0);
    {
        // A request whose client went away: its future is dropped mid-build.
        let never = cache.get_or_build("board", 4, || async {
            builds.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<Result<u32, String>>().await
        });
        let started = tokio::time::timeout(std::time::Duration::from_millis(20), never).await;
        assert!(started.is_err(), "the build never finishes");
    }
    assert_eq!(
        cache.flights(),
        0,
        "dropping the request removed its flight"
    );
    let next = cache.get_or_build("board", 4, || counted(&builds, 8)).await;
    assert_eq!(next.as_deref(), Ok(&8), "the next request builds");
}

/// The amount filters' bounds are whole units of each deal's currency, inclusive at both
/// ends (USD in cents, JPY in yen), on the table and on the board alike.
#[actix_web::test]
async fn amount_bounds_are_inclusive_in_each_currencys_whole_units() {
    use actix_web::http::Method;
    let app = crate::support::TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for (title, amount, currency) in [
        ("usd 9.99", 999, "USD"),
        ("usd 10", 1000, "USD"),
        ("usd 50", 5000, "USD"),
        ("usd 50.01", 5001, "USD"),
        ("jpy 9", 9, "JPY"),
        ("jpy 10", 10, "JPY"),
        ("jpy 50", 50, "JPY"),
        ("jpy 51", 51, "JPY"),
        ("jpy 5000", 5000, "JPY"),
    ] {
        let body = serde_json::json!({"title": title, "amount": amount, "currency": currency});
        c.api_ok(Method::POST, "/api/v1/deals", &token, Some(body))
            .await;
    }
    let mut listed = c
        .titles("/api/v1/deals?min_amount=10&max_amount=50", &token)
        .await;
    listed.sort();
    assert_eq!(
        listed,
        ["jpy 10", "jpy 50", "usd 10", "usd 50"],
        "the table"
    );
    let q = cairn::domain::deals::BoardParams {
        min_amount: Some("10".into()),
        max_amount: Some("50".into()),
        ..Default::default()
    };
    // The board reads no actor's rights; any signed-in rep sees the same.
    let actor = cairn::domain::Actor {
        id: 1,
        name: String::new(),
        email: String::new(),
        role: cairn::domain::Role::Rep,
        ip: None,
    };
    let board = cairn::domain::deals::board(&app.db, &actor, &q.validate().unwrap())
        .await
        .unwrap();
    let mut shown: Vec<&str> = board.columns[0]
        .cards
        .iter()
        .map(|d| d.title.as_str())
        .collect();
    shown.sort();
    assert_eq!(shown, ["jpy 10", "jpy 50", "usd 10", "usd 50"], "the board");
    assert_eq!(board.columns[0].count, 4, "the board's count");
}
