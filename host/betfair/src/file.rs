//! Reading Betfair stream files: plain, `.gz` or `.bz2` (told by their
//! first bytes, not their names), one JSON message per line, LF or CRLF.
//! Streamed line by line: a line is parsed where it lies in the reader's
//! buffer, and only one that spans two fills of it is gathered into a
//! buffer of our own, so memory stays bounded whatever the file's size. A
//! line that is not a valid message (or not UTF-8) is an error naming the
//! file and line; reading goes on after it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::background::BackgroundReader;
use super::bz2_blocks::{Fallback, ParallelBz2};
use super::stream::Message;

/// Why a line or a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not a valid stream message.
    #[error("{path}:{line}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Line number, from 1.
        line: u64,
        /// What serde_json said, with the column.
        message: String,
        /// The raw line (at most 4 KiB of it).
        raw: String,
    },
}

/// A message and where it came from.
#[derive(Debug, Clone)]
pub struct Record {
    /// Line number, from 1.
    pub line: u64,
    /// The parsed message.
    pub message: Message,
    /// The line as read (without its line end), if asked for with
    /// [`StreamFile::keep_raw`].
    pub raw: Option<String>,
}

/// A stream file being read.
pub struct StreamFile {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    /// A line that spans two fills of `reader`'s buffer, gathered.
    spill: Vec<u8>,
    line: u64,
    failed: bool,
    keep_raw: bool,
    compressed: bool,
}

impl StreamFile {
    /// Open a file, detecting gzip and bzip2 by their magic bytes; a
    /// compressed one is inflated on one thread of its own.
    pub fn open(path: &Path) -> Result<StreamFile, ReadError> {
        Self::open_spread(path, 1)
    }

    /// Open a file as [`StreamFile::open`] does, but inflate a bzip2 one
    /// on `workers` threads (see `bz2_blocks`): for a reader with cores to
    /// spare. One worker is [`StreamFile::open`].
    pub fn open_spread(path: &Path, workers: usize) -> Result<StreamFile, ReadError> {
        let io = |source| ReadError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?);
        let head = file.fill_buf().map_err(io)?;
        // Decompression runs off this thread (see `background`, `bz2_blocks`).
        let (gzip, bzip2) = (head.starts_with(&[0x1f, 0x8b]), head.starts_with(b"BZh"));
        if !gzip && !bzip2 && memchr::memchr(0, head).is_some() {
            // Read as lines, a binary file (xz, zstd, zip) would be one bad
            // line per stray line feed: say once what it is instead.
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "binary data, not JSON lines (plain, gzip and bzip2 files are read)",
            )));
        }
        let reader: Box<dyn BufRead + Send> = if gzip {
            let decoder = flate2::bufread::MultiGzDecoder::new(file);
            Box::new(BufReader::with_capacity(
                1 << 16,
                BackgroundReader::spawn(decoder).map_err(io)?,
            ))
        } else if bzip2 && workers > 1 {
            let inflated = ParallelBz2::spawn(file, workers, reopen_bzip2(path)).map_err(io)?;
            Box::new(BufReader::with_capacity(1 << 16, inflated))
        } else if bzip2 {
            let decoder = bzip2::bufread::MultiBzDecoder::new(file);
            Box::new(BufReader::with_capacity(
                1 << 16,
                BackgroundReader::spawn(decoder).map_err(io)?,
            ))
        } else {
            Box::new(file)
        };
        Ok(Self::from_reader(path, reader, gzip || bzip2))
    }

    /// Lines of `reader`, named `path` in errors.
    fn from_reader(path: &Path, reader: Box<dyn BufRead + Send>, compressed: bool) -> Self {
        StreamFile {
            path: path.to_owned(),
            reader,
            spill: Vec::new(),
            line: 0,
            failed: false,
            keep_raw: false,
            compressed,
        }
    }

    /// Also hand out each line's text (ingestion stores it verbatim).
    pub fn keep_raw(mut self) -> Self {
        self.keep_raw = true;
        self
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes not yet read, as they are (for `ahead`, which splits
    /// a plain file into lines itself).
    pub(crate) fn raw(&mut self) -> &mut (dyn BufRead + Send) {
        &mut *self.reader
    }

    /// Whether the file is gzip or bzip2 (decompressed off the reading thread).
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }
}

