//! The packed form of a market update that crosses the Wasm boundary on
//! every `on-market` call (layout documented on `hooks.on-market` in
//! `wit/strategy.wit`). One flat byte buffer costs one copy; a nested
//! `list<record>` costs an allocation per runner and per level in the guest.
//! The host encodes with [`encode`]; the SDK applies updates to its cached
//! [`Market`] with [`MarketCache::apply`]. Both sides live here so the
//! format has exactly one definition.

use std::collections::BTreeMap;

use crate::ladder::Price;
use crate::market::{Levels, MAX_DEPTH, Market, PriceSize, Runner};
use crate::types::{MarketId, MarketStatus, RunnerStatus, SelectionId, Timestamp};

/// The format version in the first byte.
pub const FORMAT: u8 = 1;
const FLAG_FULL: u8 = 1;
const FLAG_IN_PLAY: u8 = 2;
const FLAG_DEFINITION: u8 = 4;
const HEADER_LEN: usize = 32;

/// Which runners an update carries.
#[derive(Debug, Clone, Copy)]
pub enum Runners<'a> {
    /// Every runner: a full image that replaces the plugin's view.
    All,
    /// Only the runners at these indexes of `market.runners`: a delta.
    Changed(&'a [usize]),
}

/// Append the packed update of `market` (known to plugins as `handle`) to
/// `buf`, with at most `depth` levels a side. A full image also carries the
/// market's definition (ids, types, start time).
pub fn encode(buf: &mut Vec<u8>, handle: u32, market: &Market, depth: u8, runners: Runners<'_>) {
    let full = matches!(runners, Runners::All);
    let count = match runners {
        Runners::All => market.runners.len(),
        Runners::Changed(ix) => ix.len(),
    };
    let mut flags = 0;
    if full {
        flags |= FLAG_FULL | FLAG_DEFINITION;
    }
    if market.in_play {
        flags |= FLAG_IN_PLAY;
    }
    buf.extend_from_slice(&[FORMAT, flags, status_code(market.status), depth]);
    buf.extend_from_slice(&handle.to_le_bytes());
    buf.extend_from_slice(&market.bet_delay.to_le_bytes());
    buf.extend_from_slice(&(count.min(u16::MAX as usize) as u16).to_le_bytes());
    buf.extend_from_slice(&0u16.to_le_bytes());
    buf.extend_from_slice(&market.publish_time.0.to_le_bytes());
    buf.extend_from_slice(&market.total_matched.to_le_bytes());
    if full {
        for text in [
            market.id.as_str(),
            &market.venue,
            &market.event_type,
            &market.market_type,
            market.country.as_deref().unwrap_or(""),
        ] {
            put_str(buf, text);
        }
        buf.extend_from_slice(&market.start_time.0.to_le_bytes());
        buf.extend_from_slice(&market.number_of_winners.to_le_bytes());
    }
    let depth = depth as usize;
    let mut put_runner = |r: &Runner| {
        let back = &r.back.as_slice()[..r.back.len().min(depth)];
        let lay = &r.lay.as_slice()[..r.lay.len().min(depth)];
        buf.extend_from_slice(&r.selection_id.0.to_le_bytes());
        buf.extend_from_slice(&[
            runner_status_code(r.status),
            back.len() as u8,
            lay.len() as u8,
            0,
        ]);
        for v in [
            r.adjustment_factor,
            r.last_traded.map_or(f64::NAN, |p| p.0),
            r.traded_volume,
            r.sp_near.unwrap_or(f64::NAN),
            r.sp_far.unwrap_or(f64::NAN),
            r.bsp.unwrap_or(f64::NAN),
        ] {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        for level in back.iter().chain(lay) {
            buf.extend_from_slice(&level.price.0.to_le_bytes());
            buf.extend_from_slice(&level.size.to_le_bytes());
        }
    };
    match runners {
        Runners::All => market.runners.iter().take(count).for_each(&mut put_runner),
        Runners::Changed(ix) => ix
            .iter()
            .take(count)
            .filter_map(|&i| market.runners.get(i))
            .for_each(&mut put_runner),
    }
}

fn put_str(buf: &mut Vec<u8>, text: &str) {
    let bytes = &text.as_bytes()[..text.len().min(u16::MAX as usize)];
    buf.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    buf.extend_from_slice(bytes);
}

fn status_code(status: MarketStatus) -> u8 {
    match status {
        MarketStatus::Inactive => 0,
        MarketStatus::Open => 1,
        MarketStatus::Suspended => 2,
        MarketStatus::Closed => 3,
    }
}

fn runner_status_code(status: RunnerStatus) -> u8 {
    match status {
        RunnerStatus::Active => 0,
        RunnerStatus::Winner => 1,
        RunnerStatus::Loser => 2,
        RunnerStatus::Placed => 3,
        RunnerStatus::Removed => 4,
        RunnerStatus::Hidden => 5,
    }
}

/// Levels the scalar fast path carries (back and lay together).
pub const FAST_LEVELS: usize = 10;

/// A one-runner update in scalars: the `on-runner` fast path. Exact: a
/// value that would not survive the trip bit for bit is not sent this way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunnerDelta {
    /// Handle, statuses and level counts (see `hooks.on-runner`).
    pub head: u64,
    /// The runner.
    pub selection: u64,
    /// Publish time of the update.
    pub publish_time: i64,
    /// Last traded price, NaN if none.
    pub last_traded: f64,
    /// Runner's traded volume.
    pub traded_volume: f64,
    /// Market's total matched.
    pub total_matched: f64,
    /// Back then lay levels: price hundredths << 32 | size pennies.
    pub levels: [u64; FAST_LEVELS],
}

