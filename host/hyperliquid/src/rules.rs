//! Hyperliquid's tick and lot rules for perpetuals (protocol notes D.8):
//! a size has at most `szDecimals` decimals; a price at most five
//! significant figures and at most `6 - szDecimals` decimals, except that
//! an integer price is always valid; an order's value is at least $10.

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimals a perp price may carry at most, before `szDecimals`.
const MAX_DECIMALS: u32 = 6;
/// Significant figures a non-integer price may carry.
const SIG_FIGS: i64 = 5;
/// The smallest order value, in USDC.
pub const MIN_NOTIONAL: Decimal = Decimal::TEN;

/// Whether `px` is a valid price for an asset with `sz_decimals`.
pub fn price_ok(px: Decimal, sz_decimals: u32) -> bool {
    let px = px.normalize();
    if px <= Decimal::ZERO {
        return false;
    }
    px.scale() == 0 || (px.scale() <= price_decimals(px, sz_decimals) && sig_figs(px) <= SIG_FIGS)
}

/// Whether `sz` is a valid (positive) size for an asset with `sz_decimals`.
pub fn size_ok(sz: Decimal, sz_decimals: u32) -> bool {
    sz > Decimal::ZERO && sz.normalize().scale() <= sz_decimals
}

/// `px` moved to a valid price: five significant figures and the asset's
/// decimals, rounded by `strategy` (a buyer rounds down to stay passive,
/// up to cross).
pub fn round_price(px: Decimal, sz_decimals: u32, strategy: RoundingStrategy) -> Decimal {
    if px <= Decimal::ZERO {
        return px;
    }
    px.round_dp_with_strategy(price_decimals(px, sz_decimals), strategy)
        .normalize()
}

/// The price step near `px`: one unit of the last decimal a price there
/// may have.
pub fn tick(px: Decimal, sz_decimals: u32) -> Decimal {
    Decimal::new(1, price_decimals(px, sz_decimals))
}

/// `sz` cut to the asset's lot (toward zero: never more than asked).
pub fn round_size(sz: Decimal, sz_decimals: u32) -> Decimal {
    sz.round_dp_with_strategy(sz_decimals, RoundingStrategy::ToZero)
        .normalize()
}

/// The decimals a price near `px` may have: five significant figures,
/// at most `6 - szDecimals`.
fn price_decimals(px: Decimal, sz_decimals: u32) -> u32 {
    // The power of ten of the leading digit: 3 for 1234.5, -3 for 0.00123.
    let exponent = magnitude(px);
    let by_figures = (SIG_FIGS - 1 - exponent).max(0);
    (by_figures as u32).min(MAX_DECIMALS.saturating_sub(sz_decimals))
}

fn magnitude(px: Decimal) -> i64 {
    let integer_digits = px
        .trunc()
        .normalize()
        .to_string()
        .trim_start_matches('0')
        .len() as i64;
    if integer_digits > 0 {
        return integer_digits - 1;
    }
    // Below one: count the zeros after the point.
    let text = px.normalize().to_string();
    let fraction = text.split('.').nth(1).unwrap_or("");
    -(fraction.len() as i64 - fraction.trim_start_matches('0').len() as i64) - 1
}

fn sig_figs(px: Decimal) -> i64 {
    let mantissa = px.normalize().mantissa().abs().to_string();
    mantissa.trim_end_matches('0').len() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn prices_follow_the_protocol_notes_examples() {
        assert!(price_ok(d("1234.5"), 0));
        assert!(!price_ok(d("1234.56"), 0));
        assert!(price_ok(d("0.001234"), 0));
        assert!(!price_ok(d("0.0012345"), 0));
        assert!(price_ok(d("0.01234"), 1));
        assert!(!price_ok(d("0.012345"), 1));
        assert!(price_ok(d("123456"), 5), "integers are always valid");
        assert!(!price_ok(d("12345.6"), 0));
        assert!(price_ok(d("110427.0"), 5), "trailing zeros do not count");
        assert!(price_ok(d("3500.1"), 4));
        assert!(!price_ok(d("3500.12"), 4), "six figures");
        assert!(!price_ok(d("0.12345"), 2), "SOL allows 6 - 2 = 4 decimals");
        assert!(!price_ok(d("0"), 2));
    }

    #[test]
    fn rounding_gives_valid_prices_and_sizes() {
        let up = RoundingStrategy::AwayFromZero;
        let down = RoundingStrategy::ToZero;
        assert_eq!(round_price(d("1234.56"), 0, down), d("1234.5"));
        assert_eq!(round_price(d("1234.56"), 0, up), d("1234.6"));
        assert_eq!(round_price(d("110427.7"), 5, down), d("110427"));
        assert_eq!(round_price(d("0.0012345"), 0, up), d("0.001235"));
        assert_eq!(round_price(d("0.0012345"), 3, down), d("0.001"));
        for (px, szd) in [("98765.4321", 5), ("3.14159", 2), ("0.000123456", 0)] {
            assert!(price_ok(round_price(d(px), szd, down), szd), "{px}");
        }
        assert_eq!(round_size(d("0.123456"), 5), d("0.12345"));
        assert_eq!(tick(d("95000"), 5), d("1"));
        assert_eq!(tick(d("3500.5"), 4), d("0.1"));
        assert_eq!(tick(d("0.5"), 0), d("0.00001"));
        assert!(size_ok(d("1.001"), 3));
        assert!(!size_ok(d("1.0001"), 3));
        assert!(!size_ok(d("0"), 3));
    }
}
