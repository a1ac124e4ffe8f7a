//! Streamed market data recorded in Betfair's own format, one change
//! message per line, as the historical files are, so a live day can be
//! replayed in a backtest (`clever backtest --data FILE`). Heartbeats carry
//! no data and are left out.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Deserialize;

/// A file being recorded.
pub struct Recorder {
    out: BufWriter<File>,
    lines: u64,
}

#[derive(Deserialize)]
struct Kind {
    ct: Option<String>,
}

impl Recorder {
    /// Record into a new file at `path` (an existing one is not replaced).
    pub fn create(path: &Path) -> io::Result<Recorder> {
        let file = File::options().write(true).create_new(true).open(path)?;
        Ok(Recorder {
            out: BufWriter::new(file),
            lines: 0,
        })
    }

    /// Record one change message as received; true if it was written.
    pub fn record(&mut self, line: &str) -> io::Result<bool> {
        let heartbeat =
            serde_json::from_str::<Kind>(line).is_ok_and(|k| k.ct.as_deref() == Some("HEARTBEAT"));
        if heartbeat {
            return Ok(false);
        }
        self.out.write_all(line.trim_end().as_bytes())?;
        self.out.write_all(b"\n")?;
        self.lines += 1;
        Ok(true)
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Write out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
