//! [`PluginInstance`]: one running plugin. Every hook call gets a fresh
//! fuel budget and per-call quotas. A fault discards the Wasm instance (a
//! trapped Store must not be entered again); the next call builds a new one
//! from the InstancePre and runs `init` again, while the host side (state,
//! services, counters) carries over. After `max_faults` faults the plugin
//! is quarantined: no more calls, and its open orders are cancelled.

use std::collections::BTreeMap;
use std::sync::Arc;

use clever_sdk::wire::{self, Runners};
use clever_sdk::{Descriptor, Market, Order, Timestamp};
use wasmtime::Store;
use wasmtime::component::Instance;

use super::bindings::wit;
use super::bindings::{Plugin, book};
use super::deadline;
use super::fault::{Fault, FaultCause, Hook, classify};
use super::imports::charge_calls;
use super::log_gate::LogGate;
use super::plugin::LoadedPlugin;
use super::sandbox::{CallBudget, ClockCell, Dropped, HostHeld, HostSide, KvState, PluginState};
use super::services::{HostServices, InertServices};
use super::timing::{HOOK_SAMPLE, HookTimes};

/// Why a hook did not run to completion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// The plugin is quarantined and gets no more calls.
    #[error("plugin is quarantined")]
    Quarantined,
    /// The call faulted; the instance was discarded.
    #[error("{0}")]
    Faulted(Fault),
    /// `init` or `restore` returned an error (shortened to 1 KiB).
    #[error("refused: {0}")]
    Refused(String),
    /// Not called: the calls for this market event already spent
    /// `fuel_per_event` (the fault was recorded when it ran out).
    #[error("skipped: this event's fuel is spent")]
    EventFuelSpent,
}

/// Counters over a plugin instance's life.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Hook calls made (including faulted ones).
    pub calls: u64,
    /// Fuel consumed by all calls.
    pub fuel_consumed: u64,
    /// Times a Wasm instance was built (1 + rebuilds after faults).
    pub instantiations: u64,
    /// How long the hook calls took (one in [`HOOK_SAMPLE`] is timed).
    pub hook_times: HookTimes,
}

/// A Wasm instance's exports: the hooks every strategy has, and the 1.1
/// book hooks if it exports them.
pub(crate) struct Live {
    pub(crate) hooks: Plugin,
    pub(crate) book: Option<book::BookHooks>,
}

/// One running plugin with its sandbox.
pub struct PluginInstance {
    plugin: Arc<LoadedPlugin>,
    store: Store<PluginState>,
    live: Option<Live>,
    params: String,
    /// What this Wasm instance last received of each market it has seen.
    seen: BTreeMap<u32, Sent>,
    scratch: Vec<u8>,
    faults: Vec<Fault>,
    quarantined: bool,
    stats: Stats,
    /// Fuel left for the current market event, once the engine has
    /// started counting events ([`PluginInstance::begin_event`]).
    event_fuel: Option<u64>,
}

impl PluginInstance {
    /// Instantiate and run `init(params)` at time `now`.
    pub(crate) fn start(
        plugin: Arc<LoadedPlugin>,
        params: &str,
        now: Timestamp,
        services: Box<dyn HostServices>,
    ) -> Result<Self, HookError> {
        let store = new_store(&plugin, host_side(&plugin, services));
        store.data().host.clock.set(now.0);
        let mut instance = PluginInstance {
            plugin,
            store,
            live: None,
            params: params.to_owned(),
            seen: BTreeMap::new(),
            scratch: Vec::with_capacity(4096),
            faults: Vec::new(),
            quarantined: false,
            stats: Stats::default(),
            event_fuel: None,
        };
        instance.ensure_live()?;
        Ok(instance)
    }

