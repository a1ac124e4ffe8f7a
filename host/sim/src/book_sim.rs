//! [`BookSim`]: the simulated order book of backtests and paper trading for
//! order-book instruments (WIT 1.1), whatever venue's data it replays.
//! Orders take the latest snapshot's liquidity at once (the rest of the
//! level is used up until the next snapshot replaces it); resting orders
//! fill at their own price when the market trades or moves through it.
//! Fees are the maker's or the taker's share of value; each hour of the
//! event clock, positions pay funding: size × mark × rate. The ledger is
//! exact decimals; a position from flat to flat is a [`TradeRecord`].

use std::collections::HashMap;

use clever_engine::BookVenue;
use clever_market::{Decimal, InstrumentEvent, Positions, TradeRecord, check_order, exact};
use clever_sdk::{
    BookOrder, BookOrderRequest, BookPosition, BookSide, InstrumentInfo, OrderId, OrderStatus,
    RejectReason, TimeInForce, Timestamp,
};
use rust_decimal::prelude::ToPrimitive;

const HOUR_MS: i64 = 3_600_000;

/// Fees, funding and leverage of a simulated order book.
#[derive(Debug, Clone)]
pub struct BookSimConfig {
    /// Paid on the value an order takes.
    pub taker_fee: Decimal,
    /// Paid on the value a resting order gives.
    pub maker_fee: Decimal,
    /// Funding an hour until the data says otherwise.
    pub funding_hourly: Decimal,
    /// Leverage (capped at the instrument's).
    pub leverage: u32,
}

impl Default for BookSimConfig {
    /// Hyperliquid's base tier (taker 0.045%, maker 0.015%), its
    /// interest-only funding (0.00125% an hour), 20x.
    fn default() -> Self {
        BookSimConfig {
            taker_fee: Decimal::new(45, 5),
            maker_fee: Decimal::new(15, 5),
            funding_hourly: Decimal::new(125, 7),
            leverage: 20,
        }
    }
}

#[derive(Debug, Clone)]
struct SimOrder {
    order: BookOrder,
    price: Decimal,
    left: Decimal,
    value: Decimal,
    fees: Decimal,
    stop: Option<Decimal>,
}

/// One side's levels: (price, size), best first.
type Levels = Vec<(Decimal, Decimal)>;

/// The simulated order book.
#[derive(Debug)]
pub struct BookSim {
    config: BookSimConfig,
    rules: HashMap<String, InstrumentInfo>,
    books: HashMap<String, (Levels, Levels)>,
    marks: HashMap<String, (Decimal, Decimal)>,
    /// Each instrument's mid as its latest snapshot showed it (before
    /// anything was taken from it).
    mids: HashMap<String, Decimal>,
    /// Resting orders, oldest first. An order leaves as it completes:
    /// a long session places many, and every book update walks these.
    orders: Vec<SimOrder>,
    positions: Positions,
    funded_hour: Option<i64>,
    /// Orders that filled (or completed) as they were placed, for the
    /// strategy to hear of at the next event: it is inside its own call
    /// when it places them.
    news: Vec<BookOrder>,
}

impl BookSim {
    /// A book for these instruments.
    pub fn new(config: BookSimConfig, rules: impl IntoIterator<Item = InstrumentInfo>) -> BookSim {
        BookSim {
            config,
            rules: rules
                .into_iter()
                .map(|r| (r.instrument.clone(), r))
                .collect(),
            books: HashMap::new(),
            marks: HashMap::new(),
            mids: HashMap::new(),
            orders: Vec::new(),
            positions: Positions::default(),
            funded_hour: None,
            news: Vec::new(),
        }
    }

    fn mark(&self, instrument: &str) -> Option<Decimal> {
        match self.marks.get(instrument) {
            Some((mark, _)) => Some(*mark),
            None => self.mids.get(instrument).copied(),
        }
    }

    fn leverage(&self, instrument: &str) -> u32 {
        let max = self.rules.get(instrument).map_or(1, |r| r.max_leverage);
        self.config.leverage.clamp(1, max.max(1))
    }

