//! Betfair's order rules, shared by the host's venues and the SDK's test
//! harness so both refuse exactly the same orders: ladder prices, legal
//! stakes, open markets, known runners; and the matched position per runner.

use crate::ladder::Price;
use crate::market::Market;
use crate::types::{Order, OrderRequest, OrderType, RejectReason, RunnerPosition, Side};

/// Minimum stake for GBP (since 2022).
pub const MIN_STAKE: f64 = 1.0;
/// A stake below the minimum is legal if price × stake reaches this (GBP).
pub const MIN_PAYOUT: f64 = 10.0;
/// Minimum liability of a Starting Price lay (GBP).
pub const MIN_BSP_LIABILITY: f64 = 10.0;
/// Longest customer order reference Betfair takes (`customerOrderRef`);
/// a longer one is refused as `venue-error("INVALID_CUSTOMER_ORDER_REF")`.
pub const MAX_CUSTOMER_REF_BYTES: usize = 32;

/// Check an order against the market it is for and the venue's rules.
pub fn validate_order(market: &Market, request: &OrderRequest) -> Result<(), RejectReason> {
    let runner = market
        .runner(request.selection_id)
        .filter(|r| r.is_active())
        .ok_or(RejectReason::UnknownSelection)?;
    let _ = runner;
    if !market.is_open() {
        return Err(RejectReason::MarketNotOpen);
    }
    validate_price_and_size(request)
}

/// The price and stake rules alone (no market needed).
pub fn validate_price_and_size(request: &OrderRequest) -> Result<(), RejectReason> {
    if request
        .customer_ref
        .as_ref()
        .is_some_and(|r| r.len() > MAX_CUSTOMER_REF_BYTES)
    {
        return Err(RejectReason::VenueError(
            "INVALID_CUSTOMER_ORDER_REF".into(),
        ));
    }
    let size = request.size;
    if !size.is_finite() || size <= 0.0 || !has_two_decimals(size) {
        return Err(RejectReason::InvalidSize);
    }
    match request.order_type {
        OrderType::Limit | OrderType::LimitOnClose => {
            if !request.price.is_on_ladder() {
                return Err(RejectReason::InvalidPrice);
            }
        }
        OrderType::MarketOnClose => {}
    }
    let legal = match (request.order_type, request.side) {
        (OrderType::Limit, _) => size >= MIN_STAKE || request.price.0 * size >= MIN_PAYOUT,
        (_, Side::Back) => size >= MIN_STAKE,
        (OrderType::LimitOnClose, Side::Lay) => {
            crate::odds::lay_liability(size, request.price) >= MIN_BSP_LIABILITY
        }
        // A market-on-close lay's `size` is its liability.
        (OrderType::MarketOnClose, Side::Lay) => size >= MIN_BSP_LIABILITY,
    };
    if legal {
        Ok(())
    } else {
        Err(RejectReason::InvalidSize)
    }
}

fn has_two_decimals(value: f64) -> bool {
    let cents = value * 100.0;
    (cents - cents.round()).abs() < 1e-6
}

