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