    /// Call `describe` on a throwaway instance.
    pub(crate) fn describe(
        plugin: &LoadedPlugin,
        services: Box<dyn HostServices>,
    ) -> Result<Descriptor, HookError> {
        let d = ask(plugin, services, Hook::Describe, |store, instance| {
            Plugin::new(&mut *store, instance)?
                .clever_strategy_hooks()
                .call_describe(store)
        })?;
        let limit = plugin.config.limits.output_bytes;
        let bytes = d.name.len() + d.version.len() + d.sdk_version.len();
        if bytes > limit {
            return Err(HookError::Faulted(fault_of(
                &plugin.descriptor,
                Hook::Describe,
                FaultCause::OversizedOutput { bytes, limit },
            )));
        }
        Ok(d.into())
    }

    /// Set the time the plugin sees (its `now` and its WASI clocks) for
    /// the calls that follow: the engine's clock, read once per event.
    pub fn set_time(&mut self, now: Timestamp) {
        self.store.data().host.clock.set(now.0);
    }

    /// The time the plugin sees.
    pub fn time(&self) -> Timestamp {
        self.store.data().host.now()
    }

    /// The services this instance was started on, if they are an `S`.
    pub fn services<S: HostServices>(&self) -> Option<&S> {
        let services: &dyn std::any::Any = self.store.data().host.services.as_ref();
        services.downcast_ref()
    }

    /// The services this instance was started on, if they are an `S`, to
    /// change between calls (the plugin reaches them only during a call).
    pub fn services_mut<S: HostServices>(&mut self) -> Option<&mut S> {
        let services: &mut dyn std::any::Any = self.store.data_mut().host.services.as_mut();
        services.downcast_mut()
    }

    /// Put `services` in place of this instance's, returning the old ones
    /// (a hot swap hands the running version's desk to the next).
    pub fn replace_services(&mut self, services: Box<dyn HostServices>) -> Box<dyn HostServices> {
        std::mem::replace(&mut self.store.data_mut().host.services, services)
    }

    /// Who this is.
    pub fn descriptor(&self) -> &Descriptor {
        &self.plugin.descriptor
    }

