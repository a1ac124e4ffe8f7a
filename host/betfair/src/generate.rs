//! Plausible racing markets written as Betfair stream files, so the
//! project can run its main job with nothing downloaded. The same seed
//! gives the same bytes.
//!
//! Each market: a definition image about 30 minutes before the off, a
//! pre-off phase where one runner's prices move a tick at a time with
//! trades, an optional non-runner (with its adjustment factor), the off
//! (suspend, then in play with a bet delay), an in-play phase where the
//! winner, drawn at the start from the runners' chances, shortens and the
//! rest drift, and settlement (WINNER/LOSER, BSP, CLOSED).

use std::io::Write;
use std::path::{Path, PathBuf};

use clever_sdk::Price;
use clever_sdk::ladder::{Rounding, round_to_ladder};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Markets to write.
    pub markets: usize,
    /// Seed of everything random.
    pub seed: u64,
    /// Price updates before the off, per market.
    pub pre_off_updates: usize,
    /// Price updates in play, per market.
    pub in_play_updates: usize,
    /// Time between one market's off and the next's, ms (0: every market
    /// at once, to load a live host with many open markets).
    pub spacing_ms: i64,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            markets: 10,
            seed: 1,
            pre_off_updates: 120,
            in_play_updates: 60,
            spacing_ms: 900_000,
        }
    }
}

const VENUES: [(&str, &str); 6] = [
    ("Ascot", "GB"),
    ("Newmarket", "GB"),
    ("Leopardstown", "IE"),
    ("Flemington", "AU"),
    ("Romford", "GB"),
    ("Sheffield", "GB"),
];
/// 2026-01-01T12:00:00Z, the first off.
const FIRST_OFF_MS: i64 = 1_767_268_800_000;
const LEVELS: i32 = 5;

/// Write `config.markets` files into `dir`; returns their paths.
pub fn generate(config: &GenConfig, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::with_capacity(config.markets);
    for i in 0..config.markets {
        // One generator per market, so any market can be regenerated alone.
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_mul(1_000_003) ^ i as u64);
        let id = format!(
            "1.{}",
            100_000_000 + (config.seed % 1000) * 100_000 + i as u64
        );
        let path = dir.join(&id);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let off = FIRST_OFF_MS + i as i64 * config.spacing_ms;
        for line in market_lines(config, &id, off, &mut rng) {
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        paths.push(path);
    }
    Ok(paths)
}

struct RunnerSim {
    id: u64,
    chance: f64,
    back: Price,
    traded: f64,
    /// When it was withdrawn (ISO-8601), if it was.
    removed: Option<String>,
}

