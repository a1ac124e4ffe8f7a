//! A quick reading of ordinary stream lines. Nearly every line of a
//! market file is a small delta in plain JSON: this scanner reads such a
//! line straight from its bytes into a flat record (`flat`), each value
//! written where it is found, without serde's per-key dispatch or a
//! message in between. It knows only what Betfair writes: no escapes or
//! other than ASCII in strings, no market definition, no exponents; on
//! anything else it gives up and the line is read by serde, which stays
//! the reference and says what is wrong with a bad line. What this reads,
//! serde reads the same, to the bit (tested on every line of the real
//! files and on lines mutated at random). A line it reads is ASCII, so
//! valid UTF-8 without a check of its own.

use serde::Deserialize as _;
use serde::de::value::{Error as ValueError, StrDeserializer};

use crate::flat::{Flat, tag};
use crate::stream::ChangeType;

/// The scanner gave up: serde reads the line instead.
struct GiveUp;

type Scan<T> = Result<T, GiveUp>;

/// Write the record of the line `bytes` to `flat`; false, with nothing
/// written, if the line is not one this scanner reads.
pub(crate) fn read(flat: &mut Flat, bytes: &[u8]) -> bool {
    let mark = flat.mark();
    let mut c = Cursor { bytes, at: 0 };
    let read = message(&mut c, flat).is_ok() && c.at_end();
    if !read {
        flat.reset(mark);
    }
    read
}

fn message(c: &mut Cursor<'_>, flat: &mut Flat) -> Scan<()> {
    c.object(|c, key, _| {
        match key {
            key::OP => flat.text(tag::OP, c.plain()?),
            key::PT => {
                flat.pt(if c.null() { 0 } else { c.number()?.i64()? });
            }
            key::CT => {
                let ct = if c.null() {
                    ChangeType::Delta
                } else {
                    change_type(c.string()?)?
                };
                flat.ct(ct);
            }
            key::MC => c.list(flat, tag::MC, market_change)?,
            _ => c.skip(0)?,
        }
        Ok(())
    })?;
    flat.word(tag::END);
    Ok(())
}

/// `ct` by `ChangeType`'s own names (any other string is `Other`).
fn change_type(text: &str) -> Scan<ChangeType> {
    ChangeType::deserialize(StrDeserializer::<ValueError>::new(text)).map_err(|_| GiveUp)
}

fn market_change(c: &mut Cursor<'_>, flat: &mut Flat) -> Scan<()> {
    c.object(|c, key, long| {
        match key {
            key::ID => flat.text(tag::MARKET_ID, c.plain()?),
            key::IMG => flat.img(!c.null() && c.boolean()?),
            key::TV => flat.number(tag::MARKET_TV, c.optional_f64()?),
            // Sent only when the market's state changes: serde's to read.
            key::LONG if long == b"marketDefinition" => return Err(GiveUp),
            key::RC => c.list(flat, tag::RC, runner_change)?,
            _ => c.skip(0)?,
        }
        Ok(())
    })?;
    flat.word(tag::END);
    Ok(())
}

fn runner_change(c: &mut Cursor<'_>, flat: &mut Flat) -> Scan<()> {
    c.object(|c, key, _| {
        match key {
            key::ID => flat.runner_id(c.number()?.u64()?),
            key::HC => flat.number(tag::HC, c.optional_f64()?),
            key::ATB => c.points::<2>(flat, tag::ATB)?,
            key::ATL => c.points::<2>(flat, tag::ATL)?,
            key::TRD => c.points::<2>(flat, tag::TRD)?,
            key::BATB => c.points::<3>(flat, tag::BATB)?,
            key::BATL => c.points::<3>(flat, tag::BATL)?,
            key::BDATB => c.points::<3>(flat, tag::BDATB)?,
            key::BDATL => c.points::<3>(flat, tag::BDATL)?,
            key::LTP => flat.number(tag::LTP, c.optional_f64()?),
            key::TV => flat.number(tag::TV, c.optional_f64()?),
            key::SPN => flat.number(tag::SPN, c.projection()?),
            key::SPF => flat.number(tag::SPF, c.projection()?),
            _ => c.skip(0)?,
        }
        Ok(())
    })?;
    flat.word(tag::END);
    Ok(())
}

