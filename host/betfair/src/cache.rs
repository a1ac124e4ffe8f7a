//! The market cache: applies each `mcm` market change exactly as the Stream
//! API defines it. An image replaces the market; a delta updates it;
//! price-keyed ladders (`atb`, `atl`, `trd`) insert, update, or remove on a
//! size of 0; level-keyed ladders (`batb`, `batl`, `bdatb`, `bdatl`) set or
//! clear a level; a market definition updates status, in-play, bet delay,
//! runners, removals (with adjustment factor) and settlement (status, BSP).
//! After each change the plugin-facing [`Market`](clever_sdk::Market) view is brought up to
//! date and the runners that changed are listed.

use clever_market::{Ladder, MarketBook, MarketMap, RunnerDepth};
use clever_sdk::{
    Levels, MAX_DEPTH, MarketStatus, Price, PriceSize, Runner, RunnerStatus, Timestamp,
};

use crate::flat::Flat;
use crate::stream::{LevelPoint, MarketChange, MarketDefinition, PricePoint, RunnerUpdate};

/// Apply `[price, size]` updates to a price-keyed ladder of the model;
/// whether any changed one of its best [`MAX_DEPTH`] levels, those a view
/// shows (most changes of a full ladder lie deeper).
fn apply_prices(ladder: &mut Ladder, points: &[PricePoint]) -> bool {
    let mut shown = false;
    for &[price, size] in points {
        shown |= ladder
            .set(price, size)
            .is_some_and(|level| level < MAX_DEPTH);
    }
    shown
}

/// A level-keyed ladder: level n is the n-th best price.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelLadder {
    /// (price, size) per level; `None` where a level is empty.
    pub levels: Vec<Option<(f64, f64)>>,
}

impl LevelLadder {
    fn apply(&mut self, points: &[LevelPoint]) {
        for &[level, price, size] in points {
            let level = level as usize;
            if level >= 64 {
                continue; // Betfair sends at most 10 levels; ignore nonsense.
            }
            if self.levels.len() <= level {
                self.levels.resize(level + 1, None);
            }
            self.levels[level] = (size != 0.0).then_some((price, size));
        }
    }

    fn best(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.levels.iter().flatten().copied()
    }
}

/// What Betfair says about one runner beyond the model: identity, the
/// level-keyed ladders, sort priority, name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunnerExtras {
    /// Selection id.
    pub id: u64,
    /// Handicap; `None` for none or 0 (see `runner_index`).
    pub hc: Option<f64>,
    /// Best available to back by level.
    pub batb: LevelLadder,
    /// Best available to lay by level.
    pub batl: LevelLadder,
    /// Best display available to back by level.
    pub bdatb: LevelLadder,
    /// Best display available to lay by level.
    pub bdatl: LevelLadder,
    /// Sort priority from the definition (runners keep first-seen order).
    pub sort_priority: u32,
    /// Runner name, if the file has it.
    pub name: Option<String>,
}

/// One market: the model's [`MarketBook`] and what only Betfair has.
#[derive(Debug, Clone, Default)]
pub struct CachedMarket {
    /// The market in the host's terms, kept current.
    pub book: MarketBook,
    /// Betfair's extras per runner, parallel to `book.view.runners`.
    pub runners: Vec<RunnerExtras>,
    /// BSP reconciled.
    pub bsp_reconciled: bool,
    /// Active runners according to the definition.
    pub active_runners: Option<u32>,
    /// Track.
    pub track: Option<String>,
    /// Where runners were last found (see [`RunnerHints`]).
    hints: RunnerHints,
}

/// Where each runner of a market was last found in its lists, by the low
/// byte of its selection id: a guess, checked before it is used, so a
/// stale or shared one costs the search it saves and never gives the
/// wrong runner. The real race finds a runner some 50,000 times, and
/// each search compared ids over a dozen entries of 150 bytes. With 64
/// slots, two pairs of its 13 runners shared one and took turns
/// searching; with 256, a market of 13 runners shares none in three
/// cases of four.
#[derive(Debug, Clone)]
struct RunnerHints([u8; 256]);

impl Default for RunnerHints {
    fn default() -> Self {
        RunnerHints([0; 256])
    }
}

impl RunnerHints {
    /// The index last found for `id`, if any.
    fn get(&self, id: u64) -> Option<usize> {
        // Stored plus one: 0 is no hint.
        usize::from(self.0[usize::from(id as u8)]).checked_sub(1)
    }

    /// Remember `index` for `id` (not past the 255th runner).
    fn set(&mut self, id: u64, index: usize) {
        if let Ok(stored) = u8::try_from(index + 1) {
            self.0[usize::from(id as u8)] = stored;
        }
    }
}

