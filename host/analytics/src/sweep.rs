//! Parameter sweeps: the grids a user gives (`lay_below=1.5..2.5:0.1`,
//! `stake=2,5`), the parameter sets they make (every combination, or a
//! seeded random draw of them), and the ranking of the sets' results by a
//! chosen metric.

use clever_market::Decimal;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use super::metrics::Metrics;

/// The most parameter sets one sweep makes: a grid past it is a mistake
/// (a step too small), not a plan.
pub const MAX_SETS: usize = 100_000;

/// One parameter and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The parameter's name (a key of the plugin's JSON parameters).
    pub name: String,
    /// Its values, in the order given.
    pub values: Vec<Value>,
}

impl std::str::FromStr for Grid {
    type Err = String;

    /// `name=LOW..HIGH:STEP` (both ends included, exact decimal steps) or
    /// `name=A,B,C` (numbers, `true`/`false`, or text).
    fn from_str(text: &str) -> Result<Grid, String> {
        let (name, spec) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected NAME=LOW..HIGH:STEP or NAME=A,B,..."))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("{text:?}: the parameter has no name"));
        }
        let values = match spec.split_once("..") {
            Some((low, rest)) => range(low, rest).map_err(|e| format!("{text:?}: {e}"))?,
            None => spec.split(',').map(|v| scalar(v.trim())).collect(),
        };
        if values.is_empty() || values.iter().any(|v| v == &Value::String(String::new())) {
            return Err(format!("{text:?}: an empty value"));
        }
        Ok(Grid {
            name: name.to_owned(),
            values,
        })
    }
}

/// `LOW..HIGH:STEP` as exact decimals.
fn range(low: &str, rest: &str) -> Result<Vec<Value>, String> {
    let (high, step) = rest
        .split_once(':')
        .ok_or("a range needs a step: LOW..HIGH:STEP")?;
    let number = |s: &str| {
        s.trim()
            .parse::<Decimal>()
            .map_err(|_| format!("{s:?} is not a number"))
    };
    let (low, high, step) = (number(low)?, number(high)?, number(step)?);
    if step <= Decimal::ZERO {
        return Err("the step must be above zero".into());
    }
    if high < low {
        return Err(format!("{high} is below {low}"));
    }
    let count = ((high - low) / step).floor();
    if count >= Decimal::from(MAX_SETS) {
        return Err(format!("more than {MAX_SETS} values"));
    }
    let mut values = Vec::new();
    let mut x = low;
    while x <= high {
        values.push(decimal_value(x));
        x += step;
    }
    Ok(values)
}

fn decimal_value(x: Decimal) -> Value {
    let x = x.normalize();
    if x.scale() == 0
        && let Ok(i) = i64::try_from(x)
    {
        return Value::from(i);
    }
    Value::from(f64::try_from(x).unwrap_or(f64::NAN))
}

fn scalar(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(x) = text.parse::<Decimal>() {
        return decimal_value(x);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_owned()),
    }
}

/// Every combination of the grids' values, over `base` (the parameters
/// every set shares), the last grid changing fastest.
pub fn every_set(
    base: &Map<String, Value>,
    grids: &[Grid],
) -> Result<Vec<Map<String, Value>>, String> {
    let total = grids
        .iter()
        .try_fold(1usize, |n, g| n.checked_mul(g.values.len()))
        .filter(|&n| n <= MAX_SETS)
        .ok_or_else(|| format!("the grids make more than {MAX_SETS} parameter sets"))?;
    let mut sets = Vec::with_capacity(total);
    for mut i in 0..total {
        let mut set = base.clone();
        for g in grids.iter().rev() {
            set.insert(g.name.clone(), g.values[i % g.values.len()].clone());
            i /= g.values.len();
        }
        sets.push(set);
    }
    Ok(sets)
}

/// `count` sets drawn at random from the grids' values (each parameter
/// independently, uniformly), without repeating a set, from a generator
/// seeded with `seed`: fewer if the grids have fewer combinations.
pub fn random_sets(
    base: &Map<String, Value>,
    grids: &[Grid],
    count: usize,
    seed: u64,
) -> Vec<Map<String, Value>> {
    let combinations = grids
        .iter()
        .try_fold(1usize, |n, g| n.checked_mul(g.values.len()))
        .unwrap_or(usize::MAX);
    let wanted = count.min(combinations).min(MAX_SETS);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sets: Vec<Map<String, Value>> = Vec::with_capacity(wanted);
    while sets.len() < wanted {
        let mut set = base.clone();
        for g in grids {
            let pick = rng.random_range(0..g.values.len());
            set.insert(g.name.clone(), g.values[pick].clone());
        }
        if !sets.contains(&set) {
            sets.push(set);
        }
    }
    sets
}

/// The swept parameters that changed no result: for each grid of two or
/// more values, the sets that differ only in it are compared; if every
/// such group's results are equal, and one group tried every value, its
/// name is given. A misspelt name, or one the plugin never reads, looks
/// like this; so does one the data never gives a chance to matter.
pub fn idle_grids<R: PartialEq>(grids: &[Grid], sets: &[(&Map<String, Value>, R)]) -> Vec<String> {
    (grids.iter())
        .filter(|g| g.values.len() > 1 && changes_nothing(g, sets))
        .map(|g| g.name.clone())
        .collect()
}

