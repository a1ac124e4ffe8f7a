//! Where the engine's time comes from: the data's publish times, in a
//! backtest and live alike (a live feed runs the clock on between its
//! messages with `Engine::tick`, so timers fire when due).

use clever_sdk::Timestamp;

/// The engine's clock.
pub trait Clock: Send {
    /// The time now.
    fn now(&self) -> Timestamp;
    /// An event published at `t` is being handled.
    fn advance_to(&mut self, t: Timestamp);
}

/// Simulated time: the publish time of the event being handled. It never
/// goes backwards, even if the data does.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimClock {
    now: Timestamp,
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        self.now
    }
    fn advance_to(&mut self, t: Timestamp) {
        self.now = self.now.max(t);
    }
}

/// The wall clock (epoch ms; 0 before 1970), for what happens off the
/// data's clock: the kill switch, journals, alerts, a live venue's fills
/// that come undated.
pub fn wall_now() -> Timestamp {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    Timestamp(since.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_time_follows_events_and_never_goes_back() {
        let mut c = SimClock::default();
        c.advance_to(Timestamp(10));
        c.advance_to(Timestamp(5));
        assert_eq!(c.now(), Timestamp(10));
        c.advance_to(Timestamp(12));
        assert_eq!(c.now(), Timestamp(12));
    }
}
