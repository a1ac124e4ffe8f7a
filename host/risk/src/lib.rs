//! Risk: the checks every order passes before it reaches any venue, with
//! the same code in every mode (backtest, paper, live). A verdict is a type:
//! [`Approved`] (the only thing a venue will take) or a typed
//! [`RejectReason::RiskLimit`].
//!
//! Owns: the limits (from a TOML `[risk]` table with documented defaults)
//! and each strategy's exposure book (open orders, orders in the last hour,
//! worst-case liability per selection and per market, the day's profit;
//! for order-book instruments, an order's value and a position's:
//! [`RiskBook::check_book`]).
//! Does not know: how orders match, or where markets come from; the engine
//! reports placements, fills, cancels and settlements to it.

mod book;

pub use book::Holding;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use clever_market::{Decimal, Money};
use clever_sdk::{MarketId, OrderId, OrderRequest, RejectReason, RiskLimit, SelectionId, Side};
use serde::Deserialize;

/// Risk limits per strategy. A TOML `[risk]` table may set any of them.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskLimits {
    /// Largest stake of one order. Default 100.
    pub max_stake: f64,
    /// Largest worst-case loss on one runner (backs' stakes plus lays'
    /// liabilities, matched or not). Default 500.
    pub max_selection_liability: f64,
    /// Largest worst-case loss on one market over every result. Default 1,000.
    pub max_market_liability: f64,
    /// Most orders open at once. Default 200.
    pub max_open_orders: usize,
    /// Most orders placed in any hour (Betfair counts 5,000 transactions an
    /// hour per account). Default 5,000.
    pub max_orders_per_hour: usize,
    /// Stop placing once the day's net loss reaches this. Default 1,000.
    /// Order-book instruments count their realised profit (after fees
    /// and funding) as it is made; orders that can only reduce a position
    /// still pass.
    pub daily_loss_limit: f64,
    /// Order-book instruments: largest value (size × the higher of its
    /// price and the mark) of one order that adds to a position. Default
    /// 10,000.
    pub max_order_notional: f64,
    /// Order-book instruments: largest value of one instrument's position
    /// if every resting order on the side of a new one filled, and it too.
    /// Default 25,000.
    pub max_position_notional: f64,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_stake: 100.0,
            max_selection_liability: 500.0,
            max_market_liability: 1_000.0,
            max_open_orders: 200,
            max_orders_per_hour: 5_000,
            daily_loss_limit: 1_000.0,
            max_order_notional: 10_000.0,
            max_position_notional: 25_000.0,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskFile {
    #[serde(default)]
    risk: RiskLimits,
}

impl RiskLimits {
    /// Parse the `[risk]` table of a TOML text; missing keys keep defaults.
    pub fn from_toml_str(text: &str) -> Result<RiskLimits, String> {
        let limits = toml::from_str::<RiskFile>(text)
            .map(|f| f.risk)
            .map_err(|e| e.to_string())?;
        limits.checked()
    }

    /// Refuse a money limit below 0 or not a number (TOML has `nan`: no
    /// order compares above NaN, so it would be no limit at all), and
    /// `inf`, which JSON cannot carry to a sweep's workers: a large number
    /// says "no limit" as well, up to [`MAX_LIMIT`] (past some 7.9e28 an
    /// amount is no longer exact money, and would read as 0).
    fn checked(self) -> Result<RiskLimits, String> {
        let money = [
            ("max_stake", self.max_stake),
            ("max_selection_liability", self.max_selection_liability),
            ("max_market_liability", self.max_market_liability),
            ("daily_loss_limit", self.daily_loss_limit),
            ("max_order_notional", self.max_order_notional),
            ("max_position_notional", self.max_position_notional),
        ];
        let bad = |v: f64| !v.is_finite() || !(0.0..=MAX_LIMIT).contains(&v);
        match money.iter().find(|(_, v)| bad(*v)) {
            Some((key, value)) => Err(format!(
                "[risk] {key} = {value}: a limit must be a number from 0 to 1e15 \
                 (for no limit, a large one: 1e9)"
            )),
            None => Ok(self),
        }
    }
}

/// The largest money limit a `[risk]` table may set.
pub const MAX_LIMIT: f64 = 1e15;

/// An order that passed every check; venues take nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct Approved(OrderRequest);

