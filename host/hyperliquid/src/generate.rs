//! Plausible perpetual markets for tests, demos and backtests without a
//! recording: per coin a price that walks with drifting trends, a 20-level
//! book each second on the venue's ticks and lots, trades at the touch,
//! and one-minute candles, written as the WebSocket lines a recording
//! holds. The same seed writes the same bytes.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};

use crate::meta::{Asset, Universe};
use crate::rules::{round_price, round_size, tick};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Coins, each listed in the universe.
    pub coins: Vec<String>,
    /// Minutes of market.
    pub minutes: u32,
    /// Seed of everything random.
    pub seed: u64,
    /// When the market starts (epoch ms).
    pub start_ms: i64,
    /// Milliseconds between books.
    pub step_ms: i64,
}

const LEVELS: usize = 20;
const MINUTE_MS: i64 = 60_000;

/// One coin's generated lines, by coin, each list in time order.
pub fn generate(
    config: &GenConfig,
    universe: &Universe,
) -> Result<Vec<(String, Vec<String>)>, String> {
    if config.step_ms <= 0 || config.step_ms > MINUTE_MS {
        return Err(format!(
            "the step must be 1 to {MINUTE_MS} ms, not {}",
            config.step_ms
        ));
    }
    let mut out = Vec::new();
    for (i, coin) in config.coins.iter().enumerate() {
        let asset = (universe.index(coin).and_then(|a| universe.get(a))).ok_or_else(|| {
            let listed: Vec<&str> = universe.universe.iter().map(|a| &*a.name).collect();
            format!(
                "coin {coin:?} is not listed (listed: {})",
                listed.join(", ")
            )
        })?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_mul(1_000_003) ^ i as u64);
        out.push((coin.clone(), coin_lines(config, asset, &mut rng)));
    }
    Ok(out)
}

fn start_price(coin: &str) -> f64 {
    match coin {
        "BTC" => 95_000.0,
        "ETH" => 3_500.0,
        "SOL" => 180.0,
        _ => 25.0,
    }
}

/// One minute's candle, as it builds.
struct Minute {
    open_time: i64,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
    trades: u64,
}

impl Minute {
    fn starting(open_time: i64, px: Decimal) -> Minute {
        Minute {
            open_time,
            open: px,
            high: px,
            low: px,
            close: px,
            volume: Decimal::ZERO,
            trades: 0,
        }
    }

    fn mark(&mut self, px: Decimal) {
        (self.high, self.low, self.close) = (self.high.max(px), self.low.min(px), px);
    }

    fn traded(&mut self, px: Decimal, sz: Decimal) {
        (self.high, self.low) = (self.high.max(px), self.low.min(px));
        (self.volume, self.trades) = (self.volume + sz, self.trades + 1);
    }

    fn line(&self, coin: &str) -> String {
        let (t, px) = (self.open_time, |d: Decimal| d.to_string());
        let data = json!({"t": t, "T": t + MINUTE_MS - 1, "s": coin, "i": "1m",
            "o": px(self.open), "c": px(self.close), "h": px(self.high), "l": px(self.low),
            "v": px(self.volume), "n": self.trades});
        frame("candle", data)
    }
}

/// A price that walks: a trend that changes now and then, noise around it.
struct Walk {
    mid: f64,
    trend: f64,
}

impl Walk {
    fn step(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        if rng.random_range(0..600) == 0 {
            // Up to about 3.6% an hour either way: a trend, not a crash.
            self.trend = (rng.random::<f64>() - 0.5) * 0.00002;
        }
        let noise: f64 = (0..4).map(|_| rng.random::<f64>() - 0.5).sum::<f64>() * 0.0004;
        self.mid *= 1.0 + self.trend + noise;
        self.mid
    }
}

