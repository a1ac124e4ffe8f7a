//! The `clever` command. All the work is in [`clever_host::cli`]; this only
//! runs it and prints the cause chain of an error.

// mimalloc: backtests allocate many small, short-lived messages, often
// freed on another thread than the one that made them; glibc's malloc is
// slow at exactly that (measured in docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    clever_host::cli::main()
}

/// Transparent huge pages off for this process. mimalloc asks the kernel
/// for them, and when the kernel has no zeroed huge page at hand, each
/// fresh 2 MiB page is zeroed in the page fault: a backtest of the real
/// race took 94 ms instead of 63 ms when it ran right after another
/// program had kept a core busy (docs/BENCHMARKS.md). Ordinary 4 KiB
/// pages cost nothing measurable here. Not being able to is harmless.
/// Child processes (`clever build` runs cargo) inherit the setting.
///
/// It must run before the Rust runtime's start-up, whose first allocation
/// already faults in mimalloc's first arena (two huge pages zeroed before
/// `main`, 6% of a backtest's samples in `perf`): the loader calls the
/// functions listed in `.init_array` before that.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // the one way to run before std's start-up allocates
#[used]
#[unsafe(link_section = ".init_array")]
static NO_HUGE_PAGES: extern "C" fn() = {
    extern "C" fn no_huge_pages() {
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
    no_huge_pages
};