/// Exact powers of ten, as serde_json divides by them.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The bytes that end a string this scanner reads: its closing quote, or
/// what it leaves to serde (an escape, a control character, any byte of
/// a character beyond ASCII). One lookup per byte instead of four
/// comparisons.
const ENDS_PLAIN: [bool; 256] = {
    let mut ends = [true; 256];
    let mut b = 0x20;
    while b < 0x80 {
        ends[b] = false;
        b += 1;
    }
    ends[b'"' as usize] = true;
    ends[b'\\' as usize] = true;
    ends
};

/// Keys as numbers: a key of at most 8 bytes is its bytes read as a
/// little-endian `u64`, so that a `match` on keys compares numbers instead
/// of calling `memcmp` for each arm. No key holds a zero byte (a control
/// character gives up), so the code also tells the length.
mod key {
    /// The code of every key longer than 8 bytes (no key read here has
    /// a byte beyond ASCII).
    pub(super) const LONG: u64 = u64::MAX;

    pub(super) const fn code(key: &[u8]) -> u64 {
        if key.len() > 8 {
            return LONG;
        }
        let mut code = 0;
        let mut i = 0;
        while i < key.len() {
            code |= (key[i] as u64) << (8 * i);
            i += 1;
        }
        code
    }

    /// Where the first byte that ends a plain string (a quote, a
    /// backslash, a control character, a byte beyond ASCII) is in `word`,
    /// its bytes read little-endian; `None` if none of the 8 is. The bit
    /// tricks flag a byte wrongly only above one flagged rightly, so the
    /// lowest is exact.
    pub(super) const fn plain_end(word: u64) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        const fn zero_in(w: u64) -> u64 {
            w.wrapping_sub(ONES) & !w & HIGHS
        }
        let quote = zero_in(word ^ (ONES * b'"' as u64));
        let backslash = zero_in(word ^ (ONES * b'\\' as u64));
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
        let ends = quote | backslash | control | (word & HIGHS);
        if ends == 0 {
            None
        } else {
            Some(ends.trailing_zeros() as usize / 8)
        }
    }

    pub(super) const OP: u64 = code(b"op");
    pub(super) const PT: u64 = code(b"pt");
    pub(super) const CT: u64 = code(b"ct");
    pub(super) const MC: u64 = code(b"mc");
    pub(super) const ID: u64 = code(b"id");
    pub(super) const IMG: u64 = code(b"img");
    pub(super) const TV: u64 = code(b"tv");
    pub(super) const RC: u64 = code(b"rc");
    pub(super) const HC: u64 = code(b"hc");
    pub(super) const ATB: u64 = code(b"atb");
    pub(super) const ATL: u64 = code(b"atl");
    pub(super) const TRD: u64 = code(b"trd");
    pub(super) const BATB: u64 = code(b"batb");
    pub(super) const BATL: u64 = code(b"batl");
    pub(super) const BDATB: u64 = code(b"bdatb");
    pub(super) const BDATL: u64 = code(b"bdatl");
    pub(super) const LTP: u64 = code(b"ltp");
    pub(super) const SPN: u64 = code(b"spn");
    pub(super) const SPF: u64 = code(b"spf");
}

/// Deeper than this, skipping gives up (serde_json stops at 128).
const MAX_DEPTH: u32 = 32;

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// A JSON number's text, checked against JSON's grammar.
struct Number<'a> {
    text: &'a [u8],
    negative: bool,
    /// Its digits, those of the integer part then the fraction's.
    digits: u64,
    /// How many digits in all, and after the point.
    count: usize,
    fraction: usize,
    exponent: bool,
}