    /// The loaded component behind this instance.
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.plugin
    }

    /// Faults so far, oldest first.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// True once the plugin gets no more calls.
    pub fn is_quarantined(&self) -> bool {
        self.quarantined
    }

    /// Call counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What the sandbox's per-call budgets and caps cut off so far.
    pub fn dropped(&self) -> Dropped {
        self.store.data().host.dropped
    }

    /// What the host holds for this plugin in the runtime now.
    pub fn host_held(&self) -> HostHeld {
        let kv = &self.store.data().host.kv;
        HostHeld {
            timers: 0,
            state_entries: kv.entries.len(),
            state_bytes: kv.bytes,
            markets: self.seen.len(),
        }
    }

    /// A new market event begins: the calls made for it from now on share
    /// `fuel_per_event`. Until the first, calls are limited per call only.
    pub fn begin_event(&mut self) {
        self.event_fuel = Some(self.plugin.config.limits.fuel_per_event);
    }

    /// Deliver a market update. `changed` lists the indexes of the runners
    /// that changed (a delta); `None`, or a market this Wasm instance has not
    /// seen, sends the full image. A one-runner delta that the scalar fast
    /// path carries exactly goes as `on-runner`, with no allocation. Deltas
    /// carry status, in-play, bet delay, volumes and runners; a change of
    /// the market's definition (ids, types, start, winners) must come as
    /// `None`.
    pub fn on_market(
        &mut self,
        handle: u32,
        market: &Market,
        changed: Option<&[usize]>,
    ) -> Result<(), HookError> {
        self.ensure_live()?;
        let depth = self.plugin.config.ladder_depth;
        let sent = self.seen.get(&handle);
        let fast = match (changed, sent) {
            (Some(&[i]), Some(sent)) if sent.carries(market, i) => {
                wire::encode_runner(handle, market, i, depth)
            }
            _ => None,
        };
        if let Some(d) = fast {
            return self.on_runner(&d);
        }
        let runners = match changed {
            Some(ix) if sent.is_some() => Runners::Changed(ix),
            _ => Runners::All,
        };
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        wire::encode(&mut buf, handle, market, depth, runners);
        let fuel = self.plugin.config.limits.fuel_per_call;
        let result = self.call(Hook::OnMarket, fuel, |p, s| {
            p.hooks.clever_strategy_hooks().call_on_market(s, &buf)
        });
        self.scratch = buf;
        if result.is_ok() {
            self.seen.entry(handle).or_default().record(market);
        }
        result
    }

    fn on_runner(&mut self, d: &wire::RunnerDelta) -> Result<(), HookError> {
        let fuel = self.plugin.config.limits.fuel_per_call;
        let l = &d.levels;
        self.call(Hook::OnMarket, fuel, |p, s| {
            p.hooks.clever_strategy_hooks().call_on_runner(
                s,
                d.head,
                d.selection,
                d.publish_time,
                d.last_traded,
                d.traded_volume,
                d.total_matched,
                l[0],
                l[1],
                l[2],
                l[3],
                l[4],
                l[5],
                l[6],
                l[7],
                l[8],
                l[9],
            )
        })
    }

    /// Tell the plugin one of its orders changed.
    pub fn on_order(&mut self, order: &Order) -> Result<(), HookError> {
        let order: wit::Order = order.into();
        let fuel = self.plugin.config.limits.fuel_per_call;
        self.call(Hook::OnOrder, fuel, |p, s| {
            p.hooks.clever_strategy_hooks().call_on_order(s, &order)
        })
    }

    /// Fire a timer.
    pub fn on_timer(&mut self, token: u64) -> Result<(), HookError> {
        let fuel = self.plugin.config.limits.fuel_per_call;
        self.call(Hook::OnTimer, fuel, |p, s| {
            p.hooks.clever_strategy_hooks().call_on_timer(s, token)
        })
    }

    /// Tell the plugin a market closed, with its results.
    pub fn on_market_closed(&mut self, market: &Market) -> Result<(), HookError> {
        let market: wit::Market = market.into();
        let fuel = self.plugin.config.limits.fuel_per_call;
        self.call(Hook::OnMarketClosed, fuel, |p, s| {
            p.hooks
                .clever_strategy_hooks()
                .call_on_market_closed(s, &market)
        })
    }

    /// The market behind `handle` has closed: forget what was last sent
    /// of it (a host that runs for weeks would otherwise keep every market
    /// it ever delivered).
    pub fn forget_market(&mut self, handle: u32) {
        self.seen.remove(&handle);
    }

    /// The plugin's state for a hot swap.
    pub fn snapshot(&mut self) -> Result<Vec<u8>, HookError> {
        let fuel = self.plugin.config.limits.fuel_per_init;
        let state = self.call(Hook::Snapshot, fuel, |p, s| {
            p.hooks.clever_strategy_hooks().call_snapshot(s)
        })?;
        self.check_output(Hook::Snapshot, state.len())?;
        Ok(state)
    }

    /// Take over `other`'s key-value state (a hot swap hands it on with
    /// the snapshot); `other` is left with none.
    pub fn take_state_from(&mut self, other: &mut PluginInstance) {
        let kv = std::mem::take(&mut other.store.data_mut().host.kv);
        self.store.data_mut().host.kv = kv;
    }

    /// Hand a previous version's state to this plugin.
    pub fn restore(&mut self, state: &[u8]) -> Result<(), HookError> {
        let fuel = self.plugin.config.limits.fuel_per_init;
        let result = self.call(Hook::Restore, fuel, |p, s| {
            p.hooks.clever_strategy_hooks().call_restore(s, state)
        })?;
        self.refusal(Hook::Restore, result)
    }

    /// Build the Wasm instance if there is none, and run `init` on it.
    fn ensure_live(&mut self) -> Result<(), HookError> {
        if self.quarantined {
            return Err(HookError::Quarantined);
        }
        if self.live.is_some() {
            return Ok(());
        }
        self.stats.instantiations += 1;
        self.seen.clear();
        let fuel = self.plugin.config.limits.fuel_per_init;
        let plugin = self.plugin.clone();
        let params = std::mem::take(&mut self.params);
        let result = self.enter(Hook::Init, fuel, |store| {
            let live = instantiate(&plugin, &mut *store)?;
            let result = (live.hooks.clever_strategy_hooks()).call_init(&mut *store, &params)?;
            Ok((live, result))
        });
        self.params = params;
        let (live, result) = result?;
        self.live = Some(live);
        match self.refusal(Hook::Init, result) {
            // A rebuilt instance that will not start can never run again:
            // count it as a fault until quarantine, instead of retrying forever.
            Err(HookError::Refused(reason)) if self.stats.instantiations > 1 => {
                Err(self.fault(Hook::Init, FaultCause::InitRefused(reason)))
            }
            Err(e) => {
                self.live = None;
                Err(e)
            }
            Ok(()) => Ok(()),
        }
    }

    /// Run a hook on the live instance.
    pub(crate) fn call<R>(
        &mut self,
        hook: Hook,
        fuel: u64,
        f: impl FnOnce(&Live, &mut Store<PluginState>) -> wasmtime::Result<R>,
    ) -> Result<R, HookError> {
        self.ensure_live()?;
        let Some(live) = self.live.take() else {
            return Err(HookError::Quarantined);
        };
        let result = self.enter(hook, fuel, |store| f(&live, store));
        // A fault replaced the store; anything else leaves the instance whole.
        if !matches!(result, Err(HookError::Faulted(_))) {
            self.live = Some(live);
        }
        result
    }

    /// Enter the guest with a fresh budget; turn an error into a fault.
    /// Event hooks take their fuel from the event's pool as well.
    fn enter<R>(
        &mut self,
        hook: Hook,
        fuel: u64,
        f: impl FnOnce(&mut Store<PluginState>) -> wasmtime::Result<R>,
    ) -> Result<R, HookError> {
        self.store.data_mut().begin_call();
        let pool = self.event_fuel.filter(|_| hook.is_event());
        if pool == Some(0) {
            return Err(HookError::EventFuelSpent);
        }
        self.stats.calls += 1;
        let given = pool.map_or(fuel, |left| left.min(fuel));
        let deadline_ms = arm_deadline(&mut self.store, &self.plugin, hook);
        let started = (self.stats.calls.is_multiple_of(HOOK_SAMPLE)).then(std::time::Instant::now);
        let result = self.store.set_fuel(given).and_then(|_| f(&mut self.store));
        if let Some(started) = started {
            (self.stats.hook_times).record(started.elapsed().as_micros() as u64);
        }
        let used = given.saturating_sub(self.store.get_fuel().unwrap_or(0));
        self.stats.fuel_consumed += used;
        if let (Some(left), Some(pool)) = (pool, self.event_fuel.as_mut()) {
            *pool = left.saturating_sub(used);
        }
        result.map_err(|e| {
            let cause = match cause_of(&self.store, &e, deadline_ms) {
                FaultCause::OutOfFuel if given < fuel => FaultCause::EventFuel {
                    limit: self.plugin.config.limits.fuel_per_event,
                },
                cause => cause,
            };
            self.fault(hook, cause)
        })
    }

    /// A hook returned `Err(text)`: refuse with it, unless it is oversized.
    fn refusal(&mut self, hook: Hook, result: Result<(), String>) -> Result<(), HookError> {
        match result {
            Ok(()) => Ok(()),
            Err(text) => {
                self.check_output(hook, text.len())?;
                let mut shown: String = text.chars().take(1024).collect();
                if shown.len() < text.len() {
                    shown.push('…');
                }
                Err(HookError::Refused(shown))
            }
        }
    }

    fn check_output(&mut self, hook: Hook, bytes: usize) -> Result<(), HookError> {
        let limit = self.plugin.config.limits.output_bytes;
        if bytes > limit {
            self.live = None;
            return Err(self.fault(hook, FaultCause::OversizedOutput { bytes, limit }));
        }
        Ok(())
    }

    /// Record a fault, discard the instance, quarantine if it is one too many.
    fn fault(&mut self, hook: Hook, cause: FaultCause) -> HookError {
        let fault = fault_of(&self.plugin.descriptor, hook, cause);
        tracing::warn!(plugin = %fault.plugin, version = %fault.version, hook = %hook, "{}", fault.cause);
        self.faults.push(fault.clone());
        self.live = None;
        // The trapped store may hold a half-updated guest: start a new one,
        // carrying the host side over.
        let host = std::mem::replace(
            &mut self.store.data_mut().host,
            host_side(&self.plugin, Box::new(InertServices)),
        );
        self.store = new_store(&self.plugin, host);
        if self.faults.len() >= self.plugin.config.limits.max_faults as usize {
            self.quarantined = true;
            let host = &mut self.store.data_mut().host;
            let now = host.now();
            host.services.cancel_all_orders(now);
            tracing::warn!(plugin = %fault.plugin, "quarantined after {} faults", self.faults.len());
        }
        HookError::Faulted(fault)
    }
}

