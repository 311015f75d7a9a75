//! Short-lived caches kept per database handle: API tokens' owners, the active users and
//! custom field definitions, read once per few seconds instead of once per request.
//! Changes made through this process clear them at once; another process sharing a
//! PostgreSQL database sees them within `TTL`. Browser sessions are not cached: signing
//! out must end a session in every process on its next request.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::Actor;

pub const TTL: Duration = Duration::from_secs(5);
const CAPACITY: usize = 10_000;

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    pub fn new() -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(v, _)| v.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, at)| at.elapsed() < TTL);
            if entries.len() >= CAPACITY {
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
}

impl<K: Hash + Eq, V: Clone> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Default)]
pub struct AuthCache {
    /// Token hash → its owner.
    pub tokens: TtlCache<String, Actor>,
    /// The active users, for owner pickers.
    pub active_users: TtlCache<(), Vec<crate::domain::users::Person>>,
    /// Custom field definitions per record type (read on every create and edit).
    pub custom_fields: TtlCache<String, Vec<crate::domain::custom_fields::Field>>,
}

impl AuthCache {
    /// After any change to users or tokens.
    pub fn forget(&self) {
        self.tokens.clear();
        self.active_users.clear();
        self.custom_fields.clear();
    }
}

/// Values built from tables a trigger-kept change counter watches (see the
/// `change_counters` migration). An entry is good while the counter still reads what it
/// read before the value was built, whichever process made the change; there is no TTL.
pub struct CounterCache<K, V> {
    entries: Mutex<HashMap<K, (i64, Arc<V>)>>,
    capacity: usize,
}

impl<K: Hash + Eq, V> CounterCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        CounterCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub fn get(&self, key: &K, counter: i64) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| *at == counter)
            .map(|(_, v)| v.clone())
    }

    pub fn insert(&self, key: K, counter: i64, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, (at, _)| *at == counter);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (counter, value));
    }
}
