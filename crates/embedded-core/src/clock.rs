//! Where the core reads the time: leases, retry delays, frontend expiry and receipt dates all
//! come from one injected [`Clock`], so tests move time by hand instead of sleeping.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A source of wall-clock time, in milliseconds since the Unix epoch (UTC).
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time, milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system clock ([`core_bridge::api::now_ms`]). What [`crate::EmbeddedCore::open`] uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        core_bridge::api::now_ms()
    }
}

/// A clock that only moves when told to, for tests. Shared through an `Arc`: keep one handle,
/// give another to [`crate::EmbeddedCore::open_with_clock`].
#[derive(Debug)]
pub struct ManualClock {
    ms: AtomicU64,
}

impl ManualClock {
    /// A clock reading `start_ms` (milliseconds since the Unix epoch) until moved.
    pub fn new(start_ms: u64) -> Self {
        ManualClock {
            ms: AtomicU64::new(start_ms),
        }
    }

    /// Set the time to `ms` (milliseconds since the Unix epoch; may go backwards).
    pub fn set(&self, ms: u64) {
        self.ms.store(ms, Ordering::SeqCst);
    }

    /// Move the time forward by `by` (millisecond resolution).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        // fetch_update cannot fail with a closure that always returns Some.
        let _ = self
            .ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ms| {
                Some(ms.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.ms.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(Duration::from_millis(1_500));
        assert_eq!(c.now_ms(), 2_500);
        c.set(7);
        assert_eq!(c.now_ms(), 7);
    }
}
