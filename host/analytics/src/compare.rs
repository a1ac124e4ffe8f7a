//! Live against its own backtest: the orders of one run of a strategy
//! (a paper or live session, or a backtest) paired with another's, to
//! see how far the simulation is from what the exchange did.
//!
//! Orders pair when they have the same strategy, market, runner and side
//! and were placed within a tolerance of each other. Within each such
//! group both sides are in time order, and the pairing is the alignment
//! of the two sequences that leaves the fewest orders unpaired and, among
//! those, the least total time apart (a small dynamic programme: it never
//! pairs an order with a neighbour's twin just because it came first).
//! Totals are per strategy over every order of each side, paired or not.

use std::collections::{BTreeMap, HashMap};

use clever_market::Money;
use clever_sdk::{SelectionId, Side};
use serde::{Serialize, Serializer};

/// One order as the comparison needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placed {
    /// Its strategy's name.
    pub strategy: String,
    /// The strategy's version; none if unknown (an adopted bet).
    pub version: Option<String>,
    /// The venue's market id.
    pub market_id: String,
    /// The runner.
    #[serde(serialize_with = "selection")]
    pub selection_id: SelectionId,
    /// Back or lay.
    #[serde(serialize_with = "side")]
    pub side: Side,
    /// When the strategy placed it (epoch ms, the market's clock).
    pub placed_at: i64,
    /// Odds asked.
    pub price: f64,
    /// Stake asked.
    pub size: Money,
    /// Stake matched.
    pub matched: Money,
    /// Average odds matched.
    pub average_price: Option<f64>,
    /// Net profit as settled; none while it is not.
    pub profit: Option<Money>,
    /// How to find it: a client reference or the venue's bet id.
    pub reference: String,
}

fn selection<S: Serializer>(id: &SelectionId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(id.0)
}

fn side<S: Serializer>(side: &Side, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(side_name(*side))
}

/// The venue's word for a side.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Back => "BACK",
        Side::Lay => "LAY",
    }
}

/// One side's orders of a strategy, summed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Orders placed.
    pub orders: u64,
    /// Of them, matched at least in part.
    pub filled: u64,
    /// `filled / orders`; none without orders.
    pub fill_rate: Option<f64>,
    /// Stake asked.
    pub asked: Money,
    /// Stake matched.
    pub matched: Money,
    /// Average odds matched, weighted by matched stake; none if nothing
    /// matched.
    pub average_price: Option<f64>,
    /// Net profit of the settled orders.
    pub profit: Money,
    /// Orders not settled yet (their profit is not in `profit`).
    pub unsettled: u64,
}

impl Totals {
    fn of<'a>(orders: impl Iterator<Item = &'a Placed>) -> Totals {
        let mut t = Totals::default();
        let mut weighted = 0.0;
        for o in orders {
            t.orders += 1;
            t.asked += o.size;
            if o.matched.is_positive() {
                t.filled += 1;
                t.matched += o.matched;
                weighted += o.average_price.unwrap_or(o.price) * o.matched.to_f64();
            }
            match o.profit {
                Some(p) => t.profit += p,
                None => t.unsettled += 1,
            }
        }
        t.fill_rate = (t.orders > 0).then(|| t.filled as f64 / t.orders as f64);
        t.average_price = t
            .matched
            .is_positive()
            .then(|| weighted / t.matched.to_f64());
        t
    }
}

/// A strategy's orders on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyComparison {
    /// The strategy.
    pub strategy: String,
    /// The versions of its orders on each side.
    pub versions: [Vec<String>; 2],
    /// Each side's totals.
    pub totals: [Totals; 2],
    /// Orders paired.
    pub paired: u64,
    /// Orders of each side with no twin on the other.
    pub unpaired: [u64; 2],
    /// Pairs matched on one side only: [matched on the first side only,
    /// on the second side only].
    pub filled_on_one_side: [u64; 2],
}

/// An order and its twin; one of them is missing if it has none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// The first side's order.
    pub a: Option<Placed>,
    /// The second side's.
    pub b: Option<Placed>,
}

impl Pair {
    /// Matched (in part) on one side and not on the other, or placed on
    /// one side only.
    pub fn differs_in_fill(&self) -> bool {
        let filled = |o: &Option<Placed>| o.as_ref().is_some_and(|o| o.matched.is_positive());
        match (&self.a, &self.b) {
            (Some(_), Some(_)) => filled(&self.a) != filled(&self.b),
            _ => true,
        }
    }

    fn first(&self) -> &Placed {
        match (&self.a, &self.b) {
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => unreachable!("a pair holds at least one order"),
        }
    }
}