/// The matched position per runner of a market from its orders: for each
/// runner, the market's net profit if it wins and if it loses.
pub fn market_position(market: &Market, orders: &[Order]) -> Vec<RunnerPosition> {
    let mut positions: Vec<RunnerPosition> = market
        .runners
        .iter()
        .map(|r| RunnerPosition {
            selection_id: r.selection_id,
            ..RunnerPosition::default()
        })
        .collect();
    for order in orders.iter().filter(|o| o.request.market_id == market.id) {
        let matched = order.size_matched;
        let price = Price(order.average_price_matched.unwrap_or(order.request.price.0));
        if matched <= 0.0 {
            continue;
        }
        // What the bet pays if its runner wins, and if its runner loses.
        let (on_win, on_lose) = match order.request.side {
            Side::Back => (crate::odds::back_profit(matched, price), -matched),
            Side::Lay => (-crate::odds::lay_liability(matched, price), matched),
        };
        for p in positions.iter_mut() {
            let same = p.selection_id == order.request.selection_id;
            if same {
                match order.request.side {
                    Side::Back => p.back_matched += matched,
                    Side::Lay => p.lay_matched += matched,
                }
                p.if_win += on_win;
                p.if_lose += on_lose;
            } else {
                // Another runner winning means this bet's runner lost.
                p.if_win += on_lose;
            }
        }
    }
    // "If this runner loses" in a WIN market is the worst over the others winning.
    let wins: Vec<f64> = positions.iter().map(|p| p.if_win).collect();
    for (i, p) in positions.iter_mut().enumerate() {
        p.if_lose = wins
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, w)| *w)
            .fold(f64::INFINITY, f64::min);
        if !p.if_lose.is_finite() {
            p.if_lose = 0.0;
        }
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::Runner;
    use crate::types::{MarketId, MarketStatus, OrderId, OrderStatus, SelectionId, Timestamp};

    fn market() -> Market {
        let mut m = Market::new("1.1");
        m.runners = vec![Runner::new(1), Runner::new(2), Runner::new(3)];
        m
    }

    fn request(side: Side, price: f64, size: f64) -> OrderRequest {
        OrderRequest::limit(
            MarketId::from("1.1"),
            SelectionId(1),
            side,
            Price(price),
            size,
        )
    }

    #[test]
    fn prices_and_stakes_follow_betfair() {
        let m = market();
        assert_eq!(validate_order(&m, &request(Side::Back, 2.0, 2.0)), Ok(()));
        assert_eq!(
            validate_order(&m, &request(Side::Back, 2.01, 2.0)),
            Err(RejectReason::InvalidPrice)
        );
        assert_eq!(
            validate_order(&m, &request(Side::Back, 2.0, 0.5)),
            Err(RejectReason::InvalidSize)
        );
        // Below the minimum stake but the payout rule saves it: 10p at 100.
        assert_eq!(validate_order(&m, &request(Side::Back, 100.0, 0.1)), Ok(()));
        assert_eq!(
            validate_order(&m, &request(Side::Back, 2.0, 2.001)),
            Err(RejectReason::InvalidSize)
        );
        let mut unknown = request(Side::Back, 2.0, 2.0);
        unknown.selection_id = SelectionId(99);
        assert_eq!(
            validate_order(&m, &unknown),
            Err(RejectReason::UnknownSelection)
        );
        let mut closed = market();
        closed.status = MarketStatus::Suspended;
        assert_eq!(
            validate_order(&closed, &request(Side::Back, 2.0, 2.0)),
            Err(RejectReason::MarketNotOpen)
        );
    }

    #[test]
    fn position_nets_across_runners() {
        let m = market();
        let matched = |side, sel, price, size| Order {
            id: OrderId(1),
            request: OrderRequest::limit(
                MarketId::from("1.1"),
                SelectionId(sel),
                side,
                Price(price),
                size,
            ),
            status: OrderStatus::ExecutionComplete,
            size_matched: size,
            average_price_matched: Some(price),
            size_cancelled: 0.0,
            size_lapsed: 0.0,
            placed_at: Timestamp(0),
            rejection: None,
        };
        // Back runner 1 £10 at 3.0; lay runner 2 £10 at 5.0.
        let orders = [
            matched(Side::Back, 1, 3.0, 10.0),
            matched(Side::Lay, 2, 5.0, 10.0),
        ];
        let p = market_position(&m, &orders);
        assert_eq!(p[0].if_win, 20.0 + 10.0); // back wins 20, lay on 2 wins 10
        assert_eq!(p[1].if_win, -10.0 - 40.0); // back loses 10, lay loses 40
        assert_eq!(p[2].if_win, -10.0 + 10.0);
        assert_eq!(p[0].back_matched, 10.0);
        assert_eq!(p[1].lay_matched, 10.0);
        assert_eq!(p[0].if_lose, -50.0);
    }
}