fn changes_nothing<R: PartialEq>(grid: &Grid, sets: &[(&Map<String, Value>, R)]) -> bool {
    let mut groups: std::collections::BTreeMap<String, Vec<&R>> = Default::default();
    for (params, result) in sets {
        let mut others = (*params).clone();
        others.remove(&grid.name);
        let key = Value::Object(others).to_string();
        groups.entry(key).or_default().push(result);
    }
    // Sets are distinct, so a group as long as the grid tried every value.
    let tried_all = groups.values().any(|g| g.len() == grid.values.len());
    tried_all && (groups.values()).all(|g| g.iter().all(|r| *r == g[0]))
}

/// A metric results are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBy {
    /// Net profit, highest first.
    NetProfit,
    /// ROI on turnover, highest first.
    RoiOnTurnover,
    /// ROI on the bankroll, highest first.
    RoiOnBankroll,
    /// Sharpe, highest first.
    Sharpe,
    /// Sortino, highest first.
    Sortino,
    /// Calmar, highest first.
    Calmar,
    /// Profit factor, highest first (no loss ranks above every factor).
    ProfitFactor,
    /// Strike rate, highest first.
    StrikeRate,
    /// Expectancy per market, highest first.
    Expectancy,
    /// Maximum drawdown, lowest first.
    MaxDrawdown,
}

/// Every metric name `--rank-by` takes.
pub const RANK_NAMES: &[(&str, RankBy)] = &[
    ("net_profit", RankBy::NetProfit),
    ("roi_on_turnover", RankBy::RoiOnTurnover),
    ("roi_on_bankroll", RankBy::RoiOnBankroll),
    ("sharpe", RankBy::Sharpe),
    ("sortino", RankBy::Sortino),
    ("calmar", RankBy::Calmar),
    ("profit_factor", RankBy::ProfitFactor),
    ("strike_rate", RankBy::StrikeRate),
    ("expectancy", RankBy::Expectancy),
    ("max_drawdown", RankBy::MaxDrawdown),
];

impl std::str::FromStr for RankBy {
    type Err = String;
    fn from_str(text: &str) -> Result<RankBy, String> {
        let found = RANK_NAMES.iter().find(|(name, _)| *name == text);
        found.map(|(_, r)| *r).ok_or_else(|| {
            let names: Vec<&str> = RANK_NAMES.iter().map(|(n, _)| *n).collect();
            format!(
                "{text:?} is not a metric to rank by; one of {}",
                names.join(", ")
            )
        })
    }
}

