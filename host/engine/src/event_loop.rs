//! [`Engine`]: the event loop. For each update, in publish-time order:
//!
//! 1. the clock moves to the update's publish time, firing on the way
//!    every timer due by then, each at its own time;
//! 2. each strategy's venue sees the update (orders arrive, match, lapse)
//!    and the plugin hears of every order that changed (`on-order`);
//! 3. plugins whose filter wants the market, and that have not said they
//!    want no more of it (`set-interest`), get it (`on-market`);
//! 4. if the market closed, each strategy's orders in it are settled and
//!    the plugin gets `on-market-closed`.
//!
//! A plugin is only ever shown the market as published at or before the
//! current event; an order it places now reaches the venue after the
//! venue's latency and matches against later updates only.

use std::collections::BTreeMap;

use clever_sdk::{
    BookOrder, InstrumentFilter, MarketFilter, MarketId, MarketStatus, Order, Timestamp,
};

use super::clock::Clock;
use super::desk::{Desk, Tally};
use super::source::MarketSource;
use super::source::SourceError;
use super::venue::OrderChange;
use super::versions::VersionFigures;
use clever_market::{Figures, InstrumentEvent, MarketBook, MarketMap, MarketResult};
use clever_runtime::{Dropped, Fault, HookError, HostHeld, InertServices, PluginInstance};

/// One strategy in the loop.
struct Slot {
    /// How the strategy is known: its name, or `name@version` for a second
    /// version run side by side.
    label: String,
    /// The plugin, owning its desk (see [`Slot::desk_mut`]).
    instance: PluginInstance,
    filter: MarketFilter,
    /// The order-book instruments it trades (WIT 1.1), if any.
    instruments: Option<InstrumentFilter>,
    /// Markets whose every update this plugin has seen (so a delta is enough).
    in_sync: HandleSet,
    /// Markets this plugin has been shown at least once.
    shown: HandleSet,
    /// Updates delivered to the plugin.
    delivered: u64,
    /// Each settled market (only if the engine keeps results).
    results: Vec<MarketResult>,
    totals: Totals,
}

impl Slot {
    fn desk(&self) -> &Desk {
        self.instance.services().expect(ON_A_DESK)
    }

    /// The strategy's desk, between the plugin's calls.
    fn desk_mut(&mut self) -> &mut Desk {
        self.instance.services_mut().expect(ON_A_DESK)
    }
}

/// Market handles, one bit each: handles are small and dense (one per
/// market the engine has seen), and a hash set's lookup on every update
/// of every strategy showed in profiles.
#[derive(Debug, Default)]
struct HandleSet(Vec<u64>);

impl HandleSet {
    fn contains(&self, handle: u32) -> bool {
        let (word, bit) = (handle as usize / 64, handle % 64);
        self.0.get(word).is_some_and(|w| w >> bit & 1 == 1)
    }

    fn insert(&mut self, handle: u32) {
        let (word, bit) = (handle as usize / 64, handle % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    /// Whether it was there.
    fn remove(&mut self, handle: u32) -> bool {
        let (word, bit) = (handle as usize / 64, handle % 64);
        let Some(w) = self.0.get_mut(word) else {
            return false;
        };
        let held = *w >> bit & 1 == 1;
        *w &= !(1 << bit);
        held
    }
}

/// Checked by [`Engine::add_strategy_as`] for every instance in the loop.
const ON_A_DESK: &str = "every strategy in the engine was started on a desk";

/// Running totals of one strategy's settled markets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Markets settled.
    pub markets: u64,
    /// Their figures, added up.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A strategy as it stands now, for a running host's status.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StrategyStatus {
    /// Its name, or `name@version` when run beside its active version.
    pub label: String,
    /// Name from the plugin.
    pub name: String,
    /// The version handling events now.
    pub version: String,
    /// Market updates delivered to it, all versions.
    pub events: u64,
    /// Settled markets so far.
    pub totals: Totals,
    /// Orders, refusals, logs, signals.
    pub tally: Tally,
    /// Per version: events, orders, matched, profit.
    pub versions: Vec<VersionFigures>,
    /// What the sandbox refused the running version, by what.
    pub sandbox_refused: BTreeMap<&'static str, u64>,
    /// Faults so far (of the version running now).
    pub faults: usize,
    /// The last fault, if any.
    pub last_fault: Option<String>,
    /// Quarantined: gets no more calls.
    pub quarantined: bool,
    /// How long its hooks took (the version running now).
    pub hook_times: clever_runtime::HookTimes,
}

/// A version handed over to by [`Engine::swap`].
pub struct Swapped {
    /// The version that was running.
    pub from: String,
    /// The version running now.
    pub to: String,
    /// Bytes of state handed over.
    pub state_bytes: usize,
    /// Orders open at the hand-over; they stay with the strategy.
    pub open_orders: usize,
    /// The instance that was running, to be dropped off the event loop
    /// (freeing a Wasm instance's memory takes a while).
    pub retired: PluginInstance,
}

impl std::fmt::Debug for Swapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Swapped")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("state_bytes", &self.state_bytes)
            .field("open_orders", &self.open_orders)
            .finish_non_exhaustive()
    }
}

