//! One coin's order book at the local exchange: the replayed market's
//! levels (the rest of the world's liquidity, replaced by each recorded
//! snapshot and used up by what our users take from it) and our users'
//! resting orders. Matching is price-time: the best price first; at one
//! price, the replayed liquidity (it was there first), then resting orders
//! oldest first. A taker fills at the resting price. Resting orders also
//! fill when the replayed market trades or moves through their price.

use clever_hyperliquid::data::{Aggressor, L2Book, Level, Trade};
use clever_hyperliquid::{Address, Cloid};
use rust_decimal::Decimal;

/// A resting order.
#[derive(Debug, Clone, PartialEq)]
pub struct Resting {
    /// The venue's order id.
    pub oid: u64,
    /// Whose.
    pub user: Address,
    /// Buy or sell.
    pub is_buy: bool,
    /// Limit price.
    pub px: Decimal,
    /// Size not yet filled.
    pub sz: Decimal,
    /// Size placed.
    pub orig_sz: Decimal,
    /// The client order id, if any.
    pub cloid: Option<Cloid>,
    /// Reduce only.
    pub reduce_only: bool,
    /// When placed (exchange ms).
    pub timestamp: i64,
}

/// One side of one match.
#[derive(Debug, Clone, PartialEq)]
pub struct Fill {
    /// The order that filled.
    pub oid: u64,
    /// Whose.
    pub user: Address,
    /// Bought (true) or sold.
    pub is_buy: bool,
    /// At what price.
    pub px: Decimal,
    /// How much.
    pub sz: Decimal,
    /// It took liquidity (pays the taker fee).
    pub crossed: bool,
}

/// An order looking for liquidity.
#[derive(Debug, Clone, Copy)]
pub struct Taker {
    /// Its order id.
    pub oid: u64,
    /// Whose (never matched against its own resting orders).
    pub user: Address,
    /// Buy or sell.
    pub is_buy: bool,
    /// The worst price it takes.
    pub px: Decimal,
    /// Size wanted.
    pub sz: Decimal,
}

/// A coin's book.
#[derive(Debug, Default)]
pub struct CoinBook {
    /// The replayed market's bids, best first, less what was taken.
    bids: Vec<Level>,
    /// Its asks, best first, less what was taken.
    asks: Vec<Level>,
    /// Our users' resting orders, oldest first.
    resting: Vec<Resting>,
    /// When the latest snapshot was taken (venue ms).
    pub time: i64,
}

impl CoinBook {
    /// The best bid and ask, ours included.
    pub fn bbo(&self) -> (Option<Decimal>, Option<Decimal>) {
        let ours = |buy: bool| self.resting.iter().filter(move |r| r.is_buy == buy);
        let bid = (self.bids.first().map(|l| l.px))
            .into_iter()
            .chain(ours(true).map(|r| r.px))
            .max();
        let ask = (self.asks.first().map(|l| l.px))
            .into_iter()
            .chain(ours(false).map(|r| r.px))
            .min();
        (bid, ask)
    }

    /// The mid price of the replayed market (the mark and oracle here).
    pub fn mid(&self) -> Option<Decimal> {
        match (self.bids.first(), self.asks.first()) {
            (Some(b), Some(a)) => Some((b.px + a.px) / Decimal::TWO),
            (Some(l), None) | (None, Some(l)) => Some(l.px),
            (None, None) => None,
        }
    }

    /// Whether `taker` would match anything at once (for post-only).
    pub fn would_cross(&self, taker: &Taker) -> bool {
        let (bid, ask) = self.bbo();
        if taker.is_buy {
            ask.is_some_and(|a| a <= taker.px)
        } else {
            bid.is_some_and(|b| b >= taker.px)
        }
    }

    /// Match `taker` now; both sides of every match, taker first.
    pub fn take(&mut self, taker: &Taker) -> Vec<Fill> {
        let mut fills = Vec::new();
        let mut left = taker.sz;
        while left > Decimal::ZERO {
            let Some((px, from_market, index)) = self.best_against(taker) else {
                break;
            };
            let sz = if from_market {
                let levels = if taker.is_buy {
                    &mut self.asks
                } else {
                    &mut self.bids
                };
                let sz = left.min(levels[index].sz);
                levels[index].sz -= sz;
                if levels[index].sz.is_zero() {
                    levels.remove(index);
                }
                sz
            } else {
                let maker = &mut self.resting[index];
                let sz = left.min(maker.sz);
                maker.sz -= sz;
                fills.push(Fill {
                    oid: maker.oid,
                    user: maker.user,
                    is_buy: maker.is_buy,
                    px,
                    sz,
                    crossed: false,
                });
                sz
            };
            left -= sz;
            fills.push(Fill {
                oid: taker.oid,
                user: taker.user,
                is_buy: taker.is_buy,
                px,
                sz,
                crossed: true,
            });
        }
        self.resting.retain(|r| r.sz > Decimal::ZERO);
        fills
    }