impl RankBy {
    /// Its name.
    pub fn name(self) -> &'static str {
        RANK_NAMES
            .iter()
            .find(|(_, r)| *r == self)
            .map_or("", |(n, _)| n)
    }

    /// The score of `m`: higher is better; none (ranked last) when the
    /// metric is undefined for it.
    pub fn score(self, m: &Metrics) -> Option<f64> {
        let money = |x: clever_market::Money| Some(x.to_f64());
        match self {
            RankBy::NetProfit => money(m.net_profit),
            RankBy::RoiOnTurnover => Some(m.roi_on_turnover),
            RankBy::RoiOnBankroll => Some(m.roi_on_bankroll),
            RankBy::Sharpe => m.sharpe,
            RankBy::Sortino => m.sortino,
            RankBy::Calmar => m.calmar,
            RankBy::ProfitFactor if m.losses == 0 && m.wins > 0 => Some(f64::INFINITY),
            RankBy::ProfitFactor => m.profit_factor,
            RankBy::StrikeRate => m.strike_rate,
            RankBy::Expectancy => m.expectancy.and_then(money),
            RankBy::MaxDrawdown => Some(-m.max_drawdown.to_f64()),
        }
    }

    /// The indices of `metrics`, best first; ties (and undefined scores)
    /// keep their order.
    pub fn rank(self, metrics: &[&Metrics]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..metrics.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (self.score(metrics[a]), self.score(metrics[b]));
            match (a, b) {
                (Some(a), Some(b)) => b.total_cmp(&a),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        });
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grid(text: &str) -> Grid {
        text.parse().unwrap()
    }

    #[test]
    fn a_grid_that_changes_no_result_is_found() {
        let grids = [grid("below=1.5,2"), grid("typo=1,2,3")];
        let sets = every_set(&Map::new(), &grids).unwrap();
        // The result depends on `below` alone.
        let results: Vec<_> = sets.iter().map(|s| (s, s["below"].to_string())).collect();
        assert_eq!(idle_grids(&grids, &results), ["typo"]);
        // Both matter: none is idle.
        let results: Vec<_> = sets.iter().map(|s| (s, Value::Object(s.clone()))).collect();
        assert!(idle_grids(&grids, &results).is_empty());
        // Nothing to compare (one set per value of the others): none.
        let one: Vec<_> = sets[..1].iter().map(|s| (s, 0)).collect();
        assert!(idle_grids(&grids, &one).is_empty());
        // Two values of three tried (a random draw, say): not enough.
        let drawn: Vec<_> = (sets.iter())
            .filter(|s| s["typo"] != json!(3))
            .map(|s| (s, s["below"].to_string()))
            .collect();
        assert!(idle_grids(&grids, &drawn).is_empty());
    }

    #[test]
    fn ranges_step_exactly_and_lists_keep_their_types() {
        let g = grid("lay_below=1.5..2.5:0.1");
        assert_eq!(g.values.len(), 11);
        assert_eq!(
            (g.values[0].clone(), g.values[10].clone()),
            (json!(1.5), json!(2.5))
        );
        assert_eq!(g.values[3], json!(1.8));
        assert_eq!(grid("stake=2,5").values, [json!(2), json!(5)]);
        assert_eq!(grid("n=1..3:1").values, [json!(1), json!(2), json!(3)]);
        let mixed = grid("x=true, 0.25,fav");
        assert_eq!(mixed.values, [json!(true), json!(0.25), json!("fav")]);
    }

    #[test]
    fn a_bad_grid_says_what_is_wrong() {
        let err = |t: &str| t.parse::<Grid>().unwrap_err();
        assert!(err("stake").contains("expected NAME="), "{}", err("stake"));
        assert!(err("=1,2").contains("no name"));
        assert!(err("a=1..2").contains("needs a step"));
        assert!(err("a=1..2:0").contains("above zero"));
        assert!(err("a=3..2:1").contains("below"));
        assert!(err("a=x..2:1").contains("not a number"));
        assert!(err("a=1,,2").contains("empty value"));
        assert!(err("a=0..1:0.000001").contains("more than"));
    }

    #[test]
    fn every_combination_over_the_base_parameters_last_grid_fastest() {
        let base = json!({"stake": 1, "keep": "me"});
        let base = base.as_object().unwrap();
        let sets = every_set(base, &[grid("a=1,2"), grid("stake=2,5,9")]).unwrap();
        let pairs: Vec<(Value, Value)> = (sets.iter())
            .map(|s| (s["a"].clone(), s["stake"].clone()))
            .collect();
        assert_eq!(
            pairs[..4],
            [
                (json!(1), json!(2)),
                (json!(1), json!(5)),
                (json!(1), json!(9)),
                (json!(2), json!(2))
            ]
        );
        assert_eq!(sets.len(), 6);
        assert!(sets.iter().all(|s| s["keep"] == "me"));
        let huge = [grid("a=0..999:1"), grid("b=0..999:1")];
        assert!(every_set(base, &huge).unwrap_err().contains("more than"));
    }

    #[test]
    fn random_sets_are_seeded_distinct_and_no_more_than_there_are() {
        let base = Map::new();
        let grids = [grid("a=1..10:1"), grid("b=1,2,3")];
        let drawn = random_sets(&base, &grids, 12, 4);
        assert_eq!(drawn, random_sets(&base, &grids, 12, 4));
        assert_ne!(drawn, random_sets(&base, &grids, 12, 5));
        assert_eq!(drawn.len(), 12);
        for (i, s) in drawn.iter().enumerate() {
            assert!(!drawn[..i].contains(s));
        }
        assert_eq!(random_sets(&base, &[grid("a=1,2")], 10, 1).len(), 2);
    }

    #[test]
    fn ranking_puts_the_best_first_undefined_last_and_drawdown_lowest_first() {
        use crate::metrics::{Bankroll, MarketPoint};
        use clever_market::Money;
        let day = 86_400_000;
        let run = |profits: &[i64]| {
            let points: Vec<MarketPoint> = (profits.iter().enumerate())
                .map(|(i, &p)| MarketPoint {
                    at: i as i64 * day,
                    matched: Money::from_pennies(100),
                    commission: Money::ZERO,
                    profit: Money::from_pennies(p),
                })
                .collect();
            Metrics::of(&points, Bankroll::new(Money::from_pennies(10_000)).unwrap())
        };
        // Set 0 ends +1 with a fall of 5; set 1 ends +3 with a fall of 9;
        // set 2 traded one day only (no Sharpe) and never lost (an
        // infinite profit factor).
        let sets = [run(&[5, -5, 1]), run(&[12, -9, 0]), run(&[2])];
        let refs: Vec<&Metrics> = sets.iter().collect();
        assert_eq!(RankBy::NetProfit.rank(&refs), [1, 2, 0]);
        assert_eq!(RankBy::MaxDrawdown.rank(&refs), [2, 0, 1]);
        assert_eq!(RankBy::Sharpe.rank(&refs)[2], 2);
        assert_eq!(RankBy::ProfitFactor.rank(&refs)[0], 2);
    }

    #[test]
    fn a_rank_name_is_checked_and_named_back() {
        assert_eq!("sharpe".parse::<RankBy>(), Ok(RankBy::Sharpe));
        assert!("luck".parse::<RankBy>().unwrap_err().contains("net_profit"));
        for (name, rank) in RANK_NAMES {
            assert_eq!(rank.name(), *name);
        }
    }
}
