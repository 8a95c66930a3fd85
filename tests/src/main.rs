//! `parlay-e2e-node`: the `parlay` command under another name, built with the end-to-end
//! tests so they can start the suite as a child process and kill it mid-flight.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    parlay::cli::main()
}
