//! The ladder depth of an odds snapshot, kept compactly: for each side, up
//! to ten levels of (tick index on the Betfair ladder, size in pennies).
//! Six bytes a level instead of two floats and a row each.
//!
//! Layout: `[n_back, n_lay]`, then `n_back` back levels best first, then
//! `n_lay` lay levels best first; a level is the tick index (u16, little
//! endian) and the size in pennies (u32, little endian, saturating).

use clever_sdk::ladder::{index_of, price_at};
use clever_sdk::{Levels, Price, PriceSize};

/// Encode the best levels of both sides. Levels whose price is off the
/// ladder are left out (validation keeps them from reaching here).
pub fn encode(back: &Levels, lay: &Levels) -> Vec<u8> {
    let keep = |l: &Levels| -> Vec<(u16, u32)> {
        l.as_slice()
            .iter()
            .filter_map(|ps| {
                let tick = index_of(ps.price)? as u16;
                let pennies = (ps.size * 100.0).round().clamp(0.0, u32::MAX as f64) as u32;
                Some((tick, pennies))
            })
            .collect()
    };
    let (back, lay) = (keep(back), keep(lay));
    let mut out = Vec::with_capacity(2 + 6 * (back.len() + lay.len()));
    out.push(back.len() as u8);
    out.push(lay.len() as u8);
    for (tick, pennies) in back.iter().chain(&lay) {
        out.extend_from_slice(&tick.to_le_bytes());
        out.extend_from_slice(&pennies.to_le_bytes());
    }
    out
}

/// Decode what [`encode`] wrote; `None` if the bytes are not a ladder.
pub fn decode(bytes: &[u8]) -> Option<(Levels, Levels)> {
    let (&n_back, rest) = bytes.split_first()?;
    let (&n_lay, mut rest) = rest.split_first()?;
    if rest.len() != 6 * (n_back as usize + n_lay as usize) {
        return None;
    }
    let mut side = |n: u8| -> Option<Levels> {
        let mut levels = Levels::default();
        for _ in 0..n {
            let (level, tail) = rest.split_at(6);
            rest = tail;
            let tick = u16::from_le_bytes([level[0], level[1]]);
            let pennies = u32::from_le_bytes([level[2], level[3], level[4], level[5]]);
            let Price(price) = price_at(tick as usize)?;
            levels.push(PriceSize::new(price, pennies as f64 / 100.0));
        }
        Some(levels)
    };
    let back = side(n_back)?;
    let lay = side(n_lay)?;
    Some((back, lay))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ladder_round_trips_in_six_bytes_a_level() {
        let back = Levels::from_slice(&[PriceSize::new(3.05, 12.5), PriceSize::new(3.0, 100.01)]);
        let lay = Levels::from_slice(&[PriceSize::new(3.1, 0.01)]);
        let bytes = encode(&back, &lay);
        assert_eq!(bytes.len(), 2 + 3 * 6);
        assert_eq!(decode(&bytes), Some((back, lay)));
        assert_eq!(decode(&bytes[..5]), None);
        assert_eq!(decode(&[]), None);
    }
}
