//! `parlay-bench`: the benchmark harness (docs/benchmarks.md). It starts the system under
//! test itself (the `parlay` binary as child processes: embedded by default,
//! `--mode distributed` over the machine's NATS and PostgreSQL), loads it with an open model,
//! reconciles every request and webhook by id, and writes `report.json` and `report.md`:
//! each headline figure (median of the runs, with their spread) beside its goal and beside
//! the ceiling of the same machine measured in the same run (P1–P5, and the Kannel peer).
//!
//! `parlay-bench [--smoke] [--runs N] [--mode embedded|distributed] [--out DIR] [SCENARIO…]`
//! with scenarios h1…h7, p1…p5, kannel (default: all). `--smoke` runs each for a moment
//! with small numbers, to keep the harness working; no figure ever fails the run.

use std::{collections::BTreeMap, path::PathBuf};

use clap::Parser;

mod ceilings;
mod hooks;
mod load;
mod peer;
mod report;
mod scenarios;
mod suite;
mod sys;

use suite::Mode;

#[derive(Parser, Debug)]
#[command(
    name = "parlay-bench",
    about = "Benchmarks of the Parlay suite beside the machine's ceilings"
)]
struct Cli {
    /// A few seconds per scenario with small numbers (CI): keeps the harness working.
    #[arg(long)]
    smoke: bool,
    /// Measured runs per scenario (the figure is their median). Default 3, smoke 1.
    #[arg(long)]
    runs: Option<usize>,
    #[arg(long, value_enum, default_value = "embedded")]
    mode: Mode,
    /// Where report.json and report.md go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// The `parlay` binary (default: beside this one, or `PARLAY_BIN`).
    #[arg(long)]
    parlay: Option<PathBuf>,
    /// Scenarios to run (h1…h7, p1…p5, kannel); none: all.
    scenarios: Vec<String>,
    /// Internal: serve a bare ceiling server (axum | tonic | hyper) on this port.
    #[arg(long, hide = true, num_args = 2, value_names = ["KIND", "PORT"])]
    serve_bare: Option<Vec<String>>,
}

/// What every scenario needs.
pub struct Ctx {
    pub smoke: bool,
    pub runs: usize,
    pub mode: Mode,
    pub parlay: PathBuf,
    pub out: PathBuf,
}

impl Ctx {
    /// `full` normally, `smoke` in smoke mode.
    pub fn pick<T>(&self, full: T, smoke: T) -> T {
        if self.smoke { smoke } else { full }
    }

    pub fn options(&self, env: &[(&str, &str)]) -> suite::Options {
        suite::Options {
            mode: self.mode,
            parlay: self.parlay.clone(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// One measured run's figures, by name (`rate`, `p99_ms`, `cpu_s_per_1k`, …).
pub type Run = BTreeMap<String, f64>;

pub const ALL: [&str; 13] = [
    "p1", "p2", "p3", "p4", "p5", "kannel", "h1", "h2", "h3", "h4", "h5", "h6", "h7",
];

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Some(bare) = &cli.serve_bare {
        return match runtime.block_on(ceilings::serve_bare(&bare[0], &bare[1])) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("serve-bare: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parlay-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let wanted: Vec<String> =
        if cli.scenarios.is_empty() || cli.scenarios.iter().any(|s| s == "all") {
            ALL.iter().map(|s| s.to_string()).collect()
        } else {
            cli.scenarios.iter().map(|s| s.to_lowercase()).collect()
        };
    if let Some(bad) = wanted.iter().find(|s| !ALL.contains(&s.as_str())) {
        anyhow::bail!("unknown scenario {bad}: one of {}", ALL.join(", "));
    }
    std::fs::create_dir_all(&cli.out)?;
    let ctx = Ctx {
        smoke: cli.smoke,
        runs: cli.runs.unwrap_or(if cli.smoke { 1 } else { 3 }).max(1),
        mode: cli.mode,
        parlay: suite::find_parlay(cli.parlay.as_deref())?,
        out: cli.out.clone(),
    };
    let mut report = report::Report::new(&ctx);
    for id in ALL.iter().filter(|id| wanted.iter().any(|w| w == *id)) {
        eprintln!("== {id}: {}", report::title(id));
        let began = std::time::Instant::now();
        let result = match *id {
            "p1" => ceilings::p1(&ctx).await,
            "p2" => ceilings::p2(&ctx).await,
            "p3" => ceilings::p3(&ctx).await,
            "p4" => ceilings::p4(&ctx).await,
            "p5" => ceilings::p5(&ctx).await,
            "kannel" => peer::kannel(&ctx).await,
            "h1" => scenarios::h1(&ctx).await,
            "h2" => scenarios::h2(&ctx).await,
            "h3" => scenarios::h3(&ctx).await,
            "h4" => scenarios::h4(&ctx).await,
            "h5" => scenarios::h5(&ctx).await,
            "h6" => scenarios::h6(&ctx).await,
            "h7" => scenarios::h7(&ctx).await,
            _ => unreachable!("checked above"),
        };
        match &result {
            Ok(runs) => eprintln!(
                "   {} run(s) in {:.1} s",
                runs.len(),
                began.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!("   {id} could not run: {e:#}"),
        }
        report.add(id, result);
        // Written after each scenario: a long run interrupted keeps what it measured.
        report.write(&ctx.out)?;
    }
    println!("{}", report.markdown());
    eprintln!(
        "report: {} and {}",
        ctx.out.join("report.json").display(),
        ctx.out.join("report.md").display()
    );
    // A figure never fails the run; a scenario that could not run does (the harness broke).
    let failed = report.failed();
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(|(id, e)| format!("{id}: {e}")).collect();
        anyhow::bail!(
            "{} scenario(s) could not run:\n{}",
            failed.len(),
            list.join("\n")
        );
    }
    Ok(())
}
