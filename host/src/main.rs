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