impl Approved {
    /// The approved request.
    pub fn request(&self) -> &OrderRequest {
        &self.0
    }

    /// Take the request out.
    pub fn into_request(self) -> OrderRequest {
        self.0
    }
}

/// One order as risk sees it: what could still be lost on it.
#[derive(Debug, Clone)]
struct Exposure {
    request: OrderRequest,
    /// Stake neither cancelled nor lapsed (matched or still open).
    live_size: Money,
    /// The price less one, to the penny: what a unit stake wins (exact,
    /// and converted once: the sums take it out and put it back often).
    odds: Decimal,
    open: bool,
}

impl Exposure {
    fn new(request: OrderRequest) -> Self {
        Exposure {
            live_size: Money::from_f64(request.size),
            odds: Money::from_f64(request.price.get()).decimal() - Decimal::ONE,
            request,
            open: true,
        }
    }

    /// The market's profit from this order if its runner wins, and if it
    /// loses, as if all its live stake matched at its price. Exact.
    fn outcomes(&self) -> (Money, Money) {
        let stake = self.live_size;
        let odds = self.odds;
        match self.request.side {
            Side::Back => (stake.times(odds), -stake),
            Side::Lay => (-stake.times(odds), stake),
        }
    }

    /// Worst case on its own runner.
    fn liability(&self) -> Money {
        match self.request.side {
            Side::Back => self.live_size,
            Side::Lay => -self.outcomes().0,
        }
    }
}

/// One runner's sums over the live orders on it, exact: adding an order
/// and taking it away again leaves them as they were.
#[derive(Debug, Clone, Copy, Default)]
struct RunnerSums {
    if_win: Money,
    if_lose: Money,
    liability: Money,
}

impl RunnerSums {
    fn add(&mut self, o: &Exposure) {
        let (win, lose) = o.outcomes();
        self.if_win += win;
        self.if_lose += lose;
        self.liability += o.liability();
    }

    fn remove(&mut self, o: &Exposure) {
        let (win, lose) = o.outcomes();
        self.if_win -= win;
        self.if_lose -= lose;
        self.liability -= o.liability();
    }
}

/// The window `max_orders_per_hour` counts orders in (ms).
pub const HOUR_MS: i64 = 3_600_000;
/// The UTC day the daily loss limit counts over (ms).
pub const DAY_MS: i64 = 86_400_000;

/// One strategy's book of exposure. Sums per market and runner are kept as
/// orders change, so a check costs the number of runners, not of orders.
#[derive(Debug, Clone)]
pub struct RiskBook {
    limits: RiskLimits,
    orders: BTreeMap<OrderId, Exposure>,
    markets: BTreeMap<MarketId, BTreeMap<SelectionId, RunnerSums>>,
    open: usize,
    placed_at: VecDeque<i64>,
    day: i64,
    day_profit: Money,
    killed: bool,
    /// Order-book orders open (they count toward `open` too).
    book_open: BTreeSet<OrderId>,
}

impl RiskBook {
    /// An empty book under `limits`.
    pub fn new(limits: RiskLimits) -> Self {
        RiskBook {
            limits,
            orders: BTreeMap::new(),
            markets: BTreeMap::new(),
            open: 0,
            placed_at: VecDeque::new(),
            day: i64::MIN,
            day_profit: Money::ZERO,
            killed: false,
            book_open: BTreeSet::new(),
        }
    }

    /// Carry over what earlier runs of this strategy did, so the hourly
    /// order count and the daily loss hold across restarts: the times of
    /// their orders (epoch ms; each counts for an hour from its time) and
    /// the profit settled on the day that `at` falls in.
    pub fn carry_over(&mut self, placed: &[i64], (at, day_profit): (i64, Money)) {
        let mut times: Vec<i64> = placed
            .iter()
            .copied()
            .chain(self.placed_at.drain(..))
            .collect();
        times.sort_unstable();
        self.placed_at = times.into();
        self.day = at.div_euclid(DAY_MS);
        self.day_profit = day_profit;
    }

    /// Pull (or release) the kill switch: every order is refused while on.
    pub fn set_kill_switch(&mut self, on: bool) {
        self.killed = on;
    }

    /// Whether the kill switch is on.
    pub fn kill_switch(&self) -> bool {
        self.killed
    }

