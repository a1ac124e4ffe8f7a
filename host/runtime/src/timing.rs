//! How long a plugin's hooks take: a histogram with fixed buckets, cheap
//! to copy into a status report. The buckets are Prometheus-style upper
//! bounds, in microseconds. One call in [`HOOK_SAMPLE`] is timed: reading
//! the clock twice costs about 50 ns, a third of the cheapest hook call
//! (`cargo bench -p clever-host --bench boundary`, docs/BENCHMARKS.md),
//! and a sample shows the same distribution.

/// One hook call in this many is timed.
pub const HOOK_SAMPLE: u64 = 16;

use serde::Serialize;

/// Upper bounds of the buckets, µs; a last bucket takes everything above.
pub const HOOK_BUCKETS_US: [u64; 12] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000,
];

/// Timed hook calls (one in [`HOOK_SAMPLE`]) by duration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HookTimes {
    /// Calls per bucket of [`HOOK_BUCKETS_US`], the last one above them.
    pub counts: [u64; HOOK_BUCKETS_US.len() + 1],
    /// All calls' time, µs.
    pub sum_us: u64,
}

impl HookTimes {
    /// Count a call of `us` microseconds.
    pub fn record(&mut self, us: u64) {
        let bucket = HOOK_BUCKETS_US.partition_point(|&bound| bound < us);
        self.counts[bucket] += 1;
        self.sum_us = self.sum_us.saturating_add(us);
    }

    /// Calls counted.
    pub fn calls(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The upper bound (µs) of the bucket holding the `q`-quantile call
    /// (0 < q <= 1); none if no call was counted or it is above the last
    /// bound.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let calls = self.calls();
        if calls == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * calls as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return HOOK_BUCKETS_US.get(i).copied();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_land_in_the_bucket_of_their_upper_bound() {
        let mut t = HookTimes::default();
        for us in [1, 5, 6, 100, 100_000] {
            t.record(us);
        }
        assert_eq!(
            (t.counts[0], t.counts[1], t.counts[4], t.counts[12]),
            (2, 1, 1, 1)
        );
        assert_eq!((t.calls(), t.sum_us), (5, 100_112));
        assert_eq!(t.quantile(0.5), Some(10));
        assert_eq!(t.quantile(0.8), Some(100));
        assert_eq!(t.quantile(1.0), None, "above the last bound");
        assert_eq!(HookTimes::default().quantile(0.5), None);
    }
}
