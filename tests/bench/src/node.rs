//! The suite's CLI under another name, so the harness's own smoke test can start the system
//! under test as child processes (the real runs use the `parlay` binary itself).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    parlay::cli::main()
}
