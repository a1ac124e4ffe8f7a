//! Prints packed market updates and what the Rust SDK decodes from each, as
//! JSON lines, for the Python SDK's test that keeps its decoder equal to
//! this one (`sdk-python/tests/test_wire_equality.py`):
//!
//! ```sh
//! cargo run -q -p clever-sdk --example wire_fixtures > fixtures.jsonl
//! ```
//!
//! Each line is `{"update": {...}, "view": {...}}`: the update is either
//! `{"packed": HEX}` (an `on-market` buffer) or `{"runner": [head,
//! selection, publish time, last traded, volume, total matched, l0..l9]}`
//! (the `on-runner` fast path); the view is the whole market after it.
//! Markets, deltas and fast-path updates come from a seeded generator, so
//! the lines are the same on every run.

use clever_sdk::MarketStatus;
use clever_sdk::prelude::*;
use clever_sdk::wire::{self, MarketCache, Runners};
use serde_json::{Value, json};

/// A small seeded generator (no dependency needed for test data).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn price(&mut self) -> f64 {
        clever_sdk::ladder::price_at(self.below(350) as usize).map_or(2.0, |p| p.get())
    }
    /// Mostly whole pennies; sometimes a size the fast path cannot carry.
    fn size(&mut self) -> f64 {
        let pennies = self.below(1_000_000) as f64 / 100.0;
        if self.below(10) == 0 {
            pennies + 0.001
        } else {
            pennies
        }
    }
    /// A ladder price two times in three, else none.
    fn maybe_price(&mut self) -> Option<f64> {
        let price = self.price();
        (self.below(3) > 0).then_some(price)
    }
}

fn levels(rng: &mut Rng) -> Levels {
    let n = rng.below(7) as usize;
    let list: Vec<PriceSize> = (0..n)
        .map(|_| PriceSize::new(rng.price(), rng.size()))
        .collect();
    Levels::from_slice(&list)
}

fn runner(rng: &mut Rng, id: u64) -> Runner {
    let mut r = Runner::new(id);
    r.status = match rng.below(12) {
        0 => RunnerStatus::Removed,
        1 => RunnerStatus::Winner,
        2 => RunnerStatus::Loser,
        _ => RunnerStatus::Active,
    };
    r.adjustment_factor = rng.below(10_000) as f64 / 100.0;
    r.last_traded = rng.maybe_price().map(Price);
    r.traded_volume = rng.size();
    r.sp_near = rng.maybe_price();
    r.sp_far = rng.maybe_price();
    r.bsp = rng.maybe_price();
    r.back = levels(rng);
    r.lay = levels(rng);
    r
}

fn market(rng: &mut Rng, n: u64) -> Market {
    let mut m = Market::new(&format!("1.{}", 200_000_000 + n));
    m.event_type = if n.is_multiple_of(2) { "7" } else { "4339" }.into();
    m.market_type = if n.is_multiple_of(3) { "PLACE" } else { "WIN" }.into();
    m.country = (!n.is_multiple_of(4)).then(|| "GB".to_string());
    m.venue = "betfair".into();
    m.start_time = Timestamp(1_700_000_000_000 + n as i64 * 60_000);
    m.bet_delay = (n % 2) as u32 * 5;
    m.number_of_winners = 1 + (n % 3) as u32;
    for i in 0..(2 + rng.below(12)) {
        let id = 10_000 + i * 17;
        m.runners.push(runner(rng, id));
    }
    m
}

fn levels_json(levels: &Levels) -> Value {
    Value::Array(
        (levels.as_slice().iter())
            .map(|l| json!([l.price.get(), l.size]))
            .collect(),
    )
}

fn view(m: &Market) -> Value {
    let runners: Vec<Value> = (m.runners.iter())
        .map(|r| {
            json!({
                "selection_id": r.selection_id.0,
                "status": format!("{:?}", r.status).to_uppercase(),
                "adjustment_factor": r.adjustment_factor,
                "last_traded": r.last_traded.map(|p| p.get()),
                "traded_volume": r.traded_volume,
                "back": levels_json(&r.back),
                "lay": levels_json(&r.lay),
                "sp_near": r.sp_near,
                "sp_far": r.sp_far,
                "bsp": r.bsp,
            })
        })
        .collect();
    json!({
        "id": m.id.as_str(),
        "venue": m.venue,
        "event_type": m.event_type,
        "market_type": m.market_type,
        "country": m.country,
        "start_time": m.start_time.0,
        "status": format!("{:?}", m.status).to_uppercase(),
        "in_play": m.in_play,
        "bet_delay": m.bet_delay,
        "number_of_winners": m.number_of_winners,
        "total_matched": m.total_matched,
        "publish_time": m.publish_time.0,
        "runners": runners,
    })
}

fn main() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut cache = MarketCache::new();
    let mut out = Vec::new();
    for n in 0..40u64 {
        let handle = n as u32 + 1;
        let mut m = market(&mut rng, n);
        let depth = [1u8, 3, 10][rng.below(3) as usize];
        let mut buf = Vec::new();
        wire::encode(&mut buf, handle, &m, depth, Runners::All);
        let seen = cache.apply(&buf).expect("the SDK decodes what it encodes");
        out.push(json!({"update": {"packed": hex(&buf)}, "view": view(seen)}));
        for step in 0..30i64 {
            m.publish_time = Timestamp(m.start_time.0 - 600_000 + step * 1_000);
            m.total_matched += rng.size();
            m.in_play = step > 20;
            m.status = [MarketStatus::Open, MarketStatus::Suspended][(rng.below(8) == 0) as usize];
            let i = rng.below(m.runners.len() as u64) as usize;
            m.runners[i] = runner(&mut rng, m.runners[i].selection_id.0);
            let update = match wire::encode_runner(handle, &m, i, depth) {
                Some(d) if rng.below(2) == 0 => {
                    let seen = cache.apply_runner(&d).expect("fast path");
                    let mut args = vec![
                        json!(d.head),
                        json!(d.selection),
                        json!(d.publish_time),
                        float(d.last_traded),
                        json!(d.traded_volume),
                        json!(d.total_matched),
                    ];
                    args.extend(d.levels.iter().map(|l| json!(l)));
                    (json!({"runner": args}), view(seen))
                }
                _ => {
                    buf.clear();
                    wire::encode(&mut buf, handle, &m, depth, Runners::Changed(&[i]));
                    let seen = cache.apply(&buf).expect("delta");
                    (json!({"packed": hex(&buf)}), view(seen))
                }
            };
            out.push(json!({"update": update.0, "view": update.1}));
        }
    }
    for line in out {
        println!("{line}");
    }
}

/// NaN as the string "NaN" (JSON has no NaN).
fn float(v: f64) -> Value {
    if v.is_nan() { json!("NaN") } else { json!(v) }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
