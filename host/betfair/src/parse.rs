//! Reading stream messages in place: serde visitors that write each line
//! into an existing [`Message`], reusing its strings and vectors, so that a
//! backtest reads a delta without allocating once the buffers have grown.
//! The same visitors back `Deserialize` for the message types, so there is
//! one reading of the format whichever way a line is read.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::flat::{Flat, Slots};
use crate::stream::{MarketChange, Message, Points, RunnerChange};

impl Message {
    /// Read `text` (one line) into this message, replacing what it held
    /// and keeping its buffers. An ordinary delta is read by the quick
    /// scanner of `scan`; any other line by serde.
    pub fn parse(&mut self, text: &str) -> serde_json::Result<()> {
        if self.parse_quickly(text, Slots::Spare) {
            return Ok(());
        }
        self.parse_with_serde(text)
    }

    /// [`Message::parse`], but the runner changes of a line the scanner
    /// reads are left in this message's record (see `flat::Slots::Leave`).
    pub(crate) fn parse_leaving_runners(&mut self, text: &str) -> serde_json::Result<()> {
        if self.parse_quickly(text, Slots::Leave) {
            return Ok(());
        }
        self.parse_with_serde(text)
    }

    /// Read `text` with the quick scanner, through a flat record; false,
    /// with this message unchanged, if it leaves the line to serde.
    pub(crate) fn parse_quickly(&mut self, text: &str, slots: Slots) -> bool {
        // Not `mem::take`: a default `Flat` takes a number from a counter
        // every thread shares.
        let mut flat = std::mem::replace(&mut self.flat, Flat::EMPTY);
        flat.clear();
        let read = crate::scan::read(&mut flat, text.as_bytes());
        if read {
            flat.read_into(self, slots);
        }
        self.flat = flat;
        read
    }

    /// [`Message::parse`] without the quick scanner: the reference.
    pub(crate) fn parse_with_serde(&mut self, text: &str) -> serde_json::Result<()> {
        let mut de = serde_json::Deserializer::from_str(text);
        let read = MessageInto(self)
            .deserialize(&mut de)
            .and_then(|()| de.end());
        if read.is_err() {
            // Half a line, or the line before it, must not look read.
            self.forget_changes();
        }
        read
    }

    /// Empty `mc`, keeping its changes' buffers for later lines.
    pub(crate) fn forget_changes(&mut self) {
        park(&mut self.mc, 0, &mut self.spare_mc);
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut message = Message::default();
        MessageInto(&mut message).deserialize(d)?;
        Ok(message)
    }
}

impl<'de> Deserialize<'de> for MarketChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut change = MarketChange::default();
        let mut spare = Vec::new();
        ChangeInto(&mut change, &mut spare).deserialize(d)?;
        Ok(change)
    }
}

impl<'de> Deserialize<'de> for RunnerChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut change = RunnerChange::default();
        RunnerInto(&mut change).deserialize(d)?;
        Ok(change)
    }
}

impl<'de, const N: usize> Deserialize<'de> for Points<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut points = Points::default();
        PointsInto(&mut points).deserialize(d)?;
        Ok(points)
    }
}

/// The keys read; any other key is skipped.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Key {
    Op,
    Pt,
    Ct,
    Mc,
    Id,
    Img,
    Tv,
    MarketDefinition,
    Rc,
    Hc,
    Atb,
    Atl,
    Batb,
    Batl,
    Bdatb,
    Bdatl,
    Trd,
    Ltp,
    Spn,
    Spf,
    #[serde(other)]
    Other,
}

/// A map visitor that writes into `self`, key by key.
trait Fill<'de> {
    const WHAT: &'static str;
    fn clear(&mut self);
    fn key<A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error>;
}

/// Reads a JSON object into a [`Fill`].
struct ObjectInto<'a, T>(&'a mut T);

impl<'de, T: Fill<'de>> DeserializeSeed<'de> for ObjectInto<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Fill<'de>> Visitor<'de> for ObjectInto<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::WHAT)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.clear();
        while let Some(key) = map.next_key::<Key>()? {
            self.0.key(key, &mut map)?;
        }
        Ok(())
    }
}

