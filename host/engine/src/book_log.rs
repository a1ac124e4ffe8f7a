//! [`BookLog`]: a running host's record of a desk's book orders, from
//! their placement to their end, until the host takes it to store.

use std::collections::HashMap;

use clever_sdk::{BookOrder, OrderId, OrderStatus};

/// Book orders placed or changed since the host last took them, and the
/// last word on each open one.
#[derive(Debug, Default)]
pub(crate) struct BookLog {
    changed: Vec<BookOrder>,
    /// Each open order as last recorded: a venue that drops a cancelled
    /// order at once (the simulated book) tells no change of it, so its
    /// end is recorded from here.
    open: HashMap<OrderId, BookOrder>,
}

impl BookLog {
    /// `order` was placed or changed.
    pub(crate) fn record(&mut self, order: &BookOrder) {
        match order.status.is_open() {
            true => self.open.insert(order.id, order.clone()),
            false => self.open.remove(&order.id),
        };
        self.changed.push(order.clone());
    }

    /// The venue holds `id` no more, and told no change of it: it ended
    /// with what it had filled.
    pub(crate) fn gone(&mut self, id: OrderId) {
        if let Some(mut order) = self.open.remove(&id) {
            order.status = OrderStatus::ExecutionComplete;
            self.changed.push(order);
        }
    }

    /// What changed since the last call, in order (an order may be
    /// listed more than once).
    pub(crate) fn take(&mut self) -> Vec<BookOrder> {
        std::mem::take(&mut self.changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::{BookOrderRequest, BookSide, Timestamp};

    fn order(id: u64, status: OrderStatus) -> BookOrder {
        let request = BookOrderRequest::limit("ETH", BookSide::Buy, 3000.0, 0.1);
        BookOrder::new(OrderId(id), request, status, Timestamp(1))
    }

    #[test]
    fn an_order_dropped_without_a_change_is_recorded_ended_once() {
        let mut log = BookLog::default();
        log.record(&order(1, OrderStatus::Executable));
        let mut filled = order(1, OrderStatus::Executable);
        filled.size_filled = 0.05;
        log.record(&filled);
        log.record(&order(2, OrderStatus::ExecutionComplete));
        log.gone(OrderId(1));
        log.gone(OrderId(1));
        log.gone(OrderId(2));
        let taken = log.take();
        let brief: Vec<(u64, OrderStatus, f64)> = (taken.iter())
            .map(|o| (o.id.0, o.status, o.size_filled))
            .collect();
        let ended = OrderStatus::ExecutionComplete;
        let want = [
            (1, OrderStatus::Executable, 0.0),
            (1, OrderStatus::Executable, 0.05),
            (2, ended, 0.0),
            (1, ended, 0.05),
        ];
        assert_eq!(brief, want);
        assert!(log.take().is_empty() && log.open.is_empty());
    }
}