/// Why [`Engine::swap`] kept the old version.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    /// No strategy has that label.
    #[error("no running strategy is called {0}")]
    Unknown(String),
    /// The running version could not give its state.
    #[error("{label}@{version}: snapshot failed, {version} stays active: {error}")]
    Snapshot {
        /// The strategy.
        label: String,
        /// The version that stays.
        version: String,
        /// What went wrong.
        error: Box<HookError>,
    },
    /// The new version would not take the state.
    #[error("{label}@{new}: restore failed, {old} stays active: {error}")]
    Restore {
        /// The strategy.
        label: String,
        /// The version that failed to restore.
        new: String,
        /// The version that stays.
        old: String,
        /// What went wrong.
        error: Box<HookError>,
    },
}

/// What one strategy did over a run.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyOutcome {
    /// Name from the plugin.
    pub name: String,
    /// Semver version from the plugin.
    pub version: String,
    /// Market updates delivered to it (those its filter wanted).
    pub updates: u64,
    /// Each settled market, in the order they closed.
    pub markets: Vec<MarketResult>,
    /// Orders, refusals, logs, signals.
    pub tally: Tally,
    /// What the sandbox refused it (over per-call budgets and caps).
    pub dropped: Dropped,
    /// What the host holds for it at the end (timers, state).
    pub held: HostHeld,
    /// Faults, oldest first.
    pub faults: Vec<Fault>,
    /// Quarantined by the end.
    pub quarantined: bool,
    /// Its closed trades of order-book instruments (WIT 1.1), oldest first.
    pub trades: Vec<clever_market::TradeRecord>,
}

/// One strategy's book orders placed or changed since the host last took
/// them (see [`Engine::take_book_journal`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BookJournal {
    /// Name from the plugin.
    pub name: String,
    /// Semver version from the plugin.
    pub version: String,
    /// The orders, in the order they changed (one may be listed twice).
    pub orders: Vec<BookOrder>,
}

/// The event loop over one source.
pub struct Engine<C: Clock> {
    clock: C,
    slots: Vec<Slot>,
    handles: MarketMap<u32>,
    changes: Vec<OrderChange>,
    book_changes: Vec<BookOrder>,
    updates: u64,
    markets: u64,
    keep_results: bool,
}

impl<C: Clock> Engine<C> {
    /// An engine with no strategies yet.
    pub fn new(clock: C) -> Self {
        Engine {
            clock,
            slots: Vec::new(),
            handles: MarketMap::new(),
            changes: Vec::new(),
            book_changes: Vec::new(),
            updates: 0,
            markets: 0,
            keep_results: true,
        }
    }

    /// Keep only running totals of settled markets, not each market's
    /// result (for a host that runs for days).
    pub fn keep_totals_only(mut self) -> Self {
        self.keep_results = false;
        self
    }

    /// Add a running plugin, started on its own [`Desk`], known by its
    /// name.
    ///
    /// # Panics
    ///
    /// If the instance was not started on a [`Desk`] (a wiring mistake).
    pub fn add_strategy(&mut self, instance: PluginInstance) {
        let label = instance.descriptor().name.clone();
        self.add_strategy_as(label, instance);
    }

