//! {{name}}: backs the favourite once per market before the off, when its
//! price is under `max_price`, for `stake`. A starting point: change
//! `on_market`, keep the tests honest, then `clever build .`.

use clever_sdk::prelude::*;

/// Declared once: `clever inspect` lists them, and the host refuses a
/// misspelt name or a value of the wrong kind before a run.
const STAKE: Parameter = Parameter::number("stake", 2.0, "stake of each back");
const MAX_PRICE: Parameter =
    Parameter::number("max_price", 4.0, "back the favourite only below this price");

pub struct Favourite {
    stake: f64,
    max_price: f64,
    backed: Vec<MarketId>,
}

impl Strategy for Favourite {
    fn markets() -> MarketFilter {
        MarketFilter::default().market_types(&["WIN"]).pre_off_only()
    }

    fn parameters() -> Option<&'static [Parameter]> {
        Some(&[STAKE, MAX_PRICE])
    }

    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        Ok(Favourite {
            stake: params.number(&STAKE)?,
            max_price: params.number(&MAX_PRICE)?,
            backed: Vec::new(),
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        if !market.is_open() || self.backed.contains(&market.id) {
            return;
        }
        let favourite = (market.active_runners())
            .filter_map(|r| r.best_back().map(|b| (r.selection_id, b.price)))
            .min_by(|a, b| a.1.get().total_cmp(&b.1.get()));
        let Some((selection, price)) = favourite else {
            return;
        };
        if price.get() >= self.max_price {
            return;
        }
        match ctx.back(&market.id, selection, price, self.stake) {
            Ok(_) => self.backed.push(market.id.clone()),
            Err(reason) => ctx.warn(&format!("back {selection:?} at {price} refused: {reason}")),
        }
    }

    fn on_market_closed(&mut self, _: &mut Context<'_>, market: &Market) {
        self.backed.retain(|id| id != &market.id);
    }
}

export_strategy!(Favourite);

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::harness::{Harness, market_with_backs};

    #[test]
    fn backs_the_favourite_once_per_market() {
        let mut h = Harness::<Favourite>::new("{}").unwrap();
        let m = market_with_backs("1.1", &[(1, 5.0), (2, 3.5), (3, 8.0)]);
        h.market(&m);
        h.market(&m);
        assert_eq!(h.orders().len(), 1);
        let o = &h.orders()[0].request;
        assert_eq!((o.selection_id, o.price, o.size), (SelectionId(2), Price(3.5), 2.0));
    }

    #[test]
    fn leaves_a_long_favourite_alone() {
        let mut h = Harness::<Favourite>::new(r#"{"max_price": 3.0}"#).unwrap();
        h.market(&market_with_backs("1.1", &[(1, 3.5), (2, 6.0)]));
        assert!(h.orders().is_empty());
    }
}
