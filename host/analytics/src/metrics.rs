//! [`Metrics`]: what a sequence of settled markets says about a strategy
//! version, computed in time order against a stated [`Bankroll`].
//!
//! Money stays exact ([`Money`]); ratios are `f64`, rounded to six
//! decimals so that a figure printed, saved and read back is the same.
//! The definitions and their edge cases are in `docs/METRICS.md`; a
//! change here changes that page.

use clever_market::Money;
use serde::{Deserialize, Serialize};

/// A UTC day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// Periods a year for annualising the daily ratios: racing runs every
/// day of the year, and a calendar day with no market counts as a day
/// with nothing made.
pub const DAYS_A_YEAR: f64 = 365.0;

/// One settled market of one strategy version.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MarketPoint {
    /// When it settled, epoch milliseconds.
    pub at: i64,
    /// Stake matched in it (not voided).
    pub matched: Money,
    /// Commission charged on it.
    pub commission: Money,
    /// Its profit after commission.
    pub profit: Money,
}

impl MarketPoint {
    /// A market counts as traded when something in it matched (or, with
    /// nothing matched, something was still won or lost).
    pub fn traded(&self) -> bool {
        self.matched.is_positive() || self.profit != Money::ZERO
    }
}

/// The money a run is measured against: positive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bankroll(Money);

impl Bankroll {
    /// `amount`, if it is more than nothing.
    pub fn new(amount: Money) -> Option<Bankroll> {
        amount.is_positive().then_some(Bankroll(amount))
    }

    /// The amount.
    pub fn money(self) -> Money {
        self.0
    }
}

/// A strategy version's performance over its settled markets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The bankroll the bankroll-relative figures are measured against.
    pub bankroll: Bankroll,
    /// Markets traded (something matched).
    pub markets: u64,
    /// Traded markets with a net profit above zero.
    pub wins: u64,
    /// Traded markets with a net profit below zero.
    pub losses: u64,
    /// The sum of every market's profit after commission.
    pub net_profit: Money,
    /// Stake matched, in all.
    pub turnover: Money,
    /// Commission paid.
    pub commission: Money,
    /// Net profit over turnover (0 when nothing matched).
    pub roi_on_turnover: f64,
    /// Net profit over the bankroll.
    pub roi_on_bankroll: f64,
    /// Wins over markets traded; none when nothing traded.
    pub strike_rate: Option<f64>,
    /// The mean profit of a winning market, to the penny.
    pub average_win: Option<Money>,
    /// The mean profit of a losing market (negative), to the penny.
    pub average_loss: Option<Money>,
    /// What the winners made over what the losers lost; none without a
    /// loss (it would be infinite).
    pub profit_factor: Option<f64>,
    /// Net profit per market traded, to the penny.
    pub expectancy: Option<Money>,
    /// The largest fall of equity from a peak.
    pub max_drawdown: Money,
    /// That fall over the bankroll.
    pub max_drawdown_of_bankroll: f64,
    /// The longest time equity stayed below an earlier peak, ms.
    pub max_drawdown_ms: i64,
    /// Markets settled in that time.
    pub max_drawdown_markets: u64,
    /// The most losing markets in a row.
    pub longest_losing_run: u64,
    /// Calendar days (UTC) from the first settled market to the last.
    pub days: u64,
    /// Mean daily return over its standard deviation, × √365.
    pub sharpe: Option<f64>,
    /// Mean daily return over its downside deviation, × √365.
    pub sortino: Option<f64>,
    /// Annualised return (mean daily return × 365) over the maximum
    /// drawdown's share of the bankroll.
    pub calmar: Option<f64>,
    /// The days that had a settled market, in order.
    pub daily: Vec<Day>,
}

/// One UTC day's settled markets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Markets traded.
    pub markets: u64,
    /// Stake matched.
    pub matched: Money,
    /// Commission paid.
    pub commission: Money,
    /// Profit after commission.
    pub profit: Money,
    /// Bankroll plus every profit so far, at the day's end.
    pub equity: Money,
}

