//! Identical list counts asked at the same moment run once: an estimated total (kept a
//! minute, `TtlCache::get_or_build`) and the exact count of a list filtered on linked
//! records (never kept: `CounterCache::shared_since` hands a count only to requests that
//! came before it began, so a list read after a write counts it).
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn::domain::cache::{CounterCache, TtlCache, tick};
use cairn::domain::contacts::{self, ListParams};
use futures_util::future::join_all;
use serde_json::json;

use crate::support::TestApp;

/// A build that counts itself and gives the other requests time to arrive.
async fn counted(builds: &AtomicUsize, value: u64) -> Result<u64, String> {
    builds.fetch_add(1, Ordering::SeqCst);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    Ok(value)
}

#[actix_web::test]
async fn an_estimate_asked_by_many_at_once_is_sampled_once() {
    let cache = TtlCache::<&str, u64>::lasting(std::time::Duration::from_secs(60), 8);
    let builds = AtomicUsize::new(0);
    let asks = (0..20).map(|_| cache.get_or_build("source=paid", || counted(&builds, 93_000)));
    let got = join_all(asks).await;
    assert_eq!(builds.load(Ordering::SeqCst), 1, "one sample for 20 lists");
    assert!(got.iter().all(|n| *n == Ok(93_000)), "all get it: {got:?}");
    assert_eq!(cache.flights(), 0, "no build is left in the map");
}

#[actix_web::test]
async fn a_count_asked_by_many_at_once_runs_once() {
    let cache = CounterCache::<&str, u64>::new(8);
    let builds = AtomicUsize::new(0);
    let asks = (0..20).map(|_| {
        let asked = tick();
        cache.shared_since("tags=vip", asked, || counted(&builds, 7))
    });
    let got = join_all(asks).await;
    assert_eq!(builds.load(Ordering::SeqCst), 1, "one count for 20 lists");
    assert!(got.iter().all(|n| n.as_deref() == Ok(&7)), "all get it");
    assert_eq!(cache.flights(), 0, "no build is left in the map");
}

/// A request that comes while a count runs may have just written: it waits and shares
/// the next count with the others that came meanwhile.
#[actix_web::test]
async fn a_count_begun_before_a_request_came_is_not_handed_to_it() {
    let cache = CounterCache::<&str, u64>::new(8);
    let builds = AtomicUsize::new(0);
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first = cache.shared_since("tags=vip", tick(), || async {
        builds.fetch_add(1, Ordering::SeqCst);
        let _ = released.await;
        Ok::<u64, String>(1)
    });
    let later = async {
        // The first count has begun when these two ask.
        while builds.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let asks = [tick(), tick()]
            .map(|asked| cache.shared_since("tags=vip", asked, || counted(&builds, 2)));
        let _ = release.send(());
        join_all(asks).await
    };
    let (first, later) = tokio::join!(first, later);
    assert_eq!(first.as_deref(), Ok(&1));
    for n in &later {
        assert_eq!(
            n.as_deref(),
            Ok(&2),
            "a later request gets the count begun after it came"
        );
    }
    assert_eq!(
        builds.load(Ordering::SeqCst),
        2,
        "the two later requests share one count"
    );
    let next = cache
        .shared_since("tags=vip", tick(), || counted(&builds, 3))
        .await;
    assert_eq!(
        next.as_deref(),
        Ok(&3),
        "a count is not kept for the next request"
    );
}

/// Through the list itself: a tagged list asked by many at once gives every one the same
/// exact total, and the next one, after a write, counts the write.
#[actix_web::test]
async fn a_tagged_list_asked_at_once_shares_its_count_and_then_counts_a_write() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    for name in ["Ana", "Ben"] {
        c.create(
            "/api/v1/contacts",
            &token,
            json!({"first_name": name, "last_name": "V", "tags": ["vip"]}),
        )
        .await;
    }
    let actor = app.user("lists@example.com", "admin").await;
    let q = ListParams::from_query("tags=vip")
        .and_then(|p| p.validate(25))
        .expect("a valid list");
    let lists = join_all((0..8).map(|_| contacts::list(&app.db, &actor, &q))).await;
    for page in &lists {
        let total = page.as_ref().map(|p| p.total).map_err(|e| e.to_string());
        assert_eq!(total, Ok(2), "every list counts the two vip contacts");
    }
    assert_eq!(
        app.db.link_counts.flights(),
        0,
        "no count is left in the map"
    );
    c.create(
        "/api/v1/contacts",
        &token,
        json!({"first_name": "Cy", "last_name": "V", "tags": ["vip"]}),
    )
    .await;
    let after = contacts::list(&app.db, &actor, &q).await.map(|p| p.total);
    assert_eq!(
        after.map_err(|e| e.to_string()),
        Ok(3),
        "the next list counts the new contact"
    );
}
