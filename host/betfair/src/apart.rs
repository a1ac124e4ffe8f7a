//! A plain file's scanning thread kept off the core of the thread that
//! opened the file, where that thread goes on to run the file's engine.
//!
//! Left to itself, the kernel of the two-core machines measured in
//! docs/BENCHMARKS.md (twentieth sitting) often started the scanner on
//! the engine's core, or woke the engine's thread onto the scanner's,
//! and left the other core idle for up to 4 ms until it balanced its
//! load: in most runs of the real race, about a fifth of it. Asked for
//! only where the thread that opens a file also runs it (see
//! [`StreamFormat::one_runner`](crate::StreamFormat::one_runner)).
//!
//! The scanning thread moves off the opener's core as the first thing it
//! does, and the opener stays where it is, free to run on any core while
//! the plugins load (so threads it starts, a plugin's compilation say,
//! keep every core). From the twenty-second sitting to the twenty-fourth
//! the opener moved instead and the scanner kept to the core it left;
//! but a new thread often starts at once on its opener's core, ahead of
//! it, and the opener then waited there, runnable, until the scanner
//! slept, while the other core idled (3.8 ms in one traced race of the
//! twenty-fourth sitting). A thread that leaves as soon as it starts
//! keeps its opener waiting for no more than that.
//!
//! While it reads the scanner's batches, the opener (by then the engine's
//! thread) keeps to its own core, until the scanner ends. Free to run
//! anywhere, it was woken onto the scanner's core while it waited for a
//! batch in some races of that sitting, and the two then took turns
//! there to the race's end (in one traced race, 21 ms of the other core
//! idle).

#[cfg(target_os = "linux")]
use rustix::thread::CpuSet;

/// The core a file's opener runs on, which it keeps to while it reads,
/// and the others, where its scanning thread goes.
#[derive(Clone, Copy)]
pub(crate) struct Apart {
    #[cfg(target_os = "linux")]
    here: CpuSet,
    #[cfg(target_os = "linux")]
    others: CpuSet,
    #[cfg(target_os = "linux")]
    all: CpuSet,
}

impl Apart {
    /// The calling thread's core and the process's others; `None` if
    /// there is no other.
    #[cfg(target_os = "linux")]
    pub(crate) fn from_here() -> Option<Apart> {
        let all = rustix::thread::sched_getaffinity(None).ok()?;
        let core = current_core()?;
        if all.count() < 2 || !all.is_set(core) {
            return None;
        }
        let mut here = CpuSet::new();
        here.set(core);
        let mut others = all;
        others.unset(core);
        Some(Apart { here, others, all })
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn from_here() -> Option<Apart> {
        None
    }

    /// (The scanning thread, as it starts.) Keep off the opener's core;
    /// if the system refuses, run wherever the kernel puts it.
    pub(crate) fn keep_off_the_openers_core(&self) {
        #[cfg(target_os = "linux")]
        let _ = rustix::thread::sched_setaffinity(None, &self.others);
    }

    /// (The opener, reading the scanner's batches.) Keep to its own core;
    /// false if the system refuses.
    pub(crate) fn keep_to_the_openers_core(&self) -> bool {
        #[cfg(target_os = "linux")]
        return rustix::thread::sched_setaffinity(None, &self.here).is_ok();
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// (The opener, once the scanner has ended.) Be free to run on any
    /// core again.
    pub(crate) fn rejoin(&self) {
        #[cfg(target_os = "linux")]
        let _ = rustix::thread::sched_setaffinity(None, &self.all);
    }
}

/// The core the calling thread runs on, as `/proc/thread-self/stat`
/// gives it (its 39th field), or `None` if that cannot be read.
///
/// Not `rustix::thread::sched_getcpu`: it goes through the vDSO, and
/// rustix's search for the vDSO crashes the process under valgrind
/// (bytecodealliance/rustix#1559), which the benchmarks use to count
/// instructions. One read of a small file per file opened.
#[cfg(target_os = "linux")]
fn current_core() -> Option<usize> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The command name (field 2, in parentheses) may hold spaces and
    // parentheses of its own; the fields after its last `)` are plain.
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name
        .split_ascii_whitespace()
        .nth(39 - 3)?
        .parse()
        .ok()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use rustix::thread::{CpuSet, sched_getaffinity, sched_getcpu};

    #[test]
    fn the_scanner_keeps_off_the_openers_core_and_the_opener_to_it_until_it_rejoins() {
        let allowed = sched_getaffinity(None).unwrap();
        let Some(apart) = Apart::from_here() else {
            assert!(
                allowed.count() < 2,
                "{} cores, yet none apart",
                allowed.count()
            );
            return;
        };
        assert_eq!(apart.here.count(), 1);
        assert_eq!(apart.others.count(), allowed.count() - 1);
        assert!(apart.all == allowed);
        for cpu in (0..CpuSet::MAX_CPU).filter(|&cpu| allowed.is_set(cpu)) {
            assert!(
                apart.here.is_set(cpu) != apart.others.is_set(cpu),
                "core {cpu} is both the opener's and another, or neither"
            );
        }
        let scanner = std::thread::spawn(move || {
            apart.keep_off_the_openers_core();
            (sched_getaffinity(None).unwrap(), sched_getcpu())
        });
        let (kept, ran_on) = scanner.join().unwrap();
        assert!(
            kept == apart.others,
            "the scanner did not keep off the opener's core"
        );
        assert!(
            apart.others.is_set(ran_on),
            "the scanner ran on core {ran_on}"
        );
        // On a thread of its own, whose cores the test may change.
        std::thread::spawn(move || {
            assert!(apart.keep_to_the_openers_core());
            assert!(sched_getaffinity(None).unwrap() == apart.here);
            assert!(apart.here.is_set(sched_getcpu()));
            apart.rejoin();
            assert!(
                sched_getaffinity(None).unwrap() == allowed,
                "the opener was not freed again"
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_current_core_is_read_as_the_kernel_reports_it() {
        let allowed = sched_getaffinity(None).unwrap();
        for cpu in (0..CpuSet::MAX_CPU).filter(|&cpu| allowed.is_set(cpu)) {
            let mut one = CpuSet::new();
            one.set(cpu);
            let (read, reported) = std::thread::spawn(move || {
                rustix::thread::sched_setaffinity(None, &one).unwrap();
                (current_core(), sched_getcpu())
            })
            .join()
            .unwrap();
            assert_eq!(read, Some(cpu), "kept to core {cpu}");
            assert_eq!(read, Some(reported));
        }
    }
}
