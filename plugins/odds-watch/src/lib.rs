//! `odds-watch`: places no bets. It watches each active runner's price
//! (last traded, else best back) and signals:
//!
//! * `price-shortened` / `price-drifted` when the price has moved by at
//!   least `move_share` (default 0.1: ten percent) from any price it had
//!   within the last `within_secs` (default 60); the value is the largest
//!   such move as a share of the earlier price (0.25: a quarter). The runner's history
//!   then starts again, so one move signals once.
//! * `price-crossed-below` / `price-crossed-above` when the price goes to
//!   or through `cross_below` / `cross_above` (off unless set); the value
//!   is the new price.
//!
//! Signals carry the market and runner. Alert rules in the host's config
//! turn them into alerts (see the README's "Alerts").
//!
//! Build: `clever build plugins/odds-watch`.
use clever_sdk::prelude::*;

/// What one runner's price has been lately.
struct Seen {
    market: MarketId,
    selection: SelectionId,
    /// (when, price), oldest first, none older than the window.
    history: Vec<(Timestamp, f64)>,
}

/// Watches prices and signals moves.
pub struct OddsWatch {
    move_share: f64,
    within_ms: i64,
    cross_below: Option<f64>,
    cross_above: Option<f64>,
    seen: Vec<Seen>,
}

impl OddsWatch {
    fn seen(&mut self, market: &MarketId, selection: SelectionId) -> &mut Seen {
        let at = self
            .seen
            .iter()
            .position(|s| s.selection == selection && &s.market == market);
        let at = at.unwrap_or_else(|| {
            let history = Vec::new();
            let market = market.clone();
            self.seen.push(Seen {
                market,
                selection,
                history,
            });
            self.seen.len() - 1
        });
        &mut self.seen[at]
    }

    /// The signals `price` at `now` gives for a runner.
    fn watch(
        &mut self,
        (market, selection): (&MarketId, SelectionId),
        now: Timestamp,
        price: f64,
    ) -> Vec<Signal> {
        let (share, within) = (self.move_share, self.within_ms);
        let (below, above) = (self.cross_below, self.cross_above);
        let seen = self.seen(market, selection);
        seen.history.retain(|(t, _)| now.0 - t.0 <= within);
        let mut out = Vec::new();
        if let Some(&(_, last)) = seen.history.last() {
            if below.is_some_and(|b| last > b && price <= b) {
                out.push(("price-crossed-below", price));
            }
            if above.is_some_and(|a| last < a && price >= a) {
                out.push(("price-crossed-above", price));
            }
        }
        let moved = (seen.history.iter())
            .map(|&(_, then)| (price - then) / then)
            .max_by(|a, b| a.abs().total_cmp(&b.abs()))
            .filter(|m| m.abs() >= share);
        if let Some(m) = moved {
            let name = if m < 0.0 {
                "price-shortened"
            } else {
                "price-drifted"
            };
            out.push((name, m.abs()));
            seen.history.clear();
        }
        seen.history.push((now, price));
        (out.into_iter())
            .map(|(name, value)| Signal {
                market_id: Some(market.clone()),
                selection_id: Some(selection),
                ..Signal::new(name, value)
            })
            .collect()
    }
}

impl Strategy for OddsWatch {
    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        let optional = |key: &str| match params.get(key) {
            None => Ok(None),
            Some(_) => params.f64_or(key, 0.0).map(Some),
        };
        let move_share = params.f64_or("move_share", 0.1)?;
        if move_share.is_nan() || move_share <= 0.0 {
            return Err(format!(
                "parameter `move_share` must be above 0, got {move_share}"
            ));
        }
        Ok(OddsWatch {
            move_share,
            within_ms: (params.f64_or("within_secs", 60.0)? * 1000.0) as i64,
            cross_below: optional("cross_below")?,
            cross_above: optional("cross_above")?,
            seen: Vec::new(),
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        let now = market.publish_time;
        for runner in market.active_runners() {
            let price = runner.last_traded.or(runner.best_back().map(|b| b.price));
            let Some(price) = price else { continue };
            for signal in self.watch((&market.id, runner.selection_id), now, price.get()) {
                ctx.signal(signal);
            }
        }
    }

    fn on_market_closed(&mut self, _: &mut Context<'_>, market: &Market) {
        self.seen.retain(|s| s.market != market.id);
    }
}

export_strategy!(OddsWatch);

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::harness::{Harness, market_with_backs};

    fn at(h: &mut Harness<OddsWatch>, secs: i64, price: f64) -> Vec<(String, f64)> {
        let mut m = market_with_backs("1.1", &[(7, price)]);
        m.publish_time = Timestamp(secs * 1000);
        let before = h.signals().len();
        h.market(&m);
        h.signals()[before..]
            .iter()
            .map(|s| (s.name.clone(), (s.value * 1e6).round() / 1e6))
            .collect()
    }

    #[test]
    fn a_move_within_the_window_signals_once_and_a_slow_one_never() {
        let mut h = Harness::<OddsWatch>::new(r#"{"move_share":0.2,"within_secs":30}"#).unwrap();
        assert!(at(&mut h, 0, 4.0).is_empty());
        assert!(at(&mut h, 10, 4.4).is_empty(), "10% is not 20%");
        assert_eq!(at(&mut h, 20, 5.0), [("price-drifted".into(), 0.25)]);
        assert!(at(&mut h, 25, 5.0).is_empty(), "the move signalled once");
        // Down 20% from 5.0, but over 40 s: out of the window by then.
        assert!(at(&mut h, 45, 4.5).is_empty());
        assert!(at(&mut h, 65, 4.0).is_empty());
        // The largest move within 30 s: from 4.5 at 45 s.
        assert_eq!(at(&mut h, 70, 3.2), [("price-shortened".into(), 0.288889)]);
        let s = h.signals().last().unwrap();
        assert_eq!(
            (s.market_id.clone(), s.selection_id),
            (Some(MarketId::from("1.1")), Some(SelectionId(7)))
        );
    }

    #[test]
    fn crossing_a_set_price_signals_each_way() {
        let params = r#"{"move_share":5,"cross_below":3.0,"cross_above":6.0}"#;
        let mut h = Harness::<OddsWatch>::new(params).unwrap();
        assert!(at(&mut h, 0, 3.2).is_empty());
        assert_eq!(at(&mut h, 1, 3.0), [("price-crossed-below".into(), 3.0)]);
        assert!(at(&mut h, 2, 2.9).is_empty());
        assert!(at(&mut h, 3, 5.5).is_empty());
        assert_eq!(at(&mut h, 4, 6.2), [("price-crossed-above".into(), 6.2)]);
        assert!(Harness::<OddsWatch>::new(r#"{"move_share":0}"#).is_err());
    }
}