impl Number<'_> {
    /// As serde_json reads a number into an `f64`: an integer converted,
    /// otherwise its digits divided by a power of ten (one rounding of
    /// exact operands while they have at most 15 digits; longer numbers
    /// are handed to serde_json itself).
    #[inline(always)]
    fn f64(&self) -> Scan<f64> {
        if self.exponent || self.count > 15 {
            return serde_json::from_slice(self.text).map_err(|_| GiveUp);
        }
        let f = self.digits as f64 / POW10[self.fraction];
        Ok(if self.negative { -f } else { f })
    }

    /// A non-negative integer of at most 18 digits (serde_json reads
    /// others differently for integer fields).
    fn u64(&self) -> Scan<u64> {
        let plain = !self.negative && !self.exponent && self.fraction == 0;
        if plain && self.count <= 18 {
            Ok(self.digits)
        } else {
            Err(GiveUp)
        }
    }

    fn i64(&self) -> Scan<i64> {
        self.u64().map(|n| n as i64)
    }
}

impl<'a> Cursor<'a> {
    /// Step over whitespace. Betfair writes none: inlined, this is one
    /// comparison (every whitespace byte is below `!`), and the loop is
    /// out of line.
    #[inline(always)]
    fn ws(&mut self) {
        if self.bytes.get(self.at).is_some_and(|&b| b <= b' ') {
            self.ws_loop();
        }
    }

