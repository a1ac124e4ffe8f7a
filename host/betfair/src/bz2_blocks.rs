//! Inflating a bzip2 file on every core. A bzip2 stream is a run of
//! independent blocks, each starting with a 48-bit magic at any bit offset
//! and carrying its own CRC; bzcat (and libbz2's streaming decoder)
//! inflates them one after another on one core. Here one thread cuts the
//! compressed bits at each block's magic and makes every block a one-block
//! stream of its own; worker threads inflate those with libbz2 (which
//! checks each block's CRC), and [`ParallelBz2`] hands the blocks on in
//! order. The stream's combined CRC is checked against the blocks' CRCs.
//!
//! A magic can also occur by chance inside compressed data (about once in
//! 2^48 bit positions). A block cut there fails to inflate, and then the
//! reader inflates the file again one block after another, from its start,
//! skipping what it has already handed on (every block before was checked
//! by its CRC), so a valid file always reads whole. A corrupt one ends in
//! the sequential decoder's error, after what that decoder hands on of
//! the bad block (as reading in sequence always did). Memory is bounded:
//! no more than a block's worth of compressed bytes is kept before a cut.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// The 48 bits that start every block (the BCD digits of pi).
const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
/// The 48 bits that end a stream (sqrt(pi)), then its combined CRC.
const END_MAGIC: u64 = 0x1772_4538_5090;
const MAGIC_MASK: u64 = (1 << 48) - 1;
/// Compressed bytes read at a time.
const READ: usize = 1 << 16;
/// Blocks cut ahead of the reader (each at most ~1 MiB inflated with `-9`).
const IN_FLIGHT: usize = 6;
/// Compressed bytes kept without finding a block's end: a `-9` block of
/// 900 kB compresses to well under this, so more means it is not bzip2.
const MAX_BLOCK: u64 = 2 << 20;

/// Reopens the file as one sequential decoder, for the rare chance cut.
pub type Fallback = Box<dyn FnOnce() -> io::Result<Box<dyn Read + Send>> + Send>;

type Inflated = io::Result<Vec<u8>>;

/// A bzip2 file's bytes, inflated block by block on `workers` threads.
pub struct ParallelBz2 {
    /// Dropped when reading falls back to the sequential decoder, so the
    /// splitter and workers stop.
    blocks: Option<Receiver<Receiver<Inflated>>>,
    current: Vec<u8>,
    at: usize,
    delivered: u64,
    fallback: Option<Fallback>,
    sequential: Option<Box<dyn Read + Send>>,
    /// An error was returned: nothing more is read (a later block would
    /// follow a gap).
    failed: bool,
}

impl ParallelBz2 {
    /// Read the bzip2 stream(s) of `input` to the end on new threads.
    pub fn spawn(
        input: impl Read + Send + 'static,
        workers: usize,
        fallback: Fallback,
    ) -> io::Result<Self> {
        let (order, blocks) = sync_channel(IN_FLIGHT);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..workers.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("clever-inflate-{i}"))
                .spawn(move || inflate_jobs(&queue))?;
        }
        std::thread::Builder::new()
            .name("clever-bz2-split".into())
            .spawn(move || {
                let mut splitter = Splitter::new(order, jobs);
                if let Err(e) = splitter.run(input) {
                    splitter.fail(e);
                }
            })?;
        Ok(ParallelBz2 {
            blocks: Some(blocks),
            current: Vec::new(),
            at: 0,
            delivered: 0,
            fallback: Some(fallback),
            sequential: None,
            failed: false,
        })
    }

    /// The next inflated block; `None` at the end of the file.
    fn next_block(&mut self) -> Option<Inflated> {
        let reply = self.blocks.as_ref()?.recv().ok()?;
        Some(
            reply.recv().unwrap_or_else(|_| {
                Err(io::Error::other("a bzip2 inflating thread stopped early"))
            }),
        )
    }

    /// A block failed: read on from a sequential decoder instead.
    fn fall_back(&mut self, error: io::Error) -> io::Result<&mut Box<dyn Read + Send>> {
        self.blocks = None;
        let Some(reopen) = self.fallback.take() else {
            return Err(error);
        };
        tracing::debug!("inflating bzip2 block by block failed ({error}); reading it in sequence");
        let mut sequential = reopen()?;
        let skipped = io::copy(&mut (&mut sequential).take(self.delivered), &mut io::sink())?;
        if skipped != self.delivered {
            return Err(error);
        }
        Ok(self.sequential.insert(sequential))
    }
}

