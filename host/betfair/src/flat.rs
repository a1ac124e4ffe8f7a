//! Stream lines as flat records: what the scanner of `scan` writes as it
//! reads a line, and what is read back into a [`Message`]. A record is a
//! run of entries in three streams, each written and read in order:
//! words (a tag in the low byte, a count, a length or a flag above it,
//! then the entry's own words), floats (prices, sizes and the other
//! numbers, a ladder's points one after another) and bytes (ids, `op`).
//!
//! Entries come in the order of the line's keys, so the scanner writes
//! each value where it finds it, with no message in between; a key sent
//! twice is read back twice, the later replacing the earlier, as serde
//! reads it. An object's entries end with [`END`]; a key it lacks reads
//! back as serde reads a missing key (absent, empty, zero).
//!
//! A list entry says how many words and floats its items take, so a
//! reader may step over a market change's runner changes (which hold no
//! bytes) and leave them
//! where they lie ([`Slots::Leave`]): the market cache then applies each
//! from the record as a borrowed [`RunnerUpdate`] ([`Flat::runner_updates`]),
//! where copying them into the message first was work a backtest need not
//! do.
//!
//! Flat records are also what [`ScannedAhead`](crate::ahead::ScannedAhead)
//! hands from its scanning thread to the engine's: read front to back,
//! as the hardware prefetches them, where a message's lists each lie in a
//! buffer of their own (docs/BENCHMARKS.md, seventh sitting).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use clever_market::short_eq;

use crate::parse::park;
use crate::stream::{
    ChangeType, MarketChange, MarketDefinition, Message, Points, RunnerChange, RunnerUpdate,
};

/// Entry tags. The comment says what follows the tag word, and what its
/// bits from [`SHIFT`] up hold.
pub(crate) mod tag {
    /// The object's entries end.
    pub(crate) const END: u64 = 0;
    /// Message `op`: bits above, its length; bytes.
    pub(crate) const OP: u64 = 1;
    /// Message `pt`: a word.
    pub(crate) const PT: u64 = 2;
    /// Message `ct`: bits above, its place in `ChangeType::ALL`.
    pub(crate) const CT: u64 = 3;
    /// Message `mc`: a list (see [`Flat::open_list`]) of market changes.
    pub(crate) const MC: u64 = 4;
    /// Market change `id`: bits above, its length; bytes.
    pub(crate) const MARKET_ID: u64 = 5;
    /// Market change `img`: bit above, its value.
    pub(crate) const IMG: u64 = 6;
    /// Market change `tv`: bit above, [`SOME`](super::SOME); a float if set.
    pub(crate) const MARKET_TV: u64 = 7;
    /// Market change `marketDefinition`: the next of the definitions.
    pub(crate) const DEFINITION: u64 = 8;
    /// Market change `rc`: a list (see [`Flat::open_list`]) of runner changes.
    pub(crate) const RC: u64 = 9;
    /// Runner change `id`: a word.
    pub(crate) const RUNNER_ID: u64 = 10;
    /// Runner change numbers: bit above, [`SOME`](super::SOME); a float if set.
    pub(crate) const HC: u64 = 11;
    pub(crate) const LTP: u64 = 12;
    pub(crate) const TV: u64 = 13;
    pub(crate) const SPN: u64 = 14;
    pub(crate) const SPF: u64 = 15;
    /// Runner change ladders: bit above, [`SOME`](super::SOME); if set,
    /// bits above that, how many points; their numbers as floats.
    pub(crate) const ATB: u64 = 16;
    pub(crate) const ATL: u64 = 17;
    pub(crate) const TRD: u64 = 18;
    pub(crate) const BATB: u64 = 19;
    pub(crate) const BATL: u64 = 20;
    pub(crate) const BDATB: u64 = 21;
    pub(crate) const BDATL: u64 = 22;
}

/// Where a tag word's own bits end.
const SHIFT: u32 = 8;
/// A number or ladder entry's flag: the value is there (not `null`).
const SOME: u64 = 1 << SHIFT;
/// Where a ladder entry's count of points begins.
const POINTS_SHIFT: u32 = SHIFT + 1;

