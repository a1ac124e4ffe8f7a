//! The exchange's markets as the Stream API describes them (venue-protocols
//! A.8): each definition, ladder entry and figure kept with the tick of the
//! exchange clock at which it last changed. A subscriber can then be sent
//! exactly what changed since any tick it has seen (a delta, a conflated
//! delta, a resume after a reconnect) or everything (an image). Removed
//! prices stay as size 0 with their tick, so a delta can say they went.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

/// One price of a price-keyed ladder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// The price.
    pub price: f64,
    /// Its size; 0 once removed.
    pub size: f64,
    /// The tick of its last change.
    pub tick: u64,
}

/// A price-keyed ladder (`atb`, `atl`, `trd`, `spb`, `spl`), by price.
#[derive(Debug, Clone, Default)]
pub struct Ladder(Vec<Entry>);

impl Ladder {
    fn set(&mut self, price: f64, size: f64, tick: u64) {
        match self.0.binary_search_by(|e| e.price.total_cmp(&price)) {
            Ok(i) if self.0[i].size != size => self.0[i] = Entry { price, size, tick },
            Ok(_) => {}
            Err(i) if size != 0.0 => self.0.insert(i, Entry { price, size, tick }),
            Err(_) => {}
        }
    }

    fn clear(&mut self, tick: u64) {
        for e in self.0.iter_mut().filter(|e| e.size != 0.0) {
            (e.size, e.tick) = (0.0, tick);
        }
    }

    /// The prices on offer now, lowest first.
    pub fn live(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.0.iter().filter(|e| e.size != 0.0)
    }

    /// The prices changed after `tick`, removals (size 0) included.
    pub fn since(&self, tick: u64) -> impl Iterator<Item = &Entry> {
        self.0.iter().filter(move |e| e.tick > tick)
    }
}

/// The price-keyed ladders of a runner, in [`Runner::ladders`] order.
pub const LADDERS: [&str; 5] = ["atb", "atl", "trd", "spb", "spl"];
/// The level-keyed ladders, in [`Runner::levels`] order.
pub const LEVELS: [&str; 4] = ["batb", "batl", "bdatb", "bdatl"];
/// The runner figures, in [`Runner::figures`] order.
pub const FIGURES: [&str; 4] = ["ltp", "tv", "spn", "spf"];

/// A value and the tick of its last change.
pub type Ticked<T> = Option<(T, u64)>;

/// One runner's data.
#[derive(Debug, Clone)]
pub struct Runner {
    /// Selection id.
    pub id: i64,
    /// Handicap, where the market has one.
    pub hc: Option<f64>,
    /// The tick of its last change.
    pub tick: u64,
    /// `atb`, `atl`, `trd`, `spb`, `spl`.
    pub ladders: [Ladder; 5],
    /// `batb`, `batl`, `bdatb`, `bdatl` as recorded, by level (size 0 is
    /// an empty level); `None` where the data never had them, and they
    /// are then derived from `atb`/`atl`.
    pub levels: [Option<Vec<(f64, f64)>>; 4],
    /// `ltp`, `tv`, `spn`, `spf`, as written (`spn` may be `"NaN"`).
    pub figures: [Ticked<Value>; 4],
}

impl Runner {
    fn new(id: i64, hc: Option<f64>) -> Runner {
        Runner {
            id,
            hc,
            tick: 0,
            ladders: Default::default(),
            levels: Default::default(),
            figures: Default::default(),
        }
    }

    /// The best `n` levels of level ladder `k` (an index into
    /// [`LEVELS`]) now: as recorded, or else from the full ladder (backs
    /// highest first, lays lowest first).
    pub fn best(&self, k: usize, n: usize, out: &mut Vec<(f64, f64)>) {
        out.clear();
        if let Some(levels) = &self.levels[k] {
            let live = levels.iter().take_while(|(_, size)| *size != 0.0);
            out.extend(live.take(n));
            return;
        }
        let pair = |e: &Entry| (e.price, e.size);
        if k.is_multiple_of(2) {
            out.extend(self.ladders[0].live().rev().take(n).map(pair));
        } else {
            out.extend(self.ladders[1].live().take(n).map(pair));
        }
    }
}

