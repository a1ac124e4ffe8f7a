//! Reading Betfair stream files: plain, `.gz` or `.bz2` (told by their
//! first bytes, not their names), one JSON message per line, LF or CRLF.
//! Streamed line by line with one reused buffer, so memory stays bounded
//! whatever the file's size. A line that is not a valid message is an
//! error naming the file and line; reading goes on after it.

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
    buf: String,
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
        Ok(StreamFile {
            path: path.to_owned(),
            reader,
            buf: String::with_capacity(1 << 12),
            line: 0,
            failed: false,
            keep_raw: false,
            compressed: gzip || bzip2,
        })
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

    /// Whether the file is gzip or bzip2 (decompressed off the reading thread).
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }
}

impl StreamFile {
    /// Read the next message into `message`, keeping its buffers (see
    /// [`Message::parse`]); its line number, `None` at the end.
    pub fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        if let Err(e) = self.next_line()? {
            return Some(Err(e));
        }
        let text = self.buf.trim_end_matches(['\n', '\r']);
        Some(match message.parse(text) {
            Ok(()) => Ok(self.line),
            Err(e) => Err(ReadError::json(&self.path, self.line, &e, text)),
        })
    }

    /// Read the next line that is not blank into `buf`.
    fn next_line(&mut self) -> Option<Result<(), ReadError>> {
        loop {
            if self.failed {
                return None;
            }
            self.buf.clear();
            match self.reader.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(source) => {
                    // A broken stream cannot be resynchronised: report once, stop.
                    self.failed = true;
                    return Some(Err(ReadError::Io {
                        path: self.path.clone(),
                        source,
                    }));
                }
            }
            self.line += 1;
            if !self.buf.trim().is_empty() {
                return Some(Ok(()));
            }
        }
    }
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
        let mut message = Message::default();
        let line = match self.read_into(&mut message)? {
            Ok(line) => line,
            Err(e) => return Some(Err(e)),
        };
        let raw = self
            .keep_raw
            .then(|| self.buf.trim_end_matches(['\n', '\r']).to_owned());
        Some(Ok(Record { line, message, raw }))
    }
}