/// All markets seen in a stream.
#[derive(Debug, Default)]
pub struct StreamCache {
    markets: MarketMap<CachedMarket>,
}

impl StreamCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// A market by id.
    pub fn get(&self, id: &str) -> Option<&CachedMarket> {
        self.markets.get(id)
    }

    /// Every market in the cache, by id (a stable order).
    pub fn markets(&self) -> impl Iterator<Item = &CachedMarket> {
        let mut all: Vec<&CachedMarket> = self.markets.values().collect();
        all.sort_by(|a, b| a.book.view.id.0.cmp(&b.book.view.id.0));
        all.into_iter()
    }

    /// Forget a market (after it closed), keeping memory bounded.
    pub fn remove(&mut self, id: &str) -> Option<CachedMarket> {
        self.markets.remove(id)
    }

    /// Apply one market change published at `pt` and return the market.
    ///
    /// # Panics
    /// If the change's runner changes were left in the record it was read
    /// from (`Records::read_leaving_runners`, for `StreamSource` alone).
    pub fn apply(&mut self, pt: i64, change: &MarketChange) -> &CachedMarket {
        self.apply_from(pt, change, None)
    }

    /// [`StreamCache::apply`], the change's runner changes read from
    /// `record` where they were left in it (`flat::Slots::Leave`).
    pub(crate) fn apply_from(
        &mut self,
        pt: i64,
        change: &MarketChange,
        record: Option<&Flat>,
    ) -> &CachedMarket {
        let market = self
            .markets
            .get_or_insert_with(&change.id, || CachedMarket {
                book: MarketBook::new(&change.id, "betfair"),
                ..CachedMarket::default()
            });
        market.book.begin_update(change.img);
        if change.img {
            market.runners.clear();
        }
        market.book.view.publish_time = Timestamp(pt);
        if let Some(tv) = change.tv {
            market.book.view.total_matched = tv;
        }
        if let Some(def) = &change.market_definition {
            apply_definition(market, def);
            market.book.definition_changed = true;
        }
        match (change.waiting, record) {
            (Some(waiting), Some(record)) => {
                for update in record.runner_updates(waiting) {
                    apply_runner_update(market, &update);
                }
            }
            _ => {
                // Left in a record but none given: a caller's mistake,
                // which must not pass as a change without runners.
                assert!(change.waiting.is_none(), "runner changes left unread");
                for rc in &change.rc {
                    apply_runner_update(market, &RunnerUpdate::from(rc));
                }
            }
        }
        market
    }
}

fn apply_runner_update(market: &mut CachedMarket, update: &RunnerUpdate<'_>) {
    let i = runner_index(market, update.id, update.hc);
    let book = &mut market.book;
    apply_runner_change(
        &mut market.runners[i],
        &mut book.depth[i],
        &mut book.view.runners[i],
        update,
    );
    book.touch(i);
}

/// Where runner `id` (with handicap `hc`) is, added if it is new. A
/// handicap of 0 is none; the runners' own are kept that way, so the
/// search compares them as they are (once per runner change).
fn runner_index(market: &mut CachedMarket, id: u64, hc: Option<f64>) -> usize {
    let hc = hc.filter(|h| *h != 0.0);
    let is = |r: &RunnerExtras| r.id == id && r.hc == hc;
    if let Some(i) = market.hints.get(id)
        && market.runners.get(i).is_some_and(is)
    {
        return i;
    }
    if let Some(i) = market.runners.iter().position(is) {
        market.hints.set(id, i);
        return i;
    }
    market.hints.set(id, market.runners.len());
    market.runners.push(RunnerExtras {
        id,
        hc,
        sort_priority: u32::MAX,
        ..RunnerExtras::default()
    });
    market.book.depth.push(RunnerDepth::default());
    market.book.view.runners.push(Runner::new(id));
    market.runners.len() - 1
}