impl StreamFile {
    /// Read the next message into `message`, keeping its buffers (see
    /// [`Message::parse`]); its line number, `None` at the end.
    pub fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        self.next_line(|path, line, bytes| parse(path, line, bytes, message).map(|_| line))
    }

    /// [`StreamFile::read_into`], the runner changes of a line the
    /// scanner reads left in the message's record (see
    /// `Records::read_leaving_runners`).
    pub(crate) fn read_leaving_runners(
        &mut self,
        message: &mut Message,
    ) -> Option<Result<u64, ReadError>> {
        self.next_line(|path, line, bytes| {
            read_text(path, line, bytes, |text| {
                message.parse_leaving_runners(text)
            })
            .map(|_| line)
        })
    }

    /// Call `read` with the file, the number and the bytes of the next
    /// line that is not blank (without its line end); `None` at the end.
    /// The line is read where it lies in the reader's buffer: copying each
    /// line out of it, as `read_line` does, was 5% of a backtest's
    /// instructions.
    pub(crate) fn next_line<T>(
        &mut self,
        mut read: impl FnMut(&Path, u64, &[u8]) -> Result<T, ReadError>,
    ) -> Option<Result<T, ReadError>> {
        loop {
            if self.failed {
                return None;
            }
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    // A broken stream cannot be resynchronised: report once, stop.
                    self.failed = true;
                    return Some(Err(ReadError::Io {
                        path: self.path.clone(),
                        source,
                    }));
                }
            };
            let (end, used) = match memchr::memchr(b'\n', available) {
                Some(end) => (end, end + 1),
                None if available.is_empty() && self.spill.is_empty() => return None,
                // The last line, without a line end.
                None if available.is_empty() => (0, 0),
                None => {
                    let used = available.len();
                    self.spill.extend_from_slice(available);
                    self.reader.consume(used);
                    continue;
                }
            };
            self.line += 1;
            let line = if self.spill.is_empty() {
                &available[..end]
            } else {
                self.spill.extend_from_slice(&available[..end]);
                &self.spill
            };
            let line = trim_line_end(line);
            let done = (!is_blank(line)).then(|| read(&self.path, self.line, line));
            self.spill.clear();
            self.reader.consume(used);
            if done.is_some() {
                return done;
            }
        }
    }
}

/// `line` without the carriage returns before its line feed.
pub(crate) fn trim_line_end(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b'\r'] = line {
        line = rest;
    }
    line
}

/// Blank: nothing but ASCII whitespace.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Line `line` of `path` read into `message`; its text.
pub(crate) fn parse<'a>(
    path: &Path,
    line: u64,
    bytes: &'a [u8],
    message: &mut Message,
) -> Result<&'a str, ReadError> {
    read_text(path, line, bytes, |text| message.parse(text))
}

/// Line `line` of `path` as text, read by `read`; its text.
pub(crate) fn read_text<'a>(
    path: &Path,
    line: u64,
    bytes: &'a [u8],
    read: impl FnOnce(&str) -> serde_json::Result<()>,
) -> Result<&'a str, ReadError> {
    let text = utf8(path, line, bytes)?;
    read(text).map_err(|e| ReadError::json(path, line, &e, text))?;
    Ok(text)
}

/// Line `line` of `path` as text, or the error that says where it is not.
fn utf8<'a>(path: &Path, line: u64, bytes: &'a [u8]) -> Result<&'a str, ReadError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        ReadError::Json {
            path: path.to_owned(),
            line,
            message: format!("not UTF-8 text at byte {} of the line", at + 1),
            raw: String::from_utf8_lossy(bytes).chars().take(4096).collect(),
        }
    })
}

/// `path` inflated in sequence, for when cutting it into blocks fails.
fn reopen_bzip2(path: &Path) -> Fallback {
    let path = path.to_owned();
    Box::new(move || {
        let file = BufReader::with_capacity(1 << 16, File::open(&path)?);
        Ok(Box::new(bzip2::bufread::MultiBzDecoder::new(file)))
    })
}

impl ReadError {
    /// Line `line` of `path` is not a valid message.
    pub(crate) fn json(path: &Path, line: u64, e: &serde_json::Error, text: &str) -> Self {
        ReadError::Json {
            path: path.to_owned(),
            line,
            message: e.to_string(),
            raw: text.chars().take(4096).collect(),
        }
    }
}