    /// Add a running plugin, started on its own [`Desk`], under `label`.
    ///
    /// # Panics
    ///
    /// If the instance was not started on a [`Desk`] (a wiring mistake).
    pub fn add_strategy_as(&mut self, label: String, mut instance: PluginInstance) {
        let filter = instance.descriptor().markets.clone();
        let instruments = instance.plugin().instruments().cloned();
        let version = instance.descriptor().version.clone();
        let desk: &mut Desk = instance.services_mut().expect(ON_A_DESK);
        desk.switch_version(&version);
        self.slots.push(Slot {
            label,
            instance,
            filter,
            instruments,
            in_sync: HandleSet::default(),
            shown: HandleSet::default(),
            delivered: 0,
            results: Vec::new(),
            totals: Totals::default(),
        });
    }

    /// Market updates delivered so far to the strategy called `label`.
    pub fn delivered(&self, label: &str) -> Option<u64> {
        self.slot(label).map(|s| s.delivered)
    }

    fn slot(&self, label: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.label == label)
    }

    /// Hand the strategy called `label` over to `next`, between two events:
    /// the strategy's desk (orders, timers, risk) and key-value state move
    /// to `next`, and the running version's `snapshot` goes into `next`'s
    /// `restore`. If either fails the running version stays, with its desk,
    /// and `next` is dropped. `next` may have been started on any services
    /// (its `init` ran before it had the desk); they are dropped.
    pub fn swap(&mut self, label: &str, mut next: PluginInstance) -> Result<Swapped, SwapError> {
        let slot = self
            .slots
            .iter_mut()
            .find(|s| s.label == label)
            .ok_or_else(|| SwapError::Unknown(label.to_owned()))?;
        let old = slot.instance.descriptor().version.clone();
        let open_orders = slot.desk().open_order_count();
        next.set_time(self.clock.now());
        let new = next.descriptor().version.clone();
        let state = slot
            .instance
            .snapshot()
            .map_err(|error| SwapError::Snapshot {
                label: label.to_owned(),
                version: old.clone(),
                error: Box::new(error),
            })?;
        next.take_state_from(&mut slot.instance);
        let desk = slot.instance.replace_services(Box::new(InertServices));
        next.replace_services(desk);
        if let Err(error) = next.restore(&state) {
            slot.instance.take_state_from(&mut next);
            let desk = next.replace_services(Box::new(InertServices));
            slot.instance.replace_services(desk);
            return Err(SwapError::Restore {
                label: label.to_owned(),
                new,
                old,
                error: Box::new(error),
            });
        }
        slot.filter = next.descriptor().markets.clone();
        slot.instruments = next.plugin().instruments().cloned();
        let retired = std::mem::replace(&mut slot.instance, next);
        slot.desk_mut().switch_version(&new);
        slot.desk_mut().clear_interest();
        Ok(Swapped {
            from: old,
            to: new,
            state_bytes: state.len(),
            open_orders,
            retired,
        })
    }

    /// Stop all trading: every desk refuses new orders and cancels its
    /// open ones. Strategies still hear of markets and of their orders.
    /// Returns how many orders were asked to cancel.
    pub fn kill(&mut self) -> usize {
        let now = self.clock.now();
        self.slots.iter_mut().map(|s| s.desk_mut().kill(now)).sum()
    }

    /// Order-book orders open now (pending or resting), over every desk.
    pub fn open_book_orders(&self) -> usize {
        self.slots.iter().map(|s| s.desk().open_book_orders()).sum()
    }

    /// Release the kill switch: every desk takes new orders again.
    pub fn release(&mut self) {
        for slot in &mut self.slots {
            slot.desk_mut().risk_mut().set_kill_switch(false);
        }
    }

    /// Stop the strategy called `label` trading, as [`Engine::kill`] does
    /// for all; how many orders were asked to cancel (0 if none is called so).
    pub fn kill_one(&mut self, label: &str) -> usize {
        let now = self.clock.now();
        let slot = self.slots.iter_mut().find(|s| s.label == label);
        slot.map_or(0, |s| s.desk_mut().kill(now))
    }

    /// Each strategy's label, its faults so far and whether it is
    /// quarantined: cheap enough to ask after every update.
    pub fn faults(&self) -> impl Iterator<Item = (&str, &[clever_runtime::Fault], bool)> {
        (self.slots.iter()).map(|s| {
            (
                s.label.as_str(),
                s.instance.faults(),
                s.instance.is_quarantined(),
            )
        })
    }

    /// Each strategy as it stands now.
    pub fn statuses(&self) -> Vec<StrategyStatus> {
        self.slots
            .iter()
            .map(|s| {
                let d = s.instance.descriptor();
                let desk = s.desk();
                StrategyStatus {
                    label: s.label.clone(),
                    name: d.name.clone(),
                    version: d.version.clone(),
                    events: s.delivered,
                    totals: s.totals,
                    tally: desk.tally().clone(),
                    versions: desk.versions().figures().to_vec(),
                    sandbox_refused: s.instance.dropped().refusals().collect(),
                    faults: s.instance.faults().len(),
                    last_fault: s.instance.faults().last().map(|f| f.to_string()),
                    quarantined: s.instance.is_quarantined(),
                    hook_times: s.instance.stats().hook_times,
                }
            })
            .collect()
    }

    /// Orders open now, in `market` or in every market, with the label of
    /// the strategy that placed each.
    pub fn open_orders(&self, market: Option<&MarketId>) -> Vec<(&str, Order)> {
        let each = self.slots.iter().map(|s| (s.label.as_str(), s.desk()));
        each.flat_map(|(label, desk)| {
            let orders = desk.open_orders_in(market);
            orders.into_iter().map(move |o| (label, o))
        })
        .collect()
    }

    /// Updates handled so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Distinct markets seen so far.
    pub fn markets(&self) -> u64 {
        self.markets
    }

    /// Run the source to its end. Bad input (a line) goes to `on_error` and
    /// the run goes on; markets still open at the end are settled as they
    /// stand (runners without a result are void).
    pub fn run(&mut self, source: &mut dyn MarketSource, mut on_error: impl FnMut(SourceError)) {
        loop {
            if let Some((at, book)) = source.upcoming() {
                self.before_update(at, book);
            }
            match source.next_update() {
                Some(Ok(book)) => self.on_update(book),
                Some(Err(e)) => on_error(e),
                None => break,
            }
        }
        self.finish(source);
    }

    /// The source has ended: settle the markets still open in it as they
    /// stand (runners without a result are void).
    pub fn finish(&mut self, source: &dyn MarketSource) {
        for book in source.unfinished() {
            self.begin_event();
            self.close(book);
        }
    }

    /// Each plugin's calls for the next event share a fresh fuel budget.
    fn begin_event(&mut self) {
        for slot in &mut self.slots {
            slot.instance.begin_event();
        }
    }

    /// The next update will change `book` at `at` (see
    /// [`MarketSource::upcoming`]): orders that reach the market before
    /// then meet the book as it stands, and their plugins hear of it.
    pub fn before_update(&mut self, at: Timestamp, book: &MarketBook) {
        if at <= self.clock.now() {
            return;
        }
        let now = self.clock.now();
        for slot in &mut self.slots {
            self.changes.clear();
            slot.desk_mut().before_update(at, book, &mut self.changes);
            if self.changes.is_empty() {
                continue;
            }
            // The order hooks are an event of their own, with its own fuel.
            slot.instance.begin_event();
            slot.instance.set_time(now);
            tell_orders(slot, &self.changes);
        }
    }

    /// Time has moved on to `now` with no update (a live feed between
    /// messages): fire the timers due by then, and tell each plugin what
    /// its venue did on its own meanwhile (see [`Engine::poll_venues`]).
    pub fn tick(&mut self, now: Timestamp) {
        let now = now.max(self.clock.now());
        if self.next_timer().is_some_and(|due| due <= now) {
            self.begin_event();
            self.fire_timers(now);
        }
        self.clock.advance_to(now);
        self.poll_venues();
    }

    /// Tell each plugin of the orders its venue changed on its own since
    /// the last call (a live venue's replies and order stream).
    pub fn poll_venues(&mut self) {
        let now = self.clock.now();
        for slot in &mut self.slots {
            self.changes.clear();
            self.book_changes.clear();
            slot.desk_mut().poll(now, &mut self.changes);
            slot.desk_mut().poll_book(now, &mut self.book_changes);
            if self.changes.is_empty() && self.book_changes.is_empty() {
                continue;
            }
            slot.instance.begin_event();
            slot.instance.set_time(now);
            tell_orders(slot, &self.changes);
            for order in &self.book_changes {
                if let Err(e) = slot.instance.on_book_order(order) {
                    note(&e);
                }
            }
        }
    }

    /// When the earliest timer of any strategy is due.
    pub fn next_timer(&self) -> Option<Timestamp> {
        self.slots
            .iter()
            .filter_map(|s| s.desk().next_timer())
            .min()
    }

    /// The engine's time now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Handle one market update.
    pub fn on_update(&mut self, book: &MarketBook) {
        let t = book.view.publish_time;
        self.begin_event();
        self.fire_timers(t);
        self.clock.advance_to(t);
        let now = self.clock.now();
        self.updates += 1;
        // Handles are never reused, so a plugin cannot mix two markets up.
        let markets = &mut self.markets;
        let handle = *self.handles.get_or_insert_with(book.view.id.as_str(), || {
            *markets += 1;
            *markets as u32
        });
        for slot in &mut self.slots {
            self.changes.clear();
            slot.instance.set_time(now);
            let filtered = slot.filter.wants(&book.view, now);
            let desk = slot.desk_mut();
            desk.on_market(now, book, &mut self.changes);
            let wants = filtered && desk.wants(&book.view);
            if wants {
                desk.versions_mut().count_event();
            }
            tell_orders(slot, &self.changes);
            if wants {
                let delta = slot.in_sync.contains(handle) && !book.definition_changed;
                let changed = delta.then_some(book.changed.as_slice());
                match slot.instance.on_market(handle, &book.view, changed) {
                    Ok(()) => {
                        slot.in_sync.insert(handle);
                        slot.delivered += 1;
                    }
                    Err(e) => note(&e),
                }
                slot.shown.insert(handle);
            } else {
                slot.in_sync.remove(handle);
            }
        }
        if book.view.status == MarketStatus::Closed && book.definition_changed {
            self.close(book);
        }
    }

    /// Run events of order-book instruments, in time order (WIT 1.1).
    pub fn run_instruments(&mut self, events: impl IntoIterator<Item = InstrumentEvent>) {
        for event in events {
            self.on_instrument(&event);
        }
    }

    /// Handle one event of an order-book instrument, as [`Engine::on_update`]
    /// handles a market update: the clock moves to it (timers due fire
    /// first), each strategy's book venue matches what it allows and the
    /// plugin hears of every order that changed, then plugins that trade
    /// the instrument get the event.
    pub fn on_instrument(&mut self, event: &InstrumentEvent) {
        let t = event.time();
        self.begin_event();
        self.fire_timers(t);
        self.clock.advance_to(t);
        let now = self.clock.now();
        self.updates += 1;
        for slot in &mut self.slots {
            self.book_changes.clear();
            slot.instance.set_time(now);
            slot.desk_mut()
                .on_instrument(now, event, &mut self.book_changes);
            for order in &self.book_changes {
                if let Err(e) = slot.instance.on_book_order(order) {
                    note(&e);
                }
            }
            if !slot.instruments.as_ref().is_some_and(|f| wants(f, event)) {
                continue;
            }
            slot.desk_mut().versions_mut().count_event();
            let result = match event {
                InstrumentEvent::Book(book) => slot.instance.on_book(book),
                InstrumentEvent::Trades(trades) => slot.instance.on_trades(trades),
                InstrumentEvent::Candle(candle) => slot.instance.on_candle(candle),
                InstrumentEvent::State(state) => slot.instance.on_instrument(state),
            };
            match result {
                Ok(()) => slot.delivered += 1,
                Err(e) => note(&e),
            }
        }
    }

    /// Fire every timer due by `t`, earliest first across strategies' own
    /// queues, each with the clock at its due time.
    fn fire_timers(&mut self, t: Timestamp) {
        for slot in &mut self.slots {
            let desk = slot.desk();
            // Most updates find no timer due: one look at the earliest.
            if desk.next_timer().is_none_or(|at| at > t) {
                continue;
            }
            let mut pass = desk.timer_pass();
            while let Some((at, token)) = slot.desk_mut().take_due_timer(t, &mut pass) {
                slot.instance.set_time(at.max(self.clock.now()));
                if let Err(e) = slot.instance.on_timer(token) {
                    note(&e);
                }
            }
        }
    }

    fn close(&mut self, book: &MarketBook) {
        let Some(handle) = self.handles.remove(book.view.id.as_str()) else {
            return;
        };
        let now = self.clock.now();
        for slot in &mut self.slots {
            self.changes.clear();
            slot.instance.set_time(now);
            let result = slot.desk_mut().settle(now, book, &mut self.changes);
            tell_orders(slot, &self.changes);
            if slot.shown.remove(handle)
                && let Err(e) = slot.instance.on_market_closed(&book.view)
            {
                note(&e);
            }
            slot.in_sync.remove(handle);
            slot.instance.forget_market(handle);
            slot.totals.markets += 1;
            slot.totals.figures += &result.figures;
            if self.keep_results {
                slot.results.push(result);
            }
        }
    }

    /// Each strategy's book orders placed or changed since the last call,
    /// of desks that keep them (`Desk::journalling_book_orders`), in the
    /// order strategies were added; strategies with none are left out.
    pub fn take_book_journal(&mut self) -> Vec<BookJournal> {
        let mut taken = Vec::new();
        for slot in &mut self.slots {
            let orders = slot.desk_mut().take_book_journal();
            if orders.is_empty() {
                continue;
            }
            let d = slot.instance.descriptor();
            taken.push(BookJournal {
                name: d.name.clone(),
                version: d.version.clone(),
                orders,
            });
        }
        taken
    }

    /// What each strategy did, in the order they were added.
    pub fn outcomes(&self) -> Vec<StrategyOutcome> {
        self.slots
            .iter()
            .map(|s| {
                let d = s.instance.descriptor();
                let desk = s.desk();
                StrategyOutcome {
                    name: d.name.clone(),
                    version: d.version.clone(),
                    updates: s.delivered,
                    markets: s.results.clone(),
                    tally: desk.tally().clone(),
                    dropped: s.instance.dropped(),
                    held: HostHeld {
                        timers: desk.pending_timers(),
                        ..s.instance.host_held()
                    },
                    faults: s.instance.faults().to_vec(),
                    quarantined: s.instance.is_quarantined(),
                    trades: desk.book_venue().map_or_else(Vec::new, |v| v.trades()),
                }
            })
            .collect()
    }
}