fn apply_definition(market: &mut CachedMarket, def: &MarketDefinition) {
    let view = &mut market.book.view;
    view.status = match def.status.as_str() {
        "OPEN" => MarketStatus::Open,
        "SUSPENDED" => MarketStatus::Suspended,
        "CLOSED" => MarketStatus::Closed,
        _ => MarketStatus::Inactive,
    };
    view.in_play = def.in_play;
    view.bet_delay = def.bet_delay;
    view.event_type = def.event_type_id.clone();
    view.market_type = def.market_type.clone();
    view.country = def.country_code.clone();
    view.number_of_winners = def.number_of_winners;
    if let Some(t) = def.market_time.as_deref().and_then(parse_time) {
        view.start_time = Timestamp(t);
    }
    market.book.commission_rate = def.market_base_rate;
    market.book.version = def.version;
    market.bsp_reconciled = def.bsp_reconciled;
    market.active_runners = def.number_of_active_runners;
    market.track = def.venue.clone();
    for rd in &def.runners {
        let i = runner_index(market, rd.id, rd.hc);
        let full = &mut market.runners[i];
        let view = &mut market.book.view.runners[i];
        view.status = runner_status(&rd.status);
        view.adjustment_factor = rd.adjustment_factor.unwrap_or(0.0);
        view.bsp = rd.bsp;
        market.book.depth[i].removed_at = rd
            .removal_date
            .as_deref()
            .and_then(parse_time)
            .map(Timestamp);
        full.sort_priority = rd.sort_priority.unwrap_or(u32::MAX);
        if rd.name.is_some() {
            full.name = rd.name.clone();
        }
    }
}

fn apply_runner_change(
    full: &mut RunnerExtras,
    depth: &mut RunnerDepth,
    view: &mut Runner,
    rc: &RunnerUpdate<'_>,
) {
    // A side's view is rebuilt if its full ladder changed a level shown
    // (filling an empty one or emptying it changes its best level, so a
    // view that showed the level ladders is rebuilt then too).
    let mut back = rc.batb.is_some() || rc.bdatb.is_some();
    let mut lay = rc.batl.is_some() || rc.bdatl.is_some();
    if let Some(p) = rc.atb {
        back |= apply_prices(&mut depth.back, p);
    }
    if let Some(p) = rc.atl {
        lay |= apply_prices(&mut depth.lay, p);
    }
    if let Some(p) = rc.batb {
        full.batb.apply(p);
    }
    if let Some(p) = rc.batl {
        full.batl.apply(p);
    }
    if let Some(p) = rc.bdatb {
        full.bdatb.apply(p);
    }
    if let Some(p) = rc.bdatl {
        full.bdatl.apply(p);
    }
    if let Some(p) = rc.trd {
        // An empty list clears the traded ladder (as betfairlightweight does).
        if p.is_empty() {
            depth.traded.clear();
        }
        apply_prices(&mut depth.traded, p);
    }
    if let Some(ltp) = rc.ltp {
        view.last_traded = Some(Price(ltp));
    }
    if let Some(tv) = rc.tv {
        view.traded_volume = tv;
    }
    if let Some(spn) = rc.spn {
        view.sp_near = spn.is_finite().then_some(spn);
    }
    if let Some(spf) = rc.spf {
        view.sp_far = spf.is_finite().then_some(spf);
    }
    if back {
        best_levels(&mut view.back, &depth.back, &full.batb, &full.bdatb);
    }
    if lay {
        best_levels(&mut view.lay, &depth.lay, &full.batl, &full.bdatl);
    }
}

/// The view's best levels, written over `out` (returning them copied 168
/// bytes twice per change): the full ladder when the file has one, else
/// the real best-offer levels, else the display levels.
fn best_levels(out: &mut Levels, full: &Ladder, best: &LevelLadder, display: &LevelLadder) {
    if !full.is_empty() {
        out.set_pairs(full.levels());
        return;
    }
    out.clear();
    let mut put = |(price, size): (f64, f64)| {
        out.push(PriceSize {
            price: Price(price),
            size,
        })
    };
    if !best.levels.is_empty() {
        best.best().take(MAX_DEPTH).for_each(&mut put);
    } else {
        display.best().take(MAX_DEPTH).for_each(&mut put);
    }
}

fn runner_status(status: &str) -> RunnerStatus {
    match status {
        "WINNER" => RunnerStatus::Winner,
        "LOSER" => RunnerStatus::Loser,
        "PLACED" => RunnerStatus::Placed,
        "REMOVED" | "REMOVED_VACANT" => RunnerStatus::Removed,
        "HIDDEN" => RunnerStatus::Hidden,
        _ => RunnerStatus::Active,
    }
}

