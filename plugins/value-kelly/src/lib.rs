//! `value-kelly`: the seeds' value flow. On each update before the off,
//! read the model's probability for each active runner and compare it
//! with the best price on offer to back. Where the edge, `p × price − 1`,
//! is at least `min_edge`, back at that price once per runner and market,
//! staking fractional Kelly: `fraction × kelly(p, price) × bankroll`,
//! rounded down to the penny, at most `max_stake`, and never so much that
//! the stakes of markets still open would exceed `bankroll`. A stake below
//! `min_stake` (Betfair's minimum) is not placed: Kelly said bet less.
//!
//! Parameters: `model` (the name, or `name@version`; default "model"),
//! `min_edge` (0.05), `fraction` (0.25), `bankroll` (100), `max_stake`
//! (20), `min_stake` (2).
//!
//! Build: `clever build plugins/value-kelly`.
use clever_sdk::odds::kelly_fraction;
use clever_sdk::prelude::*;

/// Backs value as the model sees it.
pub struct ValueKelly {
    model: String,
    min_edge: f64,
    fraction: f64,
    bankroll: f64,
    max_stake: f64,
    min_stake: f64,
    /// Runners backed in markets still open, with their stakes.
    backed: Vec<(MarketId, SelectionId, f64)>,
}

impl ValueKelly {
    /// Stakes in markets still open.
    fn committed(&self) -> f64 {
        self.backed.iter().map(|(_, _, stake)| stake).sum()
    }

    /// The stake Kelly gives `p` at `price`, within the limits; none if
    /// the edge is too small or the stake below the minimum.
    pub fn stake(&self, p: f64, price: Price) -> Option<f64> {
        if p * price.get() - 1.0 < self.min_edge {
            return None;
        }
        let kelly = self.fraction * kelly_fraction(p, price) * self.bankroll;
        let room = self.bankroll - self.committed();
        let stake = (kelly.min(self.max_stake).min(room) * 100.0).floor() / 100.0;
        (stake >= self.min_stake).then_some(stake)
    }
}

const MODEL: Parameter = Parameter::text("model", "model", "the model whose predictions it reads");
const MIN_EDGE: Parameter = Parameter::number(
    "min_edge",
    0.05,
    "back only with at least this edge over the price",
);
const FRACTION: Parameter =
    Parameter::number("fraction", 0.25, "share of the Kelly stake, in (0, 1]");
const BANKROLL: Parameter = Parameter::number("bankroll", 100.0, "the bankroll Kelly stakes from");
const MAX_STAKE: Parameter = Parameter::number("max_stake", 20.0, "the most a bet stakes");
const MIN_STAKE: Parameter = Parameter::number("min_stake", 2.0, "no bet below this stake");

impl Strategy for ValueKelly {
    fn parameters() -> Option<&'static [Parameter]> {
        Some(&[MODEL, MIN_EDGE, FRACTION, BANKROLL, MAX_STAKE, MIN_STAKE])
    }

    fn markets() -> MarketFilter {
        MarketFilter::default().pre_off_only()
    }

    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        let fraction = params.number(&FRACTION)?;
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(format!(
                "parameter `fraction` must be in (0, 1], got {fraction}"
            ));
        }
        Ok(ValueKelly {
            model: params.text(&MODEL)?,
            min_edge: params.number(&MIN_EDGE)?,
            fraction,
            bankroll: params.number(&BANKROLL)?,
            max_stake: params.number(&MAX_STAKE)?,
            min_stake: params.number(&MIN_STAKE)?,
            backed: Vec::new(),
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        if market.in_play || !market.is_open() {
            return;
        }
        for runner in market.active_runners() {
            let id = runner.selection_id;
            let done = (self.backed.iter()).any(|(m, s, _)| m == &market.id && *s == id);
            let Some(best) = runner.best_back() else {
                continue;
            };
            if done {
                continue;
            }
            let Some(p) = ctx.prediction(&self.model, &market.id, id) else {
                continue;
            };
            let Some(stake) = self.stake(p, best.price) else {
                continue;
            };
            match ctx.back(&market.id, id, best.price, stake) {
                Ok(_) => self.backed.push((market.id.clone(), id, stake)),
                Err(reason) => ctx.warn(&format!("back {id:?} @ {} refused: {reason}", best.price)),
            }
        }
    }

    fn on_market_closed(&mut self, _: &mut Context<'_>, market: &Market) {
        self.backed.retain(|(m, _, _)| m != &market.id);
    }
}

export_strategy!(ValueKelly);

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::harness::Harness;

    fn market(prices: &[(u64, f64)]) -> Market {
        clever_sdk::harness::market_with_backs("1.100", prices)
    }

    #[test]
    fn backs_each_runner_with_an_edge_once_at_fractional_kelly() {
        let mut h = Harness::<ValueKelly>::new(r#"{"model":"m"}"#).unwrap();
        // Runner 1: p 0.5 at 3.0, edge 0.5, Kelly (1.5 - 1) / 2 = 0.25,
        // a quarter of it on 100 is 6.25. Runner 2: p 0.2 at 5.0, no edge.
        h.set_prediction("m", "1.100", 1, 0.5);
        h.set_prediction("m", "1.100", 2, 0.2);
        let m = market(&[(1, 3.0), (2, 5.0), (3, 2.0)]);
        h.market(&m);
        h.market(&m);
        assert_eq!(h.orders().len(), 1);
        let o = &h.orders()[0].request;
        assert_eq!(
            (o.selection_id, o.side, o.price, o.size),
            (SelectionId(1), Side::Back, Price(3.0), 6.25)
        );
    }

    #[test]
    fn no_prediction_or_a_small_stake_places_nothing() {
        let mut h = Harness::<ValueKelly>::new(r#"{"model":"m","bankroll":10}"#).unwrap();
        h.market(&market(&[(1, 3.0)]));
        // An edge, but a quarter Kelly of 10 is 0.62: below the minimum.
        h.set_prediction("m", "1.100", 1, 0.5);
        h.market(&market(&[(1, 3.0)]));
        assert!(h.orders().is_empty());
    }

    #[test]
    fn stakes_stay_within_the_bankroll_and_the_maximum() {
        let params = r#"{"model":"m","bankroll":10,"fraction":1,"max_stake":6}"#;
        let mut h = Harness::<ValueKelly>::new(params).unwrap();
        for runner in 1..=3 {
            h.set_prediction("m", "1.100", runner, 0.9);
        }
        h.market(&market(&[(1, 3.0), (2, 3.0), (3, 3.0)]));
        let stakes: Vec<f64> = h.orders().iter().map(|o| o.request.size).collect();
        assert_eq!(
            stakes,
            [6.0, 4.0],
            "6 is the most; then 4 is what is left of 10"
        );
    }

    #[test]
    fn a_bad_fraction_is_refused() {
        assert!(Harness::<ValueKelly>::new(r#"{"fraction":2}"#).is_err());
    }
}
