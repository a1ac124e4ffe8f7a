//! `steam-chaser`: before the off, remembers each runner's first best back
//! price; when a runner's price has shortened ("steamed") by `ticks` ticks
//! or more, backs it once at the current best back price, and cancels the
//! bet if it is still unmatched `cancel_after_ms` later.
//!
//! Shows the SDK's moving parts: parameters (`ticks`, `stake`,
//! `cancel_after_ms`), timers, the host's key-value state (a running count
//! of bets, which survives a faulted instance) and `snapshot`/`restore`
//! (the first prices, handed to the next version on a hot swap).
//!
//! Build: `clever build plugins/steam-chaser`.
use std::collections::BTreeMap;

use clever_sdk::ladder::ticks_between;
use clever_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// Ticks a price must shorten by.
const TICKS: Parameter = Parameter::whole(
    "ticks",
    3,
    "ticks a runner's best back price must shorten by (1 or more)",
);
/// Stake per bet.
const STAKE: Parameter = Parameter::number("stake", 2.0, "stake per bet");
/// How long an unmatched bet may wait.
const CANCEL_AFTER_MS: Parameter = Parameter::whole(
    "cancel_after_ms",
    5_000,
    "cancel an unmatched bet after this many milliseconds",
);

/// Parameters, all optional (declared above, so the host refuses a name
/// it does not know before a run).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Ticks a price must shorten by.
    pub ticks: i32,
    /// Stake per bet.
    pub stake: f64,
    /// Cancel an unmatched bet after this long.
    pub cancel_after_ms: u64,
}

impl Settings {
    /// The parameters in `params`, each its default if absent.
    pub fn from_params(params: &Params) -> Result<Settings, String> {
        let ticks = params.whole(&TICKS)?;
        Ok(Settings {
            ticks: i32::try_from(ticks).map_err(|_| format!("ticks of {ticks} is too many"))?,
            stake: params.number(&STAKE)?,
            cancel_after_ms: params.whole(&CANCEL_AFTER_MS)?,
        })
    }
}

/// What one market's memory holds for one runner.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// The first best back price seen.
    pub first: f64,
    /// Whether it has been backed.
    pub backed: bool,
}

/// What a hot swap hands over: per market id, per selection id, what was seen.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Market id to selection id to what was seen.
    pub markets: BTreeMap<String, BTreeMap<u64, Seen>>,
}

/// The strategy.
pub struct SteamChaser {
    settings: Settings,
    memory: Memory,
}

/// The key-value state key of the bet counter.
pub const BETS_KEY: &str = "bets";

impl Strategy for SteamChaser {
    fn markets() -> MarketFilter {
        MarketFilter::default()
            .market_types(&["WIN"])
            .pre_off_only()
    }

    fn parameters() -> Option<&'static [Parameter]> {
        Some(&[TICKS, STAKE, CANCEL_AFTER_MS])
    }

    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        let settings = Settings::from_params(params)?;
        if settings.ticks < 1 {
            return Err(format!("ticks must be at least 1, got {}", settings.ticks));
        }
        Ok(SteamChaser {
            settings,
            memory: Memory::default(),
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        if market.in_play || !market.is_open() {
            return;
        }
        // Look up without allocating; the market id is cloned once per market.
        if !self.memory.markets.contains_key(market.id.as_str()) {
            self.memory
                .markets
                .insert(market.id.0.clone(), BTreeMap::new());
        }
        let Some(seen) = self.memory.markets.get_mut(market.id.as_str()) else {
            return;
        };
        for runner in market.active_runners() {
            let Some(best) = runner.best_back() else {
                continue;
            };
            let entry = seen.entry(runner.selection_id.0).or_insert(Seen {
                first: best.price.get(),
                backed: false,
            });
            let shortened = ticks_between(best.price, Price(entry.first)).unwrap_or(0);
            if shortened < self.settings.ticks || entry.backed {
                continue;
            }
            let stake = self.settings.stake;
            if let Ok(id) = ctx.back(&market.id, runner.selection_id, best.price, stake) {
                entry.backed = true;
                ctx.set_timer(self.settings.cancel_after_ms, id.0);
                let bets = ctx
                    .state_get(BETS_KEY)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u64::from_le_bytes);
                ctx.state_set(BETS_KEY, &(bets + 1).to_le_bytes());
                ctx.signal(Signal {
                    name: "steam".into(),
                    value: shortened as f64,
                    market_id: Some(market.id.clone()),
                    selection_id: Some(runner.selection_id),
                });
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, token: u64) {
        let _ = ctx.cancel(OrderId(token));
    }

    fn on_market_closed(&mut self, _: &mut Context<'_>, market: &Market) {
        self.memory.markets.remove(market.id.as_str());
    }

    fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&self.memory).unwrap_or_default()
    }

    fn restore(&mut self, _: &mut Context<'_>, state: &[u8]) -> Result<(), String> {
        self.memory = serde_json::from_slice(state).map_err(|e| format!("bad snapshot: {e}"))?;
        Ok(())
    }
}

export_strategy!(SteamChaser);

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::harness::Harness;

    fn market(back: f64) -> Market {
        let mut m = Market::new("1.9");
        let mut r = Runner::new(4);
        r.back = Levels::from_slice(&[PriceSize::new(back, 50.0)]);
        m.runners.push(r);
        m
    }

    #[test]
    fn backs_once_when_the_price_steams_by_the_ticks_asked() {
        let mut h = Harness::<SteamChaser>::new(r#"{"ticks": 2, "stake": 3}"#).unwrap();
        h.market(&market(5.0));
        h.market(&market(4.9)); // one tick
        assert!(h.orders().is_empty());
        h.market(&market(4.8)); // two ticks
        h.market(&market(4.5));
        assert_eq!(h.orders().len(), 1, "once per runner");
        assert_eq!(h.orders()[0].request.price, Price(4.8));
        assert_eq!(h.orders()[0].request.size, 3.0);
        assert_eq!(
            h.recorded().state.get(BETS_KEY),
            Some(&1u64.to_le_bytes().to_vec())
        );
        assert_eq!(h.signals()[0].value, 2.0);
    }

    #[test]
    fn cancels_an_unmatched_bet_after_the_delay() {
        let mut h =
            Harness::<SteamChaser>::new(r#"{"ticks": 1, "cancel_after_ms": 1000}"#).unwrap();
        h.market(&market(5.0));
        h.market(&market(4.9));
        h.advance(1_000);
        assert!(!h.orders()[0].is_open());
        assert_eq!(h.orders()[0].size_cancelled, 2.0);
    }

    #[test]
    fn memory_carries_across_a_swap() {
        let mut old = Harness::<SteamChaser>::new(r#"{"ticks": 1}"#).unwrap();
        old.market(&market(5.0));
        let mut new = Harness::<SteamChaser>::new(r#"{"ticks": 1}"#).unwrap();
        new.restore(&old.snapshot()).unwrap();
        new.market(&market(4.9));
        assert_eq!(
            new.orders().len(),
            1,
            "the new version knew the first price"
        );
        assert!(new.restore(b"garbage").is_err());
    }

    #[test]
    fn bad_parameters_refuse_to_start() {
        assert!(Harness::<SteamChaser>::new(r#"{"ticks": 0}"#).is_err());
        assert!(Harness::<SteamChaser>::new(r#"{"tick": 2}"#).is_err());
    }
}