fn market_lines(config: &GenConfig, id: &str, off: i64, rng: &mut ChaCha8Rng) -> Vec<Value> {
    let greyhounds = rng.random_range(0..5) == 0;
    let (venue, country) = if greyhounds {
        VENUES[rng.random_range(4..6)]
    } else {
        VENUES[rng.random_range(0..4)]
    };
    let n = if greyhounds {
        6
    } else {
        rng.random_range(6..=16)
    };
    let weights: Vec<f64> = (0..n)
        .map(|_| (0.05 + rng.random::<f64>() * 0.95).powi(3))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut runners: Vec<RunnerSim> = weights
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let chance = w / total;
            RunnerSim {
                id: 10_000_000 + rng.random_range(0..89_999_999u64) / 16 * 16 + k as u64,
                chance,
                back: price_for(chance),
                traded: 0.0,
                removed: None,
            }
        })
        .collect();
    let winner = draw_winner(&runners, rng);
    let market_time = iso_time(off).unwrap_or_default();
    let meta = Meta {
        event_type: if greyhounds { "4339" } else { "7" },
        venue,
        country,
        market_time,
    };

    let mut lines = Vec::new();
    let mut pt = off - 1_800_000;
    let ladders: Vec<Value> = runners.iter().map(|r| full_ladder(r, rng)).collect();
    lines.push(json!({"op": "mcm", "clk": "0", "pt": pt, "mc": [{
        "id": id, "img": true, "tv": 0.0,
        "marketDefinition": definition(&meta, &runners, "OPEN", false, 0),
        "rc": ladders,
    }]}));
    let removal_at = (n > 6 && rng.random_range(0..5) == 0)
        .then(|| rng.random_range(1..config.pre_off_updates.max(2)));
    let mut total_matched = 0.0;
    for step in 0..config.pre_off_updates {
        pt += rng
            .random_range(1_000..20_000)
            .min((off - pt - 1_000).max(1));
        if Some(step) == removal_at {
            let k = rng.random_range(0..runners.len());
            if k != winner {
                runners[k].removed = iso_time(pt);
                // A non-runner's offers go with it: every price to size 0.
                let (mut atb, mut atl) = ladder_points(runners[k].back, rng);
                atb.iter_mut()
                    .chain(atl.iter_mut())
                    .for_each(|p| p[1] = 0.0);
                lines.push(
                    json!({"op": "mcm", "clk": step.to_string(), "pt": pt, "mc": [{
                        "id": id, "marketDefinition": definition(&meta, &runners, "OPEN", false, 0),
                        "rc": [{"id": runners[k].id, "atb": atb, "atl": atl}],
                    }]}),
                );
                continue;
            }
        }
        let rc = move_runner(&mut runners, rng, None, &mut total_matched);
        lines.push(json!({"op": "mcm", "clk": step.to_string(), "pt": pt,
            "mc": [{"id": id, "tv": round2(total_matched), "rc": rc}]}));
    }
    // The off: suspend, then in play.
    lines.push(json!({"op": "mcm", "clk": "off", "pt": off, "mc": [{
        "id": id, "marketDefinition": definition(&meta, &runners, "SUSPENDED", false, 0)}]}));
    pt = off + 2_000;
    let bsp: Vec<f64> = runners.iter().map(|r| r.back.get()).collect();
    lines.push(json!({"op": "mcm", "clk": "inplay", "pt": pt, "mc": [{
        "id": id, "marketDefinition": definition(&meta, &runners, "OPEN", true, 1)}]}));
    for step in 0..config.in_play_updates {
        pt += rng.random_range(150..600);
        let progress = (step + 1) as f64 / config.in_play_updates as f64;
        let rc = move_runner(
            &mut runners,
            rng,
            Some((winner, progress)),
            &mut total_matched,
        );
        lines.push(json!({"op": "mcm", "clk": format!("ip{step}"), "pt": pt,
            "mc": [{"id": id, "tv": round2(total_matched), "rc": rc}]}));
    }
    pt += 1_000;
    lines.push(json!({"op": "mcm", "clk": "end", "pt": pt, "mc": [{
        "id": id, "marketDefinition": definition(&meta, &runners, "SUSPENDED", true, 1)}]}));
    let mut settled = definition(&meta, &runners, "CLOSED", true, 1);
    settled["bspReconciled"] = json!(true);
    if let Some(rs) = settled["runners"].as_array_mut() {
        for (k, r) in rs.iter_mut().enumerate() {
            if runners[k].removed.is_none() {
                r["status"] = json!(if k == winner { "WINNER" } else { "LOSER" });
                r["bsp"] = json!(bsp[k]);
            }
        }
    }
    lines.push(
        json!({"op": "mcm", "clk": "settled", "pt": pt + 60_000, "mc": [{
        "id": id, "marketDefinition": settled}]}),
    );
    lines
}

struct Meta {
    event_type: &'static str,
    venue: &'static str,
    country: &'static str,
    market_time: String,
}

