//! A plugin file's SHA-256 remembered by its stamp: what the file system
//! says of it (device, inode, size, modification and change times), the
//! way git's index remembers which files are unchanged. Hashing the two
//! example plugins took 0.33 ms of the 3.6 ms before a backtest's first
//! update (docs/BENCHMARKS.md, twenty-third sitting); a remembered hash
//! is one small file read.
//!
//! Why a stamp that still matches means the same bytes: any write to a
//! file sets its change time (ctime) to the present, and no process can
//! set it back (only the system clock can). A hash is remembered only
//! for a file whose times are [`SETTLED`] in the past, so a later write
//! cannot land in the same tick of a coarse clock and leave the stamp as
//! it was. A file written while it is hashed has a new change time by
//! the next load, which then hashes it again.
//!
//! Entries live in the component cache's `stamps/` directory, one small
//! text file per plugin path (named by the path's hash, so a plugin
//! rebuilt in place keeps one entry). A missing, damaged or different
//! entry is no entry: the caller hashes the file, as it would without
//! one. Only on Unix, whose metadata carries the device, inode and ctime.

use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How far in the past a file's times must be before its hash is
/// remembered: beyond any file system's timestamp tick (two seconds on
/// FAT, the coarsest), so a later write cannot share the tick.
pub(crate) const SETTLED: Duration = Duration::from_secs(3);

/// What an entry says, line by line, before the hash: the format's name.
const FORMAT: &str = "clever-stamp 1";

/// The stamp of a file, from its metadata, and its entry's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    name: String,
    dev: u64,
    ino: u64,
    size: u64,
    /// Modification and change times: seconds and nanoseconds.
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    /// The stamp of the file at `path`, which `meta` describes; `None`
    /// off Unix, or if the path cannot be made absolute.
    pub(crate) fn of(path: &Path, meta: &Metadata) -> Option<Stamp> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let path = std::path::absolute(path).ok()?;
            let mut name = super::cache::sha256_hex(path.as_os_str().as_encoded_bytes());
            name.truncate(32);
            Some(Stamp {
                name,
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = (path, meta);
            None
        }
    }

    /// Both times at least [`SETTLED`] before `now`.
    fn settled_at(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let limit = now.saturating_sub(SETTLED);
        let before = |(secs, nanos): (i64, i64)| {
            let (Ok(secs), Ok(nanos)) = (u64::try_from(secs), u32::try_from(nanos)) else {
                return false;
            };
            nanos < 1_000_000_000 && Duration::new(secs, nanos) <= limit
        };
        before(self.mtime) && before(self.ctime)
    }

    /// An entry's first two lines: the format and the stamp.
    fn header(&self) -> String {
        let Stamp {
            name: _,
            dev,
            ino,
            size,
            mtime,
            ctime,
        } = self;
        format!(
            "{FORMAT}\n{dev} {ino} {size} {}.{} {}.{}\n",
            mtime.0, mtime.1, ctime.0, ctime.1
        )
    }

    fn path_in(&self, dir: &Path) -> PathBuf {
        dir.join(&self.name)
    }
}

/// The hash remembered in `dir` for a file of stamp `stamp`, if its entry
/// is for exactly that stamp.
pub(crate) fn remembered(dir: &Path, stamp: &Stamp) -> Option<String> {
    let text = std::fs::read_to_string(stamp.path_in(dir)).ok()?;
    let sha256 = text.strip_prefix(&stamp.header())?.strip_suffix('\n')?;
    let is_hash = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    is_hash.then(|| sha256.to_owned())
}