    /// The best liquidity `taker` may take: price, whether the market's
    /// (else a resting order's), and its index.
    fn best_against(&self, taker: &Taker) -> Option<(Decimal, bool, usize)> {
        let reaches = |px: Decimal| {
            if taker.is_buy {
                px <= taker.px
            } else {
                px >= taker.px
            }
        };
        let better = |a: Decimal, b: Decimal| if taker.is_buy { a < b } else { a > b };
        let levels = if taker.is_buy { &self.asks } else { &self.bids };
        let mut best = levels
            .first()
            .filter(|l| reaches(l.px))
            .map(|l| (l.px, true, 0));
        for (i, r) in self.resting.iter().enumerate() {
            let candidate = r.is_buy != taker.is_buy
                && r.user != taker.user
                && r.sz > Decimal::ZERO
                && reaches(r.px);
            if candidate && best.is_none_or(|(px, _, _)| better(r.px, px)) {
                best = Some((r.px, false, i));
            }
        }
        best
    }

    /// Rest an order.
    pub fn rest(&mut self, order: Resting) {
        self.resting.push(order);
    }

    /// Take a resting order off the book.
    pub fn remove(&mut self, oid: u64) -> Option<Resting> {
        let i = self.resting.iter().position(|r| r.oid == oid)?;
        Some(self.resting.remove(i))
    }

    /// The resting orders, oldest first.
    pub fn resting(&self) -> &[Resting] {
        &self.resting
    }

    /// A new snapshot of the market: it replaces the levels, and resting
    /// orders it has moved through fill against its liquidity there.
    pub fn on_snapshot(&mut self, book: L2Book) -> Vec<Fill> {
        self.bids = book.bids;
        self.asks = book.asks;
        self.time = book.time;
        let mut fills = Vec::new();
        for is_buy in [true, false] {
            let levels = if is_buy {
                &mut self.asks
            } else {
                &mut self.bids
            };
            let crossing =
                |px: Decimal, limit: Decimal| if is_buy { px <= limit } else { px >= limit };
            for order in priority(&mut self.resting, is_buy) {
                for level in levels.iter_mut().filter(|l| crossing(l.px, order.px)) {
                    let sz = order.sz.min(level.sz);
                    level.sz -= sz;
                    order.sz -= sz;
                    if sz > Decimal::ZERO {
                        fills.push(maker_fill(order, sz));
                    }
                }
            }
            levels.retain(|l| l.sz > Decimal::ZERO);
        }
        self.resting.retain(|r| r.sz > Decimal::ZERO);
        fills
    }

    /// Trades printed by the market: a resting order at a better price
    /// than a trade would have been ahead of it, and fills up to its size.
    pub fn on_trades(&mut self, trades: &[Trade]) -> Vec<Fill> {
        let mut fills = Vec::new();
        for trade in trades {
            // A selling aggressor hits bids: our buys at or above its price.
            let is_buy = trade.side == Aggressor::Sell;
            let mut left = trade.sz;
            for order in priority(&mut self.resting, is_buy) {
                let through = if is_buy {
                    order.px >= trade.px
                } else {
                    order.px <= trade.px
                };
                if !through || left.is_zero() {
                    continue;
                }
                let sz = order.sz.min(left);
                order.sz -= sz;
                left -= sz;
                fills.push(maker_fill(order, sz));
            }
        }
        self.resting.retain(|r| r.sz > Decimal::ZERO);
        fills
    }

    /// The book as the venue shows it: the market's levels and our resting
    /// orders merged, `depth` levels a side.
    pub fn levels(&self, depth: usize) -> (Vec<Level>, Vec<Level>) {
        let side = |market: &[Level], is_buy: bool| {
            let mut merged: Vec<Level> = market.to_vec();
            for r in self.resting.iter().filter(|r| r.is_buy == is_buy) {
                match merged.iter_mut().find(|l| l.px == r.px) {
                    Some(level) => {
                        level.sz += r.sz;
                        level.n = Some(level.n.unwrap_or(1) + 1);
                    }
                    None => merged.push(Level {
                        px: r.px,
                        sz: r.sz,
                        n: Some(1),
                    }),
                }
            }
            merged.sort_by(|a, b| {
                if is_buy {
                    b.px.cmp(&a.px)
                } else {
                    a.px.cmp(&b.px)
                }
            });
            merged.truncate(depth);
            merged
        };
        (side(&self.bids, true), side(&self.asks, false))
    }
}

