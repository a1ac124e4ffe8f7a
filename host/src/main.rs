//! The `clever` command. All the work is in [`clever_host::cli`]; this only
//! runs it and prints the cause chain of an error.

fn main() -> std::process::ExitCode {
    clever_host::cli::main()
}