    /// Check an order placed at `now` (epoch ms).
    pub fn check(&mut self, request: OrderRequest, now: i64) -> Result<Approved, RejectReason> {
        let refuse = |limit| Err(RejectReason::RiskLimit(limit));
        if self.killed {
            return refuse(RiskLimit::KillSwitch);
        }
        self.roll_day(now);
        if -self.day_profit >= Money::from_f64(self.limits.daily_loss_limit) {
            return refuse(RiskLimit::DailyLoss);
        }
        if request.size > self.limits.max_stake {
            return refuse(RiskLimit::MaxStake);
        }
        self.check_counts(now)?;
        let new = Exposure::new(request);
        let mut sums = self
            .markets
            .get(&new.request.market_id)
            .cloned()
            .unwrap_or_default();
        sums.entry(new.request.selection_id).or_default().add(&new);
        let selection = sums[&new.request.selection_id].liability;
        if selection > Money::from_f64(self.limits.max_selection_liability) {
            return refuse(RiskLimit::MaxSelectionLiability);
        }
        if market_liability(&sums) > Money::from_f64(self.limits.max_market_liability) {
            return refuse(RiskLimit::MaxMarketLiability);
        }
        Ok(Approved(new.request))
    }

    /// Room for one more order at `now`: open orders, and orders placed in
    /// the last hour, of every kind.
    fn check_counts(&mut self, now: i64) -> Result<(), RejectReason> {
        if self.open >= self.limits.max_open_orders {
            return Err(RejectReason::RiskLimit(RiskLimit::MaxOpenOrders));
        }
        while self.placed_at.front().is_some_and(|&t| t <= now - HOUR_MS) {
            self.placed_at.pop_front();
        }
        if self.placed_at.len() >= self.limits.max_orders_per_hour {
            return Err(RejectReason::RiskLimit(RiskLimit::MaxOrdersPerHour));
        }
        Ok(())
    }

    /// The venue accepted an approved order under `id` at `now`.
    pub fn placed(&mut self, id: OrderId, approved: &Approved, now: i64) {
        self.placed_at.push_back(now);
        let exposure = Exposure::new(approved.0.clone());
        self.runner_sums(&exposure).add(&exposure);
        self.open += 1;
        self.orders.insert(id, exposure);
    }

    /// Part of an order will never match (cancelled or lapsed): less at risk.
    pub fn reduced(&mut self, id: OrderId, size: f64) {
        let Some(mut o) = self.orders.remove(&id) else {
            return;
        };
        self.runner_sums(&o).remove(&o);
        o.live_size = (o.live_size - Money::from_f64(size)).or_zero();
        self.runner_sums(&o).add(&o);
        self.orders.insert(id, o);
    }

    /// An order has nothing left unmatched.
    pub fn completed(&mut self, id: OrderId) {
        if let Some(o) = self.orders.get_mut(&id).filter(|o| o.open) {
            o.open = false;
            self.open -= 1;
        }
    }

    /// A market settled with net `profit` for this strategy at `now`; its
    /// orders no longer count toward liabilities.
    pub fn settled(&mut self, market: &MarketId, profit: Money, now: i64) {
        self.roll_day(now);
        self.day_profit += profit;
        let open = &mut self.open;
        self.orders.retain(|_, o| {
            let keep = &o.request.market_id != market;
            if !keep && o.open {
                *open -= 1;
            }
            keep
        });
        self.markets.remove(market);
    }

    fn roll_day(&mut self, now: i64) {
        let day = now.div_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            self.day_profit = Money::ZERO;
        }
    }

    fn runner_sums(&mut self, o: &Exposure) -> &mut RunnerSums {
        self.markets
            .entry(o.request.market_id.clone())
            .or_default()
            .entry(o.request.selection_id)
            .or_default()
    }
}