/// The fields of a market the fast path does not carry, as last sent.
#[derive(Default)]
struct Sent {
    bet_delay: u32,
    /// Per runner: adjustment factor, SP near, SP far, BSP (as bits).
    extras: Vec<[u64; 4]>,
}

fn extras_of(r: &clever_sdk::Runner) -> [u64; 4] {
    let bits = |v: Option<f64>| v.map_or(u64::MAX, f64::to_bits);
    [
        r.adjustment_factor.to_bits(),
        bits(r.sp_near),
        bits(r.sp_far),
        bits(r.bsp),
    ]
}

impl Sent {
    fn record(&mut self, market: &Market) {
        self.bet_delay = market.bet_delay;
        self.extras.clear();
        self.extras.extend(market.runners.iter().map(extras_of));
    }

    /// True if updating runner `i` by the fast path leaves nothing unsent.
    fn carries(&self, market: &Market, i: usize) -> bool {
        self.bet_delay == market.bet_delay
            && self.extras.len() == market.runners.len()
            && market.runners.get(i).map(extras_of) == self.extras.get(i).copied()
    }
}

pub(crate) fn fault_of(descriptor: &Descriptor, hook: Hook, cause: FaultCause) -> Fault {
    Fault {
        plugin: descriptor.name.clone(),
        version: descriptor.version.clone(),
        hook,
        cause,
    }
}