    /// Take liquidity for an order: (price, size) filled, best first.
    fn take(
        &mut self,
        instrument: &str,
        side: BookSide,
        limit: Decimal,
        mut want: Decimal,
    ) -> Vec<(Decimal, Decimal)> {
        let Some((bids, asks)) = self.books.get_mut(instrument) else {
            return Vec::new();
        };
        let levels = if side == BookSide::Buy { asks } else { bids };
        let mut fills = Vec::new();
        while want > Decimal::ZERO {
            let Some(level) = levels.first_mut() else {
                break;
            };
            let reaches = if side == BookSide::Buy {
                level.0 <= limit
            } else {
                level.0 >= limit
            };
            if !reaches {
                break;
            }
            let size = want.min(level.1);
            fills.push((level.0, size));
            want -= size;
            level.1 -= size;
            if level.1.is_zero() {
                levels.remove(0);
            }
        }
        fills
    }

    fn would_cross(&self, instrument: &str, side: BookSide, price: Decimal) -> bool {
        let Some((bids, asks)) = self.books.get(instrument) else {
            return false;
        };
        match side {
            BookSide::Buy => asks.first().is_some_and(|a| a.0 <= price),
            BookSide::Sell => bids.first().is_some_and(|b| b.0 >= price),
        }
    }

    /// Book a fill of order `index`: the order, fees, the position.
    fn fill(&mut self, index: usize, price: Decimal, size: Decimal, taker: bool, now: Timestamp) {
        let rate = if taker {
            self.config.taker_fee
        } else {
            self.config.maker_fee
        };
        let fee = price * size * rate;
        let o = &mut self.orders[index];
        o.left -= size;
        o.value += price * size;
        o.fees += fee;
        let filled = exact(o.order.request.size).unwrap_or_default() - o.left;
        o.order.size_filled = to_f64(filled);
        o.order.average_price = Some(to_f64(o.value / filled));
        o.order.fees = to_f64(o.fees);
        if o.left.is_zero() {
            o.order.status = OrderStatus::ExecutionComplete;
        }
        let (instrument, side, stop) = (
            o.order.request.instrument.clone(),
            o.order.request.side,
            o.stop,
        );
        let delta = if side == BookSide::Buy { size } else { -size };
        (self.positions).fill(&instrument, (delta, price, fee), stop, now);
    }

    /// Resting orders of `instrument` the market has reached at `through`
    /// for a side, best first then oldest: fill them against `available`.
    fn fill_resting(
        &mut self,
        instrument: &str,
        buys: bool,
        through: &mut Levels,
        now: Timestamp,
        changes: &mut Vec<BookOrder>,
    ) {
        let mut resting: Vec<usize> = (0..self.orders.len())
            .filter(|&i| {
                let o = &self.orders[i];
                o.order.status == OrderStatus::Executable
                    && o.order.request.instrument == instrument
                    && (o.order.request.side == BookSide::Buy) == buys
            })
            .collect();
        resting.sort_by(|&a, &b| {
            let (pa, pb) = (self.orders[a].price, self.orders[b].price);
            let better = if buys { pb.cmp(&pa) } else { pa.cmp(&pb) };
            better.then(a.cmp(&b))
        });
        for i in resting {
            let limit = self.orders[i].price;
            for level in through.iter_mut() {
                let reached = if buys {
                    level.0 <= limit
                } else {
                    level.0 >= limit
                };
                let size = self.orders[i].left.min(level.1);
                if reached && !size.is_zero() {
                    level.1 -= size;
                    self.fill(i, limit, size, false, now);
                }
            }
            if self.orders[i].order.size_filled > 0.0 {
                changes.push(self.orders[i].order.clone());
            }
        }
        self.orders.retain(|o| o.order.status.is_open());
        through.retain(|l| !l.1.is_zero());
    }

    fn fund_if_due(&mut self, now: Timestamp) {
        let hour = now.0.div_euclid(HOUR_MS);
        let due = self.funded_hour.is_some_and(|h| hour > h);
        self.funded_hour = Some(hour);
        if !due {
            return;
        }
        for instrument in self.positions.instruments() {
            let rate = (self.marks.get(&instrument)).map_or(self.config.funding_hourly, |m| m.1);
            let Some(mark) = self.mark(&instrument) else {
                continue;
            };
            let paid = self.positions.held(&instrument) * mark * rate;
            self.positions.fund(&instrument, paid);
        }
    }
}

fn to_f64(x: Decimal) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

impl BookVenue for BookSim {
    fn rules(&self, instrument: &str) -> Option<InstrumentInfo> {
        self.rules.get(instrument).cloned()
    }