/// Resting orders of one side in priority order: best price, then oldest.
fn priority(resting: &mut [Resting], is_buy: bool) -> Vec<&mut Resting> {
    let mut side: Vec<&mut Resting> = resting.iter_mut().filter(|r| r.is_buy == is_buy).collect();
    side.sort_by(|a, b| {
        let price = if is_buy {
            b.px.cmp(&a.px)
        } else {
            a.px.cmp(&b.px)
        };
        price.then(a.oid.cmp(&b.oid))
    });
    side
}

fn maker_fill(order: &Resting, sz: Decimal) -> Fill {
    Fill {
        oid: order.oid,
        user: order.user,
        is_buy: order.is_buy,
        px: order.px,
        sz,
        crossed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn level(px: &str, sz: &str) -> Level {
        Level {
            px: d(px),
            sz: d(sz),
            n: Some(1),
        }
    }

    fn book(bids: &[(&str, &str)], asks: &[(&str, &str)]) -> L2Book {
        L2Book {
            coin: "ETH".into(),
            time: 1,
            bids: bids.iter().map(|(p, s)| level(p, s)).collect(),
            asks: asks.iter().map(|(p, s)| level(p, s)).collect(),
        }
    }

    fn user(n: u8) -> Address {
        Address([n; 20])
    }

    fn resting(oid: u64, who: u8, is_buy: bool, px: &str, sz: &str) -> Resting {
        Resting {
            oid,
            user: user(who),
            is_buy,
            px: d(px),
            sz: d(sz),
            orig_sz: d(sz),
            cloid: None,
            reduce_only: false,
            timestamp: 0,
        }
    }

    #[test]
    fn a_taker_walks_the_book_best_price_first_and_ours_after_the_market_at_one_price() {
        let mut coin = CoinBook::default();
        coin.on_snapshot(book(&[("99", "1")], &[("100", "1"), ("101", "2")]));
        coin.rest(resting(1, 2, false, "100", "0.5"));
        let taker = Taker {
            oid: 9,
            user: user(1),
            is_buy: true,
            px: d("101"),
            sz: d("2"),
        };
        let fills = coin.take(&taker);
        let got: Vec<_> = fills
            .iter()
            .map(|f| (f.oid, f.px, f.sz, f.crossed))
            .collect();
        assert_eq!(
            got,
            vec![
                (9, d("100"), d("1"), true),
                (1, d("100"), d("0.5"), false),
                (9, d("100"), d("0.5"), true),
                (9, d("101"), d("0.5"), true),
            ]
        );
        assert_eq!(coin.bbo(), (Some(d("99")), Some(d("101"))));
        assert!(coin.resting().is_empty());
    }

    #[test]
    fn a_resting_order_fills_when_the_market_moves_through_it_oldest_first_at_one_price() {
        let mut coin = CoinBook::default();
        coin.on_snapshot(book(&[("99", "1")], &[("101", "1")]));
        coin.rest(resting(1, 1, true, "100", "1"));
        coin.rest(resting(2, 2, true, "100", "1"));
        let fills = coin.on_snapshot(book(&[("98", "1")], &[("99.5", "1.5")]));
        let got: Vec<_> = fills.iter().map(|f| (f.oid, f.px, f.sz)).collect();
        assert_eq!(got, vec![(1, d("100"), d("1")), (2, d("100"), d("0.5"))]);
        assert_eq!(coin.resting()[0].sz, d("0.5"));
        assert_eq!(coin.bbo(), (Some(d("100")), None), "the ask was used up");
        let fills = coin.on_trades(&[Trade {
            coin: "ETH".into(),
            side: Aggressor::Sell,
            px: d("100"),
            sz: d("3"),
            time: 2,
            tid: 1,
            hash: String::new(),
        }]);
        assert_eq!(fills.len(), 1);
        assert!(coin.resting().is_empty());
    }

    #[test]
    fn own_orders_never_match_and_the_view_merges_ours_into_the_levels() {
        let mut coin = CoinBook::default();
        coin.on_snapshot(book(&[("99", "1")], &[("101", "1")]));
        coin.rest(resting(1, 1, false, "100", "2"));
        let taker = Taker {
            oid: 2,
            user: user(1),
            is_buy: true,
            px: d("100"),
            sz: d("1"),
        };
        assert!(coin.take(&taker).is_empty());
        coin.rest(resting(3, 2, true, "99", "0.5"));
        let (bids, asks) = coin.levels(5);
        assert_eq!((bids[0].sz, bids[0].n), (d("1.5"), Some(2)));
        assert_eq!(asks[0].px, d("100"));
    }
}