impl Metrics {
    /// The metrics of `points` (in any order: they are put in time order,
    /// ties kept as given) against `bankroll`. Markets with nothing
    /// matched are left out.
    pub fn of(points: &[MarketPoint], bankroll: Bankroll) -> Metrics {
        let mut traded: Vec<MarketPoint> = points.iter().copied().filter(|p| p.traded()).collect();
        traded.sort_by_key(|p| p.at);
        let sums = Sums::of(&traded);
        let drawdown = Drawdown::of(&traded, bankroll.money());
        let daily = daily(&traded, bankroll.money());
        let days = match (traded.first(), traded.last()) {
            (Some(first), Some(last)) => (day_of(last.at) - day_of(first.at) + 1) as u64,
            _ => 0,
        };
        let returns = daily_returns(&daily, days, bankroll.money());
        let dd_share = share(drawdown.amount, bankroll.money());
        Metrics {
            bankroll,
            markets: traded.len() as u64,
            wins: sums.wins,
            losses: sums.losses,
            net_profit: sums.profit,
            turnover: sums.turnover,
            commission: sums.commission,
            roi_on_turnover: if sums.turnover.is_positive() {
                share(sums.profit, sums.turnover)
            } else {
                0.0
            },
            roi_on_bankroll: share(sums.profit, bankroll.money()),
            strike_rate: (!traded.is_empty())
                .then(|| round6(sums.wins as f64 / traded.len() as f64)),
            average_win: mean(sums.won, sums.wins),
            average_loss: mean(sums.lost, sums.losses),
            profit_factor: (sums.losses > 0).then(|| share(sums.won, -sums.lost)),
            expectancy: mean(sums.profit, traded.len() as u64),
            max_drawdown: drawdown.amount,
            max_drawdown_of_bankroll: dd_share,
            max_drawdown_ms: drawdown.longest_ms,
            max_drawdown_markets: drawdown.longest_markets,
            longest_losing_run: sums.longest_losing_run,
            days,
            sharpe: sharpe(&returns),
            sortino: sortino(&returns),
            calmar: calmar(&returns, dd_share),
            daily,
        }
    }
}

/// Sums over the traded markets, in time order.
#[derive(Default)]
struct Sums {
    wins: u64,
    losses: u64,
    won: Money,
    lost: Money,
    profit: Money,
    turnover: Money,
    commission: Money,
    longest_losing_run: u64,
}

impl Sums {
    fn of(traded: &[MarketPoint]) -> Sums {
        let mut s = Sums::default();
        let mut run = 0;
        for p in traded {
            s.profit += p.profit;
            s.turnover += p.matched;
            s.commission += p.commission;
            if p.profit < Money::ZERO {
                s.losses += 1;
                s.lost += p.profit;
                run += 1;
                s.longest_losing_run = s.longest_losing_run.max(run);
            } else {
                run = 0;
                if p.profit > Money::ZERO {
                    s.wins += 1;
                    s.won += p.profit;
                }
            }
        }
        s
    }
}

/// The deepest fall from a peak, and the longest time under one.
#[derive(Debug, Default, PartialEq)]
struct Drawdown {
    amount: Money,
    longest_ms: i64,
    longest_markets: u64,
}

impl Drawdown {
    /// Equity starts at `bankroll` at the first market's settlement and
    /// moves by each market's profit; a stretch under a peak ends at the
    /// market that brings equity back to it (or at the last market).
    fn of(traded: &[MarketPoint], bankroll: Money) -> Drawdown {
        let mut d = Drawdown::default();
        let Some(first) = traded.first() else {
            return d;
        };
        let (mut equity, mut peak, mut peak_at, mut under) = (bankroll, bankroll, first.at, 0u64);
        for p in traded {
            equity += p.profit;
            if equity >= peak {
                if under > 0 {
                    d.stretch(p.at - peak_at, under);
                }
                (peak, peak_at, under) = (equity, p.at, 0);
            } else {
                under += 1;
                d.amount = d.amount.max(peak - equity);
            }
        }
        if let (true, Some(last)) = (under > 0, traded.last()) {
            d.stretch(last.at - peak_at, under);
        }
        d
    }

    fn stretch(&mut self, ms: i64, markets: u64) {
        if ms > self.longest_ms || (ms == self.longest_ms && markets > self.longest_markets) {
            (self.longest_ms, self.longest_markets) = (ms, markets);
        }
    }
}

fn day_of(at: i64) -> i64 {
    at.div_euclid(DAY_MS)
}

fn daily(traded: &[MarketPoint], bankroll: Money) -> Vec<Day> {
    let mut days: Vec<(i64, Day)> = Vec::new();
    let mut equity = bankroll;
    for p in traded {
        equity += p.profit;
        let d = day_of(p.at);
        if days.last().is_none_or(|(last, _)| *last != d) {
            let date = chrono::DateTime::from_timestamp_millis(d * DAY_MS)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            let day = Day {
                date,
                markets: 0,
                matched: Money::ZERO,
                commission: Money::ZERO,
                profit: Money::ZERO,
                equity,
            };
            days.push((d, day));
        }
        if let Some((_, day)) = days.last_mut() {
            day.markets += 1;
            day.matched += p.matched;
            day.commission += p.commission;
            day.profit += p.profit;
            day.equity = equity;
        }
    }
    days.into_iter().map(|(_, day)| day).collect()
}

