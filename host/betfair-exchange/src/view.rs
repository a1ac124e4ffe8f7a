//! One market subscription's view of the exchange's markets (venue-protocols
//! A.5, A.8): which markets it selects, which keys of them it gets, and the
//! `mc` items of its images and deltas. Level ladders (`batb`, `bdatb`, ...)
//! are cut to the subscription's depth, so the view remembers what it last
//! sent of each and sends the levels that differ, as Betfair does.

use std::collections::{HashMap, HashSet};

use clever_betfair::esa::{Field, MarketFilter, MarketSubscription};
use serde_json::{Map, Value, json};

use crate::markets::{FIGURES, LADDERS, LEVELS, Market, Markets, Runner};

/// Depth of level ladders when a subscription does not say.
pub const DEFAULT_LADDER_LEVELS: usize = 3;

/// What a market subscription is sent.
#[derive(Debug)]
pub struct View {
    filter: MarketFilter,
    /// Per key of [`LADDERS`], [`LEVELS`] and [`FIGURES`]: sent or not.
    ladders: [bool; 5],
    levels: [bool; 4],
    figures: [bool; 4],
    definition: bool,
    market_tv: bool,
    depth: usize,
    /// Markets already sent (anything new to the client comes as an image).
    known: HashSet<usize>,
    /// The level ladders last sent, by (market, runner, ladder).
    sent: HashMap<(usize, usize, usize), Vec<(f64, f64)>>,
    scratch: Vec<(f64, f64)>,
}

impl View {
    /// The view of `subscription`.
    pub fn new(subscription: &MarketSubscription) -> View {
        let data = subscription.market_data_filter.clone().unwrap_or_default();
        let has = |f: Field| data.fields.contains(&f);
        let (all, traded, sp) = (
            has(Field::ExAllOffers),
            has(Field::ExTraded),
            has(Field::SpTraded),
        );
        let (best, disp) = (has(Field::ExBestOffers), has(Field::ExBestOffersDisp));
        let volume = has(Field::ExTradedVol);
        let projected = has(Field::SpProjected);
        View {
            filter: subscription.market_filter.clone().unwrap_or_default(),
            ladders: [all, all, traded, sp, sp],
            levels: [best, best, disp, disp],
            figures: [has(Field::ExLtp), volume, projected, projected],
            definition: has(Field::ExMarketDef),
            market_tv: volume,
            depth: data
                .ladder_levels
                .map_or(DEFAULT_LADDER_LEVELS, |n| usize::from(n.clamp(1, 10))),
            known: HashSet::new(),
            sent: HashMap::new(),
            scratch: Vec::new(),
        }
    }