    #[cold]
    #[inline(never)]
    fn ws_loop(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.at).copied()
    }

    /// Step over `byte` if it is next. Betfair writes no whitespace, so
    /// the byte is tested first and whitespace looked for only if it is
    /// not there (this and `ws` were a tenth of the scanner's work).
    #[inline(always)]
    fn eat(&mut self, byte: u8) -> bool {
        match self.bytes.get(self.at) {
            Some(&b) if b == byte => {
                self.at += 1;
                true
            }
            Some(&b) if b <= b' ' => self.eat_after_ws(byte),
            _ => false,
        }
    }

    #[cold]
    #[inline(never)]
    fn eat_after_ws(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    #[inline(always)]
    fn expect(&mut self, byte: u8) -> Scan<()> {
        if self.eat(byte) { Ok(()) } else { Err(GiveUp) }
    }

    fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Step over `word` if it is next. Its length known, the comparison
    /// is one load, not a call to `memcmp` (which was 2% of a backtest's
    /// instructions when this took a slice).
    #[inline(always)]
    fn word<const N: usize>(&mut self, word: &[u8; N]) -> bool {
        self.ws();
        let next = self.bytes.get(self.at..self.at + N) == Some(word.as_slice());
        if next {
            self.at += N;
        }
        next
    }

    fn null(&mut self) -> bool {
        self.word(b"null")
    }

    fn boolean(&mut self) -> Scan<bool> {
        if self.word(b"true") {
            Ok(true)
        } else if self.word(b"false") {
            Ok(false)
        } else {
            Err(GiveUp)
        }
    }

    /// A string of ASCII without escapes or control characters, as bytes.
    fn plain(&mut self) -> Scan<&'a [u8]> {
        self.expect(b'"')?;
        self.plain_rest()
    }

    /// [`Cursor::plain`] after its opening quote.
    fn plain_rest(&mut self) -> Scan<&'a [u8]> {
        let start = self.at;
        let rest = &self.bytes[start..];
        // Eight bytes at a time while eight are left (ids, `clk`), then
        // byte by byte.
        let mut words = rest.chunks_exact(8);
        let mut end = None;
        for (n, word) in words.by_ref().enumerate() {
            let word = u64::from_le_bytes(word.try_into().map_err(|_| GiveUp)?);
            if let Some(at) = key::plain_end(word) {
                end = Some(8 * n + at);
                break;
            }
        }
        let end = match end {
            Some(end) => end,
            None => {
                let tail = words.remainder();
                let at = tail.iter().position(|&b| ENDS_PLAIN[usize::from(b)]);
                rest.len() - tail.len() + at.ok_or(GiveUp)?
            }
        };
        if rest[end] != b'"' {
            return Err(GiveUp);
        }
        self.at = start + end + 1;
        Ok(&rest[..end])
    }

    /// A key: its [`key::code`] and its bytes. Nearly every key is at
    /// most 7 bytes with 8 bytes of line after its opening quote: then the
    /// key's end is found in one word ([`key::plain_end`]) and its code is
    /// that word masked. Any other key is read byte by byte.
    #[inline(always)]
    fn key(&mut self) -> Scan<(u64, &'a [u8])> {
        self.expect(b'"')?;
        let start = self.at;
        let word = self.bytes.get(start..start + 8).map(<[u8; 8]>::try_from);
        if let Some(Ok(word)) = word {
            let word = u64::from_le_bytes(word);
            if let Some(len) = key::plain_end(word) {
                if self.bytes[start + len] != b'"' {
                    return Err(GiveUp);
                }
                self.at = start + len + 1;
                let mask = (1u64 << (8 * len)) - 1;
                return Ok((word & mask, &self.bytes[start..start + len]));
            }
        }
        let key = self.plain_rest()?;
        Ok((key::code(key), key))
    }

    /// [`Cursor::plain`] as text.
    fn string(&mut self) -> Scan<&'a str> {
        // ASCII, so this never gives up.
        std::str::from_utf8(self.plain()?).map_err(|_| GiveUp)
    }

    /// Step over digits, adding them to `n`'s; how many there were.
    #[inline(always)]
    fn digits(&mut self, n: &mut Number<'a>) -> usize {
        let (bytes, start) = (self.bytes, self.at);
        let (mut at, mut digits) = (start, n.digits);
        while let Some(&b) = bytes.get(at) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // Past 18 digits the value is not used (see `Number`).
            digits = digits.wrapping_mul(10).wrapping_add(u64::from(d));
            at += 1;
        }
        (self.at, n.digits) = (at, digits);
        n.count += at - start;
        at - start
    }

    #[inline(always)]
    fn number(&mut self) -> Scan<Number<'a>> {
        self.ws();
        let start = self.at;
        let negative = self.bytes.get(self.at) == Some(&b'-');
        self.at += usize::from(negative);
        let mut n = Number {
            text: &[],
            negative,
            digits: 0,
            count: 0,
            fraction: 0,
            exponent: false,
        };
        let leading_zero = self.bytes.get(self.at) == Some(&b'0');
        let whole = self.digits(&mut n);
        if whole == 0 || (leading_zero && whole > 1) {
            return Err(GiveUp);
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            n.fraction = self.digits(&mut n);
            if n.fraction == 0 {
                return Err(GiveUp);
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.exponent()?;
            n.exponent = true;
        }
        n.text = &self.bytes[start..self.at];
        Ok(n)
    }

    /// An exponent's digits, after its `e`.
    #[cold]
    fn exponent(&mut self) -> Scan<()> {
        self.at += 1;
        if let Some(b'+' | b'-') = self.bytes.get(self.at) {
            self.at += 1;
        }
        let start = self.at;
        while let Some(b'0'..=b'9') = self.bytes.get(self.at) {
            self.at += 1;
        }
        if self.at == start {
            Err(GiveUp)
        } else {
            Ok(())
        }
    }

    fn optional_f64(&mut self) -> Scan<Option<f64>> {
        if self.null() {
            Ok(None)
        } else {
            self.number()?.f64().map(Some)
        }
    }

    /// `spn`/`spf`: a number, or a string for NaN or an infinity (NaN).
    fn projection(&mut self) -> Scan<Option<f64>> {
        match self.peek() {
            Some(b'"') => match self.string()? {
                "NaN" | "Infinity" | "-Infinity" => Ok(Some(f64::NAN)),
                _ => Err(GiveUp),
            },
            _ => self.optional_f64(),
        }
    }

    /// An object, each key's value read by `value`, given the key's
    /// [`key::code`] and its bytes.
    fn object(&mut self, mut value: impl FnMut(&mut Self, u64, &[u8]) -> Scan<()>) -> Scan<()> {
        self.expect(b'{')?;
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            let (code, key) = self.key()?;
            self.expect(b':')?;
            value(self, code, key)?;
            if !self.eat(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// A list (`null` is empty) as an entry of `tag`, each item read
    /// into `flat` by `read`.
    fn list(
        &mut self,
        flat: &mut Flat,
        tag: u64,
        read: impl FnMut(&mut Self, &mut Flat) -> Scan<()>,
    ) -> Scan<()> {
        let open = flat.open_list(tag);
        let n = if self.null() {
            0
        } else {
            self.items(flat, read)?
        };
        flat.close_list(open, n);
        Ok(())
    }

    /// A ladder as an entry of `tag`: `null` is absent, a list of
    /// `N`-number lists present.
    fn points<const N: usize>(&mut self, flat: &mut Flat, tag: u64) -> Scan<()> {
        if self.null() {
            flat.word(tag);
            return Ok(());
        }
        let open = flat.open_ladder(tag);
        let n = self.items(flat, |c, flat| {
            c.expect(b'[')?;
            for i in 0..N {
                if i > 0 {
                    c.expect(b',')?;
                }
                flat.float(c.number()?.f64()?);
            }
            c.expect(b']')
        })?;
        flat.close_ladder(open, n);
        Ok(())
    }

    /// A list's items, each read into `flat` by `read`; how many.
    fn items(
        &mut self,
        flat: &mut Flat,
        mut read: impl FnMut(&mut Self, &mut Flat) -> Scan<()>,
    ) -> Scan<usize> {
        self.expect(b'[')?;
        if self.eat(b']') {
            return Ok(0);
        }
        let mut n = 0;
        loop {
            read(self, flat)?;
            n += 1;
            if !self.eat(b',') {
                self.expect(b']')?;
                return Ok(n);
            }
        }
    }

    /// Step over any value this scanner can check as serde_json would.
    fn skip(&mut self, depth: u32) -> Scan<()> {
        if depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        match self.peek().ok_or(GiveUp)? {
            b'"' => self.plain().map(drop),
            b'{' => self.object(|c, _, _| c.skip(depth + 1)),
            b'[' => {
                self.expect(b'[')?;
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.skip(depth + 1)?;
                    if !self.eat(b',') {
                        return self.expect(b']');
                    }
                }
            }
            b't' | b'f' => self.boolean().map(drop),
            b'n' if self.null() => Ok(()),
            // An exponent may be out of range; long numbers read otherwise.
            b'-' | b'0'..=b'9' => match self.number()? {
                n if n.exponent || n.count > 18 => Err(GiveUp),
                _ => Ok(()),
            },
            _ => Err(GiveUp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::Message;
    use std::io::{BufRead, BufReader, Read};

    /// What a message says (its buffers of earlier lines left out);
    /// `Debug` tells every two `f64`s with different bits apart, NaN aside.
    fn said(m: &Message) -> String {
        format!("{:?} {} {:?} {:?}", m.op, m.pt, m.ct, m.mc)
    }

    /// Read `line` into the reused `quick`, and into a new message with
    /// serde: where the scanner read it, serde must have read the same.
    fn check(quick: &mut Message, line: &str) -> bool {
        let read = quick.parse_quickly(line, crate::flat::Slots::Spare);
        let mut reference = Message::default();
        let by_serde = reference.parse_with_serde(line);
        if read {
            assert!(by_serde.is_ok(), "read a line serde refuses: {line}");
            assert_eq!(said(quick), said(&reference), "{line}");
        } else {
            // What serde reads into a reused message is what `parse` gives.
            let _ = quick.parse_with_serde(line);
        }
        read
    }

    fn real_files() -> Vec<(String, Vec<String>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/betfair");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // Stream files, one message per line (not the notes, the
            // catalogues or a file processed into one JSON document).
            if path.is_dir() || name.ends_with(".md") || name.ends_with(".json") {
                continue;
            }
            let file = std::fs::File::open(&path).unwrap();
            let reader: Box<dyn Read> = if name.ends_with(".bz2") {
                Box::new(bzip2::read::MultiBzDecoder::new(file))
            } else if name.ends_with(".gz") {
                Box::new(flate2::read::MultiGzDecoder::new(file))
            } else {
                Box::new(file)
            };
            let lines = BufReader::new(reader).lines().collect::<Result<_, _>>();
            files.push((name, lines.unwrap()));
        }
        assert!(files.len() >= 5, "the real market files are missing");
        files
    }

    #[test]
    fn every_real_line_reads_as_serde_reads_it_and_only_definitions_are_left_to_serde() {
        for (name, lines) in real_files() {
            let mut m = Message::default();
            let mut left = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                if !check(&mut m, line) {
                    left.push(i + 1);
                }
            }
            let others: Vec<_> = left
                .iter()
                .filter(|&&i| !lines[i - 1].contains("\"marketDefinition\""))
                .collect();
            assert!(others.is_empty(), "{name}: lines left to serde: {others:?}");
            assert!(
                left.len() * 20 < lines.len(),
                "{name}: {} of {}",
                left.len(),
                lines.len()
            );
        }
    }

    /// A small random generator, so the mutations are the same every run.
    struct XorShift(u64);

    impl XorShift {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// Bytes that make a JSON line go wrong, or right in another way.
    const PIECES: &[&str] = &[
        " ",
        "\t",
        ",",
        ":",
        "[",
        "]",
        "{",
        "}",
        "\"",
        "\\",
        "-",
        "0",
        "9",
        ".",
        "e",
        "E+",
        "null",
        "true",
        "NaN",
        "00",
        "1e400",
        "123456789012345678901",
        "\u{1}",
        "é",
        "[]",
        "{}",
        "\"atb\":",
        "\"mc\":null,",
        "\"rc\":[],",
        "\"id\":-0,",
        "\"spn\":\"Infinity\",",
    ];

    fn mutate(rng: &mut XorShift, line: &str) -> String {
        let mut s = line.to_owned();
        for _ in 0..=rng.below(3) {
            let at = (0..=rng.below(s.len() + 1))
                .rev()
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(0);
            let end = (at..=(at + rng.below(4)).min(s.len()))
                .rev()
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(at);
            match rng.below(3) {
                0 => s.replace_range(at..end, ""),
                1 => s.insert_str(at, PIECES[rng.below(PIECES.len())]),
                _ => s.replace_range(at..end, PIECES[rng.below(PIECES.len())]),
            }
        }
        s
    }

    /// `key::plain_end` finds what `ENDS_PLAIN` finds byte by byte: every
    /// byte value at every place behind plain bytes, and words of bytes
    /// drawn from those next to each boundary.
    #[test]
    fn a_keys_end_is_found_in_a_word_as_byte_by_byte() {
        let by_bytes = |bytes: [u8; 8]| bytes.iter().position(|&b| ENDS_PLAIN[usize::from(b)]);
        for at in 0..8 {
            for byte in 0..=255u8 {
                let mut bytes = [b'a'; 8];
                bytes[at] = byte;
                let word = u64::from_le_bytes(bytes);
                assert_eq!(key::plain_end(word), by_bytes(bytes), "{bytes:?}");
            }
        }
        let near = [
            0, 1, 0x1f, 0x20, 0x21, b'"', b'#', 0x5b, b'\\', 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff,
        ];
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        for _ in 0..200_000 {
            let bytes: [u8; 8] = std::array::from_fn(|_| near[rng.below(near.len())]);
            let word = u64::from_le_bytes(bytes);
            assert_eq!(key::plain_end(word), by_bytes(bytes), "{bytes:?}");
        }
    }

    /// A string's end is found eight bytes at a time as byte by byte:
    /// every ending byte at every place of strings of 0 to 26 bytes, and
    /// strings with no end at all.
    #[test]
    fn a_strings_end_is_found_word_by_word_as_byte_by_byte() {
        fn by_bytes(bytes: &[u8]) -> Option<(&[u8], usize)> {
            match bytes.iter().position(|&b| ENDS_PLAIN[usize::from(b)]) {
                Some(end) if bytes[end] == b'"' => Some((&bytes[..end], end + 1)),
                _ => None,
            }
        }
        for len in 0..=26 {
            let mut cases = vec![vec![b'7'; len]];
            for at in 0..len {
                for end in [b'"', b'\\', 0x1f, 0x7f, 0x80, 0xff] {
                    let mut bytes = vec![b'7'; len];
                    bytes[at] = end;
                    cases.push(bytes);
                }
            }
            for bytes in cases {
                let mut c = Cursor {
                    bytes: &bytes,
                    at: 0,
                };
                let found = c.plain_rest().ok().map(|text| (text, c.at));
                assert_eq!(found, by_bytes(&bytes), "{bytes:?}");
            }
        }
    }

    #[test]
    fn mutated_lines_are_read_as_serde_reads_them_or_left_to_serde() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let (mut read, mut tried) = (0, 0);
        let mut m = Message::default();
        for (_, lines) in real_files() {
            for line in lines.iter().step_by(7).filter(|l| l.len() < 2000) {
                for _ in 0..20 {
                    tried += 1;
                    read += usize::from(check(&mut m, &mutate(&mut rng, line)));
                }
            }
        }
        // Many mutations leave valid JSON (whitespace, digits, a key
        // skipped), so both outcomes must be common for the test to test.
        assert!(
            read * 10 > tried && read * 10 < tried * 9,
            "{read} of {tried} read"
        );
    }

    #[test]
    fn what_serde_reads_differently_is_left_to_it() {
        let mut m = Message::default();
        let base = |rc: &str| format!(r#"{{"op":"mcm","pt":5,"mc":[{{"id":"1.2","rc":[{rc}]}}]}}"#);
        // Change types by their names, an unknown one, none.
        for ct in [
            "\"SUB_IMAGE\"",
            "\"RESUB_DELTA\"",
            "\"HEARTBEAT\"",
            "\"DELTA\"",
            "null",
        ] {
            let line = format!(r#"{{"op":"mcm","pt":5,"ct":{ct}}}"#);
            assert!(check(&mut m, &line), "not read: {line}");
        }
        assert_eq!(m.ct, ChangeType::Delta);
        // Read here, and the same as serde reads them.
        for rc in [
            r#"{"id":7,"atb":[[1.01,0.25],[1000,-0]],"ltp":-0.0,"hc":null,"tv":123456789012345}"#,
            r#" { "id" : 7 , "atl" : [ [ 2 , 3 ] ] , "spn" : "NaN" , "spf" : -1.5 } "#,
            r#"{"id":7,"atb":[[2,1]],"atb":null,"trd":[],"batb":[[0,2,1]],"x":[{"y":[1,"z",true]}]}"#,
            r#"{"id":7,"ltp":0.1000000000000000055511151231257827}"#,
            r#"{"id":7,"ltp":1234567890123456789}"#,
            r#"{"id":7,"ltp":1e2,"tv":2.5E-3}"#,
            // Keys that begin like known ones, an empty key, one byte.
            r#"{"atbx":[[1,2,3]],"at":1,"":2,"a":3,"idid":4,"id":7,"ltpspnspf":5}"#,
        ] {
            assert!(check(&mut m, &base(rc)), "not read: {rc}");
        }
        // A key's code read as a word, and near the line's end byte by byte.
        for line in [
            r#"{"pt":5}"#,
            r#"{"pt":5,"op":"mcm"}"#,
            r#"{"op":"mcm","mc":[{"id":"1.2","marketDefinitionX":{},"rc":[{"id":7}]}]}"#,
            r#"{"mc":[{"rc":[{"id":7,"tv":1}],"id":"1"}],"pt":1}"#,
        ] {
            assert!(check(&mut m, line), "not read: {line}");
        }
        assert_eq!(
            (m.pt, m.mc[0].id.as_str(), m.mc[0].rc[0].tv),
            (1, "1", Some(1.0))
        );
        // Left to serde: escapes, a skipped exponent, a definition, bad numbers.
        for line in [
            base(r#"{"id":7,"n\u0061me":1}"#),
            base(r#"{"id":7,"x":1e2}"#),
            base(r#"{"id":7.0}"#),
            base(r#"{"id":-0}"#),
            base(r#"{"id":7,"ltp":01}"#),
            base(r#"{"id":7,"atb":[[1,2,3]]}"#),
            base(r#"{"id":7,"spn":"soon"}"#),
            base(r#"{"id":7,}"#),
            // Beyond ASCII, even where serde reads it the same.
            base(r#"{"id":7,"x":"é"}"#),
            base(r#"{"id":7,"é":1}"#),
            r#"{"op":"mcm","mc":[{"id":"1.2é"}]}"#.to_owned(),
            r#"{"op":"mcm","mc":[{"id":"1.2","marketDefinition":{}}]}"#.to_owned(),
            r#"{"op":"mcm"} x"#.to_owned(),
        ] {
            assert!(!check(&mut m, &line), "read: {line}");
        }
    }
}