impl Read for ParallelBz2 {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let result = self.read_on(out);
        self.failed |= matches!(&result, Err(e) if e.kind() != io::ErrorKind::Interrupted);
        result
    }
}

impl ParallelBz2 {
    fn read_on(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other("the bzip2 file failed to read before"));
        }
        if let Some(sequential) = self.sequential.as_mut() {
            return sequential.read(out);
        }
        while self.at == self.current.len() {
            match self.next_block() {
                None => return Ok(0),
                Some(Ok(block)) => (self.current, self.at) = (block, 0),
                Some(Err(e)) => return self.fall_back(e)?.read(out),
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        self.delivered += n as u64;
        Ok(n)
    }
}

/// One block made a stream of its own, and where its bytes go.
struct Job {
    stream: Vec<u8>,
    level: u8,
    reply: SyncSender<Inflated>,
}

fn inflate_jobs(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let mut out = Vec::with_capacity(usize::from(job.level) * 100_000 + 4096);
        let result = bzip2::read::BzDecoder::new(job.stream.as_slice())
            .read_to_end(&mut out)
            .map(|_| out);
        // The reader hung up: nobody wants the rest.
        let _ = job.reply.send(result);
    }
}

/// Where the splitter is in the file.
#[derive(Clone, Copy)]
enum State {
    /// A stream header ("BZh" and the level) starts at this byte.
    Header(u64),
    /// Inside a stream's blocks; the current block's magic starts at this bit.
    Blocks(Option<u64>),
    /// The stream's end magic starts at this bit; its CRC follows.
    Trailer(u64),
}

/// Cuts the compressed bits into one-block streams.
struct Splitter {
    order: SyncSender<Receiver<Inflated>>,
    jobs: std::sync::mpsc::Sender<Job>,
    /// Compressed bytes from byte `base` of the file on.
    buf: Vec<u8>,
    base: u64,
    /// The last 64 bits read, and how many bits were read in all.
    window: u64,
    bits: u64,
    state: State,
    level: u8,
    /// The stream's CRC as its blocks so far make it.
    combined: u32,
}

impl Splitter {
    fn new(order: SyncSender<Receiver<Inflated>>, jobs: std::sync::mpsc::Sender<Job>) -> Self {
        Splitter {
            order,
            jobs,
            buf: Vec::with_capacity(2 * READ),
            base: 0,
            window: 0,
            bits: 0,
            state: State::Header(0),
            level: 9,
            combined: 0,
        }
    }

