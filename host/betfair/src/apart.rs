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
//! The scanning thread moves itself as it starts, and the opener waits
//! until it has: queued on the opener's core, a new thread would start
//! only when the opener slept. The engine's thread itself is left free,
//! so threads it starts (a plugin's compilation, say) keep every core.

/// The cores a scanning thread is to keep to.
pub(crate) struct Elsewhere {
    #[cfg(target_os = "linux")]
    cores: rustix::thread::CpuSet,
}

impl Elsewhere {
    /// Every core this process may use but the one the calling thread
    /// runs on now; `None` if there is no other.
    #[cfg(target_os = "linux")]
    pub(crate) fn than_here() -> Option<Elsewhere> {
        let mut cores = rustix::thread::sched_getaffinity(None).ok()?;
        let here = current_core()?;
        if cores.count() < 2 || !cores.is_set(here) {
            return None;
        }
        cores.unset(here);
        Some(Elsewhere { cores })
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn than_here() -> Option<Elsewhere> {
        None
    }

    /// Keep the calling (scanning) thread to these cores; if the system
    /// refuses, it runs wherever the kernel puts it.
    pub(crate) fn keep_to(&self) {
        #[cfg(target_os = "linux")]
        let _ = rustix::thread::sched_setaffinity(None, &self.cores);
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
    fn a_thread_kept_elsewhere_runs_on_every_allowed_core_but_one() {
        let allowed = sched_getaffinity(None).unwrap();
        let Some(elsewhere) = Elsewhere::than_here() else {
            assert!(
                allowed.count() < 2,
                "{} cores, yet none elsewhere",
                allowed.count()
            );
            return;
        };
        let cores = elsewhere.cores;
        assert_eq!(cores.count(), allowed.count() - 1);
        for cpu in (0..CpuSet::MAX_CPU).filter(|&cpu| cores.is_set(cpu)) {
            assert!(allowed.is_set(cpu), "core {cpu} is not the process's");
        }
        let (kept, ran_on) = std::thread::spawn(move || {
            elsewhere.keep_to();
            (sched_getaffinity(None).unwrap(), sched_getcpu())
        })
        .join()
        .unwrap();
        assert!(kept == cores, "the thread did not keep to the cores named");
        assert!(cores.is_set(ran_on), "the thread ran on core {ran_on}");
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