/// A price or size as whole hundredths, if that is exact.
#[inline]
fn hundredths_exact(value: f64) -> Option<u32> {
    let scaled = value * 100.0 + 0.5;
    if !(0.5..u32::MAX as f64).contains(&scaled) {
        return None;
    }
    // Truncating after +0.5 rounds (no libm call); the check below makes it exact.
    let h = scaled as u32;
    ((h as f64 / 100.0).to_bits() == value.to_bits()).then_some(h)
}

/// The fast-path form of `market.runners[index]`, if its levels fit and
/// every number survives the trip exactly.
pub fn encode_runner(handle: u32, market: &Market, index: usize, depth: u8) -> Option<RunnerDelta> {
    let r = market.runners.get(index)?;
    let depth = depth as usize;
    let back = &r.back.as_slice()[..r.back.len().min(depth)];
    let lay = &r.lay.as_slice()[..r.lay.len().min(depth)];
    if back.len() + lay.len() > FAST_LEVELS {
        return None;
    }
    let mut levels = [0u64; FAST_LEVELS];
    for (slot, level) in levels.iter_mut().zip(back.iter().chain(lay)) {
        let price = hundredths_exact(level.price.0)?;
        let size = hundredths_exact(level.size)?;
        *slot = (price as u64) << 32 | size as u64;
    }
    let head = handle as u64
        | (status_code(market.status) as u64) << 32
        | (market.in_play as u64) << 34
        | (runner_status_code(r.status) as u64) << 35
        | (back.len() as u64) << 38
        | (lay.len() as u64) << 42;
    Some(RunnerDelta {
        head,
        selection: r.selection_id.0,
        publish_time: market.publish_time.0,
        last_traded: r.last_traded.map_or(f64::NAN, |p| p.0),
        traded_volume: r.traded_volume,
        total_matched: market.total_matched,
        levels,
    })
}

/// Why an update could not be decoded. The host never sends these; they
/// guard the SDK against a mismatched host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The buffer ended early.
    Truncated,
    /// An unknown format version.
    Format(u8),
    /// A delta for a market the plugin has no full image of.
    UnknownHandle(u32),
    /// A string that is not UTF-8.
    Utf8,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Truncated => f.write_str("market update truncated"),
            WireError::Format(v) => write!(f, "unknown market update format {v}"),
            WireError::UnknownHandle(h) => write!(f, "delta for unknown market handle {h}"),
            WireError::Utf8 => f.write_str("market update string is not UTF-8"),
        }
    }
}

impl std::error::Error for WireError {}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).ok_or(WireError::Truncated)?;
        let out = self.bytes.get(self.at..end).ok_or(WireError::Truncated)?;
        self.at = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, WireError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64, WireError> {
        Ok(f64::from_le_bytes(self.array()?))
    }
    fn string(&mut self) -> Result<String, WireError> {
        let len = self.u16()? as usize;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| WireError::Utf8)
    }
}

/// The markets a plugin has seen, keyed by the host's handle, kept current
/// by applying each packed update.
#[derive(Debug, Default)]
pub struct MarketCache {
    markets: BTreeMap<u32, Market>,
}

impl MarketCache {
    /// An empty cache.
    pub const fn new() -> Self {
        MarketCache {
            markets: BTreeMap::new(),
        }
    }

