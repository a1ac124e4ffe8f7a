//! [`SyntheticSource`]: a seeded synthetic market as the engine's
//! [`MarketSource`], for `clever run`: pre-off for the first half of the
//! updates, in play for the second, the last closing it with the favourite
//! the winner, so orders match against the simulated exchange and settle.

use clever_engine::{MarketSource, SourceError};
use clever_market::synthetic::{STEP_MS, SyntheticMarket};
use clever_market::{Ladder, MarketBook, RunnerDepth};
use clever_sdk::{MarketStatus, Runner, RunnerStatus, Timestamp};

/// A synthetic market of `updates` updates, the last its close.
pub struct SyntheticSource {
    feed: SyntheticMarket,
    book: MarketBook,
    updates: usize,
    done: usize,
    closed: bool,
}

impl SyntheticSource {
    /// `updates` updates of a market of `runners` runners from `seed`, off
    /// at `off`.
    pub fn new(id: &str, seed: u64, runners: usize, updates: usize, off: Timestamp) -> Self {
        let feed = SyntheticMarket::new(id, seed, runners, 3, off);
        let mut book = MarketBook::new(id, "synthetic");
        book.view = feed.market().clone();
        book.depth = book.view.runners.iter().map(depth_of).collect();
        book.commission_rate = Some(5.0);
        SyntheticSource {
            feed,
            book,
            updates,
            done: 0,
            closed: false,
        }
    }

    fn step(&mut self) {
        // The second half of the updates is in play, so in-play strategies act too.
        if self.done == self.updates / 2 {
            self.feed.set_in_play(true);
        }
        let first = self.done == 0;
        self.done += 1;
        let (market, changed) = self.feed.step();
        let i = changed[0];
        let before = self.book.view.runners[i].traded_volume;
        let runner = &market.runners[i];
        let mut depth = depth_of(runner);
        depth.traded = std::mem::take(&mut self.book.depth[i].traded);
        if let Some(price) = runner.last_traded {
            let at = depth.traded.size_at(price.get());
            depth
                .traded
                .set(price.get(), at + runner.traded_volume - before);
        }
        self.book.begin_update(first);
        if first {
            self.book.view = market.clone();
            self.book.depth = market.runners.iter().map(depth_of).collect();
        } else if market.in_play != self.book.view.in_play {
            self.book.view.in_play = market.in_play;
            self.book.definition_changed = true;
        }
        self.book.view.runners[i] = runner.clone();
        self.book.view.publish_time = market.publish_time;
        self.book.view.total_matched = market.total_matched;
        self.book.depth[i] = depth;
        self.book.touch(i);
    }

    /// The last update: closed, the favourite won, the rest lost.
    fn close(&mut self) {
        self.closed = true;
        self.book.begin_update(false);
        self.book.definition_changed = true;
        // The view mirrors the feed's market runner for runner.
        let favourite = self.feed.favourite();
        let view = &mut self.book.view;
        view.status = MarketStatus::Closed;
        view.publish_time = view.publish_time.plus_millis(STEP_MS);
        for (i, r) in view.runners.iter_mut().enumerate() {
            r.status = if Some(i) == favourite {
                RunnerStatus::Winner
            } else {
                RunnerStatus::Loser
            };
        }
    }
}

fn depth_of(runner: &Runner) -> RunnerDepth {
    let mut back = Ladder::descending();
    let mut lay = Ladder::ascending();
    for l in runner.back.as_slice() {
        back.set(l.price.get(), l.size);
    }
    for l in runner.lay.as_slice() {
        lay.set(l.price.get(), l.size);
    }
    RunnerDepth {
        back,
        lay,
        ..RunnerDepth::default()
    }
}

impl MarketSource for SyntheticSource {
    fn next_update(&mut self) -> Option<Result<&MarketBook, SourceError>> {
        if self.done + 1 < self.updates {
            self.step();
        } else if !self.closed && self.updates > 0 {
            self.close();
        } else {
            return None;
        }
        Some(Ok(&self.book))
    }

    fn upcoming(&mut self) -> Option<(Timestamp, &MarketBook)> {
        // Every update, the close too, comes STEP_MS after the one before.
        let more = self.done > 0 && !self.closed;
        more.then(|| (self.book.view.publish_time.plus_millis(STEP_MS), &self.book))
    }

    fn unfinished(&self) -> Vec<&MarketBook> {
        if self.closed {
            Vec::new()
        } else {
            vec![&self.book]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_its_updates_then_closes_with_one_winner() {
        let mut source = SyntheticSource::new("1.1", 3, 8, 10, Timestamp(1_000_000));
        let mut n = 0;
        let mut last = None;
        while let Some(update) = source.next_update() {
            let book = update.unwrap();
            n += 1;
            assert_eq!(book.view.runners.len(), book.depth.len());
            last = Some(book.clone());
        }
        assert_eq!(n, 10);
        let last = last.unwrap();
        assert_eq!(last.view.status, MarketStatus::Closed);
        let winners = last
            .view
            .runners
            .iter()
            .filter(|r| r.status == RunnerStatus::Winner);
        assert_eq!(winners.count(), 1);
        assert!(source.unfinished().is_empty());
    }
}
