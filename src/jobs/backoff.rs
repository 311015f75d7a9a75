//! When a failed job runs again: exponential backoff with jitter. With the defaults the
//! first retry comes after about 11 minutes and each wait doubles, so 8 attempts span
//! about a day (11 + 22 + … + 704 minutes ≈ 23 hours), and jitter keeps jobs that failed
//! together (a mail server down) from all retrying in the same second.
use chrono::Duration;

/// Attempts a job gets unless it is enqueued with another number.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;
/// The wait after the first failed attempt, before jitter.
pub const FIRST_WAIT_SECONDS: i64 = 11 * 60;
/// Jitter: the wait is scaled by a random factor in 1 ± this.
pub const JITTER: f64 = 0.2;

/// The wait after failed attempt number `attempt` (1 for the first), given `unit`, a
/// random number in [0, 1) (a parameter so tests can pin it).
pub fn delay(attempt: i32, unit: f64) -> Duration {
    let doublings = (attempt.max(1) - 1).min(20) as u32;
    let base = FIRST_WAIT_SECONDS.saturating_mul(1i64 << doublings);
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0);
    Duration::milliseconds((base as f64 * 1000.0 * factor) as i64)
}

/// The shortest and longest wait after failed attempt `attempt`.
pub fn bounds(attempt: i32) -> (Duration, Duration) {
    (delay(attempt, 0.0), delay(attempt, 1.0))
}

/// A random number in [0, 1) for the jitter; a failed random source gives no jitter.
pub fn unit() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}