    /// Apply one packed update and return the market it changed.
    pub fn apply(&mut self, bytes: &[u8]) -> Result<&Market, WireError> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let mut r = Reader { bytes, at: 0 };
        let format = r.u8()?;
        if format != FORMAT {
            return Err(WireError::Format(format));
        }
        let flags = r.u8()?;
        let status = market_status(r.u8()?);
        let _depth = r.u8()?;
        let handle = r.u32()?;
        let bet_delay = r.u32()?;
        let count = r.u16()? as usize;
        let _reserved = r.u16()?;
        let publish_time = Timestamp(r.i64()?);
        let total_matched = r.f64()?;
        let market = if flags & FLAG_FULL != 0 {
            let market = self.markets.entry(handle).or_default();
            market.runners.clear();
            market
        } else {
            self.markets
                .get_mut(&handle)
                .ok_or(WireError::UnknownHandle(handle))?
        };
        if flags & FLAG_DEFINITION != 0 {
            market.id = MarketId(r.string()?);
            market.venue = r.string()?;
            market.event_type = r.string()?;
            market.market_type = r.string()?;
            let country = r.string()?;
            market.country = (!country.is_empty()).then_some(country);
            market.start_time = Timestamp(r.i64()?);
            market.number_of_winners = r.u32()?;
        }
        market.status = status;
        market.in_play = flags & FLAG_IN_PLAY != 0;
        market.bet_delay = bet_delay;
        market.publish_time = publish_time;
        market.total_matched = total_matched;
        for _ in 0..count {
            read_runner(&mut r, &mut market.runners)?;
        }
        Ok(market)
    }

    /// Apply a fast-path one-runner update and return the market it changed.
    pub fn apply_runner(&mut self, d: &RunnerDelta) -> Result<&Market, WireError> {
        let handle = d.head as u32;
        let market = self
            .markets
            .get_mut(&handle)
            .ok_or(WireError::UnknownHandle(handle))?;
        market.status = market_status(((d.head >> 32) & 3) as u8);
        market.in_play = (d.head >> 34) & 1 == 1;
        market.publish_time = Timestamp(d.publish_time);
        market.total_matched = d.total_matched;
        let id = SelectionId(d.selection);
        let runner = match market.runners.iter().position(|x| x.selection_id == id) {
            Some(i) => &mut market.runners[i],
            None => {
                market.runners.push(Runner::new(id.0));
                let last = market.runners.len() - 1;
                &mut market.runners[last]
            }
        };
        runner.status = runner_status(((d.head >> 35) & 7) as u8);
        runner.last_traded = opt(d.last_traded).map(Price);
        runner.traded_volume = d.traded_volume;
        let n_back = ((d.head >> 38) & 15) as usize;
        let n_lay = ((d.head >> 42) & 15) as usize;
        let unpack = |v: u64| PriceSize {
            price: Price((v >> 32) as f64 / 100.0),
            size: (v & 0xffff_ffff) as f64 / 100.0,
        };
        runner.back.clear();
        runner.lay.clear();
        for (i, &v) in d
            .levels
            .iter()
            .enumerate()
            .take((n_back + n_lay).min(FAST_LEVELS))
        {
            let side = if i < n_back {
                &mut runner.back
            } else {
                &mut runner.lay
            };
            side.push(unpack(v));
        }
        Ok(market)
    }

    /// A cached market by handle.
    pub fn get(&self, handle: u32) -> Option<&Market> {
        self.markets.get(&handle)
    }

    /// Forget a market (after it closes), so memory stays bounded.
    pub fn remove_by_id(&mut self, id: &MarketId) {
        self.markets.retain(|_, m| &m.id != id);
    }

    /// Number of markets held.
    pub fn len(&self) -> usize {
        self.markets.len()
    }

    /// True if none are held.
    pub fn is_empty(&self) -> bool {
        self.markets.is_empty()
    }
}

/// Bytes of a runner entry before its levels.
const RUNNER_HEAD: usize = 60;
/// Bytes of one (price, size) level.
const LEVEL: usize = 16;

/// Read a little-endian f64 at `at`; callers slice `bytes` to a checked
/// length first, so this is one copy, not a bounds check per field.
#[inline]
fn f64_at(bytes: &[u8], at: usize) -> f64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&bytes[at..at + 8]);
    f64::from_le_bytes(a)
}