/// One market's data.
#[derive(Debug, Clone)]
pub struct Market {
    /// Market id.
    pub id: String,
    /// The tick of its last change.
    pub tick: u64,
    /// The tick it first appeared at.
    pub born: u64,
    /// The latest `marketDefinition`, as recorded.
    pub definition: Ticked<Value>,
    /// Market traded volume.
    pub tv: Ticked<Value>,
    /// Runners, in the order they first appeared.
    pub runners: Vec<Runner>,
}

impl Market {
    /// A field of the definition, as text (`"7"` and `7` alike).
    pub fn definition_text(&self, key: &str) -> Option<String> {
        match self.definition.as_ref()?.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A yes/no field of the definition.
    pub fn definition_flag(&self, key: &str) -> Option<bool> {
        self.definition.as_ref()?.0.get(key)?.as_bool()
    }

    /// Closed: no new subscription includes it.
    pub fn closed(&self) -> bool {
        self.definition_text("status").as_deref() == Some("CLOSED")
    }

    fn runner(&mut self, id: i64, hc: Option<f64>) -> &mut Runner {
        let at = self.runners.iter().position(|r| r.id == id && r.hc == hc);
        let at = at.unwrap_or_else(|| {
            self.runners.push(Runner::new(id, hc));
            self.runners.len() - 1
        });
        &mut self.runners[at]
    }
}

/// Every market the exchange has replayed, and its clock.
#[derive(Debug, Default)]
pub struct Markets {
    /// Advances by one with each applied message; resume tokens name it.
    pub tick: u64,
    /// Publish time of the latest message, epoch ms.
    pub pt: i64,
    /// In order of first appearance; a market is never removed, so an
    /// index names it for the exchange's life.
    pub list: Vec<Market>,
    index: HashMap<String, usize>,
}

impl Markets {
    /// Apply one line of a stream file; false for lines that are not
    /// market changes (which change nothing).
    pub fn apply_line(&mut self, line: &str) -> Result<bool, serde_json::Error> {
        let message: Line = serde_json::from_str(line)?;
        if message.op.as_deref().is_some_and(|op| op != "mcm") || message.mc.is_empty() {
            return Ok(false);
        }
        self.tick += 1;
        self.pt = self.pt.max(message.pt.unwrap_or(self.pt));
        for change in message.mc {
            self.apply(change);
        }
        Ok(true)
    }

    /// The market with this id.
    pub fn get(&self, id: &str) -> Option<&Market> {
        self.index.get(id).map(|&i| &self.list[i])
    }

