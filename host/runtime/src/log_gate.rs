//! [`LogGate`]: how many of a plugin's log lines a running host prints.
//! Every line still reaches the desk, which counts it (the host's reports
//! and `GET /metrics`); the gate keeps a flood out of the host's own log,
//! where one plugin could bury every other line, fill a disk, or slow the
//! host writing it. A strategy that warns on each refused order writes a
//! line an update, 18,224 in one race of the examples.

use std::time::Instant;

/// A bucket of `per_minute` lines, refilled at that rate: a burst of up
/// to a minute's lines passes at once, then a line as each one's share of
/// a minute goes by.
#[derive(Debug)]
pub(crate) struct LogGate {
    /// `None`: print every line (backtests and sweeps, whose filter hides
    /// plugin lines unless the user asks for them, and then wants them all).
    per_minute: Option<u32>,
    tokens: f64,
    last: Option<Instant>,
    /// Lines not printed since the last one that was.
    hidden: u64,
    /// `name@version`, to say so when the plugin stops.
    tag: String,
}

impl LogGate {
    /// A full bucket of `per_minute` lines for the plugin `tag`, or no limit.
    pub(crate) fn new(per_minute: Option<u32>, tag: &str) -> Self {
        LogGate {
            per_minute,
            tokens: per_minute.map_or(0.0, f64::from),
            last: None,
            hidden: 0,
            tag: tag.to_owned(),
        }
    }

    /// Whether a line written at `now` is printed; if it is, how many were
    /// hidden before it (to say so first).
    pub(crate) fn admit(&mut self, now: Instant) -> Option<u64> {
        let Some(per_minute) = self.per_minute else {
            return Some(0);
        };
        let full = f64::from(per_minute);
        let waited = self
            .last
            .map_or(0.0, |t| now.duration_since(t).as_secs_f64());
        self.tokens = (self.tokens + waited * full / 60.0).min(full);
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Some(std::mem::take(&mut self.hidden))
        } else {
            self.hidden += 1;
            None
        }
    }

    /// The line that says `hidden` lines were not printed.
    pub(crate) fn say_hidden(&self, hidden: u64) {
        let per_minute = self.per_minute.unwrap_or_default();
        tracing::warn!(
            target: "plugin",
            plugin = %self.tag,
            "{hidden} log lines of this plugin not shown (over sandbox.log_lines_per_minute = \
             {per_minute}); they are still counted"
        );
    }
}

impl Drop for LogGate {
    fn drop(&mut self) {
        if self.hidden > 0 {
            self.say_hidden(self.hidden);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_a_line_per_share_of_a_minute() {
        let start = Instant::now();
        let mut gate = LogGate::new(Some(60), "x@1.0.0");
        let printed = (0..100).filter(|_| gate.admit(start).is_some()).count();
        assert_eq!(printed, 60, "a minute's lines at once");
        assert_eq!(gate.hidden, 40);
        // Half a second later: still short of a whole line.
        assert_eq!(gate.admit(start + Duration::from_millis(500)), None);
        // A second in all: one line, told of the 41 before it.
        assert_eq!(gate.admit(start + Duration::from_secs(1)), Some(41));
        assert_eq!(gate.admit(start + Duration::from_secs(1)), None);
        // A quiet hour refills the bucket to a minute's lines, no more.
        let later = start + Duration::from_secs(3_600);
        let printed = (0..100).filter(|_| gate.admit(later).is_some()).count();
        assert_eq!(printed, 60);
        gate.hidden = 0;
    }

    #[test]
    fn no_limit_prints_every_line_and_none_prints_none() {
        let now = Instant::now();
        let mut open = LogGate::new(None, "x@1.0.0");
        assert!((0..10_000).all(|_| open.admit(now) == Some(0)));
        let mut shut = LogGate::new(Some(0), "x@1.0.0");
        assert!((0..10).all(|_| shut.admit(now + Duration::from_secs(60)).is_none()));
        shut.hidden = 0;
    }
}
