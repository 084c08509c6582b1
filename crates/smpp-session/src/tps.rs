//! The TPS limiter: the seed's per-second window (seed 002, "Limitation du taux TPS").
//!
//! Messages are counted in windows of one second; once `limit` messages went out in the current
//! window, sending pauses until the next window starts. Time comes in as an argument, so the
//! limiter is tested without sleeping.

use std::time::{Duration, Instant};

/// A per-second window limiter. `limit = 0` means unlimited.
#[derive(Clone, Debug)]
pub struct TpsWindow {
    limit: u32,
    window_start: Option<Instant>,
    used: u32,
}

const WINDOW: Duration = Duration::from_secs(1);

impl TpsWindow {
    /// A limiter allowing `limit` messages per second (0 = no limit).
    pub fn new(limit: u32) -> Self {
        TpsWindow { limit, window_start: None, used: 0 }
    }

    /// Change the limit; applies to the next message (a run-time peer edit).
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    /// The limit in messages per second (0 = none).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Take one slot at `now`. `Ok(())` when the message may go now; `Err(at)` with the instant
    /// the next window opens when this window is used up.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Instant> {
        if self.limit == 0 {
            return Ok(());
        }
        let start = match self.window_start {
            Some(s) if now.duration_since(s) < WINDOW => s,
            _ => {
                self.window_start = Some(now);
                self.used = 0;
                now
            }
        };
        if self.used < self.limit {
            self.used += 1;
            Ok(())
        } else {
            Err(start + WINDOW)
        }
    }

    /// Messages sent in the window that contains `now`.
    pub fn used_in_window(&self, now: Instant) -> u32 {
        match self.window_start {
            Some(s) if now.duration_since(s) < WINDOW => self.used,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_per_second_then_next_window() {
        let t0 = Instant::now();
        let mut w = TpsWindow::new(3);
        for _ in 0..3 {
            assert_eq!(w.try_acquire(t0), Ok(()));
        }
        assert_eq!(w.try_acquire(t0 + Duration::from_millis(999)), Err(t0 + WINDOW));
        assert_eq!(w.try_acquire(t0 + WINDOW), Ok(()));
        assert_eq!(w.used_in_window(t0 + WINDOW), 1);
    }

    #[test]
    fn zero_is_unlimited_and_limit_changes_apply_at_once() {
        let t0 = Instant::now();
        let mut w = TpsWindow::new(0);
        for _ in 0..10_000 {
            assert!(w.try_acquire(t0).is_ok());
        }
        w.set_limit(1);
        assert!(w.try_acquire(t0).is_ok());
        assert!(w.try_acquire(t0).is_err());
    }
}
