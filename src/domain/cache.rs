//! Short-lived caches kept per database handle: the active users and custom field
//! definitions, read once per few seconds instead of once per request. Changes made
//! through this process clear them at once; another process sharing the database sees
//! them within `TTL`. Sessions and API tokens are kept apart, under a generation every
//! process sees at once (`credentials`): signing out must end a session in every process
//! on its next request.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(5);
const CAPACITY: usize = 10_000;

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    /// Keys being built by `get_or_build` (as `CounterCache::flights`).
    flights: Flights<K>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> TtlCache<K, V> {
    pub fn new() -> Self {
        Self::lasting(TTL, CAPACITY)
    }

    /// Entries kept `ttl`, at most `capacity` of them: when full, the expired ones go,
    /// and if none had, all of them.
    pub fn lasting(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
    }

    pub fn remove(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The kept value, or one `build` makes and this keeps; requests that miss the same
    /// key at the same moment build it once, as `CounterCache::get_or_build` does.
    pub async fn get_or_build<E, F, Fut>(&self, key: K, build: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let flight = Flight::join(&self.flights, key.clone());
        let _turn = flight.turn().await;
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let v = build().await?;
        self.insert(key, v.clone());
        Ok(v)
    }

    /// Keys being built or waited for now (for tests: none once every request is done).
    pub fn flights(&self) -> usize {
        self.flights.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Default)]
pub struct AuthCache {
    /// The active users, for owner pickers.
    pub active_users: TtlCache<(), Vec<crate::domain::users::Person>>,
    /// Custom field definitions per record type (read on every create and edit).
    pub custom_fields: TtlCache<String, Vec<crate::domain::custom_fields::Field>>,
}

impl AuthCache {
    /// After any change to users or custom fields.
    pub fn forget(&self) {
        self.active_users.clear();
        self.custom_fields.clear();
    }
}

/// Values built from tables a trigger-kept change counter watches (see the
/// `change_counters` migration). An entry is good while the counter still reads what it
/// read before the value was built, whichever process made the change; there is no TTL.
///
/// A change retires every entry at once, and then everyone who had the page open asks
/// again: `get_or_build` lets the first request for a key build it while the others wait
/// for that one build (single flight), instead of each running the same statements.
pub struct CounterCache<K, V> {
    entries: Mutex<HashMap<K, (i64, Arc<V>)>>,
    /// Per key being built, the lock its builder holds. An entry lives as long as someone
    /// holds or waits for it (see `Flight`), so the map never outgrows the requests.
    flights: Flights<K>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> CounterCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        CounterCache {
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The value kept for `key`, built when the counter read `counter` or later (a later
    /// build saw at least as much as this reader would).
    pub fn get(&self, key: &K, counter: i64) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| *at >= counter)
            .map(|(_, v)| v.clone())
    }

    /// Keeps `value`, built after the counter read `counter`, unless a newer build is kept.
    pub fn insert(&self, key: K, counter: i64, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.get(&key).is_some_and(|(at, _)| *at > counter) {
            return;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, (at, _)| *at >= counter);
            // Still full of current values: one makes room. Clearing them all made one
            // request in `capacity` free every kept board at once (a latency spike) and
            // the next ones rebuild the popular boards.
            if entries.len() >= self.capacity
                && let Some(old) = entries.keys().next().cloned()
            {
                entries.remove(&old);
            }
        }
        entries.insert(key, (counter, value));
    }

    /// The kept value, or one `build` makes and this keeps. Requests for the same key
    /// that miss at the same moment build it once: the first builds, the rest wait for
    /// it and take what it kept. A build that fails keeps nothing and the next waiter
    /// builds in turn, so an error is never handed to the others or remembered.
    pub async fn get_or_build<E, F, Fut>(&self, key: K, counter: i64, build: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.get(&key, counter) {
            return Ok(v);
        }
        self.build_once(key, counter, || counter, build).await
    }

    /// A value built after the request that took `asked` (a `tick`) came, for values no
    /// request may take from before it came (an exact count must count the writes
    /// committed before it was asked). Requests for the same key at the same moment share
    /// one build: one builds while the others wait; those that came before it began take
    /// its value, those that came during it share the next. So a crowd costs two runs,
    /// not one each, and a lone request one, as without this.
    pub async fn shared_since<E, F, Fut>(&self, key: K, asked: i64, build: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        self.build_once(key, asked, tick, build).await
    }

    /// The value kept for `key` at `counter` or later once no one else is building it,
    /// or `build`'s, kept at the counter `began` says as it begins.
    async fn build_once<E, F, Fut>(
        &self,
        key: K,
        counter: i64,
        began: impl FnOnce() -> i64,
        build: F,
    ) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        let flight = Flight::join(&self.flights, key.clone());
        let _turn = flight.turn().await;
        if let Some(v) = self.get(&key, counter) {
            return Ok(v);
        }
        let at = began();
        let v = Arc::new(build().await?);
        self.insert(key, at, v.clone());
        Ok(v)
    }

    /// Keys being built or waited for now (for tests: none once every request is done).
    pub fn flights(&self) -> usize {
        self.flights.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The process's clock for `CounterCache::shared_since`: each call answers a larger
/// number than every call before it, in any thread. Acquire and release, so that
/// whatever a thread did before its tick (committing a write) happened before what
/// another does after a later one (a count's statement).
static TICKS: AtomicI64 = AtomicI64::new(0);

pub fn tick() -> i64 {
    TICKS.fetch_add(1, Ordering::AcqRel)
}

/// One request's part in a key's flight. Every clone and drop of the key's lock happens
/// under the map's mutex, so the last one out sees itself alone and removes the entry,
/// also when its request is cancelled mid-build (the future is dropped).
struct Flight<'a, K: Hash + Eq> {
    flights: &'a Flights<K>,
    key: K,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
}

type Flights<K> = Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>;

impl<'a, K: Hash + Eq + Clone> Flight<'a, K> {
    fn join(flights: &'a Flights<K>, key: K) -> Self {
        let lock = flights
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        Flight {
            flights,
            key,
            lock: Some(lock),
        }
    }

    /// Waits until no one else is building the key.
    async fn turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

impl<K: Hash + Eq> Drop for Flight<'_, K> {
    fn drop(&mut self) {
        let mut map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        drop(self.lock.take());
        if map
            .get(&self.key)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            map.remove(&self.key);
        }
    }
}
