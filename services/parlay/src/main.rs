//! The `parlay` binary: see `parlay --help`.
#![forbid(unsafe_code)]

/// mimalloc instead of the system allocator: the suite makes many small, short-lived
/// allocations on several threads (requests, statements, bus messages), where glibc's
/// malloc spent a fifth of the CPU under load (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    parlay::cli::main()
}