/// Worst case on a market over every winner (and "none of these"): if
/// runner x wins, the market makes x's if-win plus every other runner's
/// if-lose.
fn market_liability(sums: &BTreeMap<SelectionId, RunnerSums>) -> Money {
    let all_lose: Money = sums.values().map(|s| s.if_lose).sum();
    sums.values()
        .map(|s| all_lose - s.if_lose + s.if_win)
        .chain(std::iter::once(all_lose))
        .map(|profit| -profit)
        .fold(Money::ZERO, Money::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::Price;

    fn order(side: Side, selection: u64, price: f64, size: f64) -> OrderRequest {
        OrderRequest::limit(
            MarketId::from("1.1"),
            SelectionId(selection),
            side,
            Price(price),
            size,
        )
    }

    fn place(
        book: &mut RiskBook,
        id: u64,
        req: OrderRequest,
        now: i64,
    ) -> Result<(), RejectReason> {
        let approved = book.check(req, now)?;
        book.placed(OrderId(id), &approved, now);
        Ok(())
    }

    const LIMIT: fn(RiskLimit) -> Result<(), RejectReason> = |l| Err(RejectReason::RiskLimit(l));

    #[test]
    fn max_stake_obeyed_and_violated() {
        let mut book = RiskBook::new(RiskLimits {
            max_stake: 10.0,
            ..RiskLimits::default()
        });
        assert_eq!(
            place(&mut book, 1, order(Side::Back, 1, 2.0, 10.0), 0),
            Ok(())
        );
        assert_eq!(
            place(&mut book, 2, order(Side::Back, 1, 2.0, 10.01), 0),
            LIMIT(RiskLimit::MaxStake)
        );
    }

    #[test]
    fn selection_liability_counts_lays_at_their_price() {
        let mut book = RiskBook::new(RiskLimits {
            max_selection_liability: 76.0,
            ..RiskLimits::default()
        });
        // Betfair's example: a £10 lay at 8.6 risks £76.
        assert_eq!(
            place(&mut book, 1, order(Side::Lay, 1, 8.6, 10.0), 0),
            Ok(())
        );
        assert_eq!(
            place(&mut book, 2, order(Side::Lay, 1, 1.5, 1.0), 0),
            LIMIT(RiskLimit::MaxSelectionLiability)
        );
        // A cancel frees the room.
        book.reduced(OrderId(1), 10.0);
        assert_eq!(
            place(&mut book, 3, order(Side::Lay, 1, 1.5, 1.0), 0),
            Ok(())
        );
    }

    #[test]
    fn market_liability_nets_across_runners() {
        let mut book = RiskBook::new(RiskLimits {
            max_market_liability: 10.0,
            ..RiskLimits::default()
        });
        assert_eq!(
            place(&mut book, 1, order(Side::Back, 1, 3.0, 10.0), 0),
            Ok(())
        );
        // Backing runner 2 too: if neither wins we lose 20.
        assert_eq!(
            place(&mut book, 2, order(Side::Back, 2, 3.0, 10.0), 0),
            LIMIT(RiskLimit::MaxMarketLiability)
        );
        // Laying runner 1 instead hedges: worst case stays 10.
        assert_eq!(
            place(&mut book, 3, order(Side::Lay, 1, 3.0, 5.0), 0),
            Ok(())
        );
    }

    #[test]
    fn open_orders_and_orders_per_hour() {
        let mut book = RiskBook::new(RiskLimits {
            max_open_orders: 2,
            max_orders_per_hour: 3,
            ..RiskLimits::default()
        });
        assert_eq!(
            place(&mut book, 1, order(Side::Back, 1, 2.0, 1.0), 0),
            Ok(())
        );
        assert_eq!(
            place(&mut book, 2, order(Side::Back, 1, 2.0, 1.0), 1),
            Ok(())
        );
        assert_eq!(
            place(&mut book, 3, order(Side::Back, 1, 2.0, 1.0), 2),
            LIMIT(RiskLimit::MaxOpenOrders)
        );
        book.completed(OrderId(1));
        assert_eq!(
            place(&mut book, 3, order(Side::Back, 1, 2.0, 1.0), 2),
            Ok(())
        );
        book.completed(OrderId(2));
        assert_eq!(
            place(&mut book, 4, order(Side::Back, 1, 2.0, 1.0), 3),
            LIMIT(RiskLimit::MaxOrdersPerHour)
        );
        // An hour after the first order, there is room again.
        assert_eq!(
            place(&mut book, 4, order(Side::Back, 1, 2.0, 1.0), HOUR_MS),
            Ok(())
        );
    }

    #[test]
    fn daily_loss_stops_the_day_and_the_next_day_starts_fresh() {
        let mut book = RiskBook::new(RiskLimits {
            daily_loss_limit: 50.0,
            ..RiskLimits::default()
        });
        book.settled(&MarketId::from("1.0"), Money::from_f64(-50.0), 1_000);
        assert_eq!(
            place(&mut book, 1, order(Side::Back, 1, 2.0, 1.0), 2_000),
            LIMIT(RiskLimit::DailyLoss)
        );
        assert_eq!(
            place(&mut book, 1, order(Side::Back, 1, 2.0, 1.0), DAY_MS + 1),
            Ok(())
        );
    }

    #[test]
    fn orders_and_the_days_loss_of_an_earlier_run_count_after_a_restart() {
        let limits = RiskLimits {
            max_orders_per_hour: 3,
            daily_loss_limit: 10.0,
            ..RiskLimits::default()
        };
        let now = 5 * DAY_MS + HOUR_MS;
        let mut book = RiskBook::new(limits.clone());
        book.carry_over(&[now - 10, now - 20], (now - 5, Money::ZERO));
        assert!(book.check(order(Side::Back, 1, 2.0, 2.0), now).is_ok());
        let approved = book.check(order(Side::Back, 1, 2.0, 2.0), now).unwrap();
        book.placed(OrderId(1), &approved, now);
        assert_eq!(
            book.check(order(Side::Back, 1, 2.0, 2.0), now).unwrap_err(),
            RejectReason::RiskLimit(RiskLimit::MaxOrdersPerHour)
        );
        // An hour on, the carried orders no longer count.
        assert!(
            book.check(order(Side::Back, 1, 2.0, 2.0), now + HOUR_MS)
                .is_ok()
        );

        let mut book = RiskBook::new(limits);
        book.carry_over(&[], (now - 5, Money::from_pennies(-1_000)));
        assert_eq!(
            book.check(order(Side::Back, 1, 2.0, 2.0), now).unwrap_err(),
            RejectReason::RiskLimit(RiskLimit::DailyLoss)
        );
        assert!(
            book.check(order(Side::Back, 1, 2.0, 2.0), now + DAY_MS)
                .is_ok(),
            "next day"
        );
    }

    #[test]
    fn kill_switch_refuses_everything_until_released() {
        let mut book = RiskBook::new(RiskLimits::default());
        book.set_kill_switch(true);
        assert_eq!(
            place(&mut book, 1, order(Side::Back, 1, 2.0, 1.0), 0),
            LIMIT(RiskLimit::KillSwitch)
        );
        book.set_kill_switch(false);
        assert_eq!(
            place(&mut book, 1, order(Side::Back, 1, 2.0, 1.0), 0),
            Ok(())
        );
    }

    #[test]
    fn limits_come_from_toml_with_defaults() {
        let limits = RiskLimits::from_toml_str("[risk]\nmax_stake = 5.0\n").unwrap();
        assert_eq!(limits.max_stake, 5.0);
        assert_eq!(
            limits.max_open_orders,
            RiskLimits::default().max_open_orders
        );
        assert!(
            RiskLimits::from_toml_str("[risk]\nmax_stak = 5.0\n")
                .unwrap_err()
                .contains("max_stak")
        );
        for (line, said) in [
            ("max_stake = -5", "[risk] max_stake = -5: a limit must be"),
            (
                "daily_loss_limit = nan",
                "[risk] daily_loss_limit = NaN: a limit must be",
            ),
            // Past exact money it would read as 0: every order refused.
            (
                "max_position_notional = 1e30",
                "[risk] max_position_notional = 1000000000000000000000000000000: a limit must be",
            ),
        ] {
            let err = RiskLimits::from_toml_str(&format!("[risk]\n{line}\n")).unwrap_err();
            assert!(err.starts_with(said), "{err}");
        }
        let err = RiskLimits::from_toml_str("[risk]\nmax_market_liability = inf\n").unwrap_err();
        assert!(err.contains("(for no limit, a large one: 1e9)"), "{err}");
        let zero = RiskLimits::from_toml_str("[risk]\ndaily_loss_limit = 0\n").unwrap();
        assert_eq!(zero.daily_loss_limit, 0.0);
    }

    #[test]
    fn the_example_file_matches_the_defaults() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/risk.toml");
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            RiskLimits::from_toml_str(&text).unwrap(),
            RiskLimits::default()
        );
    }
}