/// Remember `sha256` in `dir` for a file of stamp `stamp` if the file is
/// settled at `now` (see the module); whether it was written. A failure
/// costs only the next load a hash, so it is not raised.
pub(crate) fn remember(dir: &Path, stamp: &Stamp, sha256: &str, now: SystemTime) -> bool {
    if !stamp.settled_at(now) {
        return false;
    }
    let path = stamp.path_in(dir);
    let entry = format!("{}{sha256}\n", stamp.header());
    match super::cache::write_whole(dir, &path, entry.as_bytes()) {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(path = %path.display(), "cannot remember a plugin's hash: {e}");
            false
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Write as _;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn stamp_of(path: &Path) -> Stamp {
        Stamp::of(path, &std::fs::metadata(path).unwrap()).unwrap()
    }

    /// A directory with a plugin file in it, and where its stamps go.
    fn plugin_file() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plugin.wasm");
        std::fs::write(&file, b"test").unwrap();
        let stamps = dir.path().join("stamps");
        (dir, file, stamps)
    }

    /// The modification time `stamp` holds.
    fn modified_at(stamp: &Stamp) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(stamp.mtime.0 as u64, stamp.mtime.1 as u32)
    }

    /// Long enough after any write for `remember` to take it.
    fn later() -> SystemTime {
        SystemTime::now() + SETTLED + Duration::from_secs(1)
    }

    #[test]
    fn a_remembered_hash_holds_while_the_file_is_untouched() {
        let (_dir, file, stamps) = plugin_file();
        let stamp = stamp_of(&file);
        assert_eq!(remembered(&stamps, &stamp), None);
        assert!(remember(&stamps, &stamp, HASH, later()));
        assert_eq!(remembered(&stamps, &stamp_of(&file)), Some(HASH.into()));
        // Read again, as a second process would: the same answer.
        assert_eq!(remembered(&stamps, &stamp_of(&file)), Some(HASH.into()));
    }

    #[test]
    fn a_file_written_again_is_not_taken_for_the_same_bytes() {
        let (_dir, file, stamps) = plugin_file();
        let before = stamp_of(&file);
        assert!(remember(&stamps, &before, HASH, later()));
        // Past a coarse clock's tick, the same size written again, and
        // the modification time put back as it was: only the change time
        // tells, and it does.
        std::thread::sleep(Duration::from_millis(30));
        let mut f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        f.write_all(b"TEST").unwrap();
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        f.set_modified(modified_at(&before)).unwrap();
        drop(f);
        let after = stamp_of(&file);
        assert_eq!((after.size, after.mtime), (before.size, before.mtime));
        assert_ne!(after.ctime, before.ctime, "modified at {modified:?}");
        assert_eq!(remembered(&stamps, &after), None);
    }

    #[test]
    fn a_file_put_in_the_place_of_another_is_not_taken_for_it() {
        let (dir, file, stamps) = plugin_file();
        let before = stamp_of(&file);
        assert!(remember(&stamps, &before, HASH, later()));
        // The same size and modification time, at the same path, but
        // another file (a build that writes a new one and renames it).
        let other = dir.path().join("other.wasm");
        std::fs::write(&other, b"TEST").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(modified_at(&before))
            .unwrap();
        std::fs::rename(&other, &file).unwrap();
        let after = stamp_of(&file);
        assert_eq!(after.name, before.name);
        assert_ne!(after.ino, before.ino);
        assert_eq!(remembered(&stamps, &after), None);
        // Another path has an entry of its own.
        let elsewhere = stamp_of(&dir.path().join("stamps"));
        assert_ne!(elsewhere.name, before.name);
    }

    #[test]
    fn a_fresh_file_is_not_remembered_and_a_damaged_entry_is_none() {
        let (_dir, file, stamps) = plugin_file();
        let stamp = stamp_of(&file);
        // Written just now: a write in the same tick could follow.
        assert!(!remember(&stamps, &stamp, HASH, SystemTime::now()));
        assert_eq!(remembered(&stamps, &stamp), None);
        assert!(remember(&stamps, &stamp, HASH, later()));
        let entry = stamp.path_in(&stamps);
        let whole = std::fs::read_to_string(&entry).unwrap();
        for damaged in [
            whole.replace(HASH, &HASH[1..]),
            whole.replace(HASH, &HASH.replace('f', "g")),
            whole.replace(FORMAT, "clever-stamp 0"),
            whole[..whole.len() - 1].to_owned(),
            String::new(),
        ] {
            std::fs::write(&entry, &damaged).unwrap();
            assert_eq!(remembered(&stamps, &stamp), None, "{damaged:?}");
        }
    }
}
