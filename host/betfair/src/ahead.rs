//! Parsing ahead, so a backtest of a plain file uses a second core:
//! [`ParsedAhead`] reads and parses lines on its own thread while the
//! engine applies and trades what is ready. Messages go over in batches
//! and come back empty to be parsed into again, so their buffers are kept
//! (after the first batches nothing is allocated per line) and a channel
//! operation is paid per batch, not per line. The channels are bounded,
//! so memory stays bounded whatever the file's size.
//!
//! It pays only where a core is spare: the handover costs CPU (the
//! parsed messages are written on one core and read on the other), so
//! a backtest running a file per core parses on each file's own thread
//! (`StreamFormat::PARSED_AHEAD` is the format for the first case,
//! `PARSED_HERE` for the second). A compressed file is not parsed ahead either: its
//! spare core inflates instead (`bz2_blocks`, or `background` for gzip),
//! which takes as long as the engine's work, so another thread would only
//! contend.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::file::{ReadError, StreamFile};
use crate::stream::Message;

/// Lines per batch: enough that the channel's cost vanishes per line,
/// few enough that the engine starts soon after the file opens.
const BATCH: usize = 64;
/// Batches in flight.
const IN_FLIGHT: usize = 4;

/// Parsed lines of one file, in batches from a parsing thread.
pub struct ParsedAhead {
    path: PathBuf,
    batches: Receiver<Batch>,
    spent: SyncSender<Vec<Message>>,
    batch: Batch,
    at: usize,
    ended: bool,
}

/// Messages and what reading each gave (its line number or the error).
#[derive(Default)]
struct Batch {
    messages: Vec<Message>,
    read: Vec<Option<Result<u64, ReadError>>>,
}

impl ParsedAhead {
    /// Read and parse `file` to its end on a new thread.
    pub fn spawn(file: StreamFile) -> std::io::Result<Self> {
        let path = file.path().to_owned();
        let (tx, batches) = sync_channel(IN_FLIGHT);
        // Every batch can come back without blocking the engine.
        let (spent, returned) = sync_channel(IN_FLIGHT + 2);
        std::thread::Builder::new()
            .name("clever-parse".into())
            .spawn(move || produce(file, &tx, &returned))?;
        Ok(ParsedAhead {
            path,
            batches,
            spent,
            batch: Batch::default(),
            at: 0,
            ended: false,
        })
    }

    /// The next message into `message` (its old buffers go back to the
    /// parsing thread); its line number, `None` at the end.
    pub fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        if self.at == self.batch.read.len() {
            if self.ended {
                return None;
            }
            let done = std::mem::take(&mut self.batch).messages;
            // A full return channel only means the parser makes new ones.
            let _ = self.spent.try_send(done);
            self.at = 0;
            match self.batches.recv() {
                Ok(batch) if batch.read.is_empty() => {
                    self.ended = true;
                    return None;
                }
                Ok(batch) => self.batch = batch,
                // No end mark: the thread died (a bug); the run must not
                // look complete.
                Err(_) => {
                    self.ended = true;
                    let source = std::io::Error::other("the parsing thread stopped early");
                    let path = self.path.clone();
                    return Some(Err(ReadError::Io { path, source }));
                }
            }
        }
        let at = self.at;
        self.at += 1;
        std::mem::swap(message, &mut self.batch.messages[at]);
        self.batch.read[at].take()
    }
}

/// Fill batches from `file` until it ends (then an empty batch marks the
/// end) or nobody reads them.
fn produce(mut file: StreamFile, tx: &SyncSender<Batch>, returned: &Receiver<Vec<Message>>) {
    loop {
        let mut messages = returned.try_recv().unwrap_or_default();
        messages.resize_with(BATCH, Message::default);
        let mut read = Vec::with_capacity(BATCH);
        for message in &mut messages {
            match file.read_into(message) {
                Some(result) => read.push(Some(result)),
                None => break,
            }
        }
        let ended = read.len() < BATCH;
        if !read.is_empty() {
            messages.truncate(read.len());
            if tx.send(Batch { messages, read }).is_err() {
                return;
            }
        }
        if ended {
            let _ = tx.send(Batch::default());
            return;
        }
    }
}