    fn place(
        &mut self,
        id: OrderId,
        request: BookOrderRequest,
        now: Timestamp,
    ) -> Result<BookOrder, RejectReason> {
        let rules = self
            .rules
            .get(&request.instrument)
            .ok_or(RejectReason::UnknownMarket)?;
        let (price, size) = check_order(rules, &request, self.positions.held(&request.instrument))?;
        let instrument = request.instrument.clone();
        if request.time_in_force == TimeInForce::PostOnly
            && self.would_cross(&instrument, request.side, price)
        {
            return Err(RejectReason::VenueError(
                "post only order would have matched".into(),
            ));
        }
        let stop = request.stop.and_then(exact);
        let request = BookOrderRequest {
            size: to_f64(size),
            ..request
        };
        let order = BookOrder::new(id, request, OrderStatus::Executable, now);
        let side = order.request.side;
        let tif = order.request.time_in_force;
        self.orders.push(SimOrder {
            order,
            price,
            left: size,
            value: Decimal::ZERO,
            fees: Decimal::ZERO,
            stop,
        });
        let index = self.orders.len() - 1;
        if tif != TimeInForce::PostOnly {
            for (px, sz) in self.take(&instrument, side, price, size) {
                self.fill(index, px, sz, true, now);
            }
        }
        let o = &mut self.orders[index];
        if tif == TimeInForce::Ioc && o.order.status == OrderStatus::Executable {
            o.order.status = OrderStatus::ExecutionComplete;
        }
        if o.order.size_filled > 0.0 || o.order.status != OrderStatus::Executable {
            self.news.push(o.order.clone());
        }
        let order = o.order.clone();
        if !order.status.is_open() {
            self.orders.pop();
        }
        Ok(order)
    }

    fn cancel(&mut self, id: OrderId, _: Timestamp) -> Result<(), RejectReason> {
        let at = (self.orders.iter().position(|o| o.order.id == id))
            .ok_or(RejectReason::UnknownOrder)?;
        self.orders.remove(at);
        // News of it not yet handed over (a fill as it was placed) says
        // how it ended, not that it rests.
        for news in self.news.iter_mut().filter(|n| n.id == id) {
            news.status = OrderStatus::ExecutionComplete;
        }
        Ok(())
    }

    fn on_event(&mut self, event: &InstrumentEvent, changes: &mut Vec<BookOrder>) {
        let now = event.time();
        changes.append(&mut self.news);
        self.fund_if_due(now);
        let instrument = event.instrument().to_owned();
        match event {
            InstrumentEvent::Book(book) => {
                let side = |levels: &[clever_sdk::Level]| -> Levels {
                    levels
                        .iter()
                        .filter_map(|l| Some((exact(l.price)?, exact(l.size)?)))
                        .collect()
                };
                let (mut bids, mut asks) = (side(&book.bids), side(&book.asks));
                if let (Some(b), Some(a)) = (bids.first(), asks.first()) {
                    self.mids
                        .insert(instrument.clone(), (b.0 + a.0) / Decimal::TWO);
                }
                self.fill_resting(&instrument, true, &mut asks, now, changes);
                self.fill_resting(&instrument, false, &mut bids, now, changes);
                self.books.insert(instrument, (bids, asks));
            }
            InstrumentEvent::Trades(trades) => {
                for t in trades {
                    let (Some(px), Some(sz)) = (exact(t.price), exact(t.size)) else {
                        continue;
                    };
                    // A selling aggressor reaches resting buys, and the reverse.
                    let buys = t.aggressor == BookSide::Sell;
                    self.fill_resting(&instrument, buys, &mut vec![(px, sz)], now, changes);
                }
            }
            InstrumentEvent::State(state) => {
                if let (Some(mark), Some(rate)) =
                    (exact(state.mark_price), exact(state.funding_rate))
                {
                    self.marks.insert(instrument, (mark, rate));
                }
            }
            InstrumentEvent::Candle(_) => {}
        }
    }

    fn open_orders(&self, instrument: &str) -> Vec<BookOrder> {
        (self.orders.iter())
            .filter(|o| {
                o.order.request.instrument == instrument
                    && o.order.status == OrderStatus::Executable
            })
            .map(|o| o.order.clone())
            .collect()
    }

    fn open_ids(&self) -> Vec<OrderId> {
        self.orders.iter().map(|o| o.order.id).collect()
    }

    fn is_open(&self, id: OrderId) -> bool {
        self.orders.iter().any(|o| o.order.id == id)
    }

    fn position(&self, instrument: &str) -> Option<BookPosition> {
        (self.positions).view(instrument, self.mark(instrument), self.leverage(instrument))
    }

    fn trades(&self) -> Vec<TradeRecord> {
        self.positions.trades().to_vec()
    }