struct MessageInto<'a>(&'a mut Message);

impl<'de> DeserializeSeed<'de> for MessageInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let mut fill = MessageFill {
            m: self.0,
            mc_seen: false,
        };
        ObjectInto(&mut fill).deserialize(d)?;
        if !fill.mc_seen {
            fill.m.forget_changes();
        }
        Ok(())
    }
}

/// A message being read. Its market changes stay in place from line to
/// line (moving them is a copy of each), so a line without `mc` must
/// empty the list once it is read.
struct MessageFill<'a> {
    m: &'a mut Message,
    mc_seen: bool,
}

impl<'de> Fill<'de> for MessageFill<'_> {
    const WHAT: &'static str = "a stream message (an object)";
    fn clear(&mut self) {
        self.m.clear_but_changes();
        self.mc_seen = false;
    }
    fn key<A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        let m = &mut *self.m;
        match key {
            Key::Op => map.next_value_seed(StrInto(&mut m.op))?,
            Key::Pt => m.pt = map.next_value::<Option<i64>>()?.unwrap_or(0),
            Key::Ct => m.ct = map.next_value::<Option<_>>()?.unwrap_or_default(),
            Key::Mc => {
                self.mc_seen = true;
                map.next_value_seed(ListInto {
                    list: &mut m.mc,
                    spare: &mut m.spare_mc,
                    ctx: &mut m.spare,
                })?
            }
            _ => {
                map.next_value::<Skip>()?;
            }
        }
        Ok(())
    }
}

/// An element of a list read in place: slots come from a pool of spares,
/// so their buffers outlive the line; `Ctx` is what reading one needs.
trait Slot: Default {
    type Ctx;
    const WHAT: &'static str;
    fn read<'de, A: SeqAccess<'de>>(
        seq: &mut A,
        slot: &mut Self,
        ctx: &mut Self::Ctx,
    ) -> Result<Option<()>, A::Error>;
}

impl Slot for MarketChange {
    type Ctx = Vec<RunnerChange>;
    const WHAT: &'static str = "a list of market changes";
    fn read<'de, A: SeqAccess<'de>>(
        seq: &mut A,
        slot: &mut Self,
        spare: &mut Vec<RunnerChange>,
    ) -> Result<Option<()>, A::Error> {
        seq.next_element_seed(ChangeInto(slot, spare))
    }
}

impl Slot for RunnerChange {
    type Ctx = ();
    const WHAT: &'static str = "a list of runner changes";
    fn read<'de, A: SeqAccess<'de>>(
        seq: &mut A,
        slot: &mut Self,
        _: &mut (),
    ) -> Result<Option<()>, A::Error> {
        seq.next_element_seed(RunnerInto(slot))
    }
}

/// Move the slots of `list` past the first `keep` to `spare`, last first,
/// so that they come back in the order they had.
pub(crate) fn park<T>(list: &mut Vec<T>, keep: usize, spare: &mut Vec<T>) {
    spare.extend(list.drain(keep..).rev());
}

/// A list (`null` reads as empty) into `list`, the n-th element into the
/// n-th slot the list already holds (whose buffers have grown for such
/// lines), more slots taken from `spare`; slots past the end are parked
/// there ([`park`]).
struct ListInto<'a, T: Slot> {
    list: &'a mut Vec<T>,
    spare: &'a mut Vec<T>,
    ctx: &'a mut T::Ctx,
}

impl<'de, T: Slot> DeserializeSeed<'de> for ListInto<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Slot> Visitor<'de> for ListInto<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::WHAT)
    }
    fn visit_none<E>(self) -> Result<(), E> {
        park(self.list, 0, self.spare);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        park(self.list, 0, self.spare);
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ListInto { list, spare, ctx } = self;
        let mut n = 0;
        loop {
            let read = if n < list.len() {
                T::read(&mut seq, &mut list[n], ctx)?
            } else {
                // Read into the spare itself and move it only if an element
                // came: most lists end here, and a slot is hundreds of bytes.
                if spare.is_empty() {
                    spare.push(T::default());
                }
                let last = spare.len() - 1;
                let read = T::read(&mut seq, &mut spare[last], ctx)?;
                if read.is_some() {
                    list.extend(spare.pop());
                }
                read
            };
            if read.is_none() {
                park(list, n, spare);
                return Ok(());
            }
            n += 1;
        }
    }
}