/// Whether a strategy trading `filter` wants `event`: its instrument, and
/// for a candle its interval.
fn wants(filter: &InstrumentFilter, event: &InstrumentEvent) -> bool {
    let instrument = event.instrument();
    let listed = filter.instruments.iter().any(|i| i == instrument);
    match event {
        InstrumentEvent::Candle(c) => listed && filter.candle_intervals.contains(&c.interval),
        _ => listed,
    }
}

#[inline]
fn tell_orders(slot: &mut Slot, changes: &[OrderChange]) {
    for c in changes {
        if let Err(e) = slot.instance.on_order(&c.order) {
            note(&e);
        }
    }
}

/// Faults are recorded by the instance and reported at the end.
fn note(e: &HookError) {
    if !matches!(e, HookError::Quarantined) {
        tracing::debug!("{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::HandleSet;
    use std::collections::BTreeSet;

    #[test]
    fn handle_set_agrees_with_a_set() {
        let (mut bits, mut set) = (HandleSet::default(), BTreeSet::new());
        // Handles past the first words and back, each inserted and removed.
        let handles: Vec<u32> = (0..300u32).map(|i| (i * 37) % 200).collect();
        for (n, &h) in handles.iter().enumerate() {
            if n % 3 == 2 {
                assert_eq!(bits.remove(h), set.remove(&h), "{h}");
            } else {
                bits.insert(h);
                set.insert(h);
            }
            for probe in 0..210 {
                assert_eq!(bits.contains(probe), set.contains(&probe), "{probe}");
            }
        }
        assert!(!bits.remove(100_000) && !bits.contains(100_000));
    }
}