impl Iterator for StreamFile {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let keep_raw = self.keep_raw;
        self.next_line(|path, line, bytes| {
            let mut message = Message::default();
            let text = parse(path, line, bytes, &mut message)?;
            let raw = keep_raw.then(|| text.to_owned());
            Ok(Record { line, message, raw })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line's number and what became of it, read through a buffer of
    /// `capacity` bytes.
    fn read(text: &[u8], capacity: usize) -> Vec<(u64, Result<String, String>)> {
        let reader = BufReader::with_capacity(capacity, std::io::Cursor::new(text.to_vec()));
        let file = StreamFile::from_reader(Path::new("f"), Box::new(reader), false).keep_raw();
        let mut out = Vec::new();
        let mut message = Message::default();
        for read in file {
            match read {
                Ok(record) => out.push((record.line, Ok(record.raw.unwrap_or_default()))),
                Err(e @ ReadError::Json { line, .. }) => out.push((line, Err(e.to_string()))),
                Err(e) => panic!("{e}"),
            }
        }
        // `read_into` agrees with the iterator.
        let reader = BufReader::with_capacity(capacity, std::io::Cursor::new(text.to_vec()));
        let mut file = StreamFile::from_reader(Path::new("f"), Box::new(reader), false);
        let mut lines = Vec::new();
        while let Some(read) = file.read_into(&mut message) {
            lines.push(match read {
                Ok(line) => (line, true),
                Err(ReadError::Json { line, .. }) => (line, false),
                Err(e) => panic!("{e}"),
            });
        }
        let want: Vec<_> = out
            .iter()
            .map(|(line, read)| (*line, read.is_ok()))
            .collect();
        assert_eq!(lines, want);
        out
    }

    #[test]
    fn lines_split_across_the_readers_buffer_read_as_whole_ones() {
        let long = format!(
            r#"{{"op":"mcm","pt":3,"clk":"{}","mc":[]}}"#,
            "x".repeat(300)
        );
        let text = format!(
            "{{\"op\":\"mcm\",\"pt\":1,\"mc\":[]}}\r\n\r\n  \t\n{{oops\n{long}\r\r\n\n{{\"op\":\"status\"}}"
        );
        let whole = read(text.as_bytes(), 1 << 16);
        let lines: Vec<u64> = whole.iter().map(|(line, _)| *line).collect();
        // Blank lines are counted but not read; the last line has no line end.
        assert_eq!(lines, [1, 4, 5, 7]);
        assert_eq!(whole[0].1.as_deref(), Ok(r#"{"op":"mcm","pt":1,"mc":[]}"#));
        assert!(whole[1].1.as_ref().is_err_and(|e| e.starts_with("f:4:")));
        assert_eq!(whole[2].1.as_deref(), Ok(long.as_str()));
        assert_eq!(whole[3].1.as_deref(), Ok(r#"{"op":"status"}"#));
        for capacity in 1..=80 {
            assert_eq!(
                read(text.as_bytes(), capacity),
                whole,
                "buffer of {capacity} bytes"
            );
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named_and_reading_goes_on() {
        let mut text = br#"{"op":"mcm","pt":1,"clk":"a"#.to_vec();
        text.extend_from_slice(&[0xff, 0xfe]);
        text.extend_from_slice(b"\"}\n{\"op\":\"status\"}\n");
        for capacity in [4, 1 << 16] {
            let read = read(&text, capacity);
            assert_eq!(read.len(), 2);
            let bad = read[0].1.as_ref().unwrap_err();
            // 27 bytes of text, then 0xff.
            assert_eq!(bad, "f:1: not UTF-8 text at byte 28 of the line");
            assert_eq!(read[1], (2, Ok(r#"{"op":"status"}"#.to_owned())));
        }
    }

    #[test]
    fn a_binary_file_is_one_error_not_a_bad_line_per_line_feed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.xz");
        std::fs::write(&path, b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4F\n\x02\n").unwrap();
        let Err(e) = StreamFile::open(&path) else {
            panic!("a binary file opened as lines");
        };
        let e = e.to_string();
        assert!(e.contains("race.xz: binary data, not JSON lines"), "{e}");
    }

    #[test]
    fn an_empty_file_has_no_lines() {
        assert!(read(b"", 8).is_empty());
        assert!(read(b"\r\n\n", 1).is_empty());
    }
}