    /// Whether the subscription selects `market`. Without a definition a
    /// market matches only a filter that names no more than market ids.
    pub fn selects(&self, market: &Market) -> bool {
        let f = &self.filter;
        let among = |list: &Option<Vec<String>>, key: &str| match list {
            None => true,
            Some(list) => market
                .definition_text(key)
                .is_some_and(|v| list.contains(&v)),
        };
        let flag = |want: Option<bool>, key: &str| {
            want.is_none_or(|want| market.definition_flag(key) == Some(want))
        };
        f.market_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&market.id))
            && among(&f.event_type_ids, "eventTypeId")
            && among(&f.event_ids, "eventId")
            && among(&f.country_codes, "countryCode")
            && among(&f.market_types, "marketType")
            && among(&f.venues, "venue")
            && among(&f.race_types, "raceType")
            && among(&f.betting_types, "bettingType")
            && flag(f.bsp_market, "bspMarket")
            && flag(f.turn_in_play_enabled, "turnInPlayEnabled")
    }

    /// How many open markets it selects (for the subscription limit).
    pub fn count(&self, markets: &Markets) -> usize {
        let open = markets.list.iter().filter(|m| !m.closed());
        open.filter(|m| self.selects(m)).count()
    }

    /// Every open market it selects, in full.
    pub fn image(&mut self, markets: &Markets) -> Vec<Value> {
        self.known.clear();
        self.sent.clear();
        let mut items = Vec::new();
        for (at, market) in markets.list.iter().enumerate() {
            if !market.closed() && self.selects(market) {
                items.push(self.market(at, market, None));
            }
        }
        items
    }

    /// A client resuming from `tick` (A.9) has every market it selects
    /// that existed then; which levels it holds is not known, so the first
    /// delta of each level ladder rewrites all of them.
    pub fn resume(&mut self, markets: &Markets, tick: u64) {
        self.known.clear();
        self.sent.clear();
        for (at, market) in markets.list.iter().enumerate() {
            if market.born <= tick && self.selects(market) {
                self.known.insert(at);
            }
        }
    }

    /// What changed after `tick` in the markets it selects; a market the
    /// client has not had yet comes whole, with `img: true`.
    pub fn delta(&mut self, markets: &Markets, tick: u64) -> Vec<Value> {
        let mut items = Vec::new();
        for (at, market) in markets.list.iter().enumerate() {
            if market.tick <= tick || !self.selects(market) {
                continue;
            }
            let since = self.known.contains(&at).then_some(tick);
            let item = self.market(at, market, since);
            if since.is_none() || item.as_object().is_some_and(|o| o.len() > 1) {
                items.push(item);
            }
        }
        items
    }

    /// One market's `mc` item: everything (`since` = `None`) or what
    /// changed after `since`.
    fn market(&mut self, at: usize, market: &Market, since: Option<u64>) -> Value {
        self.known.insert(at);
        let fresh = |tick: u64| since.is_none_or(|s| tick > s);
        let mut item = Map::new();
        item.insert("id".into(), json!(market.id));
        if since.is_none() {
            item.insert("img".into(), json!(true));
        }
        if let Some((tv, tick)) = &market.tv
            && self.market_tv
            && fresh(*tick)
        {
            item.insert("tv".into(), tv.clone());
        }
        if let Some((definition, tick)) = &market.definition
            && self.definition
            && fresh(*tick)
        {
            item.insert("marketDefinition".into(), definition.clone());
        }
        let mut rc = Vec::new();
        for (r, runner) in market.runners.iter().enumerate() {
            if fresh(runner.tick)
                && let Some(change) = self.runner((at, r), runner, since)
            {
                rc.push(change);
            }
        }
        if !rc.is_empty() {
            item.insert("rc".into(), Value::Array(rc));
        }
        Value::Object(item)
    }

    fn runner(
        &mut self,
        key: (usize, usize),
        runner: &Runner,
        since: Option<u64>,
    ) -> Option<Value> {
        let mut change = Map::new();
        for (k, name) in LADDERS.iter().enumerate() {
            if !self.ladders[k] {
                continue;
            }
            let ladder = &runner.ladders[k];
            let points: Vec<Value> = match since {
                None => ladder.live().map(|e| json!([e.price, e.size])).collect(),
                Some(s) => ladder.since(s).map(|e| json!([e.price, e.size])).collect(),
            };
            if !points.is_empty() {
                change.insert((*name).into(), Value::Array(points));
            }
        }
        for (k, name) in LEVELS.iter().enumerate() {
            if self.levels[k]
                && let Some(points) = self.levels_changed(key, k, runner, since.is_none())
            {
                change.insert((*name).into(), Value::Array(points));
            }
        }
        for (k, name) in FIGURES.iter().enumerate() {
            if let Some((value, tick)) = &runner.figures[k]
                && self.figures[k]
                && since.is_none_or(|s| *tick > s)
            {
                change.insert((*name).into(), value.clone());
            }
        }
        if change.is_empty() {
            return None;
        }
        change.insert("id".into(), json!(runner.id));
        if let Some(hc) = runner.hc {
            change.insert("hc".into(), json!(hc));
        }
        Some(Value::Object(change))
    }

    /// The levels of ladder `k` that differ from those last sent (all of
    /// them for an image), as `[level, price, size]`; `[level, 0, 0]` for
    /// a level that emptied.
    fn levels_changed(
        &mut self,
        (market, runner): (usize, usize),
        k: usize,
        data: &Runner,
        image: bool,
    ) -> Option<Vec<Value>> {
        data.best(k, self.depth, &mut self.scratch);
        // Unknown to this view: every level differs from NaN, so all are
        // written, empty ones as [level, 0, 0].
        let depth = self.depth;
        let sent = (self.sent.entry((market, runner, k)))
            .or_insert_with(|| vec![(f64::NAN, f64::NAN); depth]);
        if image {
            sent.clear();
        }
        let mut points = Vec::new();
        for level in 0..self.scratch.len().max(sent.len()) {
            let now = self.scratch.get(level).copied();
            if now != sent.get(level).copied() {
                let (price, size) = now.unwrap_or((0.0, 0.0));
                points.push(json!([level, price, size]));
            }
        }
        sent.clone_from(&self.scratch);
        (!points.is_empty()).then_some(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribe(text: &str) -> View {
        View::new(&serde_json::from_str(text).unwrap())
    }

    const IMAGE: &str = r#"{"op":"mcm","pt":1000,"mc":[{"id":"1.2","img":true,"tv":10,
        "marketDefinition":{"status":"OPEN","eventTypeId":"7","countryCode":"GB"},
        "rc":[{"id":7,"atb":[[2.0,10],[1.9,5]],"atl":[[2.1,3]],"ltp":2.0}]}]}"#;

    #[test]
    fn filters_select_markets_by_their_definition() {
        let mut m = Markets::default();
        m.apply_line(IMAGE).unwrap();
        let market = &m.list[0];
        for (filter, selected) in [
            (r#"{}"#, true),
            (
                r#"{"marketFilter":{"eventTypeIds":["7"],"countryCodes":["GB","IE"]}}"#,
                true,
            ),
            (r#"{"marketFilter":{"eventTypeIds":["4339"]}}"#, false),
            (r#"{"marketFilter":{"marketIds":["1.3"]}}"#, false),
            (r#"{"marketFilter":{"bspMarket":true}}"#, false),
        ] {
            assert_eq!(subscribe(filter).selects(market), selected, "{filter}");
        }
    }

    #[test]
    fn deltas_carry_only_the_subscribed_keys_and_the_levels_that_moved() {
        let mut m = Markets::default();
        m.apply_line(IMAGE).unwrap();
        let mut view = subscribe(
            r#"{"marketDataFilter":{"fields":["EX_BEST_OFFERS","EX_LTP"],"ladderLevels":2}}"#,
        );
        let image = view.image(&m);
        assert_eq!(
            image,
            [
                json!({"id":"1.2","img":true,"rc":[{"id":7,"batb":[[0,2.0,10.0],[1,1.9,5.0]],
                "batl":[[0,2.1,3.0]],"ltp":2.0}]})
            ]
        );
        let tick = m.tick;
        m.apply_line(r#"{"op":"mcm","pt":1100,"mc":[{"id":"1.2","tv":12,"rc":[{"id":7,"atb":[[2.0,0]],"trd":[[2.0,2]]}]}]}"#)
            .unwrap();
        // 2.0 went: 1.9 moves up to level 0 and level 1 empties. The
        // traded ladder and volume are not subscribed.
        assert_eq!(
            view.delta(&m, tick),
            [json!({"id":"1.2","rc":[{"id":7,"batb":[[0,1.9,5.0],[1,0.0,0.0]]}]})]
        );
        let tick = m.tick;
        m.apply_line(r#"{"op":"mcm","pt":1200,"mc":[{"id":"1.2","tv":13}]}"#)
            .unwrap();
        assert!(view.delta(&m, tick).is_empty());
    }

    #[test]
    fn a_market_new_to_the_client_comes_as_an_image() {
        let mut m = Markets::default();
        let mut view = subscribe(r#"{"marketDataFilter":{"fields":["EX_ALL_OFFERS"]}}"#);
        assert!(view.image(&m).is_empty());
        m.apply_line(IMAGE).unwrap();
        let delta = view.delta(&m, 0);
        assert_eq!(delta[0]["img"], json!(true));
        assert_eq!(delta[0]["rc"][0]["atb"], json!([[1.9, 5.0], [2.0, 10.0]]));
    }
}
