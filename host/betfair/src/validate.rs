//! Validation on the way in: what makes a record bad, with the reason that
//! goes to the dead letters. Offered prices on the Betfair ladder (1.01 to
//! 1000), traded prices within it, sizes and volumes not negative, runners
//! known to the market, and best lay not below best back.
//!
//! Traded prices (`ltp`, `trd`) are checked for range only: Betfair's BASIC
//! files carry last traded prices between ticks (12.07, 3.57, 35.89 in
//! `BASIC-1.132153978`), and refusing them would refuse real data.

use clever_sdk::{Price, Runner};

use crate::stream::RunnerChange;

/// Why a runner change is refused, or `None` if it is good. `known` says
/// whether the market's definition lists the runner (`None`: no definition
/// seen yet, so nothing to check against).
pub fn runner_change(rc: &RunnerChange, known: Option<bool>) -> Option<String> {
    if known == Some(false) {
        return Some(format!(
            "runner {} is not in the market's definition",
            rc.id
        ));
    }
    let ladders = [("atb", rc.atb.get()), ("atl", rc.atl.get())];
    for (name, points) in ladders {
        for &[price, size] in points.unwrap_or_default() {
            if let Some(bad) = bad_point(name, price, size) {
                return Some(format!("runner {}: {bad}", rc.id));
            }
        }
    }
    for &[price, size] in rc.trd.get().unwrap_or_default() {
        if let Some(bad) = bad_trade("trd", price).or_else(|| bad_size("trd", price, size)) {
            return Some(format!("runner {}: {bad}", rc.id));
        }
    }
    let levels = [
        ("batb", rc.batb.get()),
        ("batl", rc.batl.get()),
        ("bdatb", rc.bdatb.get()),
        ("bdatl", rc.bdatl.get()),
    ];
    for (name, points) in levels {
        for &[_, price, size] in points.unwrap_or_default() {
            // A level cleared with price 0 and size 0 is how Betfair deletes it.
            if size == 0.0 && price == 0.0 {
                continue;
            }
            if let Some(bad) = bad_point(name, price, size) {
                return Some(format!("runner {}: {bad}", rc.id));
            }
        }
    }
    if let Some(bad) = rc.ltp.and_then(|ltp| bad_trade("last traded", ltp)) {
        return Some(format!("runner {}: {bad}", rc.id));
    }
    if let Some(tv) = rc.tv
        && (tv.is_nan() || tv < 0.0)
    {
        return Some(format!("runner {}: traded volume {tv} is negative", rc.id));
    }
    None
}

fn bad_point(name: &str, price: f64, size: f64) -> Option<String> {
    if !Price(price).is_on_ladder() {
        return Some(format!("{name} price {price} is not on the ladder"));
    }
    bad_size(name, price, size)
}

fn bad_trade(name: &str, price: f64) -> Option<String> {
    let range = Price::MIN.get()..=Price::MAX.get();
    (!range.contains(&price)).then(|| format!("{name} price {price} is outside 1.01 to 1000"))
}

fn bad_size(name: &str, price: f64, size: f64) -> Option<String> {
    (size.is_nan() || size < 0.0).then(|| format!("{name} size {size} at {price} is negative"))
}

/// Why a runner's book is impossible after a change, or `None`.
pub fn book(runner: &Runner) -> Option<String> {
    match (runner.best_back(), runner.best_lay()) {
        (Some(back), Some(lay)) if lay.price.get() < back.price.get() => Some(format!(
            "runner {}: best lay {} is below best back {}",
            runner.selection_id.0, lay.price, back.price
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::{Levels, PriceSize};

    fn rc(json: &str) -> RunnerChange {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn prices_must_be_on_the_ladder_and_sizes_not_negative() {
        assert_eq!(
            runner_change(&rc(r#"{"id":1,"atb":[[3.05,2]]}"#), Some(true)),
            None
        );
        let off = runner_change(&rc(r#"{"id":1,"atb":[[3.03,2]]}"#), Some(true)).unwrap();
        assert!(off.contains("atb price 3.03 is not on the ladder"), "{off}");
        let neg = runner_change(&rc(r#"{"id":1,"trd":[[3.05,-1]]}"#), Some(true)).unwrap();
        assert!(neg.contains("negative"), "{neg}");
        let huge = runner_change(&rc(r#"{"id":1,"ltp":1001}"#), None).unwrap();
        assert!(huge.contains("last traded price 1001 is outside"), "{huge}");
        // Traded prices between ticks are real (BASIC files have them).
        assert_eq!(
            runner_change(&rc(r#"{"id":1,"ltp":12.07,"trd":[[12.07,5]]}"#), None),
            None
        );
        // Clearing a level is fine.
        assert_eq!(
            runner_change(&rc(r#"{"id":1,"batb":[[0,0,0]]}"#), Some(true)),
            None
        );
    }

    #[test]
    fn runners_must_be_known_to_the_market() {
        let why = runner_change(&rc(r#"{"id":9,"ltp":2.0}"#), Some(false)).unwrap();
        assert!(
            why.contains("runner 9 is not in the market's definition"),
            "{why}"
        );
    }

    #[test]
    fn best_lay_may_not_be_below_best_back() {
        let mut r = Runner::new(4);
        r.back = Levels::from_slice(&[PriceSize::new(3.0, 1.0)]);
        r.lay = Levels::from_slice(&[PriceSize::new(3.05, 1.0)]);
        assert_eq!(book(&r), None);
        r.lay = Levels::from_slice(&[PriceSize::new(2.98, 1.0)]);
        assert!(
            book(&r)
                .unwrap()
                .contains("best lay 2.98 is below best back 3")
        );
    }
}
