//! `back-fav-preoff`: before the off, once per market, back for 2.00 the
//! runner with the lowest best back price, at that price, if it is below 4.0.
//!
//! Build: `clever build plugins/back-fav-preoff`.
use clever_sdk::prelude::*;

/// Stake of the back.
const STAKE: Parameter = Parameter::number("stake", 2.0, "stake of the back");
/// The price the favourite must be under.
const MAX_PRICE: Parameter =
    Parameter::number("max_price", 4.0, "back the favourite only below this price");

/// Backs the favourite once per market, pre-off.
pub struct BackFavPreOff {
    stake: f64,
    max_price: f64,
}

impl BackFavPreOff {
    /// The favourite: the active runner with the lowest best back price.
    pub fn favourite(market: &Market) -> Option<(SelectionId, Price)> {
        market
            .active_runners()
            .filter_map(|r| r.best_back().map(|b| (r.selection_id, b.price)))
            .min_by(|a, b| a.1.get().total_cmp(&b.1.get()))
    }
}

impl Strategy for BackFavPreOff {
    fn markets() -> MarketFilter {
        MarketFilter::default().pre_off_only()
    }

    fn parameters() -> Option<&'static [Parameter]> {
        Some(&[STAKE, MAX_PRICE])
    }

    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        Ok(BackFavPreOff {
            stake: params.number(&STAKE)?,
            max_price: params.number(&MAX_PRICE)?,
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        if market.in_play || !market.is_open() {
            return;
        }
        let Some((selection, price)) = Self::favourite(market) else {
            return;
        };
        if price.get() >= self.max_price {
            return;
        }
        match ctx.back(&market.id, selection, price, self.stake) {
            // Once per market: the host sends no more of it.
            Ok(_) => _ = ctx.done_with(&market.id),
            Err(reason) => ctx.warn(&format!("back {selection:?} @ {price} refused: {reason}")),
        }
    }
}

export_strategy!(BackFavPreOff);

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::harness::Harness;

    fn market(prices: &[(u64, f64)]) -> Market {
        clever_sdk::harness::market_with_backs("1.100", prices)
    }

    #[test]
    fn backs_the_favourite_once_per_market() {
        let mut h = Harness::<BackFavPreOff>::new("{}").unwrap();
        let m = market(&[(1, 5.0), (2, 3.5), (3, 8.0)]);
        assert!(h.market(&m));
        assert!(
            !h.market(&m),
            "done with the market: the host sends no more of it"
        );
        assert_eq!(h.orders().len(), 1);
        let o = &h.orders()[0].request;
        assert_eq!(
            (o.selection_id, o.side, o.price, o.size),
            (SelectionId(2), Side::Back, Price(3.5), 2.0)
        );
    }

    #[test]
    fn leaves_markets_without_a_short_favourite_and_in_play_alone() {
        let mut h = Harness::<BackFavPreOff>::new("{}").unwrap();
        h.market(&market(&[(1, 4.0), (2, 6.0)]));
        let mut in_play = market(&[(1, 2.0)]);
        in_play.in_play = true;
        assert!(!h.market(&in_play), "the filter keeps in-play updates away");
        assert!(h.orders().is_empty());
    }

    #[test]
    fn backs_again_after_the_market_closes_and_reopens() {
        let mut h = Harness::<BackFavPreOff>::new("{}").unwrap();
        let m = market(&[(1, 3.0)]);
        h.market(&m);
        h.close(&m);
        assert!(h.market(&m), "a closed market's interest is forgotten");
        assert_eq!(h.orders().len(), 2);
    }
}
