//! What trading left: each strategy's result in a market, each settled
//! order and its fills. The venue that settles a market writes these; the
//! engine, reports and the store read them. This is the one ledger: a
//! market's figures are the exact sums of its orders' (see
//! [`MarketResult::of_orders`]), and every total or per-version figure
//! elsewhere is a sum of these.

use clever_sdk::Timestamp;
use serde::Serialize;

use crate::money::{Money, allocate};

/// What a strategy's orders came to: in one market, over a run, per
/// version. Every such figure in the host is this type, added up from
/// [`MarketResult`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Figures {
    /// Orders placed (accepted by risk and the venue).
    pub orders: u64,
    /// Stake matched and not voided.
    pub matched: Money,
    /// Profit before commission.
    pub gross_profit: Money,
    /// Commission charged on the net winnings.
    pub commission: Money,
    /// Profit after commission.
    pub profit: Money,
}

impl Figures {
    /// Net profit over matched stake, to six decimals (0 when nothing
    /// matched): a ratio, not money.
    pub fn roi(&self) -> f64 {
        if !self.matched.is_positive() {
            return 0.0;
        }
        let ratio = self.profit.decimal() / self.matched.decimal();
        let ratio = ratio.round_dp(6);
        Money::new(ratio).to_f64()
    }
}

impl std::ops::AddAssign<&Figures> for Figures {
    fn add_assign(&mut self, o: &Figures) {
        self.orders += o.orders;
        self.matched += o.matched;
        self.gross_profit += o.gross_profit;
        self.commission += o.commission;
        self.profit += o.profit;
    }
}

/// One strategy's result in one market.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MarketResult {
    /// The market.
    pub market_id: String,
    /// Its figures: the sums of `settled`.
    #[serde(flatten)]
    pub figures: Figures,
    /// Every order with its fills and share of the result (the figures
    /// above are their sums), for saving a run (`clever backtest --save`)
    /// and per-version figures; not part of the report.
    #[serde(skip)]
    pub settled: Vec<SettledOrder>,
}

/// One order as the market left it.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledOrder {
    /// The order's final state.
    pub order: clever_sdk::Order,
    /// What matched, when and at what price (void pieces marked).
    pub fills: Vec<Fill>,
    /// When a cancel was asked to take effect, if one was.
    pub cancel_at: Option<clever_sdk::Timestamp>,
    /// Stake matched and not voided.
    pub matched: Money,
    /// Its profit before commission, to the penny.
    pub profit: Money,
    /// Its share of the market's commission (in proportion to its
    /// winnings; the shares add up to the market's commission exactly).
    pub commission: Money,
    /// When the market was settled.
    pub settled_at: clever_sdk::Timestamp,
}

/// One matched piece of an order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// When it matched.
    pub at: Timestamp,
    /// At what price (after any non-runner reduction).
    pub price: f64,
    /// Stake matched.
    pub size: f64,
    /// Void: its runner was removed.
    pub void: bool,
}

impl MarketResult {
    /// The result of `settled` orders in `market_id`, commission charged
    /// at `rate` percent on the net winnings (rounded to the penny) and
    /// shared among the winning orders in proportion to their winnings.
    pub fn of_orders(
        market_id: String,
        orders: u64,
        mut settled: Vec<SettledOrder>,
        rate: crate::Decimal,
    ) -> MarketResult {
        let gross_profit: Money = settled.iter().map(|o| o.profit).sum();
        let commission = gross_profit.or_zero().percent(rate).pennies();
        let winnings: Vec<Money> = settled.iter().map(|o| o.profit.or_zero()).collect();
        for (o, share) in settled.iter_mut().zip(allocate(commission, &winnings)) {
            o.commission = share;
        }
        let figures = Figures {
            orders,
            matched: settled.iter().map(|o| o.matched).sum(),
            gross_profit,
            commission,
            profit: gross_profit - commission,
        };
        MarketResult {
            market_id,
            figures,
            settled,
        }
    }
}

/// Round to hundredths (money and stakes in the simulation's f64 figures).
pub fn round2(x: f64) -> f64 {
    crate::book::round_half_away(x * 100.0) / 100.0
}
