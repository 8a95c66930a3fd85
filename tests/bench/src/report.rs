//! The report: every figure of every run, the median of the runs with their spread, each
//! headline beside its goal and the ceiling that bounds it; `report.json` and `report.md`.

use std::{collections::BTreeMap, path::Path};

use serde_json::{Value, json};

use crate::{Ctx, Run};

/// What a scenario is, and what it is judged by.
struct Spec {
    title: &'static str,
    /// The headline figure's key in each [`Run`], and its unit.
    headline: (&'static str, &'static str),
    goal: &'static str,
    /// The ceiling (scenario id, figure key) the headline is divided by.
    ceiling: Option<(&'static str, &'static str)>,
}

fn spec(id: &str) -> Spec {
    let s = |title, headline, goal, ceiling| Spec {
        title,
        headline,
        goal,
        ceiling,
    };
    match id {
        "p1" => s(
            "bare axum handler, small JSON body (open model)",
            ("rate", "req/s"),
            "ceiling",
            None,
        ),
        "p2" => s(
            "bare tonic unary call (32 callers)",
            ("rate", "calls/s"),
            "ceiling",
            None,
        ),
        "p3" => s(
            "JetStream acknowledged publish, local NATS (64 in flight)",
            ("rate", "msg/s"),
            "ceiling",
            None,
        ),
        "p4" => s(
            "sea-orm inserts: SQLite (WAL) and PostgreSQL, single-row and batched",
            ("pg_single_rows_s", "rows/s"),
            "ceiling",
            None,
        ),
        "p5" => s(
            "bare hyper client POST to a bare hyper receiver",
            ("rate", "req/s"),
            "ceiling",
            None,
        ),
        "kannel" => s(
            "Kannel sendsms with a DLR each, wrk 2 threads 32 connections 10 s",
            ("accepted_s", "req/s"),
            "peer",
            None,
        ),
        "h1" => s(
            "REST send-SMS accepted (201 after commit), max sustained with p99 < 50 ms",
            ("rate", "req/s"),
            "≥ 2 × Kannel (wrk); ≥ 0.25 × P1",
            Some(("p1", "rate")),
        ),
        "h2" => s(
            "network event → webhook delivered, at 1,000 events/s",
            ("p99_ms", "ms p99"),
            "p99 ≤ 10 ms embedded, ≤ 25 ms distributed",
            Some(("p5", "open_p99_ms")),
        ),
        "h3" => s(
            "webhook deliveries to 100 receiver endpoints",
            ("rate", "deliveries/s"),
            "≥ 5,000/s, 0 lost",
            Some(("p5", "rate")),
        ),
        "h4" => s(
            "one presence update fanned out to 1,000 watchers",
            ("last_ms", "ms to last"),
            "≤ 250 ms; ≥ 10,000 notifications/s",
            Some(("p5", "rate")),
        ),
        "h5" => s(
            "call sessions created, the simulated network answering",
            ("rate", "sessions/s"),
            "≥ 2,000/s; ≤ 500 MB per 10,000 live",
            Some(("p1", "rate")),
        ),
        "h6" => s(
            "call-direction decision round trip at 500 attempts/s",
            ("p99_ms", "ms p99"),
            "p99 ≤ 20 ms + the application's time",
            Some(("p5", "open_p99_ms")),
        ),
        "h7" => s(
            "idle footprint of the suite",
            ("rss_mib", "MiB RSS"),
            "≤ 50 MB",
            None,
        ),
        _ => s("?", ("?", ""), "", None),
    }
}

pub fn title(id: &str) -> &'static str {
    spec(id).title
}

/// Median, min and max of one figure over the runs.
fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    let median = if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

struct Entry {
    id: String,
    result: Result<Vec<Run>, String>,
}

pub struct Report {
    header: Value,
    entries: Vec<Entry>,
}