pub(crate) fn cause_of(
    store: &Store<PluginState>,
    error: &wasmtime::Error,
    deadline_ms: Option<u64>,
) -> FaultCause {
    let data = store.data();
    let memory = data
        .limiter
        .memory_refused
        .map(|requested| (requested, data.host.limits.memory_bytes));
    let import_bytes = copy_budget(&data.host.limits);
    classify(
        error,
        memory,
        data.panic_message(),
        deadline_ms,
        import_bytes,
    )
}

/// Run `call` on a throwaway instance of `plugin` under the `init`
/// budgets, naming `hook` in any fault: how a loaded plugin is asked what
/// it declares (`describe`, `instruments`, `parameters`).
pub(crate) fn ask<T>(
    plugin: &LoadedPlugin,
    services: Box<dyn HostServices>,
    hook: Hook,
    call: impl FnOnce(&mut Store<PluginState>, &Instance) -> wasmtime::Result<T>,
) -> Result<T, HookError> {
    let mut store = new_store(plugin, host_side(plugin, services));
    let deadline_ms = arm_deadline(&mut store, plugin, hook);
    store.data_mut().begin_call();
    let result = (store.set_fuel(plugin.config.limits.fuel_per_init)).and_then(|_| {
        let instance = plugin.pre.instance_pre().instantiate(&mut store)?;
        call(&mut store, &instance)
    });
    result.map_err(|e| {
        let cause = cause_of(&store, &e, deadline_ms);
        HookError::Faulted(fault_of(&plugin.descriptor, hook, cause))
    })
}

