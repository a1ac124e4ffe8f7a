//! Settlement of what matched in one market: WIN and PLACE markets, dead
//! heats, voids, and commission on the net market winnings.

use clever_market::{Decimal, MarketResult, Money, SettledOrder};
use clever_sdk::{Market, RunnerStatus, Side};

use super::order::SimOrder;

/// Whether runners that place count as winners: PLACE-type markets and any
/// market paying more than one place.
fn pays_places(market: &Market) -> bool {
    market.market_type.contains("PLACE") || market.number_of_winners > 1
}

/// The share of a winning bet's stake paid at full odds: 1, or, when more
/// runners won than the market pays places (a dead heat), places divided by
/// winners. Betfair's stream does not say which places were shared, so in a
/// PLACE market every winner takes the same share (see docs/SIMULATION.md).
fn dead_heat_share(market: &Market) -> Decimal {
    let places = market.number_of_winners.max(1) as usize;
    let winners = market
        .runners
        .iter()
        .filter(|r| is_winner(market, r.status))
        .count();
    if winners > places {
        Decimal::from(places) / Decimal::from(winners)
    } else {
        Decimal::ONE
    }
}

fn is_winner(market: &Market, status: RunnerStatus) -> bool {
    status == RunnerStatus::Winner || (status == RunnerStatus::Placed && pays_places(market))
}

/// A price on the ladder (hundredths) as an exact decimal.
fn exact_price(price: f64) -> Decimal {
    Money::from_f64(price).decimal()
}

/// Settle `orders` in the closed `market` at `commission_rate` percent.
/// Each order's profit is exact and booked to the penny; the market's
/// figures are their sums ([`MarketResult::of_orders`]).
pub fn settle(market: &Market, orders: &[SimOrder], commission_rate: f64) -> MarketResult {
    let share = dead_heat_share(market);
    let settled = orders
        .iter()
        .map(|order| settle_order(market, order, share))
        .collect();
    let rate = Money::from_f64(commission_rate).decimal();
    MarketResult::of_orders(market.id.0.clone(), orders.len() as u64, settled, rate)
}