/// Records of lines (see the module).
#[derive(Clone)]
pub(crate) struct Flat {
    words: Vec<u64>,
    floats: Vec<f64>,
    bytes: Vec<u8>,
    /// Market definitions, which only serde reads, as they are.
    definitions: VecDeque<MarketDefinition>,
    /// Where reading is, in `words`, `floats` and `bytes`.
    word: usize,
    float: usize,
    byte: usize,
    /// Which record this is: the `Flat`'s own number and how often it
    /// was cleared, so that runner changes left waiting in one are never
    /// read from another. (A number per `Flat`, not per clearing: one
    /// counter shared by every thread, touched per line, would bounce
    /// between cores when files run side by side.)
    record: (u64, u64),
}

impl Default for Flat {
    fn default() -> Flat {
        Flat {
            record: (RECORDS.fetch_add(1, Ordering::Relaxed), 0),
            ..Flat::EMPTY
        }
    }
}

/// A message's `Debug` shows what it says, not the scanner's scratch.
impl std::fmt::Debug for Flat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flat").finish_non_exhaustive()
    }
}

/// How long a [`Flat`]'s streams were: where a record began. (Market
/// definitions are not counted: only [`Flat::message`] writes them, and
/// nothing it writes is reset.)
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    words: usize,
    floats: usize,
    bytes: usize,
}

/// A ladder entry whose count is written once its points are: see
/// [`Flat::open_ladder`].
#[must_use]
pub(crate) struct OpenLadder {
    at: usize,
}

/// A list entry whose count and extent are written once its items are:
/// see [`Flat::open_list`].
#[must_use]
pub(crate) struct OpenList {
    at: usize,
    floats: usize,
}

/// Runner changes left in a record where the scanner wrote them (read
/// with [`Slots::Leave`]), for [`Flat::runner_updates`]: where they
/// begin, how many, and the record they lie in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Waiting {
    word: usize,
    float: usize,
    count: usize,
    record: (u64, u64),
}

/// Numbers `Flat`s (see `Flat::record`); 0 is [`Flat::EMPTY`]'s.
static RECORDS: AtomicU64 = AtomicU64::new(1);

impl Flat {
    /// A placeholder, to take a message's record out while it is written
    /// (numbered 0; no runner changes are ever left in it).
    pub(crate) const EMPTY: Flat = Flat {
        words: Vec::new(),
        floats: Vec::new(),
        bytes: Vec::new(),
        definitions: VecDeque::new(),
        word: 0,
        float: 0,
        byte: 0,
        record: (0, 0),
    };

    /// Room for `lines` busy lines: the real race's take some 20 words,
    /// 8 floats and 14 bytes a line on average, but in play a batch of
    /// 256 lines held up to 38 floats a line. Growing a batch copies what
    /// it holds into fresh memory, page fault by page fault: with this
    /// room the scanning thread's faults in that race fell by two fifths
    /// (docs/BENCHMARKS.md, twenty-first sitting). Room never written
    /// costs no memory, only address space.
    pub(crate) fn with_room(lines: usize) -> Flat {
        Flat {
            words: Vec::with_capacity(lines * 64),
            floats: Vec::with_capacity(lines * 48),
            bytes: Vec::with_capacity(lines * 32),
            ..Flat::default()
        }
    }

    pub(crate) fn clear(&mut self) {
        self.words.clear();
        self.floats.clear();
        self.bytes.clear();
        self.definitions.clear();
        (self.word, self.float, self.byte) = (0, 0, 0);
        self.record.1 += 1;
    }

