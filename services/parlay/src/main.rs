//! The `parlay` binary: see `parlay --help`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    parlay::cli::main()
}