#[inline]
fn opt(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

fn read_runner(r: &mut Reader<'_>, runners: &mut Vec<Runner>) -> Result<(), WireError> {
    // One bounds check for the fixed part and one for the levels.
    let head = r.take(RUNNER_HEAD)?;
    let mut id = [0u8; 8];
    id.copy_from_slice(&head[..8]);
    let id = SelectionId(u64::from_le_bytes(id));
    let (n_back, n_lay) = (head[9] as usize, head[10] as usize);
    let levels = r.take((n_back + n_lay) * LEVEL)?;
    let index = match runners.iter().position(|x| x.selection_id == id) {
        Some(i) => i,
        None => {
            runners.push(Runner::new(id.0));
            runners.len() - 1
        }
    };
    let runner = &mut runners[index];
    runner.status = runner_status(head[8]);
    runner.adjustment_factor = f64_at(head, 12);
    runner.last_traded = opt(f64_at(head, 20)).map(Price);
    runner.traded_volume = f64_at(head, 28);
    runner.sp_near = opt(f64_at(head, 36));
    runner.sp_far = opt(f64_at(head, 44));
    runner.bsp = opt(f64_at(head, 52));
    let (back, lay) = levels.split_at(n_back * LEVEL);
    read_levels(back, &mut runner.back);
    read_levels(lay, &mut runner.lay);
    Ok(())
}

fn read_levels(bytes: &[u8], levels: &mut Levels) {
    levels.clear();
    for level in bytes.chunks_exact(LEVEL).take(MAX_DEPTH) {
        levels.push(PriceSize {
            price: Price(f64_at(level, 0)),
            size: f64_at(level, 8),
        });
    }
}

fn market_status(code: u8) -> MarketStatus {
    match code {
        1 => MarketStatus::Open,
        2 => MarketStatus::Suspended,
        3 => MarketStatus::Closed,
        _ => MarketStatus::Inactive,
    }
}

fn runner_status(code: u8) -> RunnerStatus {
    match code {
        1 => RunnerStatus::Winner,
        2 => RunnerStatus::Loser,
        3 => RunnerStatus::Placed,
        4 => RunnerStatus::Removed,
        5 => RunnerStatus::Hidden,
        _ => RunnerStatus::Active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Market {
        let mut m = Market::new("1.234");
        m.country = Some("GB".into());
        m.start_time = Timestamp(1_700_000_000_000);
        m.publish_time = Timestamp(1_699_999_000_000);
        for i in 0..3u64 {
            let mut r = Runner::new(100 + i);
            r.last_traded = Some(Price(3.0 + i as f64));
            r.back = Levels::from_slice(&[PriceSize::new(3.0, 10.0), PriceSize::new(2.98, 5.0)]);
            r.lay = Levels::from_slice(&[PriceSize::new(3.05, 7.0)]);
            m.runners.push(r);
        }
        m
    }

    #[test]
    fn full_image_round_trips() {
        let market = sample();
        let mut buf = Vec::new();
        encode(&mut buf, 7, &market, 3, Runners::All);
        let mut cache = MarketCache::default();
        assert_eq!(cache.apply(&buf).unwrap(), &market);
    }

    #[test]
    fn delta_replaces_only_changed_runners_and_depth_is_capped() {
        let mut market = sample();
        let mut buf = Vec::new();
        encode(&mut buf, 7, &market, 1, Runners::All);
        let mut cache = MarketCache::default();
        cache.apply(&buf).unwrap();
        assert_eq!(cache.get(7).unwrap().runners[0].back.len(), 1);

        market.runners[1].back = Levels::from_slice(&[PriceSize::new(4.0, 1.0)]);
        market.in_play = true;
        buf.clear();
        encode(&mut buf, 7, &market, 3, Runners::Changed(&[1]));
        let seen = cache.apply(&buf).unwrap();
        assert!(seen.in_play);
        assert_eq!(seen.runners[1].best_back(), Some(PriceSize::new(4.0, 1.0)));
        assert_eq!(
            seen.runners[0].back.len(),
            1,
            "untouched runner keeps its state"
        );
    }

    #[test]
    fn fast_path_is_exact_or_not_taken() {
        let mut market = sample();
        let mut buf = Vec::new();
        encode(&mut buf, 3, &market, 3, Runners::All);
        let mut cache = MarketCache::default();
        cache.apply(&buf).unwrap();
        market.runners[2].back =
            Levels::from_slice(&[PriceSize::new(1.01, 1234.56), PriceSize::new(1000.0, 0.01)]);
        market.runners[2].traded_volume = 77.7;
        market.publish_time = Timestamp(5);
        let d = encode_runner(3, &market, 2, 3).unwrap();
        assert_eq!(cache.apply_runner(&d).unwrap(), &market);
        // A size that is not whole pennies cannot take the fast path.
        market.runners[2].back = Levels::from_slice(&[PriceSize::new(2.0, 0.1 + 0.2)]);
        assert_eq!(encode_runner(3, &market, 2, 3), None);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut cache = MarketCache::default();
        assert_eq!(cache.apply(&[1, 0]).unwrap_err(), WireError::Truncated);
        let mut buf = Vec::new();
        encode(&mut buf, 9, &sample(), 3, Runners::Changed(&[0]));
        assert_eq!(cache.apply(&buf).unwrap_err(), WireError::UnknownHandle(9));
        buf[0] = 99;
        assert_eq!(cache.apply(&buf).unwrap_err(), WireError::Format(99));
        let mut full = Vec::new();
        encode(&mut full, 9, &sample(), 3, Runners::All);
        full.truncate(full.len() - 3);
        assert_eq!(cache.apply(&full).unwrap_err(), WireError::Truncated);
    }
}
