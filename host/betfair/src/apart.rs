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
//! The opener steps aside: it moves itself to another core as soon as it
//! has started the scanning thread, and the scanning thread keeps to the
//! core the opener left. A new thread is often queued on its opener's
//! core, to start only when the opener sleeps; the opener used to sleep
//! until the scanner had started and moved itself, a median of 0.18 ms
//! of the engine's thread, against 0.04 ms for its own move now
//! (docs/BENCHMARKS.md, twenty-second sitting). Once moved, the opener
//! (the engine's thread) is left free again, so threads it starts (a
//! plugin's compilation, say) keep every core.

#[cfg(target_os = "linux")]
use rustix::thread::CpuSet;

/// The core a file's opener runs on, which its scanning thread is to
/// keep to, and the others, where the opener goes.
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

    /// (The scanning thread.) Keep to the opener's core; if the system
    /// refuses, run wherever the kernel puts it.
    pub(crate) fn keep_to_the_openers_core(&self) {
        #[cfg(target_os = "linux")]
        let _ = rustix::thread::sched_setaffinity(None, &self.here);
    }

    /// (The opener.) Move to another core, then be free to run on any.
    pub(crate) fn step_aside(&self) {
        #[cfg(target_os = "linux")]
        if rustix::thread::sched_setaffinity(None, &self.others).is_ok() {
            let _ = rustix::thread::sched_setaffinity(None, &self.all);
        }
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
    fn the_scanner_keeps_to_the_openers_core_and_the_opener_is_freed_again() {
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
        let here = apart.here;
        let scanner = std::thread::spawn(move || {
            apart.keep_to_the_openers_core();
            (sched_getaffinity(None).unwrap(), sched_getcpu())
        });
        Apart::from_here().unwrap().step_aside();
        assert!(
            sched_getaffinity(None).unwrap() == allowed,
            "the opener was not freed again"
        );
        let (kept, ran_on) = scanner.join().unwrap();
        assert!(
            kept == here,
            "the scanner did not keep to the opener's core"
        );
        assert!(here.is_set(ran_on), "the scanner ran on core {ran_on}");
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