/// One market change; its runner changes are taken from `spare`.
struct ChangeInto<'a>(&'a mut MarketChange, &'a mut Vec<RunnerChange>);

impl<'de> DeserializeSeed<'de> for ChangeInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let ChangeInto(change, spare) = self;
        let mut fill = ChangeFill {
            change,
            spare,
            rc_seen: false,
        };
        ObjectInto(&mut fill).deserialize(d)?;
        if !fill.rc_seen {
            park(&mut fill.change.rc, 0, fill.spare);
        }
        Ok(())
    }
}

/// A market change being read; its runner changes stay in place, as a
/// message's market changes do (see `MessageFill`).
struct ChangeFill<'a> {
    change: &'a mut MarketChange,
    spare: &'a mut Vec<RunnerChange>,
    rc_seen: bool,
}

impl<'de> Fill<'de> for ChangeFill<'_> {
    const WHAT: &'static str = "a market change (an object)";
    fn clear(&mut self) {
        self.change.clear_but_runners();
        self.rc_seen = false;
    }
    fn key<A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        let c = &mut *self.change;
        match key {
            Key::Id => map.next_value_seed(StrInto(&mut c.id))?,
            Key::Img => c.img = map.next_value::<Option<bool>>()?.unwrap_or(false),
            Key::Tv => c.tv = map.next_value()?,
            Key::MarketDefinition => c.market_definition = map.next_value()?,
            Key::Rc => {
                self.rc_seen = true;
                map.next_value_seed(ListInto {
                    list: &mut c.rc,
                    spare: self.spare,
                    ctx: &mut (),
                })?
            }
            _ => {
                map.next_value::<Skip>()?;
            }
        }
        Ok(())
    }
}

struct RunnerInto<'a>(&'a mut RunnerChange);

impl<'de> DeserializeSeed<'de> for RunnerInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        ObjectInto(self.0).deserialize(d)
    }
}

impl<'de> Fill<'de> for RunnerChange {
    const WHAT: &'static str = "a runner change (an object)";
    fn clear(&mut self) {
        RunnerChange::clear(self);
    }
    fn key<A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        match key {
            Key::Id => self.id = map.next_value()?,
            Key::Hc => self.hc = map.next_value()?,
            Key::Atb => map.next_value_seed(PointsInto(&mut self.atb))?,
            Key::Atl => map.next_value_seed(PointsInto(&mut self.atl))?,
            Key::Trd => map.next_value_seed(PointsInto(&mut self.trd))?,
            Key::Batb => map.next_value_seed(PointsInto(&mut self.batb))?,
            Key::Batl => map.next_value_seed(PointsInto(&mut self.batl))?,
            Key::Bdatb => map.next_value_seed(PointsInto(&mut self.bdatb))?,
            Key::Bdatl => map.next_value_seed(PointsInto(&mut self.bdatl))?,
            Key::Ltp => self.ltp = map.next_value()?,
            Key::Tv => self.tv = map.next_value()?,
            Key::Spn => self.spn = map.next_value::<FiniteOrNan>()?.0,
            Key::Spf => self.spf = map.next_value::<FiniteOrNan>()?.0,
            _ => {
                map.next_value::<Skip>()?;
            }
        }
        Ok(())
    }
}

/// A ladder key: `null` reads as absent, a list as present.
struct PointsInto<'a, const N: usize>(&'a mut Points<N>);

impl<'de, const N: usize> DeserializeSeed<'de> for PointsInto<'_, N> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for PointsInto<'_, N> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {N}-number lists")
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let points = &mut *self.0;
        points.clear();
        points.present = true;
        while let Some(point) = seq.next_element::<Point<N>>()? {
            points.points.push(point.0);
        }
        Ok(())
    }
}

