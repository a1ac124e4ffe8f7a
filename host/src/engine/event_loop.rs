//! [`Engine`]: the event loop. For each update, in publish-time order:
//!
//! 1. the clock moves to the update's publish time, firing on the way
//!    every timer due by then, each at its own time;
//! 2. each strategy's venue sees the update (orders arrive, match, lapse)
//!    and the plugin hears of every order that changed (`on-order`);
//! 3. plugins whose filter wants the market get it (`on-market`);
//! 4. if the market closed, each strategy's orders in it are settled and
//!    the plugin gets `on-market-closed`.
//!
//! A plugin is only ever shown the market as published at or before the
//! current event; an order it places now reaches the venue after the
//! venue's latency and matches against later updates only.

use std::collections::{HashMap, HashSet};

use clever_sdk::{MarketFilter, MarketStatus, Timestamp};

use super::clock::Clock;
use super::desk::{DeskServices, Tally};
use super::source::MarketSource;
use super::venue::OrderChange;
use crate::exec::MarketResult;
use crate::market::betfair::{MarketBook, ReadError};
use crate::runtime::{Fault, HookError, PluginInstance};

/// One strategy in the loop.
struct Slot {
    instance: PluginInstance,
    services: DeskServices,
    filter: MarketFilter,
    /// Markets whose every update this plugin has seen (so a delta is enough).
    in_sync: HashSet<u32>,
    /// Markets this plugin has been shown at least once.
    shown: HashSet<u32>,
    /// Updates delivered to the plugin.
    delivered: u64,
    results: Vec<MarketResult>,
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
    /// Faults, oldest first.
    pub faults: Vec<Fault>,
    /// Quarantined by the end.
    pub quarantined: bool,
}

/// The event loop over one source.
pub struct Engine<C: Clock> {
    clock: C,
    slots: Vec<Slot>,
    handles: HashMap<String, u32>,
    changes: Vec<OrderChange>,
    updates: u64,
    markets: u64,
}

impl<C: Clock> Engine<C> {
    /// An engine with no strategies yet.
    pub fn new(clock: C) -> Self {
        Engine {
            clock,
            slots: Vec::new(),
            handles: HashMap::new(),
            changes: Vec::new(),
            updates: 0,
            markets: 0,
        }
    }

    /// Add a running plugin and the desk its services lead to.
    pub fn add_strategy(&mut self, instance: PluginInstance, services: DeskServices) {
        let filter = instance.descriptor().markets.clone();
        self.slots.push(Slot {
            instance,
            services,
            filter,
            in_sync: HashSet::new(),
            shown: HashSet::new(),
            delivered: 0,
            results: Vec::new(),
        });
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
    pub fn run(&mut self, source: &mut dyn MarketSource, mut on_error: impl FnMut(ReadError)) {
        while let Some(next) = source.next_update() {
            match next {
                Ok(book) => self.on_update(book),
                Err(e) => on_error(e),
            }
        }
        for book in source.unfinished() {
            self.close(book);
        }
    }

    /// Handle one market update.
    pub fn on_update(&mut self, book: &MarketBook) {
        let t = book.view.publish_time;
        self.fire_timers(t);
        self.clock.advance_to(t);
        let now = self.clock.now();
        self.updates += 1;
        // Handles are never reused, so a plugin cannot mix two markets up.
        // Look up before inserting: `entry` would copy the id every update.
        let handle = match self.handles.get(book.view.id.as_str()) {
            Some(&handle) => handle,
            None => {
                self.markets += 1;
                let handle = self.markets as u32;
                self.handles.insert(book.view.id.0.clone(), handle);
                handle
            }
        };
        for slot in &mut self.slots {
            self.changes.clear();
            {
                let mut desk = slot.services.desk();
                desk.set_now(now);
                desk.on_market(book, &mut self.changes);
            }
            tell_orders(slot, &self.changes);
            if slot.filter.wants(&book.view, now) {
                let delta = slot.in_sync.contains(&handle) && !book.definition_changed;
                let changed = delta.then_some(book.changed.as_slice());
                match slot.instance.on_market(handle, &book.view, changed) {
                    Ok(()) => {
                        slot.in_sync.insert(handle);
                    }
                    Err(e) => note(&e),
                }
                slot.shown.insert(handle);
                slot.delivered += 1;
            } else {
                slot.in_sync.remove(&handle);
            }
        }
        if book.view.status == MarketStatus::Closed && book.definition_changed {
            self.close(book);
        }
    }

    /// Fire every timer due by `t`, earliest first across strategies' own
    /// queues, each with the clock at its due time.
    fn fire_timers(&mut self, t: Timestamp) {
        for slot in &mut self.slots {
            loop {
                let due = {
                    let mut desk = slot.services.desk();
                    let due = desk.take_due_timer(t);
                    if let Some((at, _)) = due {
                        desk.set_now(at.max(self.clock.now()));
                    }
                    due
                };
                let Some((_, token)) = due else { break };
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
        for slot in &mut self.slots {
            self.changes.clear();
            let result = slot.services.desk().settle(book, &mut self.changes);
            tell_orders(slot, &self.changes);
            if slot.shown.remove(&handle)
                && let Err(e) = slot.instance.on_market_closed(&book.view)
            {
                note(&e);
            }
            slot.in_sync.remove(&handle);
            slot.results.push(result);
        }
    }

    /// What each strategy did, in the order they were added.
    pub fn outcomes(&self) -> Vec<StrategyOutcome> {
        self.slots
            .iter()
            .map(|s| {
                let d = s.instance.descriptor();
                StrategyOutcome {
                    name: d.name.clone(),
                    version: d.version.clone(),
                    updates: s.delivered,
                    markets: s.results.clone(),
                    tally: s.services.desk().tally().clone(),
                    faults: s.instance.faults().to_vec(),
                    quarantined: s.instance.is_quarantined(),
                }
            })
            .collect()
    }
}

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