fn settle_order(market: &Market, order: &SimOrder, share: Decimal) -> SettledOrder {
    let status = market
        .runner(order.order.request.selection_id)
        .map(|r| r.status);
    let mut matched = Money::ZERO;
    let mut profit = Money::ZERO;
    for fill in order.fills.iter().filter(|f| !f.void) {
        let size = Money::from_f64(fill.size);
        let back = match status {
            Some(s) if is_winner(market, s) => {
                let odds = exact_price(fill.price) - Decimal::ONE;
                size.times(share * odds) - size.times(Decimal::ONE - share)
            }
            // Placed in a WIN market means lost; removed or unsettled is void.
            Some(RunnerStatus::Loser | RunnerStatus::Placed) => -size,
            _ => continue,
        };
        matched += size;
        profit += match order.order.request.side {
            Side::Back => back,
            Side::Lay => -back,
        };
    }
    SettledOrder {
        order: order.order.clone(),
        fills: order.fills.clone(),
        cancel_at: order.cancel_at,
        matched,
        profit: profit.pennies(),
        commission: Money::ZERO,
        settled_at: market.publish_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clever_market::Fill;
    use clever_sdk::{
        MarketId, Order, OrderId, OrderRequest, Price, Runner, SelectionId, Timestamp,
    };

    fn market(kind: &str, places: u32, statuses: &[RunnerStatus]) -> Market {
        let mut m = Market::new("1.5");
        m.market_type = kind.into();
        m.number_of_winners = places;
        for (i, s) in statuses.iter().enumerate() {
            let mut r = Runner::new(i as u64 + 1);
            r.status = *s;
            m.runners.push(r);
        }
        m
    }

    fn matched(selection: u64, side: Side, price: f64, size: f64) -> SimOrder {
        let request = OrderRequest::limit(
            MarketId::from("1.5"),
            SelectionId(selection),
            side,
            Price(price),
            size,
        );
        let order = Order {
            id: OrderId(selection),
            request,
            status: Default::default(),
            size_matched: 0.0,
            average_price_matched: None,
            size_cancelled: 0.0,
            size_lapsed: 0.0,
            placed_at: Timestamp(0),
            rejection: None,
        };
        let mut o = SimOrder::new(order, Timestamp(0), false);
        o.fills.push(Fill {
            at: Timestamp(0),
            price,
            size,
            void: false,
        });
        o
    }

    use RunnerStatus::{Loser, Placed, Removed, Winner};

    fn money(x: f64) -> Money {
        Money::from_f64(x)
    }

    #[test]
    fn order_shares_of_commission_add_up_to_the_market_s() {
        let m3 = market("WIN", 1, &[Winner, Loser, Loser]);
        let orders = [
            matched(1, Side::Back, 3.0, 3.33),
            matched(2, Side::Lay, 4.0, 3.33),
            matched(3, Side::Lay, 4.0, 3.33),
        ];
        let r = settle(&m3, &orders, 6.5);
        let shares: Money = r.settled.iter().map(|o| o.commission).sum();
        assert_eq!(shares, r.figures.commission);
        let profits: Money = r.settled.iter().map(|o| o.profit).sum();
        assert_eq!(profits, r.figures.gross_profit);
        assert_eq!(
            r.figures.profit,
            r.figures.gross_profit - r.figures.commission
        );
    }

    #[test]
    fn win_market_backs_and_lays_with_commission_on_net_winnings() {
        let m = market("WIN", 1, &[Winner, Loser, Removed]);
        let orders = [
            matched(1, Side::Back, 3.0, 10.0), // +20
            matched(2, Side::Lay, 4.0, 5.0),   // +5
            matched(3, Side::Back, 9.0, 7.0),  // void: removed
        ];
        let r = settle(&m, &orders, 5.0);
        assert_eq!(r.figures.matched, money(15.0));
        assert_eq!(r.figures.gross_profit, money(25.0));
        assert_eq!(r.figures.commission, money(1.25));
        assert_eq!(r.figures.profit, money(23.75));
    }

    #[test]
    fn a_net_loss_pays_no_commission() {
        let m = market("WIN", 1, &[Winner, Loser]);
        let r = settle(&m, &[matched(1, Side::Lay, 3.0, 10.0)], 5.0);
        assert_eq!(
            (
                r.figures.gross_profit,
                r.figures.commission,
                r.figures.profit
            ),
            (money(-20.0), money(0.0), money(-20.0))
        );
    }

    #[test]
    fn a_dead_heat_pays_half_the_stake_at_full_odds() {
        let m = market("WIN", 1, &[Winner, Winner, Loser]);
        // 10 at 5.0 in a two-way dead heat: 5 wins 20, 5 loses.
        let r = settle(&m, &[matched(1, Side::Back, 5.0, 10.0)], 0.0);
        assert_eq!(r.figures.gross_profit, money(15.0));
        let r = settle(&m, &[matched(2, Side::Lay, 5.0, 10.0)], 0.0);
        assert_eq!(r.figures.gross_profit, money(-15.0));
    }

    #[test]
    fn place_markets_pay_every_placed_runner() {
        let m = market("PLACE", 2, &[Winner, Placed, Loser]);
        let orders = [
            matched(1, Side::Back, 1.5, 10.0), // +5
            matched(2, Side::Back, 2.0, 10.0), // +10
            matched(3, Side::Back, 3.0, 10.0), // -10
        ];
        assert_eq!(settle(&m, &orders, 0.0).figures.gross_profit, money(5.0));
        // Three winners for two places: each gets two thirds at full odds.
        let heat = market("PLACE", 2, &[Winner, Winner, Winner]);
        let r = settle(&heat, &[matched(1, Side::Back, 4.0, 9.0)], 0.0);
        assert_eq!(r.figures.gross_profit, money(6.0 * 3.0 - 3.0));
    }
}