    // Writing.

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            words: self.words.len(),
            floats: self.floats.len(),
            bytes: self.bytes.len(),
        }
    }

    /// Forget what was written since `mark` (a line the scanner left).
    pub(crate) fn reset(&mut self, mark: Mark) {
        self.words.truncate(mark.words);
        self.floats.truncate(mark.floats);
        self.bytes.truncate(mark.bytes);
    }

    #[inline(always)]
    pub(crate) fn word(&mut self, word: u64) {
        self.words.push(word);
    }

    #[inline(always)]
    pub(crate) fn float(&mut self, float: f64) {
        self.floats.push(float);
    }

    /// A message's `pt`.
    #[inline(always)]
    pub(crate) fn pt(&mut self, pt: i64) {
        self.words.push(tag::PT);
        self.words.push(pt as u64);
    }

    /// A message's `ct`, by its place in `ChangeType::ALL`.
    #[inline(always)]
    pub(crate) fn ct(&mut self, ct: ChangeType) {
        let at = ChangeType::ALL.iter().position(|c| *c == ct).unwrap_or(0);
        self.words.push(tag::CT | (at as u64) << SHIFT);
    }

    /// A market change's `img`.
    #[inline(always)]
    pub(crate) fn img(&mut self, img: bool) {
        self.words.push(tag::IMG | u64::from(img) << SHIFT);
    }

    /// A runner change's `id`.
    #[inline(always)]
    pub(crate) fn runner_id(&mut self, id: u64) {
        self.words.push(tag::RUNNER_ID);
        self.words.push(id);
    }

    /// A text entry: `tag`, the length, the bytes.
    #[inline(always)]
    pub(crate) fn text(&mut self, tag: u64, text: &[u8]) {
        self.words.push(tag | (text.len() as u64) << SHIFT);
        self.bytes.extend_from_slice(text);
    }

    /// A number entry: `tag`, and the number if there is one.
    #[inline(always)]
    pub(crate) fn number(&mut self, tag: u64, number: Option<f64>) {
        match number {
            Some(n) => {
                self.words.push(tag | SOME);
                self.floats.push(n);
            }
            None => self.words.push(tag),
        }
    }

    /// A list entry of `tag` (`MC`, `RC`) whose count is not known yet:
    /// its items follow, then [`Flat::close_list`] writes the count in the
    /// tag word, and in the two words after it how many words and floats
    /// the items take, so that a reader may step over a list of runner
    /// changes (which hold no bytes and no definitions: stepping over a
    /// list of market changes would leave those streams behind).
    #[inline(always)]
    pub(crate) fn open_list(&mut self, tag: u64) -> OpenList {
        self.words.extend_from_slice(&[tag, 0, 0]);
        OpenList {
            at: self.words.len() - 3,
            floats: self.floats.len(),
        }
    }

    #[inline(always)]
    pub(crate) fn close_list(&mut self, open: OpenList, count: usize) {
        let words = self.words.len() - (open.at + 3);
        let floats = self.floats.len() - open.floats;
        self.words[open.at] |= (count as u64) << SHIFT;
        self.words[open.at + 1] = words as u64;
        self.words[open.at + 2] = floats as u64;
    }

    /// A ladder entry of `tag` that is there (not `null`), its count of
    /// points not known yet: they follow, then [`Flat::close_ladder`].
    #[inline(always)]
    pub(crate) fn open_ladder(&mut self, tag: u64) -> OpenLadder {
        self.words.push(tag | SOME);
        OpenLadder {
            at: self.words.len() - 1,
        }
    }

    #[inline(always)]
    pub(crate) fn close_ladder(&mut self, open: OpenLadder, count: usize) {
        self.words[open.at] |= (count as u64) << POINTS_SHIFT;
    }

    /// A message read otherwise (by serde), its definitions moved here.
    pub(crate) fn message(&mut self, m: &mut Message) {
        self.text(tag::OP, m.op.as_bytes());
        self.pt(m.pt);
        self.ct(m.ct);
        let changes = self.open_list(tag::MC);
        for change in &mut m.mc {
            self.text(tag::MARKET_ID, change.id.as_bytes());
            self.img(change.img);
            self.number(tag::MARKET_TV, change.tv);
            if let Some(definition) = change.market_definition.take() {
                self.definitions.push_back(definition);
                self.words.push(tag::DEFINITION);
            }
            let runners = self.open_list(tag::RC);
            for r in &change.rc {
                self.runner(r);
            }
            self.close_list(runners, change.rc.len());
            self.words.push(tag::END);
        }
        self.close_list(changes, m.mc.len());
        self.words.push(tag::END);
    }

    fn runner(&mut self, r: &RunnerChange) {
        self.runner_id(r.id);
        self.number(tag::HC, r.hc);
        self.number(tag::LTP, r.ltp);
        self.number(tag::TV, r.tv);
        self.number(tag::SPN, r.spn);
        self.number(tag::SPF, r.spf);
        self.ladder(tag::ATB, &r.atb);
        self.ladder(tag::ATL, &r.atl);
        self.ladder(tag::TRD, &r.trd);
        self.ladder(tag::BATB, &r.batb);
        self.ladder(tag::BATL, &r.batl);
        self.ladder(tag::BDATB, &r.bdatb);
        self.ladder(tag::BDATL, &r.bdatl);
        self.words.push(tag::END);
    }

    fn ladder<const N: usize>(&mut self, tag: u64, p: &Points<N>) {
        if p.present {
            let open = self.open_ladder(tag);
            self.floats.extend_from_slice(p.points.as_flattened());
            self.close_ladder(open, p.points.len());
        } else {
            self.words.push(tag);
        }
    }

    // Reading.

    fn take(&mut self) -> u64 {
        let word = self.words[self.word];
        self.word += 1;
        word
    }

    fn take_number(&mut self, word: u64) -> Option<f64> {
        (word & SOME != 0).then(|| {
            self.float += 1;
            self.floats[self.float - 1]
        })
    }

    /// A text entry's bytes into `into`, left alone if it holds them
    /// already: a market's id and `op` repeat from line to line, and
    /// comparing is cheaper than checking the text again.
    fn take_text_into(&mut self, word: u64, into: &mut String) {
        let len = (word >> SHIFT) as usize;
        let bytes = &self.bytes[self.byte..self.byte + len];
        self.byte += len;
        if !short_eq(bytes, into.as_bytes()) {
            into.clear();
            // Written from a `&str` whole: the default is never taken.
            into.push_str(std::str::from_utf8(bytes).unwrap_or_default());
        }
    }

    /// The next record into `m`, replacing what it held (and keeping its
    /// buffers); runner-change slots come from `slots`.
    pub(crate) fn read_into(&mut self, m: &mut Message, slots: Slots) {
        let (mut op, mut changes) = (false, false);
        (m.pt, m.ct) = (0, ChangeType::Delta);
        loop {
            let word = self.take();
            match word & 0xff {
                tag::OP => {
                    self.take_text_into(word, &mut m.op);
                    op = true;
                }
                tag::PT => m.pt = self.take() as i64,
                tag::CT => {
                    let at = (word >> SHIFT) as usize;
                    m.ct = ChangeType::ALL.get(at).copied().unwrap_or_default();
                }
                tag::MC => {
                    self.word += 2; // The extent: read item by item here.
                    self.changes_into((word >> SHIFT) as usize, m, slots);
                    changes = true;
                }
                _ => break,
            }
        }
        if !op {
            m.op.clear();
        }
        if !changes {
            m.forget_changes();
        }
    }

    fn changes_into(&mut self, count: usize, m: &mut Message, slots: Slots) {
        for n in 0..count {
            if n == m.mc.len() {
                m.mc.push(m.spare_mc.pop().unwrap_or_default());
            }
            self.change_into(&mut m.mc[n], slots, &mut m.spare);
        }
        park(&mut m.mc, count, &mut m.spare_mc);
    }

    fn change_into(
        &mut self,
        change: &mut MarketChange,
        slots: Slots,
        spare: &mut Vec<RunnerChange>,
    ) {
        let (mut id, mut runners) = (false, false);
        (change.img, change.tv, change.market_definition) = (false, None, None);
        change.waiting = None;
        loop {
            let word = self.take();
            match word & 0xff {
                tag::MARKET_ID => {
                    self.take_text_into(word, &mut change.id);
                    id = true;
                }
                tag::IMG => change.img = word >> SHIFT != 0,
                tag::MARKET_TV => change.tv = self.take_number(word),
                tag::DEFINITION => change.market_definition = self.definitions.pop_front(),
                tag::RC => {
                    self.runners_into((word >> SHIFT) as usize, change, slots, spare);
                    runners = true;
                }
                _ => break,
            }
        }
        if !id {
            change.id.clear();
        }
        if !runners {
            fit(&mut change.rc, 0, spare);
        }
    }

    /// A market change's `rc` list of `count` runner changes: read into
    /// its slots, or with [`Slots::Leave`] left where it lies.
    fn runners_into(
        &mut self,
        count: usize,
        change: &mut MarketChange,
        slots: Slots,
        spare: &mut Vec<RunnerChange>,
    ) {
        let (words, floats) = (self.take() as usize, self.take() as usize);
        if slots == Slots::Leave {
            fit(&mut change.rc, 0, spare);
            change.waiting = Some(Waiting {
                word: self.word,
                float: self.float,
                count,
                record: self.record,
            });
            self.word += words;
            self.float += floats;
            return;
        }
        fit(&mut change.rc, count, spare);
        for r in &mut change.rc {
            let mut reader = self.reader(self.word, self.float);
            r.set(&reader.runner());
            (self.word, self.float) = (reader.word, reader.float);
        }
    }

    fn reader(&self, word: usize, float: usize) -> Reader<'_> {
        Reader {
            words: &self.words,
            floats: &self.floats,
            word,
            float,
        }
    }

    /// The runner changes a market change left `waiting` in this record
    /// (read with [`Slots::Leave`]), each as it lies there.
    ///
    /// # Panics
    /// If they were left in another record: reading them from this one
    /// would apply another line's numbers.
    pub(crate) fn runner_updates(&self, waiting: Waiting) -> RunnerUpdates<'_> {
        assert_eq!(
            waiting.record, self.record,
            "runner changes read from another record than the one they were left in"
        );
        RunnerUpdates {
            reader: self.reader(waiting.word, waiting.float),
            left: waiting.count,
        }
    }
}

