//! Latency statistics: an HdrHistogram of `submit_sm → submit_sm_resp` times in nanoseconds
//! (3 significant digits, 1 ns – 600 s), one per session, merged at the end.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency recorded, ns (600 s); longer values are clamped to it.
pub const MAX_LATENCY_NS: u64 = 600_000_000_000;

/// Latencies of one session or of the whole run.
#[derive(Clone, Debug)]
pub struct Latencies {
    hist: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::new()
    }
}

/// The summary reported: percentiles in microseconds (µs, fractional), and the count.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Latencies recorded.
    pub count: u64,
    /// Median, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// 99.9th percentile, µs.
    pub p999_us: f64,
    /// Largest, µs.
    pub max_us: f64,
    /// Arithmetic mean, µs.
    pub mean_us: f64,
}

impl Latencies {
    /// An empty histogram.
    pub fn new() -> Self {
        Latencies {
            hist: Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds"),
        }
    }

    /// Records one latency in ns (0 counts as 1 ns, above [`MAX_LATENCY_NS`] as the maximum).
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns.max(1));
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Latencies) {
        // Both have the same bounds, so adding cannot fail.
        let _ = self.hist.add(&other.hist);
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// `true` when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// Percentiles in µs (all 0 when empty).
    pub fn summary(&self) -> LatencySummary {
        if self.hist.is_empty() {
            return LatencySummary::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        LatencySummary {
            count: self.hist.len(),
            p50_us: us(self.hist.value_at_quantile(0.50)),
            p99_us: us(self.hist.value_at_quantile(0.99)),
            p999_us: us(self.hist.value_at_quantile(0.999)),
            max_us: us(self.hist.max()),
            mean_us: self.hist.mean() / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut l = Latencies::new();
        // 1..=1000 µs, one each.
        for us in 1..=1000u64 {
            l.record(us * 1000);
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        // 3 significant digits: within 0.1 %.
        assert!((s.p50_us - 500.0).abs() <= 0.5, "{s:?}");
        assert!((s.p99_us - 990.0).abs() <= 1.0, "{s:?}");
        assert!((s.p999_us - 999.0).abs() <= 1.0, "{s:?}");
        assert!((s.max_us - 1000.0).abs() <= 1.0, "{s:?}");
        assert!((s.mean_us - 500.5).abs() <= 0.6, "{s:?}");
    }

    #[test]
    fn merge_adds_counts_and_keeps_the_max() {
        let mut a = Latencies::new();
        let mut b = Latencies::new();
        a.record(10_000);
        b.record(2_000_000);
        b.record(3_000);
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 3);
        assert!((s.max_us - 2000.0).abs() <= 2.0, "{s:?}");
        assert!((s.p50_us - 10.0).abs() <= 0.1, "{s:?}");
    }

    #[test]
    fn empty_and_out_of_range_values() {
        let mut l = Latencies::new();
        assert!(l.is_empty());
        assert_eq!(l.summary(), LatencySummary::default());
        l.record(0);
        l.record(u64::MAX);
        assert_eq!(l.len(), 2);
        let s = l.summary();
        assert!(s.max_us >= 599_000_000.0, "{s:?}");
        assert!(s.p50_us <= 0.01, "{s:?}");
    }
}