/// Each calendar day's profit over the bankroll, days without a market
/// counting as 0.
fn daily_returns(daily: &[Day], days: u64, bankroll: Money) -> Vec<f64> {
    let mut returns: Vec<f64> = daily
        .iter()
        .map(|d| share_raw(d.profit, bankroll))
        .collect();
    returns.resize(days as usize, 0.0);
    returns
}

fn mean_of(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn sharpe(returns: &[f64]) -> Option<f64> {
    if returns.len() < 2 {
        return None;
    }
    let mean = mean_of(returns);
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64;
    annualised(mean, var.sqrt())
}

fn sortino(returns: &[f64]) -> Option<f64> {
    if returns.len() < 2 {
        return None;
    }
    let down = returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / returns.len() as f64;
    annualised(mean_of(returns), down.sqrt())
}

fn annualised(mean: f64, deviation: f64) -> Option<f64> {
    (deviation > 0.0).then(|| round6(mean / deviation * DAYS_A_YEAR.sqrt()))
}

fn calmar(returns: &[f64], drawdown_share: f64) -> Option<f64> {
    (returns.len() >= 2 && drawdown_share > 0.0)
        .then(|| round6(mean_of(returns) * DAYS_A_YEAR / drawdown_share))
}

/// `amount` over `of`, rounded to six decimals.
fn share(amount: Money, of: Money) -> f64 {
    round6(share_raw(amount, of))
}

fn share_raw(amount: Money, of: Money) -> f64 {
    amount.to_f64() / of.to_f64()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// `total` over `n`, to the penny; none when `n` is 0.
fn mean(total: Money, n: u64) -> Option<Money> {
    (n > 0).then(|| Money::new(total.decimal() / clever_market::Decimal::from(n)).pennies())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    /// 2024-03-01 00:00 UTC.
    const MAR_1: i64 = 1_709_251_200_000;

    fn point(at: i64, matched: i64, commission: i64, profit: i64) -> MarketPoint {
        MarketPoint {
            at,
            matched: Money::from_pennies(matched),
            commission: Money::from_pennies(commission),
            profit: Money::from_pennies(profit),
        }
    }

    fn pounds(p: i64) -> Money {
        Money::from_pennies(p * 100)
    }

    fn bankroll(p: i64) -> Bankroll {
        Bankroll::new(pounds(p)).unwrap()
    }

    /// Six markets over three days (given out of order), against a
    /// bankroll of 100; every figure below is worked by hand.
    ///
    /// | # | day   | profit | equity | peak |
    /// |---|-------|-------:|-------:|-----:|
    /// | 1 | 1 Mar |    +10 |    110 |  110 |
    /// | 2 | 1 Mar |     -5 |    105 |  110 |
    /// | 3 | 1 Mar |    -15 |     90 |  110 |  drawdown 20
    /// | 4 | 2 Mar |    +25 |    115 |  115 |  recovered after 3 h
    /// | 5 | 3 Mar |     -8 |    107 |  115 |
    /// | 6 | 3 Mar |     +0 |    107 |  115 |  matched, broke even
    fn six() -> Vec<MarketPoint> {
        vec![
            point(MAR_1 + 48 * HOUR + 2 * HOUR, 1000, 0, 0),
            point(MAR_1 + 10 * HOUR, 2000, 50, 1000),
            point(MAR_1 + 11 * HOUR, 1000, 0, -500),
            point(MAR_1 + 12 * HOUR, 3000, 0, -1500),
            point(MAR_1 + 24 * HOUR + 13 * HOUR, 5000, 125, 2500),
            point(MAR_1 + 48 * HOUR + HOUR, 800, 0, -800),
            // Nothing matched: not a market traded.
            point(MAR_1, 0, 0, 0),
        ]
    }

    #[test]
    fn sums_rates_and_averages_match_the_hand_worked_sequence() {
        let m = Metrics::of(&six(), bankroll(100));
        assert_eq!((m.markets, m.wins, m.losses), (6, 2, 3));
        assert_eq!(m.net_profit, pounds(7));
        assert_eq!(m.turnover, Money::from_pennies(12_800));
        assert_eq!(m.commission, Money::from_pennies(175));
        // 7 / 128 = 0.0546875
        assert_eq!(m.roi_on_turnover, 0.054688);
        assert_eq!(m.roi_on_bankroll, 0.07);
        // 2 of 6
        assert_eq!(m.strike_rate, Some(0.333333));
        // (10 + 25) / 2; (-5 - 15 - 8) / 3 = -9.333...
        assert_eq!(m.average_win, Some(Money::from_pennies(1750)));
        assert_eq!(m.average_loss, Some(Money::from_pennies(-933)));
        // 35 / 28
        assert_eq!(m.profit_factor, Some(1.25));
        // 7 / 6 = 1.1666...
        assert_eq!(m.expectancy, Some(Money::from_pennies(117)));
        // markets 2 and 3
        assert_eq!(m.longest_losing_run, 2);
    }

    #[test]
    fn the_drawdown_is_the_deepest_fall_and_the_longest_stretch_under_a_peak() {
        let m = Metrics::of(&six(), bankroll(100));
        assert_eq!(m.max_drawdown, pounds(20));
        assert_eq!(m.max_drawdown_of_bankroll, 0.2);
        // Under the peak of 110 (set at 10:00 on 1 Mar) until 13:00 on
        // 2 Mar: 27 hours, two markets; under 115 from 13:00 on 2 Mar to
        // the last market at 02:00 on 3 Mar: 13 hours.
        assert_eq!(m.max_drawdown_ms, 27 * HOUR);
        assert_eq!(m.max_drawdown_markets, 2);
    }

    #[test]
    fn daily_figures_and_ratios_match_the_hand_worked_sequence() {
        let m = Metrics::of(&six(), bankroll(100));
        assert_eq!(m.days, 3);
        let days: Vec<(&str, u64, Money, Money)> = (m.daily.iter())
            .map(|d| (d.date.as_str(), d.markets, d.profit, d.equity))
            .collect();
        assert_eq!(
            days,
            vec![
                ("2024-03-01", 3, pounds(-10), pounds(90)),
                ("2024-03-02", 1, pounds(25), pounds(115)),
                ("2024-03-03", 2, pounds(-8), pounds(107)),
            ]
        );
        // Daily returns -0.10, 0.25, -0.08: mean 0.07 / 3 = 0.0233333;
        // sample standard deviation √(0.077267 / 2) = 0.1965536.
        // Sharpe = 0.0233333 / 0.1965536 × √365 = 2.267995.
        assert_eq!(m.sharpe, Some(2.267995));
        // Downside deviation √((0.01 + 0.0064) / 3) = 0.0739369.
        // Sortino = 0.0233333 / 0.0739369 × √365 = 6.029231.
        assert_eq!(m.sortino, Some(6.029231));
        // Calmar = 0.0233333 × 365 / 0.2 = 42.583333.
        assert_eq!(m.calmar, Some(42.583333));
    }

    #[test]
    fn empty_days_between_markets_count_as_days_that_made_nothing() {
        let points = [
            point(MAR_1 + HOUR, 1000, 0, 1000),
            point(MAR_1 + 3 * 24 * HOUR, 1000, 0, -500),
        ];
        let m = Metrics::of(&points, bankroll(100));
        assert_eq!((m.days, m.daily.len()), (4, 2));
        // Returns 0.1, 0, 0, -0.05: mean 0.0125; squared deviations sum
        // to 0.011875, so the sample deviation is √(0.011875 / 3) =
        // 0.0629153; 0.0125 / 0.0629153 × √365 = 3.795773.
        assert_eq!(m.sharpe, Some(3.795773));
    }

    #[test]
    fn no_losses_one_market_and_nothing_traded_give_none_not_infinity() {
        let won = Metrics::of(&[point(MAR_1, 1000, 10, 190)], bankroll(50));
        assert_eq!(won.profit_factor, None);
        assert_eq!(won.average_loss, None);
        assert_eq!(won.strike_rate, Some(1.0));
        assert_eq!(won.max_drawdown, Money::ZERO);
        assert_eq!((won.sharpe, won.sortino, won.calmar), (None, None, None));
        assert_eq!(won.days, 1);
        let nothing = Metrics::of(&[point(MAR_1, 0, 0, 0)], bankroll(50));
        assert_eq!(nothing.markets, 0);
        assert_eq!(nothing.strike_rate, None);
        assert_eq!(nothing.expectancy, None);
        assert_eq!((nothing.days, nothing.roi_on_turnover), (0, 0.0));
        assert!(nothing.daily.is_empty());
    }

    #[test]
    fn a_drawdown_never_recovered_runs_to_the_last_market() {
        let points = [
            point(MAR_1, 1000, 0, -1000),
            point(MAR_1 + HOUR, 1000, 0, 400),
            point(MAR_1 + 5 * HOUR, 1000, 0, -100),
        ];
        let m = Metrics::of(&points, bankroll(100));
        assert_eq!(m.max_drawdown, pounds(10));
        assert_eq!((m.max_drawdown_ms, m.max_drawdown_markets), (5 * HOUR, 3));
        assert_eq!(m.longest_losing_run, 1);
    }

    #[test]
    fn a_bankroll_is_more_than_nothing() {
        assert_eq!(Bankroll::new(Money::ZERO), None);
        assert_eq!(Bankroll::new(pounds(-1)), None);
    }
}