    fn apply(&mut self, change: MarketChange) {
        let tick = self.tick;
        let at = *self.index.entry(change.id.clone()).or_insert_with(|| {
            self.list.push(Market {
                id: change.id.clone(),
                tick,
                born: tick,
                definition: None,
                tv: None,
                runners: Vec::new(),
            });
            self.list.len() - 1
        });
        let market = &mut self.list[at];
        market.tick = tick;
        if change.img {
            for runner in &mut market.runners {
                runner.ladders.iter_mut().for_each(|l| l.clear(tick));
                runner.levels = Default::default();
                runner.tick = tick;
            }
        }
        if let Some(definition) = change.market_definition {
            market.definition = Some((definition, tick));
        }
        if let Some(tv) = change.tv {
            market.tv = Some((tv, tick));
        }
        for rc in change.rc {
            apply_runner(market.runner(rc.id, rc.hc), rc, tick);
        }
    }
}

fn apply_runner(runner: &mut Runner, change: RunnerChange, tick: u64) {
    runner.tick = tick;
    let ladders = [change.atb, change.atl, change.trd, change.spb, change.spl];
    for (ladder, points) in runner.ladders.iter_mut().zip(ladders) {
        match points {
            // An empty list clears the ladder (betfairlightweight's reading
            // of `trd: []`, venue-protocols A.8).
            Some(points) if points.is_empty() => ladder.clear(tick),
            Some(points) => points.iter().for_each(|&[p, s]| ladder.set(p, s, tick)),
            None => {}
        }
    }
    let levels = [change.batb, change.batl, change.bdatb, change.bdatl];
    for (kept, points) in runner.levels.iter_mut().zip(levels) {
        let Some(points) = points else { continue };
        let kept = kept.get_or_insert_with(Vec::new);
        for [level, price, size] in points {
            let level = level.clamp(0.0, 9.0) as usize;
            if kept.len() <= level {
                kept.resize(level + 1, (0.0, 0.0));
            }
            kept[level] = if size == 0.0 {
                (0.0, 0.0)
            } else {
                (price, size)
            };
        }
    }
    let figures = [change.ltp, change.tv, change.spn, change.spf];
    for (kept, value) in runner.figures.iter_mut().zip(figures) {
        if let Some(value) = value {
            *kept = Some((value, tick));
        }
    }
}

#[derive(Deserialize)]
struct Line {
    op: Option<String>,
    pt: Option<i64>,
    #[serde(default)]
    mc: Vec<MarketChange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarketChange {
    id: String,
    #[serde(default)]
    img: bool,
    tv: Option<Value>,
    market_definition: Option<Value>,
    #[serde(default)]
    rc: Vec<RunnerChange>,
}

type Pairs = Option<Vec<[f64; 2]>>;
type Triples = Option<Vec<[f64; 3]>>;

#[derive(Deserialize)]
struct RunnerChange {
    id: i64,
    hc: Option<f64>,
    atb: Pairs,
    atl: Pairs,
    trd: Pairs,
    spb: Pairs,
    spl: Pairs,
    batb: Triples,
    batl: Triples,
    bdatb: Triples,
    bdatl: Triples,
    ltp: Option<Value>,
    tv: Option<Value>,
    spn: Option<Value>,
    spf: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = r#"{"op":"mcm","clk":"1","pt":1000,"mc":[{"id":"1.2","img":true,"tv":10,
        "marketDefinition":{"status":"OPEN","eventTypeId":"7"},
        "rc":[{"id":7,"atb":[[2.0,10],[1.9,5]],"atl":[[2.1,3]],"ltp":2.0,"spn":"NaN"}]}]}"#;

    #[test]
    fn a_delta_marks_what_it_changed_and_keeps_removals() {
        let mut m = Markets::default();
        assert!(m.apply_line(IMAGE).unwrap());
        let delta = r#"{"op":"mcm","pt":1500,"mc":[{"id":"1.2","rc":[{"id":7,"atb":[[2.0,0],[1.95,4]]}]}]}"#;
        assert!(m.apply_line(delta).unwrap());
        let market = m.get("1.2").unwrap();
        let atb = &market.runners[0].ladders[0];
        let live: Vec<_> = atb.live().map(|e| (e.price, e.size)).collect();
        assert_eq!(live, [(1.9, 5.0), (1.95, 4.0)]);
        let since: Vec<_> = atb.since(1).map(|e| (e.price, e.size)).collect();
        assert_eq!(since, [(1.95, 4.0), (2.0, 0.0)]);
        assert_eq!((m.tick, m.pt, market.tick), (2, 1500, 2));
        let mut best = Vec::new();
        market.runners[0].best(0, 1, &mut best);
        assert_eq!(best, [(1.95, 4.0)]);
        assert_eq!(market.runners[0].figures[2].as_ref().unwrap().0, "NaN");
    }

    #[test]
    fn an_image_in_mid_stream_replaces_the_market() {
        let mut m = Markets::default();
        m.apply_line(IMAGE).unwrap();
        let again = r#"{"op":"mcm","pt":2000,"mc":[{"id":"1.2","img":true,"rc":[{"id":7,"atl":[[2.2,1]]}]}]}"#;
        m.apply_line(again).unwrap();
        let runner = &m.get("1.2").unwrap().runners[0];
        assert_eq!(runner.ladders[0].live().count(), 0);
        let atl: Vec<_> = runner.ladders[1].live().map(|e| e.price).collect();
        assert_eq!(atl, [2.2]);
        assert!(
            m.apply_line(r#"{"op":"ocm","pt":1}"#)
                .is_ok_and(|changed| !changed)
        );
        assert!(m.apply_line("{oops").is_err());
    }
}