/// Build a Wasm instance of `plugin` in `store`, with its book hooks if it
/// has them.
pub(crate) fn instantiate(
    plugin: &LoadedPlugin,
    store: &mut Store<PluginState>,
) -> wasmtime::Result<Live> {
    let instance = plugin.pre.instance_pre().instantiate(&mut *store)?;
    let hooks = Plugin::new(&mut *store, &instance)?;
    let book = (plugin.book.as_ref())
        .map(|indices| indices.load(&mut *store, &instance))
        .transpose()?;
    Ok(Live { hooks, book })
}

/// Arm the wall-clock deadline for a call of `hook`, if this runtime arms
/// deadlines; returns it in milliseconds.
pub(crate) fn arm_deadline(
    store: &mut Store<PluginState>,
    plugin: &LoadedPlugin,
    hook: Hook,
) -> Option<u64> {
    if !plugin.config.deadline {
        return None;
    }
    let limits = &plugin.config.limits;
    let ms = if hook.is_event() {
        limits.deadline_ms
    } else {
        limits.init_deadline_ms
    };
    store.set_epoch_deadline(deadline::ticks(ms));
    Some(ms)
}

pub(crate) fn host_side(plugin: &LoadedPlugin, services: Box<dyn HostServices>) -> HostSide {
    let d = plugin.descriptor();
    let tag = format!("{}@{}", d.name, d.version);
    let limits = &plugin.config.limits;
    // Only a running host (the one that arms deadlines) limits the rate.
    let per_minute = plugin
        .config
        .deadline
        .then_some(limits.log_lines_per_minute);
    HostSide {
        services,
        log_gate: LogGate::new(per_minute, &tag),
        tag,
        limits: limits.clone(),
        budget: CallBudget::default(),
        dropped: Dropped::default(),
        kv: KvState::default(),
        clock: ClockCell::default(),
        debt: 0,
    }
}

/// What a guest may hand the host in one call: wasmtime counts the
/// arguments of an import and the result of a hook alike, so a hook may
/// return up to `output_bytes` even if `import_bytes` is smaller.
fn copy_budget(limits: &super::Limits) -> usize {
    limits.import_bytes.max(limits.output_bytes)
}

pub(crate) fn new_store(plugin: &LoadedPlugin, host: HostSide) -> Store<PluginState> {
    let import_bytes = copy_budget(&plugin.config.limits);
    let mut store = Store::new(&plugin.engine, PluginState::new(host, plugin.seed()));
    store.limiter(|s| &mut s.limiter);
    // Bytes a guest may hand the host in one call, checked before any copy.
    store.set_hostcall_fuel(import_bytes);
    charge_calls(&mut store);
    store
}

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::Runner;

    #[test]
    fn fast_path_only_when_nothing_it_omits_changed() {
        let mut market = Market::new("1.1");
        market.runners = vec![Runner::new(1), Runner::new(2)];
        let mut sent = Sent::default();
        sent.record(&market);
        assert!(sent.carries(&market, 0));
        market.runners[1].adjustment_factor = 12.5;
        assert!(
            sent.carries(&market, 0),
            "another runner's change is not this update's"
        );
        assert!(!sent.carries(&market, 1));
        market.bet_delay = 1;
        assert!(!sent.carries(&market, 0));
        sent.record(&market);
        market.runners.push(Runner::new(3));
        assert!(
            !sent.carries(&market, 0),
            "a new runner needs the packed path"
        );
    }
}
