//! The peer a user would otherwise pick for SMS, Kannel (`shared/bench/peer-kannel.sh`),
//! and wrk, which loads Kannel, the suite's H1 and the bare axum ceiling the same way:
//! 2 threads, 32 connections, 10 s.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};

use crate::{Ctx, Run, scenarios::Meter, suite::Suite};

/// wrk on PATH, or None (with why on stderr).
fn wrk_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("wrk"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!(
            "  wrk is not installed (scripts/bench installs it): the wrk figures are left out"
        );
    }
    found
}

/// What wrk printed: accepted (2xx) per second, latency quantiles, errors.
fn parse_wrk(out: &str) -> anyhow::Result<Run> {
    let mut run = Run::new();
    let ms = |v: &str| -> Option<f64> {
        let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
        let n: f64 = num.parse().ok()?;
        Some(match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            "m" => n * 60_000.0,
            _ => return None,
        })
    };
    let (mut total, mut secs, mut non2xx, mut errors) = (None, None, 0.0, 0.0);
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [n, "requests", "in", t, ..] => {
                total = n.parse::<f64>().ok();
                secs = t
                    .trim_end_matches(',')
                    .strip_suffix('s')
                    .and_then(|t| t.parse::<f64>().ok());
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => non2xx = n.parse().unwrap_or(0.0),
            ["Socket", "errors:", rest @ ..] => {
                errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<f64>().ok())
                    .sum()
            }
            [q @ ("50%" | "90%" | "99%"), v] => {
                if let Some(v) = ms(v) {
                    run.insert(format!("p{}_ms", q.trim_end_matches('%')), v);
                }
            }
            _ => {}
        }
    }
    let (Some(total), Some(secs)) = (total, secs) else {
        bail!("wrk printed no summary: {out}");
    };
    run.insert("accepted_s".into(), (total - non2xx) / secs);
    run.insert("requests".into(), total);
    run.insert("errors".into(), non2xx + errors);
    Ok(run)
}

/// Runs wrk (2 threads, 32 connections, 10 s; 2 s in smoke mode) at `url`, with the Lua
/// `script` if any, metering the CPU of `pids`. None when wrk is not installed.
pub async fn wrk(
    ctx: &Ctx,
    url: &str,
    script: Option<&str>,
    pids: &[u32],
) -> anyhow::Result<Option<Run>> {
    let Some(wrk) = wrk_binary() else {
        return Ok(None);
    };
    let mut c = tokio::process::Command::new(wrk);
    c.args([
        "-t2",
        "-c32",
        &format!("-d{}s", ctx.pick(10, 2)),
        "--latency",
    ]);
    let script_file = std::env::temp_dir().join(format!("parlay-bench-{}.lua", std::process::id()));
    if let Some(s) = script {
        std::fs::write(&script_file, s)?;
        c.arg("-s").arg(&script_file);
    }
    c.arg(url);
    eprintln!("  wrk -t2 -c32 at {url}");
    let meter = Meter::of(pids.to_vec());
    let out = c.output().await.context("running wrk")?;
    let _ = std::fs::remove_file(&script_file);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut run = parse_wrk(&text)?;
    let accepted = run["accepted_s"] * ctx.pick(10.0, 2.0);
    if !pids.is_empty() {
        meter.finish(&mut run, accepted as u64);
    }
    eprintln!(
        "  wrk: {:.0} accepted/s, p99 {:.1} ms",
        run["accepted_s"],
        run.get("p99_ms").copied().unwrap_or(f64::NAN)
    );
    Ok(Some(run))
}

/// H1 loaded by wrk as Kannel is: a JSON send-SMS POST per request, a varying `to`, a
/// delivery receipt requested from each; the figures prefixed `wrk_`.
pub async fn wrk_h1(ctx: &Ctx, suite: &Suite, hook: &str) -> anyhow::Result<Option<Run>> {
    let script = r#"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
function request()
  counter = counter + 1
  local to = string.format("tel:+1554%d%07d", tid, counter)
  local body = '{"outboundMessageRequest":{"address":["' .. to .. '"],"senderAddress":"tel:+15551230001",'
    .. '"outboundSMSTextMessage":{"message":"Your code is 123456"},'
    .. '"receiptRequest":{"notifyURL":"HOOK","callbackData":"wrk"}}}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer KEY"}, body)
end
"#
    .replace("HOOK", hook)
    .replace("KEY", &suite.key);
    let Some(run) = wrk(
        ctx,
        &crate::scenarios::sms_url(suite),
        Some(&script),
        &suite.pids(),
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(
        run.into_iter()
            .map(|(k, v)| (format!("wrk_{k}"), v))
            .collect(),
    ))
}

/// The Kannel peer script: `PARLAY_BENCH_KANNEL`, or shared/bench beside the project.
fn kannel_script() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("PARLAY_BENCH_KANNEL") {
        return Ok(PathBuf::from(p));
    }
    let beside =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/peer-kannel.sh");
    if beside.is_file() {
        Ok(beside)
    } else {
        bail!(
            "no peer-kannel.sh at {} (set PARLAY_BENCH_KANNEL)",
            beside.display()
        )
    }
}

/// Kannel, loaded by its script (wrk, 2 threads, 32 connections, 10 s, a DLR per message,
/// TCP_NODELAY on: Kannel at its best). Skipped in smoke mode: the script installs Debian
/// packages and runs for half a minute.
pub async fn kannel(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    if ctx.smoke {
        eprintln!("  skipped in smoke mode");
        return Ok(Vec::new());
    }
    let script = kannel_script()?;
    let mut runs = Vec::new();
    for n in 0..ctx.runs {
        eprintln!("  kannel run {} ({})", n + 1, script.display());
        let out = tokio::time::timeout(
            Duration::from_secs(600),
            tokio::process::Command::new("bash")
                .arg(&script)
                .env("DUR", "10")
                .env("CONNS", "32")
                .env("NODELAY", "1")
                .output(),
        )
        .await
        .context("the Kannel peer ran over 10 minutes")??;
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let line = text
            .lines()
            .rev()
            .find(|l| l.starts_with("kannel: "))
            .with_context(|| {
                format!(
                    "the Kannel peer printed no result: {}",
                    text.lines().rev().take(5).collect::<Vec<_>>().join(" / ")
                )
            })?;
        eprintln!("  {line}");
        // kannel: <N> req/s accepted, <M> delivered to SMSC, <D> DLRs, <E> errors
        let nums: Vec<f64> = line
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter_map(|w| w.parse().ok())
            .collect();
        let [accepted, delivered, dlrs, errors] = nums[..] else {
            bail!("cannot read the Kannel result: {line}");
        };
        runs.push(Run::from([
            ("accepted_s".into(), accepted),
            ("delivered".into(), delivered),
            ("dlrs".into(), dlrs),
            ("errors".into(), errors),
        ]));
    }
    Ok(runs)
}