/// Two runs' orders, paired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Orders placed this far apart (ms) or closer may pair.
    pub within_ms: i64,
    /// Per strategy, by name.
    pub strategies: Vec<StrategyComparison>,
    /// Every pair, and every order left unpaired, in time order.
    #[serde(skip)]
    pub pairs: Vec<Pair>,
    /// The pairs filled on one side only and the orders with no twin, in
    /// time order.
    pub differences: Vec<Pair>,
}

/// The orders `a` and `b`, paired as the module says, each pair within
/// `within_ms` of each other.
pub fn compare(a: Vec<Placed>, b: Vec<Placed>, within_ms: i64) -> Comparison {
    let within_ms = within_ms.max(0);
    let strategies = strategy_names(&a, &b)
        .into_iter()
        .map(|name| (name.clone(), [of(&a, &name), of(&b, &name)]))
        .collect::<Vec<_>>();
    let mut pairs = Vec::new();
    for (_, [a, b]) in groups(a, b) {
        pairs.extend(align(a, b, within_ms));
    }
    pairs.sort_by_key(|p| (p.first().placed_at, p.first().reference.clone()));
    let strategies = strategies
        .into_iter()
        .map(|(name, [a, b])| summary(name, [&a, &b], &pairs))
        .collect();
    let differences = pairs
        .iter()
        .filter(|p| p.differs_in_fill())
        .cloned()
        .collect();
    Comparison {
        within_ms,
        strategies,
        pairs,
        differences,
    }
}

fn strategy_names(a: &[Placed], b: &[Placed]) -> Vec<String> {
    let mut names: Vec<String> = a.iter().chain(b).map(|o| o.strategy.clone()).collect();
    names.sort();
    names.dedup();
    names
}

fn of(orders: &[Placed], strategy: &str) -> Vec<Placed> {
    orders
        .iter()
        .filter(|o| o.strategy == strategy)
        .cloned()
        .collect()
}

