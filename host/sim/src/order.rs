//! One order inside the simulated exchange: the strategy-facing [`Order`]
//! plus what the simulation needs (arrival time, queue position, fills).

use clever_sdk::{Order, OrderStatus, OrderType, Persistence, Timestamp};

use clever_market::{Fill, round2};

/// An order as the simulated exchange keeps it.
#[derive(Debug, Clone)]
pub struct SimOrder {
    /// What the strategy sees.
    pub order: Order,
    /// When it reaches the book.
    pub arrives_at: Timestamp,
    /// Placed while the market was in play.
    pub placed_in_play: bool,
    /// It has reached the book.
    pub arrived: bool,
    /// Volume ahead of it at its price, on its side.
    pub queue_ahead: f64,
    /// Volume traded at its price when last looked at.
    pub traded_seen: f64,
    /// Volume traded through its price (worse, for the other side, than
    /// it) when last looked at.
    pub through_seen: f64,
    /// When a requested cancel takes effect.
    pub cancel_at: Option<Timestamp>,
    /// Waits for the Starting Price instead of matching on the book.
    pub at_sp: bool,
    /// What matched.
    pub fills: Vec<Fill>,
}

impl SimOrder {
    /// A new order, not yet on the book.
    pub fn new(order: Order, arrives_at: Timestamp, placed_in_play: bool) -> Self {
        let at_sp = order.request.order_type != OrderType::Limit;
        SimOrder {
            order,
            arrives_at,
            placed_in_play,
            arrived: false,
            queue_ahead: 0.0,
            traded_seen: 0.0,
            through_seen: 0.0,
            cancel_at: None,
            at_sp,
            fills: Vec::new(),
        }
    }

    /// Stake still unmatched and live.
    pub fn remaining(&self) -> f64 {
        round2(self.order.size_remaining())
    }

    /// Still able to match.
    pub fn is_open(&self) -> bool {
        self.order.is_open()
    }

    /// What happens to it at the off.
    pub fn persistence(&self) -> Persistence {
        self.order.request.persistence
    }

    /// Record a match and bring the order's totals up to date.
    pub fn fill(&mut self, at: Timestamp, price: f64, size: f64) {
        let size = round2(size.min(self.remaining()));
        if size <= 0.0 {
            return;
        }
        self.fills.push(Fill {
            at,
            price,
            size,
            void: false,
        });
        self.refresh();
    }

    /// Match a liability-sized order (a market-on-close lay) completely
    /// with `stake` at `price`: its size was never a stake.
    pub fn fill_stake(&mut self, at: Timestamp, price: f64, stake: f64) {
        self.fills.push(Fill {
            at,
            price,
            size: stake,
            void: false,
        });
        self.refresh();
        self.order.status = OrderStatus::ExecutionComplete;
    }

    /// Lapse what is unmatched; returns the stake lapsed.
    pub fn lapse(&mut self) -> f64 {
        let left = self.remaining();
        self.order.size_lapsed = round2(self.order.size_lapsed + left);
        self.refresh();
        left
    }

    /// Cancel what is unmatched; returns the stake cancelled.
    pub fn cancel(&mut self) -> f64 {
        let left = self.remaining();
        self.order.size_cancelled = round2(self.order.size_cancelled + left);
        self.refresh();
        left
    }

    /// Recompute matched size, average price and status from the fills.
    pub fn refresh(&mut self) {
        let live = self.fills.iter().filter(|f| !f.void);
        let (size, value) = live.fold((0.0, 0.0), |(s, v), f| (s + f.size, v + f.size * f.price));
        let voided: f64 = self.fills.iter().filter(|f| f.void).map(|f| f.size).sum();
        self.order.size_matched = round2(size + voided);
        self.order.average_price_matched = (size > 0.0).then(|| value / size);
        let liability_sized = self.order.request.order_type == OrderType::MarketOnClose
            && self.order.request.side == clever_sdk::Side::Lay;
        self.order.status = if self.remaining() <= 0.0 || liability_sized && !self.fills.is_empty()
        {
            OrderStatus::ExecutionComplete
        } else if self.arrived {
            OrderStatus::Executable
        } else {
            OrderStatus::Pending
        };
    }
}