    fn run(&mut self, mut input: impl Read) -> io::Result<()> {
        let mut chunk = vec![0; READ];
        loop {
            let n = match input.read(&mut chunk) {
                Ok(0) => return self.finish(),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.buf.extend_from_slice(&chunk[..n]);
            for &byte in &chunk[..n] {
                if !self.feed(byte)? {
                    return Ok(()); // the reader hung up
                }
            }
        }
    }

    /// Take one more byte; false if the reader is gone.
    fn feed(&mut self, byte: u8) -> io::Result<bool> {
        self.window = (self.window << 8) | u64::from(byte);
        self.bits += 8;
        if self.bits / 8 - self.base > MAX_BLOCK {
            return Err(invalid(format!(
                "no bzip2 block ends within {MAX_BLOCK} bytes of byte {}",
                self.base
            )));
        }
        match self.state {
            State::Header(at) => self.header(at),
            State::Trailer(end) => self.trailer(end),
            State::Blocks(start) => {
                // A magic ending in this byte: 8 places, earliest first.
                for k in (0..8).rev() {
                    let end = self.bits - k;
                    if end < 48 {
                        continue;
                    }
                    let found = (self.window >> k) & MAGIC_MASK;
                    let at = end - 48;
                    if found == BLOCK_MAGIC {
                        if let Some(start) = start.filter(|&s| s < at)
                            && !self.cut(start, at)?
                        {
                            return Ok(false);
                        }
                        self.state = State::Blocks(Some(at));
                        return Ok(true);
                    }
                    if found == END_MAGIC {
                        if let Some(start) = start
                            && !self.cut(start, at)?
                        {
                            return Ok(false);
                        }
                        self.state = State::Trailer(at);
                        return Ok(true);
                    }
                }
                Ok(true)
            }
        }
    }

    /// A stream header's last byte may have come: check it.
    fn header(&mut self, at: u64) -> io::Result<bool> {
        if self.bits / 8 < at + 4 {
            return Ok(true);
        }
        let head = self.bytes(at * 8, 4);
        let level = head[3].wrapping_sub(b'0');
        if &head[..3] != b"BZh" || !(1..=9).contains(&level) {
            return Err(invalid(format!("no bzip2 stream header at byte {at}")));
        }
        self.level = level;
        self.combined = 0;
        self.state = State::Blocks(None);
        Ok(true)
    }

    /// The stream's CRC may be complete: check it against the blocks'.
    fn trailer(&mut self, end: u64) -> io::Result<bool> {
        if self.bits < end + 80 {
            return Ok(true);
        }
        let stored = read_bits(&self.buf, end + 48 - self.base * 8, 32);
        if stored != self.combined {
            return Err(invalid(format!(
                "bzip2 stream CRC {stored:08x} is not its blocks' {:08x}",
                self.combined
            )));
        }
        // The next stream, if any, starts at the next whole byte.
        let next = (end + 80).div_ceil(8);
        self.drop_before(next);
        self.state = State::Header(next);
        Ok(true)
    }

    /// Send bits `start..end` (a block) to be inflated; false if the
    /// reader is gone.
    fn cut(&mut self, start: u64, end: u64) -> io::Result<bool> {
        let from = start - self.base * 8;
        let crc = read_bits(&self.buf, from + 48, 32);
        self.combined = self.combined.rotate_left(1) ^ crc;
        let mut w = BitWriter::with_capacity(usize::try_from((end - start) / 8).unwrap_or(0) + 16);
        for &b in b"BZh" {
            w.push(u64::from(b), 8);
        }
        w.push(u64::from(b'0' + self.level), 8);
        w.copy(&self.buf, from, end - start);
        w.push(END_MAGIC, 48);
        w.push(u64::from(crc), 32);
        let (reply, inflated) = sync_channel(1);
        if self.order.send(inflated).is_err() {
            return Ok(false);
        }
        let job = Job {
            stream: w.finish(),
            level: self.level,
            reply,
        };
        if self.jobs.send(job).is_err() {
            return Err(io::Error::other(
                "the bzip2 inflating threads stopped early",
            ));
        }
        self.drop_before(end / 8);
        Ok(true)
    }

    /// Forget the bytes before byte `at` of the file.
    fn drop_before(&mut self, at: u64) {
        let n = usize::try_from(at.saturating_sub(self.base)).unwrap_or(0);
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
        self.base += n as u64;
    }

    fn bytes(&self, bit: u64, n: usize) -> Vec<u8> {
        let from = bit - self.base * 8;
        (0..n as u64)
            .map(|i| read_bits(&self.buf, from + 8 * i, 8) as u8)
            .collect()
    }

    /// The input ended: it must end between streams.
    fn finish(&mut self) -> io::Result<()> {
        match self.state {
            State::Header(at) if at * 8 == self.bits && at > 0 => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the bzip2 file ends inside a stream",
            )),
        }
    }

    /// Hand `error` to the reader in place of the next block.
    fn fail(&mut self, error: io::Error) {
        let (reply, inflated) = sync_channel(1);
        if self.order.send(inflated).is_ok() {
            let _ = reply.send(Err(error));
        }
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Up to 32 bits of `src` from bit `at` (most significant first); bits
/// past its end read as 0.
fn read_bits(src: &[u8], at: u64, n: u32) -> u32 {
    let byte = usize::try_from(at / 8).unwrap_or(usize::MAX);
    let mut x = 0u64;
    for i in 0..5 {
        let b = src.get(byte.saturating_add(i)).copied().unwrap_or(0);
        x = (x << 8) | u64::from(b);
    }
    // 40 bits in `x`; skip `at % 8`, keep `n`.
    let shift = 40 - (at % 8) - u64::from(n);
    ((x >> shift) & ((1u64 << n) - 1)) as u32
}

/// Bits written most significant first, as bzip2 writes them.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    held: u32,
}