fn definition(
    meta: &Meta,
    runners: &[RunnerSim],
    status: &str,
    in_play: bool,
    delay: u32,
) -> Value {
    let active = runners.iter().filter(|r| r.removed.is_none()).count();
    let rs: Vec<Value> = runners
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let mut v = json!({
                "id": r.id,
                "sortPriority": k + 1,
                "status": if r.removed.is_some() { "REMOVED" } else { "ACTIVE" },
                "adjustmentFactor": round2(r.chance * 100.0),
            });
            if let Some(at) = &r.removed {
                v["removalDate"] = json!(at);
            }
            v
        })
        .collect();
    json!({
        "status": status, "inPlay": in_play, "betDelay": delay, "bspMarket": true,
        "turnInPlayEnabled": true, "persistenceEnabled": true, "marketBaseRate": 5.0,
        "eventTypeId": meta.event_type, "marketType": "WIN", "bettingType": "ODDS",
        "numberOfWinners": 1, "numberOfActiveRunners": active, "marketTime": meta.market_time,
        "venue": meta.venue, "countryCode": meta.country, "bspReconciled": false,
        "complete": true, "crossMatching": true, "runnersVoidable": false,
        "priceLadderDefinition": {"type": "CLASSIC"}, "runners": rs,
    })
}

/// A runner's whole visible ladder: `LEVELS` prices a side around its best back.
fn full_ladder(r: &RunnerSim, rng: &mut ChaCha8Rng) -> Value {
    let (atb, atl) = ladder_points(r.back, rng);
    json!({"id": r.id, "atb": atb, "atl": atl})
}

/// Back and lay ladders as `[price, size]` points around `back`.
fn ladder_points(back: Price, rng: &mut ChaCha8Rng) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
    let mut atb = Vec::new();
    let mut atl = Vec::new();
    for level in 0..LEVELS {
        if let Some(p) = back.ticks(-level) {
            atb.push([p.get(), size(rng)]);
        }
        if let Some(p) = back.ticks(level + 1) {
            atl.push([p.get(), size(rng)]);
        }
    }
    (atb, atl)
}

/// Move one runner's prices; in play, drift toward the result.
fn move_runner(
    runners: &mut [RunnerSim],
    rng: &mut ChaCha8Rng,
    in_play: Option<(usize, f64)>,
    total_matched: &mut f64,
) -> Vec<Value> {
    let active: Vec<usize> = (0..runners.len())
        .filter(|&k| runners[k].removed.is_none())
        .collect();
    let k = active[rng.random_range(0..active.len())];
    let r = &mut runners[k];
    let old = r.back;
    let step = match in_play {
        Some((winner, progress)) if k == winner => -(1 + (progress * 6.0) as i32),
        Some((_, progress)) => 1 + (progress * 6.0) as i32,
        None => rng.random_range(-1..=1),
    };
    r.back = old
        .ticks(step)
        .unwrap_or(if step < 0 { Price::MIN } else { Price::MAX });
    let traded = round2(rng.random::<f64>() * 50.0 + 2.0);
    r.traded = round2(r.traded + traded);
    *total_matched += traded;
    let (mut atb, mut atl) = ladder_points(r.back, rng);
    // Prices that left the ladder are removed with size 0.
    for level in 0..LEVELS {
        if let Some(p) = old
            .ticks(-level)
            .filter(|p| !atb.iter().any(|x| x[0] == p.get()))
        {
            atb.push([p.get(), 0.0]);
        }
        if let Some(p) = old
            .ticks(level + 1)
            .filter(|p| !atl.iter().any(|x| x[0] == p.get()))
        {
            atl.push([p.get(), 0.0]);
        }
    }
    vec![json!({
        "id": r.id, "atb": atb, "atl": atl,
        "trd": [[r.back.get(), r.traded]], "ltp": r.back.get(), "tv": r.traded,
    })]
}

/// Epoch milliseconds as Betfair writes times: `2026-01-01T12:00:00.000Z`.
fn iso_time(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn price_for(chance: f64) -> Price {
    round_to_ladder(Price(1.0 / (chance * 1.05)), Rounding::Down).unwrap_or(Price::MIN)
}

fn draw_winner(runners: &[RunnerSim], rng: &mut ChaCha8Rng) -> usize {
    let mut x = rng.random::<f64>();
    for (k, r) in runners.iter().enumerate() {
        x -= r.chance;
        if x <= 0.0 {
            return k;
        }
    }
    runners.len() - 1
}

fn size(rng: &mut ChaCha8Rng) -> f64 {
    round2(2.0 + rng.random::<f64>() * 300.0)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