    fn mark(&self, instrument: &str) -> Option<Decimal> {
        BookSim::mark(self, instrument)
    }

    fn realised(&self) -> Decimal {
        self.positions.realised()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::{Book, Level};

    fn eth() -> InstrumentInfo {
        InstrumentInfo::hyperliquid_perp("ETH", 4, 25)
    }

    fn book(time: i64, bid: f64, ask: f64) -> InstrumentEvent {
        let level = |price| Level { price, size: 1.0 };
        InstrumentEvent::Book(Book {
            instrument: "ETH".into(),
            time: Timestamp(time),
            bids: vec![level(bid)],
            asks: vec![level(ask)],
        })
    }

    #[test]
    fn a_round_trip_is_recorded_in_money_and_in_r() {
        let mut sim = BookSim::new(BookSimConfig::default(), [eth()]);
        let mut changes = Vec::new();
        sim.on_event(&book(1_000, 3000.0, 3000.5), &mut changes);
        let buy = BookOrderRequest::limit("ETH", BookSide::Buy, 3001.0, 0.5)
            .ioc()
            .with_stop(2990.5);
        let placed = sim.place(OrderId(1), buy, Timestamp(1_000)).unwrap();
        assert_eq!(
            (placed.size_filled, placed.average_price, placed.status),
            (0.5, Some(3000.5), OrderStatus::ExecutionComplete)
        );
        let sell = BookOrderRequest::limit("ETH", BookSide::Sell, 3020.5, 0.5);
        let resting = sim.place(OrderId(2), sell, Timestamp(2_000)).unwrap();
        assert_eq!(resting.status, OrderStatus::Executable);
        sim.on_event(&book(3_000, 3021.0, 3021.5), &mut changes);
        let ids: Vec<OrderId> = changes.iter().map(|o| o.id).collect();
        // The buy's fill as placed is heard at the next event, then the
        // sell the market moved through.
        assert_eq!(ids, [OrderId(1), OrderId(2)]);
        let trade = &sim.trades()[0];
        assert_eq!(
            (trade.direction, trade.entry, trade.exit),
            ("long", "3000.5".parse().unwrap(), "3020.5".parse().unwrap())
        );
        // 20 a unit on 0.5 is 10; fees: taker 0.045% of 1500.25, maker 0.015% of 1510.25.
        let fees: Decimal =
            "0.67511250".parse::<Decimal>().unwrap() + "0.22653750".parse::<Decimal>().unwrap();
        assert_eq!(trade.fees, fees.round_dp(6).normalize());
        assert_eq!(trade.pnl, (Decimal::TEN - fees).round_dp(6).normalize());
        assert_eq!(trade.r_multiple, Some(Decimal::TWO));
    }

    #[test]
    fn orders_off_the_rules_are_refused_and_positions_pay_funding_each_hour() {
        let mut sim = BookSim::new(BookSimConfig::default(), [eth()]);
        let refuse = |sim: &mut BookSim, price, size| {
            sim.place(
                OrderId(9),
                BookOrderRequest::limit("ETH", BookSide::Buy, price, size),
                Timestamp(0),
            )
            .unwrap_err()
        };
        assert_eq!(refuse(&mut sim, 3000.05, 1.0), RejectReason::InvalidPrice);
        assert_eq!(refuse(&mut sim, 3000.0, 0.00001), RejectReason::InvalidSize);
        assert_eq!(
            refuse(&mut sim, 3000.0, 0.001),
            RejectReason::InvalidSize,
            "under $10"
        );
        let mut changes = Vec::new();
        sim.on_event(&book(1_000, 3000.0, 3000.5), &mut changes);
        let short = BookOrderRequest::limit("ETH", BookSide::Sell, 3000.0, 1.0).ioc();
        sim.place(OrderId(1), short, Timestamp(1_000)).unwrap();
        sim.on_event(&book(HOUR_MS + 1, 3000.0, 3000.5), &mut changes);
        let p = sim.position("ETH").unwrap();
        let fee = 3000.0 * 0.00045;
        let funding = -3000.25 * 0.0000125; // a short of 1 receives
        assert!((p.realised_pnl - (-fee - funding)).abs() < 1e-9, "{p:?}");
        let up = BookOrderRequest::limit("ETH", BookSide::Sell, 3000.0, 1.0).reduce_only();
        assert!(matches!(
            sim.place(OrderId(2), up, Timestamp(2)),
            Err(RejectReason::VenueError(_))
        ));
    }
}