impl BitWriter {
    fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            out: Vec::with_capacity(bytes),
            acc: 0,
            held: 0,
        }
    }

    /// The low `n` (at most 48) bits of `value`.
    fn push(&mut self, value: u64, n: u32) {
        self.acc = (self.acc << n) | (value & ((1 << n) - 1));
        self.held += n;
        while self.held >= 8 {
            self.held -= 8;
            self.out.push((self.acc >> self.held) as u8);
        }
    }

    /// `n` bits of `src` from bit `at`.
    fn copy(&mut self, src: &[u8], at: u64, n: u64) {
        let mut done = 0;
        while done < n {
            let take = (n - done).min(32) as u32;
            self.push(u64::from(read_bits(src, at + done, take)), take);
            done += u64::from(take);
        }
    }

    /// The bytes, the last padded with zero bits.
    fn finish(mut self) -> Vec<u8> {
        if self.held > 0 {
            let pad = 8 - self.held;
            self.push(0, pad);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn compress(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Text that does not compress to nothing: many blocks at level 1.
    fn lines(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut x: u64 = 7;
        for i in 0..n {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            writeln!(out, "{{\"op\":\"mcm\",\"pt\":{i},\"v\":{}}}", x >> 20).unwrap();
        }
        out
    }

    fn inflate(compressed: Vec<u8>, workers: usize) -> io::Result<Vec<u8>> {
        let copy = compressed.clone();
        let fallback: Fallback = Box::new(move || {
            Ok(Box::new(bzip2::read::MultiBzDecoder::new(io::Cursor::new(
                copy,
            ))))
        });
        let mut reader = ParallelBz2::spawn(io::Cursor::new(compressed), workers, fallback)?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn many_blocks_come_out_whole_and_in_order() {
        let data = lines(40_000);
        let compressed = compress(&data, 1);
        assert!(data.len() > 5 * 100_000, "several level-1 blocks");
        for workers in [1, 2, 3] {
            assert_eq!(inflate(compressed.clone(), workers).unwrap(), data);
        }
    }

    #[test]
    fn concatenated_streams_and_tiny_ones_read_whole() {
        let (a, b) = (lines(30_000), b"x\n".to_vec());
        let mut both = compress(&a, 1);
        both.extend(compress(&b, 9));
        both.extend(compress(&a[..1000], 5));
        let mut want = a.clone();
        want.extend(&b);
        want.extend(&a[..1000]);
        assert_eq!(inflate(both, 2).unwrap(), want);
        assert_eq!(inflate(compress(b"", 9), 2).unwrap(), b"");
    }

    #[test]
    fn a_corrupt_block_fails_as_the_sequential_decoder_does() {
        let data = lines(40_000);
        let mut compressed = compress(&data, 1);
        let middle = compressed.len() / 2;
        compressed[middle] ^= 0x10;
        assert!(inflate(compressed, 2).is_err());
    }

    #[test]
    fn junk_after_a_header_is_refused() {
        let mut junk = b"BZh9".to_vec();
        junk.extend((0..(3 << 20)).map(|i: u32| (i.wrapping_mul(2654435761) >> 13) as u8));
        assert!(inflate(junk, 2).is_err());
    }

    #[test]
    fn a_file_cut_short_is_an_error() {
        let compressed = compress(&lines(20_000), 1);
        let cut = compressed[..compressed.len() - 3].to_vec();
        assert!(inflate(cut, 2).is_err());
    }

    #[test]
    fn a_chance_magic_inside_a_block_falls_back_to_reading_in_sequence() {
        // Write a block magic into the compressed bits where it is not one:
        // the block cut there fails, and the reader goes on in sequence.
        // The data is then corrupt for the sequential decoder too, so flip
        // the splitter's view only: feed it a file whose second copy (the
        // fallback's) is the true one.
        let data = lines(40_000);
        let good = compress(&data, 1);
        let mut bad = good.clone();
        let at = good.len() / 3;
        bad[at..at + 6].copy_from_slice(&BLOCK_MAGIC.to_be_bytes()[2..]);
        let fallback: Fallback = Box::new(move || {
            Ok(Box::new(bzip2::read::MultiBzDecoder::new(io::Cursor::new(
                good,
            ))))
        });
        let mut reader = ParallelBz2::spawn(io::Cursor::new(bad), 2, fallback).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }
}
