//! The harness in smoke mode (a moment per scenario, small numbers): every scenario runs to
//! the end and reports its figures. No figure is judged here: the harness never fails CI on
//! a figure, only on not working.

use std::process::Command;

use serde_json::Value;

/// Runs the harness; its report, and the harness's process id (its suites' bus prefix
/// starts `bench{pid}x`).
fn smoke(mode: &str, scenarios: &[&str]) -> (Value, u32) {
    let out =
        std::env::temp_dir().join(format!("parlay-bench-smoke-{mode}-{}", std::process::id()));
    let mut harness = Command::new(env!("CARGO_BIN_EXE_parlay-bench"))
        .args([
            "--smoke",
            "--mode",
            mode,
            "--parlay",
            env!("CARGO_BIN_EXE_parlay-bench-node"),
        ])
        .arg("--out")
        .arg(&out)
        .args(scenarios)
        .spawn()
        .expect("the harness starts");
    let pid = harness.id();
    let status = harness.wait().expect("the harness runs");
    assert!(
        status.success(),
        "parlay-bench --smoke --mode {mode}: {status}"
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report.json"))
            .expect("JSON");
    let markdown = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    let _ = std::fs::remove_dir_all(&out);
    let ran: Vec<&str> = report["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default())
        .collect();
    for id in scenarios {
        assert!(ran.contains(id), "{id} missing from the report: {ran:?}");
        assert!(
            markdown.contains(&format!("| {id} |")),
            "{id} missing from report.md"
        );
    }
    (report, pid)
}

fn figure(report: &Value, id: &str, key: &str) -> f64 {
    let s = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap();
    assert!(s.get("error").is_none(), "{id}: {}", s["error"]);
    s["figures"][key]["median"]
        .as_f64()
        .unwrap_or_else(|| panic!("{id} has no {key}: {s}"))
}

#[test]
fn every_scenario_and_ceiling_runs_embedded() {
    let all = [
        "p1", "p2", "p3", "p4", "p5", "h1", "h2", "h3", "h4", "h5", "h6", "h7",
    ];
    let (report, _) = smoke("embedded", &all);
    // Something was measured, and reconciled, in each.
    assert!(figure(&report, "p1", "rate") > 0.0);
    assert!(figure(&report, "p4", "sqlite_single_rows_s") > 0.0);
    assert!(figure(&report, "h1", "accepted") > 0.0);
    assert_eq!(figure(&report, "h2", "lost"), 0.0);
    assert!(figure(&report, "h3", "delivered") > 0.0);
    assert!(figure(&report, "h4", "delivered") > 0.0);
    assert!(figure(&report, "h5", "live_sessions") > 0.0);
    assert!(figure(&report, "h6", "decided") > 0.0);
    assert!(figure(&report, "h7", "rss_mib") > 0.0);
}

#[test]
fn the_suite_scenarios_run_distributed() {
    let (report, pid) = smoke("distributed", &["h2", "h4"]);
    assert_eq!(figure(&report, "h2", "lost"), 0.0);
    assert!(figure(&report, "h4", "delivered") > 0.0);
    // Each suite made JetStream streams of its own; none is left behind.
    let left = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(streams_starting(&format!("bench{pid}x")));
    assert!(left.is_empty(), "streams left by the runs: {left:?}");
}

async fn streams_starting(prefix: &str) -> Vec<String> {
    use futures::StreamExt as _;
    let url = std::env::var("PARLAY_BENCH_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let js = async_nats::jetstream::new(async_nats::connect(url).await.expect("NATS"));
    let mut names = js.stream_names();
    let mut found = Vec::new();
    while let Some(name) = names.next().await {
        let name = name.expect("the stream names");
        if name.starts_with(prefix) {
            found.push(name);
        }
    }
    found
}