impl Report {
    pub fn new(ctx: &Ctx) -> Report {
        Report {
            header: json!({
                "machine": crate::sys::machine(),
                "mode": ctx.mode,
                "smoke": ctx.smoke,
                "runs": ctx.runs,
                "started": chrono::Utc::now().to_rfc3339(),
                "commit": std::process::Command::new("git")
                    .args(["rev-parse", "--short", "HEAD"])
                    .output()
                    .ok()
                    .and_then(|o| String::from_utf8(o.stdout).ok())
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default(),
            }),
            entries: Vec::new(),
        }
    }

    pub fn add(&mut self, id: &str, result: anyhow::Result<Vec<Run>>) {
        self.entries.push(Entry {
            id: id.to_string(),
            result: result.map_err(|e| format!("{e:#}")),
        });
    }

    /// Scenarios that could not run.
    pub fn failed(&self) -> Vec<(&str, &str)> {
        self.entries
            .iter()
            .filter_map(|e| e.result.as_ref().err().map(|m| (e.id.as_str(), m.as_str())))
            .collect()
    }

    /// The median of figure `key` of scenario `id`.
    fn median(&self, id: &str, key: &str) -> f64 {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.result.as_ref().ok())
            .map(|runs| {
                stats(
                    &runs
                        .iter()
                        .filter_map(|r| r.get(key).copied())
                        .collect::<Vec<_>>(),
                )
                .0
            })
            .unwrap_or(f64::NAN)
    }

    /// Whether the headline meets its goal (None: no goal, or not measurable).
    fn met(&self, id: &str) -> Option<bool> {
        let m = |k: &str| self.median(id, k);
        let distributed = self.header["mode"] == "distributed";
        let known = |v: f64| v.is_finite().then_some(v);
        Some(match id {
            "h1" => {
                // Against Kannel and the bare handler, each loaded by wrk the same way; the
                // open-model figure against the open-model P1 when wrk is missing.
                let wrk = known(m("wrk_accepted_s"));
                let vs_kannel = match (known(self.median("kannel", "accepted_s")), wrk) {
                    (Some(k), Some(w)) => w >= 2.0 * k,
                    _ => true,
                };
                let vs_p1 = match (wrk, known(self.median("p1", "wrk_accepted_s"))) {
                    (Some(w), Some(p)) => w >= 0.25 * p,
                    _ => m("rate") >= 0.25 * known(self.median("p1", "rate"))?,
                };
                vs_kannel && vs_p1
            }
            "h2" => known(m("p99_ms"))? <= if distributed { 25.0 } else { 10.0 },
            "h3" => known(m("rate"))? >= 5000.0 && m("lost") == 0.0,
            "h4" => known(m("last_ms"))? <= 250.0 && m("rate") >= 10_000.0,
            "h5" => known(m("rate"))? >= 2000.0 && m("mib_per_10k") <= 500.0,
            "h6" => known(m("p99_ms"))? <= 20.0,
            "h7" => known(m("rss_mib"))? <= 50.0 * 1_000_000.0 / 1_048_576.0,
            _ => return None,
        })
    }

    pub fn json(&self) -> Value {
        let scenarios: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                let s = spec(&e.id);
                match &e.result {
                    Err(message) => json!({"id": e.id, "title": s.title, "error": message}),
                    Ok(runs) => {
                        let keys: std::collections::BTreeSet<&String> =
                            runs.iter().flat_map(|r| r.keys()).collect();
                        let figures: BTreeMap<&String, Value> = keys
                            .into_iter()
                            .map(|k| {
                                let values: Vec<f64> =
                                    runs.iter().filter_map(|r| r.get(k).copied()).collect();
                                let (median, min, max) = stats(&values);
                                (k, json!({"median": median, "min": min, "max": max, "runs": values}))
                            })
                            .collect();
                        let headline = self.median(&e.id, s.headline.0);
                        let ceiling = s.ceiling.map(|(c, k)| (c, k, self.median(c, k)));
                        json!({
                            "id": e.id,
                            "title": s.title,
                            "headline": {"figure": s.headline.0, "unit": s.headline.1, "median": headline},
                            "goal": s.goal,
                            "met": self.met(&e.id),
                            "ceiling": ceiling.map(|(c, k, v)| json!({
                                "id": c, "figure": k, "value": v, "ratio": headline / v})),
                            "figures": figures,
                        })
                    }
                }
            })
            .collect();
        json!({"run": self.header, "scenarios": scenarios})
    }

    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Machine: {} ({} cores, {} GiB), {} mode{}, {} run(s) per figure, commit {}.\n\n",
            self.header["machine"]["cpu"].as_str().unwrap_or("?"),
            self.header["machine"]["cores"],
            self.header["machine"]["memory_gib"],
            self.header["mode"].as_str().unwrap_or("?"),
            if self.header["smoke"] == true {
                " (SMOKE: not figures)"
            } else {
                ""
            },
            self.header["runs"],
            self.header["commit"].as_str().unwrap_or("?"),
        );
        out.push_str("| id | scenario | headline (median) | spread | goal | met | ceiling | ratio | p50 ms | p99 ms | p99.9 ms | CPU s/1k ops | peak RSS MiB | lost / dup |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        let f = |v: f64| {
            if !v.is_finite() {
                "–".to_string()
            } else if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else if v.abs() >= 10.0 {
                format!("{v:.1}")
            } else {
                format!("{v:.2}")
            }
        };
        for e in &self.entries {
            let s = spec(&e.id);
            let runs = match &e.result {
                Err(message) => {
                    out.push_str(&format!(
                        "| {} | {} | could not run: {} | | {} | | | | | | | | | |\n",
                        e.id,
                        s.title,
                        message.replace('|', "/").replace('\n', " "),
                        s.goal
                    ));
                    continue;
                }
                Ok(runs) => runs,
            };
            let st = |k: &str| {
                stats(
                    &runs
                        .iter()
                        .filter_map(|r| r.get(k).copied())
                        .collect::<Vec<_>>(),
                )
            };
            let (median, min, max) = st(s.headline.0);
            let (ceiling, ratio) = match s.ceiling {
                Some((c, k)) => {
                    let v = self.median(c, k);
                    (format!("{c} {k} {}", f(v)), f(median / v))
                }
                None => (String::new(), String::new()),
            };
            let met = match self.met(&e.id) {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            let lost = st("lost").0;
            let dup = st("duplicated").0;
            out.push_str(&format!(
                "| {} | {} | {} {} | {}–{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                e.id,
                s.title,
                f(median),
                s.headline.1,
                f(min),
                f(max),
                s.goal,
                met,
                ceiling,
                ratio,
                f(st("p50_ms").0),
                f(st("p99_ms").0),
                f(st("p999_ms").0),
                f(st("cpu_s_per_1k").0),
                f(st("peak_rss_mib").0),
                if lost.is_finite() || dup.is_finite() {
                    format!("{} / {}", f(lost), f(dup))
                } else {
                    String::new()
                },
            ));
        }
        out.push_str("\nEvery figure of every run, with its median and spread: report.json.\n");
        // The other figures, per scenario, for the reader of the markdown alone.
        for e in &self.entries {
            if let Ok(runs) = &e.result {
                let keys: std::collections::BTreeSet<&String> =
                    runs.iter().flat_map(|r| r.keys()).collect();
                let line: Vec<String> = keys
                    .into_iter()
                    .map(|k| {
                        let (m, lo, hi) = stats(
                            &runs
                                .iter()
                                .filter_map(|r| r.get(k).copied())
                                .collect::<Vec<_>>(),
                        );
                        if lo == hi {
                            format!("{k} {}", f(m))
                        } else {
                            format!("{k} {} ({}–{})", f(m), f(lo), f(hi))
                        }
                    })
                    .collect();
                out.push_str(&format!("\n- {}: {}", e.id, line.join(", ")));
            }
        }
        out.push('\n');
        out
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(&self.json())?,
        )?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        Ok(())
    }
}