fn coin_lines(config: &GenConfig, asset: &Asset, rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut lines = Vec::new();
    let mut walk = Walk {
        mid: start_price(&asset.name),
        trend: 0.0,
    };
    let mut tid = 1_000_000 * (1 + u64::from(asset.sz_decimals));
    let steps = i64::from(config.minutes) * MINUTE_MS / config.step_ms;
    let mut minute: Option<Minute> = None;
    for step in 0..steps {
        let time = config.start_ms + step * config.step_ms;
        let (bids, asks) = book(walk.step(rng), asset, rng);
        let data =
            json!({"coin": asset.name, "time": time, "levels": [levels(&bids), levels(&asks)]});
        lines.push(frame("l2Book", data));
        let mid = round_price(
            (bids[0].0 + asks[0].0) / Decimal::TWO,
            asset.sz_decimals,
            RoundingStrategy::MidpointNearestEven,
        );
        let open_time = time - time.rem_euclid(MINUTE_MS);
        if let Some(done) = minute.take_if(|m| m.open_time != open_time) {
            lines.push(done.line(&asset.name));
        }
        let m = minute.get_or_insert(Minute::starting(open_time, mid));
        m.mark(mid);
        if rng.random_range(0..2) == 0 {
            let buy = rng.random_range(0..2) == 0;
            let (px, depth) = if buy { asks[0] } else { bids[0] };
            let part = Decimal::from_f64(rng.random::<f64>() * 0.5).unwrap_or_default();
            let sz = round_size(depth * part, asset.sz_decimals);
            if sz > Decimal::ZERO {
                tid += 1;
                m.traded(px, sz);
                let trade = json!({"coin": asset.name, "side": if buy { "B" } else { "A" }, "px": px.to_string(),
                    "sz": sz.to_string(), "hash": format!("0x{tid:064x}"), "time": time, "tid": tid, "users": []});
                lines.push(frame("trades", json!([trade])));
            }
        }
    }
    lines.extend(minute.map(|m| m.line(&asset.name)));
    lines
}

/// One side of a book: (price, size), best first.
type Side = Vec<(Decimal, Decimal)>;

/// Bids and asks (price, size), best first, on the asset's ticks.
fn book(mid: f64, asset: &Asset, rng: &mut ChaCha8Rng) -> (Side, Side) {
    let szd = asset.sz_decimals;
    let mid = Decimal::from_f64(mid).unwrap_or(Decimal::ONE);
    let step = tick(mid, szd);
    let best_bid = round_price(mid, szd, RoundingStrategy::ToNegativeInfinity);
    let best_ask = best_bid + step * Decimal::from(rng.random_range(1..3u32));
    let mut side = |best: Decimal, down: bool| {
        let mut px = best;
        let mut out = Vec::with_capacity(LEVELS);
        for _ in 0..LEVELS {
            let usd = 2_000.0 + rng.random::<f64>() * 60_000.0;
            let sz = round_size(
                Decimal::from_f64(usd / px.to_f64().unwrap_or(1.0)).unwrap_or_default(),
                szd,
            );
            out.push((px, sz.max(Decimal::new(1, szd))));
            let gap = step * Decimal::from(rng.random_range(1..3u32));
            px = if down { px - gap } else { px + gap };
            if px <= Decimal::ZERO {
                break;
            }
        }
        out
    };
    (side(best_bid, true), side(best_ask, false))
}

fn levels(side: &[(Decimal, Decimal)]) -> Value {
    let levels = side.iter().map(|(px, sz)| json!({"px": px.to_string(), "sz": sz.to_string(), "n": 1 + (sz.mantissa() % 5)}));
    Value::Array(levels.collect())
}

fn frame(channel: &str, data: Value) -> String {
    json!({"channel": channel, "data": data}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Message, read_recording};
    use crate::rules::{price_ok, size_ok};

    #[test]
    fn generated_lines_read_back_valid_and_the_same_seed_gives_the_same_bytes() {
        let config = GenConfig {
            coins: vec!["BTC".into(), "ETH".into()],
            minutes: 3,
            seed: 5,
            start_ms: 1_767_225_600_000,
            step_ms: 1000,
        };
        let universe = Universe::standard();
        let coins = generate(&config, &universe).unwrap();
        assert_eq!(coins, generate(&config, &universe).unwrap());
        for (coin, lines) in &coins {
            let szd = universe
                .get(universe.index(coin).unwrap())
                .unwrap()
                .sz_decimals;
            let read = read_recording(&lines.join("\n"));
            let (mut books, mut candles) = (0, 0);
            for message in read {
                match message.unwrap() {
                    Message::Book(b) => {
                        books += 1;
                        assert!(
                            b.bids
                                .iter()
                                .chain(&b.asks)
                                .all(|l| price_ok(l.px, szd) && size_ok(l.sz, szd)),
                            "{b:?}"
                        );
                    }
                    Message::Candle(_) => candles += 1,
                    _ => {}
                }
            }
            assert_eq!((books, candles), (180, 3), "{coin}");
        }
        assert!(
            generate(
                &GenConfig {
                    coins: vec!["DOGE".into()],
                    ..config
                },
                &universe
            )
            .unwrap_err()
            .ends_with(r#"coin "DOGE" is not listed (listed: BTC, ETH, SOL)"#)
        );
    }
}