fn summary(strategy: String, [a, b]: [&[Placed]; 2], pairs: &[Pair]) -> StrategyComparison {
    let versions = |orders: &[Placed]| {
        let mut v: Vec<String> = orders.iter().filter_map(|o| o.version.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let mut c = StrategyComparison {
        versions: [versions(a), versions(b)],
        totals: [Totals::of(a.iter()), Totals::of(b.iter())],
        paired: 0,
        unpaired: [0, 0],
        filled_on_one_side: [0, 0],
        strategy,
    };
    for pair in pairs.iter().filter(|p| p.first().strategy == c.strategy) {
        let filled = |o: &Placed| o.matched.is_positive();
        match (&pair.a, &pair.b) {
            (Some(a), Some(b)) => {
                c.paired += 1;
                match (filled(a), filled(b)) {
                    (true, false) => c.filled_on_one_side[0] += 1,
                    (false, true) => c.filled_on_one_side[1] += 1,
                    _ => {}
                }
            }
            (Some(_), None) => c.unpaired[0] += 1,
            (None, _) => c.unpaired[1] += 1,
        }
    }
    c
}

/// What orders must share to pair.
type Key = (String, String, u64, u8);

/// Both sides' orders by what they must share, each side in time order.
fn groups(a: Vec<Placed>, b: Vec<Placed>) -> BTreeMap<Key, [Vec<Placed>; 2]> {
    let key = |o: &Placed| {
        let side = matches!(o.side, Side::Lay) as u8;
        (
            o.strategy.clone(),
            o.market_id.clone(),
            o.selection_id.0,
            side,
        )
    };
    let mut groups: HashMap<Key, [Vec<Placed>; 2]> = HashMap::new();
    for (i, orders) in [a, b].into_iter().enumerate() {
        for o in orders {
            groups.entry(key(&o)).or_default()[i].push(o);
        }
    }
    let mut groups: BTreeMap<_, _> = groups.into_iter().collect();
    for [a, b] in groups.values_mut() {
        a.sort_by_key(|o| o.placed_at);
        b.sort_by_key(|o| o.placed_at);
    }
    groups
}

/// Above this many cells a group is paired greedily instead (each order
/// with the next one in time within reach): the same on any sane run,
/// without a table of this size.
const MAX_CELLS: usize = 4_000_000;

/// The alignment of `a` and `b` (each in time order) with the fewest
/// orders unpaired, then the least time apart in all.
fn align(a: Vec<Placed>, b: Vec<Placed>, within: i64) -> Vec<Pair> {
    let steps = if (a.len() + 1) * (b.len() + 1) > MAX_CELLS {
        greedy(&a, &b, within)
    } else {
        optimal(&a, &b, within)
    };
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    steps
        .into_iter()
        .map(|step| match step {
            Step::Pair => Pair {
                a: a.next(),
                b: b.next(),
            },
            Step::OnlyA => Pair {
                a: a.next(),
                b: None,
            },
            Step::OnlyB => Pair {
                a: None,
                b: b.next(),
            },
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Pair,
    OnlyA,
    OnlyB,
}

fn apart(a: &Placed, b: &Placed, within: i64) -> Option<i64> {
    let d = (a.placed_at - b.placed_at).abs();
    (d <= within).then_some(d)
}

/// `cost[i][j]`: (orders unpaired, ms apart) of the best alignment of the
/// first `i` of `a` and first `j` of `b`; the steps are read back from it.
fn optimal(a: &[Placed], b: &[Placed], within: i64) -> Vec<Step> {
    let w = b.len() + 1;
    let mut cost = vec![(0u64, 0i64); (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            cost[i * w + j] = match (i, j) {
                (0, _) | (_, 0) => ((i + j) as u64, 0),
                _ => {
                    let skip_a = cost[(i - 1) * w + j];
                    let skip_b = cost[i * w + j - 1];
                    let mut best = (skip_a.0 + 1, skip_a.1).min((skip_b.0 + 1, skip_b.1));
                    if let Some(d) = apart(&a[i - 1], &b[j - 1], within) {
                        let both = cost[(i - 1) * w + j - 1];
                        best = best.min((both.0, both.1 + d));
                    }
                    best
                }
            };
        }
    }
    let (mut i, mut j, mut steps) = (a.len(), b.len(), Vec::new());
    while i > 0 || j > 0 {
        let here = cost[i * w + j];
        let paired = (i > 0 && j > 0)
            .then(|| apart(&a[i - 1], &b[j - 1], within))
            .flatten()
            .is_some_and(|d| {
                let both = cost[(i - 1) * w + j - 1];
                (both.0, both.1 + d) == here
            });
        let step = if paired {
            Step::Pair
        } else if i > 0
            && (j == 0
                || cost[(i - 1) * w + j].0 + 1 == here.0 && cost[(i - 1) * w + j].1 == here.1)
        {
            Step::OnlyA
        } else {
            Step::OnlyB
        };
        match step {
            Step::Pair => (i, j) = (i - 1, j - 1),
            Step::OnlyA => i -= 1,
            Step::OnlyB => j -= 1,
        }
        steps.push(step);
    }
    steps.reverse();
    steps
}

fn greedy(a: &[Placed], b: &[Placed], within: i64) -> Vec<Step> {
    let (mut i, mut j, mut steps) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let step = if apart(&a[i], &b[j], within).is_some() {
            Step::Pair
        } else if a[i].placed_at < b[j].placed_at {
            Step::OnlyA
        } else {
            Step::OnlyB
        };
        match step {
            Step::Pair => (i, j) = (i + 1, j + 1),
            Step::OnlyA => i += 1,
            Step::OnlyB => j += 1,
        }
        steps.push(step);
    }
    steps.extend(std::iter::repeat_n(Step::OnlyA, a.len() - i));
    steps.extend(std::iter::repeat_n(Step::OnlyB, b.len() - j));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An order of `strategy` on runner `runner` (back) at `t` ms,
    /// stake 10, matched `matched` at 2.0, settled for `profit`.
    fn order(strategy: &str, runner: u64, t: i64, matched: i64, profit: i64) -> Placed {
        Placed {
            strategy: strategy.into(),
            version: Some("1.0.0".into()),
            market_id: "1.1".into(),
            selection_id: SelectionId(runner),
            side: Side::Back,
            placed_at: t,
            price: 2.0,
            size: Money::from_pennies(1000),
            matched: Money::from_pennies(matched * 100),
            average_price: (matched > 0).then_some(2.0),
            profit: Some(Money::from_pennies(profit * 100)),
            reference: format!("{strategy}-{runner}-{t}"),
        }
    }

    fn times(pairs: &[Pair]) -> Vec<(Option<i64>, Option<i64>)> {
        let t = |o: &Option<Placed>| o.as_ref().map(|o| o.placed_at);
        pairs.iter().map(|p| (t(&p.a), t(&p.b))).collect()
    }

    #[test]
    fn the_same_orders_pair_one_for_one_and_nothing_differs() {
        let orders = vec![order("s", 1, 0, 10, 10), order("s", 2, 1000, 0, 0)];
        let c = compare(orders.clone(), orders, 0);
        assert_eq!(c.pairs.len(), 2);
        assert!(c.differences.is_empty());
        let s = &c.strategies[0];
        assert_eq!(
            (s.paired, s.unpaired, s.filled_on_one_side),
            (2, [0, 0], [0, 0])
        );
        assert_eq!(s.totals[0], s.totals[1]);
        assert_eq!(s.totals[0].fill_rate, Some(0.5));
        assert_eq!(s.totals[0].asked, Money::from_pennies(2000));
        assert_eq!(s.totals[0].average_price, Some(2.0));
    }

    #[test]
    fn an_order_pairs_with_its_nearest_twin_not_the_first_in_reach() {
        // Greedy would pair 1000 with 200 and leave 1000 on the other side
        // unpaired; the alignment pairs 1000 with 1000 and leaves 200.
        let a = vec![order("s", 1, 1000, 10, 0)];
        let b = vec![order("s", 1, 200, 10, 0), order("s", 1, 1000, 10, 0)];
        let c = compare(a, b, 1000);
        assert_eq!(
            times(&c.pairs),
            [(None, Some(200)), (Some(1000), Some(1000))]
        );
        assert_eq!(c.strategies[0].unpaired, [0, 1]);
    }

    #[test]
    fn orders_too_far_apart_or_on_another_runner_stay_unpaired() {
        let a = vec![order("s", 1, 0, 10, 0), order("s", 2, 0, 10, 0)];
        let b = vec![order("s", 1, 1001, 10, 0), order("s", 3, 0, 10, 0)];
        let c = compare(a, b, 1000);
        assert_eq!(c.strategies[0].paired, 0);
        assert_eq!(c.strategies[0].unpaired, [2, 2]);
        assert_eq!(c.differences.len(), 4);
    }

    #[test]
    fn a_pair_filled_on_one_side_only_is_a_difference() {
        let a = vec![order("s", 1, 0, 10, 10), order("s", 1, 5000, 0, 0)];
        let b = vec![order("s", 1, 100, 0, 0), order("s", 1, 5100, 4, -4)];
        let c = compare(a, b, 1000);
        let s = &c.strategies[0];
        assert_eq!((s.paired, s.filled_on_one_side), (2, [1, 1]));
        assert_eq!(
            times(&c.differences),
            [(Some(0), Some(100)), (Some(5000), Some(5100))]
        );
        assert_eq!(s.totals[0].profit, Money::from_pennies(1000));
        assert_eq!(s.totals[1].profit, Money::from_pennies(-400));
        assert_eq!(s.totals[1].matched, Money::from_pennies(400));
    }

    #[test]
    fn strategies_are_compared_apart_and_unsettled_orders_counted() {
        let mut open = order("t", 1, 0, 10, 0);
        open.profit = None;
        let c = compare(vec![order("s", 1, 0, 10, 5), open], vec![], 1000);
        let names: Vec<_> = c.strategies.iter().map(|s| s.strategy.as_str()).collect();
        assert_eq!(names, ["s", "t"]);
        assert_eq!(c.strategies[1].totals[0].unsettled, 1);
        assert_eq!(c.strategies[1].totals[1], Totals::default());
        assert_eq!(c.strategies[1].totals[1].fill_rate, None);
    }

    #[test]
    fn the_greedy_fallback_pairs_in_time_order() {
        let a: Vec<_> = [0, 500, 3000].map(|t| order("s", 1, t, 1, 0)).into();
        let b: Vec<_> = [100, 2000, 3100].map(|t| order("s", 1, t, 1, 0)).into();
        let steps = greedy(&a, &b, 900);
        assert_eq!(steps, [Step::Pair, Step::OnlyA, Step::OnlyB, Step::Pair]);
        assert_eq!(paired(&optimal(&a, &b, 900)), paired(&steps));
        // With 1000 in reach, greedy pairs 3000 with 2000; the alignment
        // keeps 3000 for 3100, 100 ms away.
        assert_eq!(paired(&greedy(&a, &b, 1000)), [(0, 0), (2, 1)]);
        assert_eq!(paired(&optimal(&a, &b, 1000)), [(0, 0), (2, 2)]);
    }

    /// The (a, b) indices each pair of `steps` joins.
    fn paired(steps: &[Step]) -> Vec<(usize, usize)> {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        for step in steps {
            match step {
                Step::Pair => {
                    out.push((i, j));
                    (i, j) = (i + 1, j + 1);
                }
                Step::OnlyA => i += 1,
                Step::OnlyB => j += 1,
            }
        }
        out
    }
}