/// `[a, b]` or `[a, b, c]`: exactly `N` numbers.
struct Point<const N: usize>([f64; N]);

impl<'de, const N: usize> Deserialize<'de> for Point<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(PointVisitor::<N>)
    }
}

struct PointVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for PointVisitor<N> {
    type Value = Point<N>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {N} numbers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Point<N>, A::Error> {
        let mut point = [0.0; N];
        for (i, slot) in point.iter_mut().enumerate() {
            *slot = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(i, &self))?;
        }
        if seq.next_element::<Skip>()?.is_some() {
            return Err(de::Error::invalid_length(N + 1, &self));
        }
        Ok(Point(point))
    }
}

/// A value skipped without allocating: serde_json's own skipping
/// (`IgnoredAny`) keeps the nesting of a skipped list in a buffer that is
/// new for every line (Betfair's `spb` and `spl` ladders are skipped here).
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Skip, D::Error> {
        Skip::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// A string into a reused `String`.
struct StrInto<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for StrInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for StrInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.clear();
        self.0.push_str(v);
        Ok(())
    }
}

/// A number that Betfair may also write as the string `"NaN"`,
/// `"Infinity"` or `"-Infinity"` (seen on `spn`/`spf`); those read as NaN:
/// present (the value changed) but no usable projection. `null` is absent.
struct FiniteOrNan(Option<f64>);

impl<'de> Deserialize<'de> for FiniteOrNan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FiniteOrNanVisitor)
    }
}

struct FiniteOrNanVisitor;

