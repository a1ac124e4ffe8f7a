//! Odds arithmetic: implied probability, book percentage, the profit and
//! liability of back and lay bets, and the Kelly stake fraction.

use crate::ladder::Price;

/// The probability a decimal price implies: `1 / price`.
pub fn implied_probability(price: Price) -> f64 {
    1.0 / price.0
}

/// The book percentage (overround) of a set of prices: the sum of their
/// implied probabilities, in percent. Above 100 the book favours the layers.
pub fn book_percentage(prices: impl IntoIterator<Item = Price>) -> f64 {
    prices.into_iter().map(implied_probability).sum::<f64>() * 100.0
}

/// What a back bet of `stake` at `price` wins if the runner wins.
pub fn back_profit(stake: f64, price: Price) -> f64 {
    stake * (price.0 - 1.0)
}

/// What a back bet can lose: its stake.
pub fn back_liability(stake: f64) -> f64 {
    stake
}

/// What a lay of `stake` (the backer's stake) wins if the runner loses.
pub fn lay_profit(stake: f64) -> f64 {
    stake
}

/// What a lay of `stake` at `price` loses if the runner wins:
/// `stake × (price − 1)`. Betfair's example: £10 at 8.6 risks £76.
pub fn lay_liability(stake: f64, price: Price) -> f64 {
    stake * (price.0 - 1.0)
}

/// The Kelly fraction of the bank to back at `price` when the true win
/// probability is `probability`: `(p × price − 1) / (price − 1)`. Zero when
/// there is no edge (Kelly never bets a negative expectation).
pub fn kelly_fraction(probability: f64, price: Price) -> f64 {
    let b = price.0 - 1.0;
    if b <= 0.0 || !probability.is_finite() {
        return 0.0;
    }
    ((probability * price.0 - 1.0) / b).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profit_and_liability_follow_betfair_examples() {
        assert!((lay_liability(10.0, Price(8.6)) - 76.0).abs() < 1e-9);
        assert_eq!(lay_profit(10.0), 10.0);
        assert!((back_profit(10.0, Price(3.0)) - 20.0).abs() < 1e-9);
        assert_eq!(back_liability(10.0), 10.0);
    }

    #[test]
    fn book_and_probability() {
        assert_eq!(implied_probability(Price(4.0)), 0.25);
        let book = book_percentage([Price(2.0), Price(4.0), Price(4.0)]);
        assert!((book - 100.0).abs() < 1e-9);
    }

    #[test]
    fn kelly_bets_only_with_an_edge() {
        // 50% at evens has no edge; 60% at evens bets 20% of the bank.
        assert_eq!(kelly_fraction(0.5, Price(2.0)), 0.0);
        assert!((kelly_fraction(0.6, Price(2.0)) - 0.2).abs() < 1e-12);
        assert_eq!(kelly_fraction(0.1, Price(2.0)), 0.0);
    }
}
