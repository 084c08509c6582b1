//! The TPS limiter: the seed's per-second window (seed 002, "Limitation du taux TPS").
//!
//! Messages are counted in windows of one second; once `limit` messages went out in the current
//! window, sending pauses until the next window starts ("le travailleur de la file d'attente fait
//! une pause jusqu'à la seconde suivante"). Time comes in as an argument, so the limiter is
//! tested without sleeping.
//!
//! [`TpsWindow`] is the plain value; [`TpsLimiter`] shares one window between several sessions
//! (every session of one partner draws from the partner's `tps_limit`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A per-second window limiter. `limit = 0` means unlimited.
#[derive(Clone, Debug)]
pub struct TpsWindow {
    limit: u32,
    window_start: Option<Instant>,
    used: u32,
}

/// Length of one TPS window.
pub const WINDOW: Duration = Duration::from_secs(1);

impl TpsWindow {
    /// A limiter allowing `limit` messages per second (0 = no limit).
    pub fn new(limit: u32) -> Self {
        TpsWindow {
            limit,
            window_start: None,
            used: 0,
        }
    }

    /// Change the limit; applies to the next message (a run-time peer edit).
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    /// The limit in messages per second (0 = none).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Start a fresh window at `now` when the stored one has ended. A window reserved in the
    /// future (see [`TpsWindow::reserve`]) is kept.
    fn roll(&mut self, now: Instant) {
        match self.window_start {
            Some(s) if now < s + WINDOW => {}
            _ => {
                self.window_start = Some(now);
                self.used = 0;
            }
        }
    }

    /// Take one slot at `now`. `Ok(())` when the message may go now; `Err(at)` with the instant
    /// the next window opens when this window is used up (nothing is taken then).
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Instant> {
        if self.limit == 0 {
            return Ok(());
        }
        self.roll(now);
        let start = self.window_start.unwrap_or(now);
        if start > now {
            // Slots up to a future window are promised to messages that wait for them.
            return Err(start);
        }
        if self.used < self.limit {
            self.used += 1;
            Ok(())
        } else {
            Err(start + WINDOW)
        }
    }

    /// Take the earliest free slot, now or in a later window, and return when it opens (`now`
    /// itself when the current window has room). Used to slow a sender down by delaying its
    /// answers instead of refusing the excess: successive calls get successive slots, so
    /// `limit` of them share each second and the order of the calls is kept.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        if self.limit == 0 {
            return now;
        }
        self.roll(now);
        let start = self.window_start.unwrap_or(now);
        if self.used < self.limit {
            self.used += 1;
            return start.max(now);
        }
        let next = start + WINDOW;
        self.window_start = Some(next);
        self.used = 1;
        next
    }

    /// Messages sent in the window that contains `now`.
    pub fn used_in_window(&self, now: Instant) -> u32 {
        match self.window_start {
            Some(s) if now >= s && now < s + WINDOW => self.used,
            _ => 0,
        }
    }
}

/// A [`TpsWindow`] shared by several sessions (cheap to clone; every clone is the same window).
#[derive(Clone, Debug)]
pub struct TpsLimiter(Arc<Mutex<TpsWindow>>);

impl TpsLimiter {
    /// A shared limiter of `limit` messages per second (0 = no limit).
    pub fn new(limit: u32) -> Self {
        TpsLimiter(Arc::new(Mutex::new(TpsWindow::new(limit))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TpsWindow> {
        // The window is a pair of integers, consistent after any panic.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// See [`TpsWindow::set_limit`].
    pub fn set_limit(&self, limit: u32) {
        self.lock().set_limit(limit);
    }

    /// See [`TpsWindow::limit`].
    pub fn limit(&self) -> u32 {
        self.lock().limit()
    }

    /// See [`TpsWindow::try_acquire`].
    pub fn try_acquire(&self, now: Instant) -> Result<(), Instant> {
        self.lock().try_acquire(now)
    }

    /// See [`TpsWindow::reserve`].
    pub fn reserve(&self, now: Instant) -> Instant {
        self.lock().reserve(now)
    }

    /// See [`TpsWindow::used_in_window`].
    pub fn used_in_window(&self, now: Instant) -> u32 {
        self.lock().used_in_window(now)
    }

    /// Whether `other` is the same shared window.
    pub fn same_as(&self, other: &TpsLimiter) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
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
        assert_eq!(
            w.try_acquire(t0 + Duration::from_millis(999)),
            Err(t0 + WINDOW)
        );
        assert_eq!(w.try_acquire(t0 + WINDOW), Ok(()));
        assert_eq!(w.used_in_window(t0 + WINDOW), 1);
    }

    #[test]
    fn the_window_starts_with_the_first_message_not_on_a_clock_second() {
        let t0 = Instant::now();
        let mut w = TpsWindow::new(2);
        let t1 = t0 + Duration::from_millis(300);
        assert!(w.try_acquire(t1).is_ok());
        assert!(w.try_acquire(t1 + Duration::from_millis(500)).is_ok());
        // The window opened at t1, so it ends at t1 + 1 s, not at t0 + 1 s.
        assert_eq!(w.try_acquire(t0 + WINDOW), Err(t1 + WINDOW));
        assert!(w.try_acquire(t1 + WINDOW).is_ok());
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

    #[test]
    fn reserve_hands_out_slots_in_later_windows_in_order() {
        let t0 = Instant::now();
        let mut w = TpsWindow::new(2);
        let slots: Vec<Instant> = (0..7).map(|_| w.reserve(t0)).collect();
        assert_eq!(
            slots,
            vec![
                t0,
                t0,
                t0 + WINDOW,
                t0 + WINDOW,
                t0 + 2 * WINDOW,
                t0 + 2 * WINDOW,
                t0 + 3 * WINDOW
            ]
        );
        // try_acquire does not jump the queue of messages waiting for future windows.
        assert_eq!(
            w.try_acquire(t0 + Duration::from_millis(10)),
            Err(t0 + 3 * WINDOW)
        );
        // Once time reaches the reserved window, its remaining room is usable.
        assert_eq!(w.try_acquire(t0 + 3 * WINDOW), Ok(()));
        assert_eq!(w.try_acquire(t0 + 3 * WINDOW), Err(t0 + 4 * WINDOW));
        // Long after, a fresh window starts at the caller's now.
        let late = t0 + Duration::from_secs(60);
        assert_eq!(w.reserve(late), late);
        assert_eq!(w.reserve(late), late);
        assert_eq!(w.reserve(late), late + WINDOW);
    }

    #[test]
    fn a_shared_limiter_is_one_window_for_every_clone() {
        let t0 = Instant::now();
        let a = TpsLimiter::new(3);
        let b = a.clone();
        assert!(a.same_as(&b));
        assert!(a.try_acquire(t0).is_ok());
        assert!(b.try_acquire(t0).is_ok());
        assert!(a.try_acquire(t0).is_ok());
        assert_eq!(b.try_acquire(t0), Err(t0 + WINDOW));
        b.set_limit(4);
        assert_eq!(a.limit(), 4);
        assert!(a.try_acquire(t0).is_ok());
        assert_eq!(a.used_in_window(t0), 4);
        assert!(!a.same_as(&TpsLimiter::new(3)));
    }
}
