//! Decompressing in the background, so a backtest of a compressed file
//! uses a second core: [`BackgroundReader`] inflates on its own thread
//! while the engine parses and applies what is ready. The channel is
//! bounded, so memory stays bounded whatever the file's size.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Bytes per decompressed chunk: small, so the engine waits little for the
/// first and has little left to do after the last.
const CHUNK: usize = 1 << 16;
/// Chunks in flight (2 MiB).
const IN_FLIGHT: usize = 32;

/// A reader whose bytes are produced by another thread.
pub struct BackgroundReader {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

impl BackgroundReader {
    /// Read `inner` to its end on a new thread.
    pub fn spawn(mut inner: impl Read + Send + 'static) -> io::Result<Self> {
        let (tx, chunks) = sync_channel(IN_FLIGHT);
        std::thread::Builder::new()
            .name("clever-decompress".into())
            .spawn(move || pump(&mut inner, &tx))?;
        Ok(BackgroundReader {
            chunks,
            current: Vec::new(),
            at: 0,
        })
    }
}

fn pump(inner: &mut impl Read, tx: &SyncSender<io::Result<Vec<u8>>>) {
    loop {
        let mut chunk = vec![0; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match inner.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        if filled == 0 {
            return;
        }
        chunk.truncate(filled);
        // The reader hung up: nobody wants the rest.
        if tx.send(Ok(chunk)).is_err() {
            return;
        }
    }
}

impl Read for BackgroundReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.current.len() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_background_reader_gives_every_byte_in_order() {
        let data: Vec<u8> = (0..(3 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        let mut reader = BackgroundReader::spawn(std::io::Cursor::new(data.clone())).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }
}
