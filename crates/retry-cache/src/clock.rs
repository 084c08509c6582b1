//! Injected time.
//!
//! Every schedule decision of the cache reads a [`Clock`] in milliseconds since the Unix epoch,
//! so tests move time explicitly ([`ManualClock`]) or follow tokio's paused clock
//! ([`TokioClock`]) instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A source of wall-clock time, milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Now, ms since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system clock (production).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        core_bridge::api::now_ms()
    }
}

/// A clock that moves only when told (tests). Cheap to clone; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(start_ms)))
    }

    /// Move forward by `ms` milliseconds.
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Set the time to `ms`.
    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Wall time anchored once to the system clock and then moved by tokio's clock, so that
/// `tokio::time::pause` / `advance` drive the schedule in tests of the worker loop.
///
/// Must be created inside a tokio runtime.
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    anchor_ms: u64,
    anchor: tokio::time::Instant,
}

impl TokioClock {
    /// Anchor now.
    pub fn new() -> Self {
        TokioClock {
            anchor_ms: core_bridge::api::now_ms(),
            anchor: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        self.anchor_ms + self.anchor.elapsed().as_millis() as u64
    }
}

/// `ms` since the Unix epoch as `YYYY-MM-DD HH:MM:SSZ` (UTC), the form of the seed's log lines.
pub fn format_utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..11
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_like_the_seed() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00Z");
        // 2026-02-01 12:34:56Z, the seed's example.
        assert_eq!(format_utc(1_769_949_296_000), "2026-02-01 12:34:56Z");
        // A leap day.
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00Z");
    }
}