/// An ISO-8601 time as epoch milliseconds.
pub fn parse_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::Message;
    use clever_sdk::SelectionId;

    fn apply(cache: &mut StreamCache, json: &str) {
        let m: Message = serde_json::from_str(json).unwrap();
        for mc in &m.mc {
            cache.apply(m.pt, mc);
        }
    }

    /// The view kept by rebuilding only after a change to a shown level
    /// is the view rebuilt after every change: random deltas to deep full
    /// ladders (with level ladders beside them, and sides emptied and
    /// refilled), checked after each one.
    #[test]
    fn views_rebuilt_only_for_shown_levels_match_views_rebuilt_always() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut cache = StreamCache::new();
        let prices: Vec<f64> = (0..40).map(|i| 1.5 + f64::from(i) * 0.1).collect();
        let mut deep = 0;
        for line in 0..4_000 {
            let mut points = Vec::new();
            for _ in 0..rng.random_range(1..4) {
                let price = prices[rng.random_range(0..prices.len())];
                let size = if rng.random_range(0..3) == 0 {
                    0
                } else {
                    rng.random_range(1..50)
                };
                points.push(format!("[{price:.1},{size}]"));
            }
            let side = ["atb", "atl", "batb", "batl"][rng.random_range(0..4)];
            let points = if side.starts_with('b') {
                let level = rng.random_range(0..12);
                let price = prices[rng.random_range(0..prices.len())];
                format!("[[{level},{price:.1},{}]]", rng.random_range(0..3))
            } else if rng.random_range(0..40) == 0 {
                "[]".to_owned()
            } else {
                format!("[{}]", points.join(","))
            };
            let json = format!(
                r#"{{"op":"mcm","pt":{line},"mc":[{{"id":"1.1","rc":[{{"id":{},"{side}":{points}}}]}}]}}"#,
                rng.random_range(1..3)
            );
            apply(&mut cache, &json);
            let market = cache.get("1.1").unwrap();
            for (i, runner) in market.book.view.runners.iter().enumerate() {
                let (full, depth) = (&market.runners[i], &market.book.depth[i]);
                let mut back = Levels::default();
                best_levels(&mut back, &depth.back, &full.batb, &full.bdatb);
                let mut lay = Levels::default();
                best_levels(&mut lay, &depth.lay, &full.batl, &full.bdatl);
                assert_eq!(runner.back, back, "line {line}: {json}");
                assert_eq!(runner.lay, lay, "line {line}: {json}");
                deep += usize::from(depth.back.levels().len() > MAX_DEPTH);
            }
        }
        // Deep ladders, so that most changes lie below the levels shown.
        assert!(deep > 1_000, "{deep}");
    }

    #[test]
    fn price_ladders_insert_update_and_remove_on_zero() {
        let mut c = StreamCache::new();
        apply(
            &mut c,
            r#"{"op":"mcm","pt":1,"mc":[{"id":"1.1","img":true,"rc":[{"id":5,"atb":[[1.6,25.5],[1.59,100]],"atl":[[1.62,14]]}]}]}"#,
        );
        apply(
            &mut c,
            r#"{"op":"mcm","pt":2,"mc":[{"id":"1.1","rc":[{"id":5,"atb":[[1.6,0],[1.61,3]],"atl":[[1.62,0]]}]}]}"#,
        );
        let b = &c.get("1.1").unwrap().book;
        assert_eq!(b.depth[0].back.levels(), &[(1.61, 3.0), (1.59, 100.0)]);
        assert!(b.depth[0].lay.is_empty());
        assert_eq!(b.view.runners[0].best_back().unwrap().price, Price(1.61));
        assert_eq!(b.changed, vec![0]);
    }

    #[test]
    fn level_ladders_set_and_clear_levels() {
        let mut c = StreamCache::new();
        apply(
            &mut c,
            r#"{"op":"mcm","pt":1,"mc":[{"id":"1.1","rc":[{"id":5,"batb":[[0,2.0,10],[1,1.99,5]]}]}]}"#,
        );
        apply(
            &mut c,
            r#"{"op":"mcm","pt":2,"mc":[{"id":"1.1","rc":[{"id":5,"batb":[[1,0,0],[0,2.02,7]]}]}]}"#,
        );
        let v = &c.get("1.1").unwrap().book.view.runners[0];
        assert_eq!(v.back.as_slice(), &[PriceSize::new(2.02, 7.0)]);
    }

    #[test]
    fn runners_sharing_a_hint_or_an_id_are_each_found() {
        // 5, 261 and 517 share a hint's slot; 7 runs at two handicaps.
        let runners = [(5, 0.0), (261, 0.0), (517, 0.0), (7, 0.5), (7, -0.5)];
        let line = |pt: usize, order: &[usize], img: bool| {
            let rc: Vec<String> = order
                .iter()
                .map(|&k| {
                    let (id, hc) = runners[k];
                    format!(r#"{{"id":{id},"hc":{hc},"ltp":{}.{pt}}}"#, k + 2)
                })
                .collect();
            format!(
                r#"{{"op":"mcm","pt":{pt},"mc":[{{"id":"1.1","img":{img},"rc":[{}]}}]}}"#,
                rc.join(",")
            )
        };
        let mut c = StreamCache::new();
        let orders: [&[usize]; 4] = [
            &[0, 1, 2, 3, 4],
            &[2, 0, 4, 1, 3],
            &[4, 3, 2, 1, 0],
            &[1, 1, 3],
        ];
        for (pt, order) in orders.iter().enumerate() {
            apply(&mut c, &line(pt + 1, order, false));
        }
        // An image lists the runners afresh, in another order.
        apply(&mut c, &line(5, &[3, 1, 4, 0, 2], true));
        apply(&mut c, &line(6, &[0, 2, 4], false));
        let market = c.get("1.1").unwrap();
        let found: Vec<(u64, Option<f64>, Option<f64>)> = (market.runners.iter())
            .zip(&market.book.view.runners)
            .map(|(r, v)| (r.id, r.hc, v.last_traded.map(|p| p.0)))
            .collect();
        assert_eq!(
            found,
            [
                (7, Some(0.5), Some(5.5)),
                (261, None, Some(3.5)),
                (7, Some(-0.5), Some(6.6)),
                (5, None, Some(2.6)),
                (517, None, Some(4.6)),
            ]
        );
    }

    #[test]
    fn an_image_replaces_the_market() {
        let mut c = StreamCache::new();
        apply(
            &mut c,
            r#"{"op":"mcm","pt":1,"mc":[{"id":"1.1","rc":[{"id":5,"atb":[[2.0,10]]},{"id":6,"ltp":3.0}]}]}"#,
        );
        apply(
            &mut c,
            r#"{"op":"mcm","pt":2,"mc":[{"id":"1.1","img":true,"rc":[{"id":6,"atb":[[3.0,1]]}]}]}"#,
        );
        let b = &c.get("1.1").unwrap().book;
        assert_eq!(b.view.runners.len(), 1);
        assert_eq!(b.view.runners[0].last_traded, None);
    }

    #[test]
    fn sp_projections_clear_on_nan_or_infinity() {
        let mut c = StreamCache::new();
        apply(
            &mut c,
            r#"{"op":"mcm","pt":1,"mc":[{"id":"1.1","rc":[{"id":5,"spn":3.5,"spf":4.1}]}]}"#,
        );
        assert_eq!(
            c.get("1.1").unwrap().book.view.runners[0].sp_near,
            Some(3.5)
        );
        apply(
            &mut c,
            r#"{"op":"mcm","pt":2,"mc":[{"id":"1.1","rc":[{"id":5,"spn":"Infinity","spf":"NaN"}]}]}"#,
        );
        let r = &c.get("1.1").unwrap().book.view.runners[0];
        assert_eq!((r.sp_near, r.sp_far), (None, None));
    }

    #[test]
    fn definitions_set_status_removals_and_results() {
        let mut c = StreamCache::new();
        apply(
            &mut c,
            r#"{"op":"mcm","pt":1,"mc":[{"id":"1.1","marketDefinition":{"status":"OPEN","inPlay":false,"betDelay":0,"eventTypeId":"7","marketType":"WIN","numberOfWinners":1,"marketTime":"2022-11-07T04:30:00.000Z","runners":[{"id":5,"status":"ACTIVE","adjustmentFactor":40.0,"sortPriority":1},{"id":6,"status":"ACTIVE","adjustmentFactor":60.0,"sortPriority":2}]}}]}"#,
        );
        apply(
            &mut c,
            r#"{"op":"mcm","pt":2,"mc":[{"id":"1.1","marketDefinition":{"status":"CLOSED","inPlay":true,"betDelay":1,"eventTypeId":"7","marketType":"WIN","numberOfWinners":1,"runners":[{"id":5,"status":"REMOVED","adjustmentFactor":40.0,"removalDate":"2022-11-07T03:00:00.000Z","sortPriority":2},{"id":6,"status":"WINNER","bsp":2.5,"sortPriority":1}]}}]}"#,
        );
        let b = &c.get("1.1").unwrap().book;
        assert_eq!(b.view.status, MarketStatus::Closed);
        assert!(b.view.in_play);
        assert_eq!(b.view.bet_delay, 1);
        assert_eq!(b.view.start_time, Timestamp(1_667_795_400_000));
        // Runners keep the order they were first seen in (as betfairlightweight does).
        assert_eq!(b.view.runners[1].selection_id, SelectionId(6));
        assert_eq!(b.view.runners[1].status, RunnerStatus::Winner);
        assert_eq!(b.view.runners[1].bsp, Some(2.5));
        assert_eq!(b.view.runners[0].status, RunnerStatus::Removed);
        assert_eq!(b.depth[0].removed_at, Some(Timestamp(1_667_790_000_000)));
        assert_eq!(b.view.runners[0].adjustment_factor, 40.0);
    }
}