/// A runner change's entries read where they lie.
struct Reader<'a> {
    words: &'a [u64],
    floats: &'a [f64],
    word: usize,
    float: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self) -> u64 {
        self.word += 1;
        self.words[self.word - 1]
    }

    fn number(&mut self, word: u64) -> Option<f64> {
        (word & SOME != 0).then(|| {
            self.float += 1;
            self.floats[self.float - 1]
        })
    }

    /// A ladder entry's points (`None` if it was `null`).
    fn ladder<const N: usize>(&mut self, word: u64) -> Option<&'a [[f64; N]]> {
        (word & SOME != 0).then(|| {
            let len = (word >> POINTS_SHIFT) as usize * N;
            let (points, _) = self.floats[self.float..self.float + len].as_chunks::<N>();
            self.float += len;
            points
        })
    }

    /// The next runner change, its entries in order: a key sent twice
    /// leaves the later value, as serde reads it.
    fn runner(&mut self) -> RunnerUpdate<'a> {
        let mut r = RunnerUpdate::default();
        loop {
            let word = self.take();
            match word & 0xff {
                tag::RUNNER_ID => r.id = self.take(),
                tag::HC => r.hc = self.number(word),
                tag::LTP => r.ltp = self.number(word),
                tag::TV => r.tv = self.number(word),
                tag::SPN => r.spn = self.number(word),
                tag::SPF => r.spf = self.number(word),
                tag::ATB => r.atb = self.ladder(word),
                tag::ATL => r.atl = self.ladder(word),
                tag::TRD => r.trd = self.ladder(word),
                tag::BATB => r.batb = self.ladder(word),
                tag::BATL => r.batl = self.ladder(word),
                tag::BDATB => r.bdatb = self.ladder(word),
                tag::BDATL => r.bdatl = self.ladder(word),
                _ => return r,
            }
        }
    }
}

/// Runner changes left waiting in a record: see [`Flat::runner_updates`].
pub(crate) struct RunnerUpdates<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for RunnerUpdates<'a> {
    type Item = RunnerUpdate<'a>;

    fn next(&mut self) -> Option<RunnerUpdate<'a>> {
        self.left = self.left.checked_sub(1)?;
        Some(self.reader.runner())
    }
}

/// What reading a record does with a market change's runner changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slots {
    /// Read into the change's slots, taken from and parked in the
    /// message's spare slots as serde takes them (`parse::park`): a
    /// message read line by line, now one way, now the other, allocates
    /// nothing once its slots' buffers have grown.
    Spare,
    /// Left in the record (the change's `rc` is empty and its `waiting`
    /// says where they lie), to be applied from there
    /// ([`Flat::runner_updates`]) without a copy.
    Leave,
}

/// Make `list` one of `len` slots (their contents stale), taking slots
/// from `spare` and parking those past `len` there.
fn fit(list: &mut Vec<RunnerChange>, len: usize, spare: &mut Vec<RunnerChange>) {
    while list.len() < len {
        list.push(spare.pop().unwrap_or_default());
    }
    park(list, len, spare);
}