/// A stream file's messages: a compressed file's parsed on the reading
/// thread, a plain file's ahead on a thread of their own.
pub enum FileRecords {
    /// Parsed as they are asked for.
    Here(StreamFile),
    /// Parsed ahead.
    Ahead(ParsedAhead),
}

impl FileRecords {
    /// Open `path` to be parsed as it is read.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        StreamFile::open(path).map(FileRecords::Here)
    }

    /// Open `path` for a reader with a core to spare: a plain file is
    /// parsed ahead, a bzip2 one inflated on every core.
    pub fn open_ahead(path: &Path) -> Result<Self, ReadError> {
        let file = StreamFile::open_spread(path)?;
        if file.is_compressed() {
            return Ok(FileRecords::Here(file));
        }
        ParsedAhead::spawn(file)
            .map(FileRecords::Ahead)
            .map_err(|source| ReadError::Io {
                path: path.to_owned(),
                source,
            })
    }

    /// The next message into `message`; its line number, `None` at the end.
    pub fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        match self {
            FileRecords::Here(file) => file.read_into(message),
            FileRecords::Ahead(ahead) => ahead.read_into(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// What reading gave, line by line: the line number or the error, and
    /// the message's fields.
    fn read_all(records: &mut FileRecords) -> Vec<String> {
        let mut message = Message::default();
        let mut seen = Vec::new();
        while let Some(read) = records.read_into(&mut message) {
            let m = &message;
            seen.push(match read {
                Ok(line) => format!("{line}: {} {} {:?} {:?}", m.op, m.pt, m.ct, m.mc),
                Err(e) => format!("error {e}"),
            });
        }
        seen
    }

    #[test]
    fn parsing_ahead_reads_what_parsing_here_reads_errors_and_all() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        // More lines than the batches in flight, so spent messages come
        // back and are parsed into again; runner counts vary from line to
        // line, a line is bad, lines are blank, and the last has no end.
        for n in 0..1000u64 {
            match n {
                100 => writeln!(file, "{{\"op\":\"mcm\",\"pt\":").unwrap(),
                200 | 201 => writeln!(file, "  ").unwrap(),
                _ => {
                    let runners: Vec<String> = (0..n % 5)
                        .map(|r| format!("{{\"id\":{r},\"atb\":[[{}.5,{n}]]}}", r + 2))
                        .collect();
                    let mc = format!("{{\"id\":\"1.{}\",\"rc\":[{}]}}", n % 3, runners.join(","));
                    writeln!(file, "{{\"op\":\"mcm\",\"pt\":{n},\"mc\":[{mc}]}}").unwrap();
                }
            }
        }
        write!(file, "{{\"op\":\"heartbeat\",\"pt\":1000}}").unwrap();
        let here = read_all(&mut FileRecords::open(file.path()).unwrap());
        let mut ahead = FileRecords::open_ahead(file.path()).unwrap();
        assert!(matches!(ahead, FileRecords::Ahead(_)));
        assert_eq!(read_all(&mut ahead), here);
        // 1,000 lines less two blank ones, and the last line.
        assert_eq!(here.len(), 999);
        assert!(here[100].starts_with("error ") && here[100].contains(":101:"));
        assert!(here[998].starts_with("1001: heartbeat 1000"));
    }

    #[test]
    fn a_file_ending_on_a_batch_boundary_ends_once() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for n in 0..BATCH * 3 {
            writeln!(
                file,
                "{{\"op\":\"mcm\",\"pt\":{n},\"mc\":[{{\"id\":\"1.{n}\"}}]}}"
            )
            .unwrap();
        }
        let here = read_all(&mut FileRecords::open(file.path()).unwrap());
        let mut ahead = FileRecords::open_ahead(file.path()).unwrap();
        let seen = read_all(&mut ahead);
        assert_eq!(seen, here);
        assert_eq!(seen.len(), BATCH * 3);
        assert!(!seen.iter().any(|s| s.starts_with("error")), "{seen:?}");
        let mut message = Message::default();
        assert!(ahead.read_into(&mut message).is_none(), "still ended");
    }
}