impl Visitor<'_> for FiniteOrNanVisitor {
    type Value = FiniteOrNan;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
    }
    fn visit_f64<E>(self, v: f64) -> Result<FiniteOrNan, E> {
        Ok(FiniteOrNan(Some(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<FiniteOrNan, E> {
        Ok(FiniteOrNan(Some(v as f64)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<FiniteOrNan, E> {
        Ok(FiniteOrNan(Some(v as f64)))
    }
    fn visit_unit<E>(self) -> Result<FiniteOrNan, E> {
        Ok(FiniteOrNan(None))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<FiniteOrNan, E> {
        match v {
            "NaN" | "Infinity" | "-Infinity" => Ok(FiniteOrNan(Some(f64::NAN))),
            _ => Err(E::custom(format!("expected a number, got \"{v}\""))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::ChangeType;

    const DELTA: &str = r#"{"op":"mcm","clk":"1","pt":5,"mc":[{"id":"1.2","rc":[{"atb":[[2.0,10],[2.02,0]],"id":7},{"id":8,"trd":[],"ltp":3.5,"spn":"NaN"}]}]}"#;

    #[test]
    fn a_delta_reads_every_key_whatever_their_order() {
        let m: Message = serde_json::from_str(DELTA).unwrap();
        assert_eq!((m.op.as_str(), m.pt, m.ct), ("mcm", 5, ChangeType::Delta));
        let rc = &m.mc[0].rc;
        assert_eq!(m.mc[0].id, "1.2");
        assert_eq!(rc[0].id, 7);
        assert_eq!(rc[0].atb.get(), Some(&[[2.0, 10.0], [2.02, 0.0]][..]));
        assert_eq!(rc[0].atl.get(), None);
        assert_eq!(rc[1].trd.get(), Some(&[][..]), "an empty list is present");
        assert_eq!(rc[1].ltp, Some(3.5));
        assert!(rc[1].spn.is_some_and(f64::is_nan));
    }

    #[test]
    fn a_reused_message_forgets_the_previous_line() {
        let mut m = Message::default();
        m.parse(DELTA).unwrap();
        m.parse(r#"{"op":"mcm","pt":6,"ct":"HEARTBEAT","mc":[{"id":"1.3","img":true,"rc":[{"id":9,"atl":[[4.0,1]]}]}]}"#)
            .unwrap();
        assert_eq!((m.pt, m.ct), (6, ChangeType::Heartbeat));
        assert_eq!(m.mc.len(), 1);
        let (c, r) = (&m.mc[0], &m.mc[0].rc[0]);
        assert_eq!((c.id.as_str(), c.img, c.rc.len()), ("1.3", true, 1));
        assert_eq!(
            (r.id, r.atb.get(), r.trd.get(), r.ltp),
            (9, None, None, None)
        );
        assert_eq!(r.atl.get(), Some(&[[4.0, 1.0]][..]));
        m.parse(r#"{"op":"status"}"#).unwrap();
        assert!(m.mc.is_empty() && m.pt == 0 && m.op == "status");
        // Changes and runner changes are reused in place: a change without
        // `rc`, or a `null` list, leaves none behind.
        m.parse(DELTA).unwrap();
        assert!(!m.mc[0].rc.is_empty());
        m.parse(r#"{"op":"mcm","pt":7,"mc":[{"id":"1.3","tv":5}]}"#)
            .unwrap();
        assert_eq!(
            (m.mc.len(), m.mc[0].rc.len(), m.mc[0].tv),
            (1, 0, Some(5.0))
        );
        m.parse(r#"{"op":"mcm","pt":8,"mc":null}"#).unwrap();
        assert!(m.mc.is_empty());
        // A bad line, before or after its `mc`, leaves no change behind.
        m.parse(DELTA).unwrap();
        assert!(m.parse(r#"{"op":"mcm","pt":"late","mc":[]}"#).is_err());
        assert!(m.mc.is_empty());
        m.parse(DELTA).unwrap();
        assert!(
            m.parse(r#"{"op":"mcm","mc":[{"id":"1.3","rc":[{"id":"x"}]}]}"#)
                .is_err()
        );
        assert!(m.mc.is_empty());
    }

    #[test]
    fn bad_lines_say_what_was_wrong() {
        let mut m = Message::default();
        let short = m.parse(r#"{"op":"mcm","mc":[{"id":"1.2","rc":[{"id":1,"atb":[[2.0]]}]}]}"#);
        assert!(short.unwrap_err().to_string().contains("2 numbers"));
        let text = m.parse(r#"{"op":"mcm","mc":[{"id":"1.2","rc":[{"id":1,"spf":"soon"}]}]}"#);
        assert!(text.unwrap_err().to_string().contains("got \"soon\""));
        assert!(m.parse(r#"{"op":"mcm"} trailing"#).is_err());
    }

    /// Counts this thread's allocations, to check the claim above.
    #[allow(unsafe_code)]
    mod counting {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            pub static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
        }

        struct Counting;

        fn count() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }

        // SAFETY: every call is passed on to the system allocator unchanged.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                count();
                unsafe { System.alloc(layout) }
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                unsafe { System.dealloc(ptr, layout) }
            }
            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
                count();
                unsafe { System.realloc(ptr, layout, size) }
            }
        }

        #[global_allocator]
        static COUNTING: Counting = Counting;
    }

    #[test]
    fn a_reused_message_reads_the_real_race_allocating_only_for_definitions() {
        use std::io::BufRead;
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/betfair/1-206064380.bz2"
        );
        let file = std::fs::File::open(path).unwrap();
        let lines: Vec<String> = std::io::BufReader::new(bzip2::read::MultiBzDecoder::new(file))
            .lines()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut m = Message::default();
        let allocations = || counting::ALLOCATIONS.with(|n| n.get());
        // Each pass over the race: the lines without a definition that
        // allocated. The first pass grows the buffers; the second must not.
        let mut pass = || {
            let (mut deltas, mut allocating) = (0, Vec::new());
            for (i, line) in lines.iter().enumerate() {
                let before = allocations();
                m.parse(line).unwrap();
                if m.mc.iter().all(|c| c.market_definition.is_none()) {
                    deltas += 1;
                    if allocations() != before {
                        allocating.push(i + 1);
                    }
                }
            }
            (deltas, allocating)
        };
        let first = pass();
        assert!(!first.1.is_empty(), "the counter counts");
        let (deltas, allocating) = pass();
        assert!(deltas > 18_000, "{deltas} lines without a definition");
        assert!(
            allocating.is_empty(),
            "lines that allocated: {allocating:?}"
        );
    }
}
