//! The peer a user would otherwise pick for SMS, Kannel (`shared/bench/peer-kannel.sh`),
//! and wrk, which loads Kannel, the suite's H1 and the bare axum ceiling the same way:
//! 2 threads, 32 connections, 10 s.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};

use tokio::time::Instant;

use crate::{
    Ctx, Run,
    hooks::Hooks,
    scenarios::{Meter, wrk_delivered},
    suite::Suite,
};

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
    run.insert("answered_2xx".into(), total - non2xx);
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
    if !pids.is_empty() {
        let answered = run["answered_2xx"] as u64;
        meter.finish(&mut run, answered);
    }
    eprintln!(
        "  wrk: {:.0} accepted/s, p99 {:.1} ms",
        run["accepted_s"],
        run.get("p99_ms").copied().unwrap_or(f64::NAN)
    );
    Ok(Some(run))
}

/// The `callbackData` of the sends wrk makes, by which their receipts are told apart.
pub const WRK_CALLBACK_DATA: &str = "wrk";

/// H1 loaded by wrk as Kannel is: a JSON send-SMS POST per request, a varying `to`, a
/// delivery receipt requested from each; the figures prefixed `wrk_`. Then, as Kannel's
/// peer script waits for its DLRs, the wait for every accepted send's `DeliveredToTerminal`
/// at `hooks` (bounded): the suite's CPU over the load and that wait, a send with its
/// receipts' webhooks, is `wrk_settled_cpu_s_per_1k`, comparable with Kannel's
/// `cpu_s_per_1k`.
pub async fn wrk_h1(
    ctx: &Ctx,
    suite: &Suite,
    hooks: &Hooks,
    hook: &str,
) -> anyhow::Result<Option<Run>> {
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
    .. '"receiptRequest":{"notifyURL":"HOOK","callbackData":"CALLBACK_DATA"}}}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer KEY"}, body)
end
"#
    .replace("HOOK", hook)
    .replace("CALLBACK_DATA", WRK_CALLBACK_DATA)
    .replace("KEY", &suite.key);
    let whole = Meter::of(suite.pids());
    let Some(mut run) = wrk(
        ctx,
        &crate::scenarios::sms_url(suite),
        Some(&script),
        &suite.pids(),
    )
    .await?
    else {
        return Ok(None);
    };
    let loaded = Instant::now();
    // Answered 201 while wrk counted; up to one a connection more were accepted as it
    // stopped, whose answers it did not count: their receipts are waited for too, as long
    // as they keep coming.
    let answered = run["answered_2xx"] as usize;
    let quiet = Duration::from_secs(ctx.pick(10, 5));
    let limit = Duration::from_secs(ctx.pick(180, 30));
    hooks
        .wait_count(wrk_delivered, answered, quiet, limit)
        .await;
    hooks.wait_quiet(Duration::from_secs(1)).await;
    let cpu = whole.cpu_secs();
    let (receipts, last) = hooks.count(wrk_delivered);
    eprintln!(
        "  wrk: {answered} answered 201, {receipts} sends' DeliveredToTerminal receipts arrived, \
         {cpu:.1} CPU-s in all"
    );
    run.insert("receipts".into(), receipts as f64);
    run.insert(
        "receipts_settled_ms".into(),
        last.map_or(0.0, |l| {
            l.saturating_duration_since(loaded).as_secs_f64() * 1000.0
        }),
    );
    run.insert(
        "settled_cpu_s_per_1k".into(),
        cpu * 1000.0 / receipts.max(1) as f64,
    );
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

/// How long wrk loads Kannel.
const KANNEL_SECS: u64 = 10;

/// The CPU seconds of Kannel's own processes (bearerbox, smsbox and fakesmsc, the network
/// it talks to, as netsim is the suite's) over the script's run, its load and the wait for
/// the DLRs, from the script's line `CPU seconds: bearerbox B, smsbox S, fakesmsc F, DLR
/// receiver R, wrk W`; the receiver and wrk are the load's, as the harness's are.
fn kannel_cpu(text: &str) -> Option<f64> {
    let line = text.lines().rev().find(|l| l.contains("CPU seconds:"))?;
    let of = |name: &str| -> Option<f64> {
        let rest = &line[line.find(&format!("{name} "))? + name.len() + 1..];
        rest.split(|c: char| c == ',' || c.is_whitespace())
            .next()?
            .parse()
            .ok()
    };
    Some(of("bearerbox")? + of("smsbox")? + of("fakesmsc")?)
}

/// The messages Kannel's CPU is shared by: those whose DLR came back, as the suite's is
/// shared by the sends whose `DeliveredToTerminal` came back ([`wrk_h1`]). Only a run that
/// counted none falls back to the accepted rate times the load's seconds (the rate is
/// rounded, and wrk runs a little past its seconds).
fn kannel_messages(accepted_per_s: f64, dlrs: f64) -> f64 {
    if dlrs > 0.0 {
        dlrs
    } else {
        (accepted_per_s * KANNEL_SECS as f64).max(1.0)
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
                .env("DUR", KANNEL_SECS.to_string())
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
        let mut run = Run::from([
            ("accepted_s".into(), accepted),
            ("delivered".into(), delivered),
            ("dlrs".into(), dlrs),
            ("errors".into(), errors),
        ]);
        if let Some(cpu) = kannel_cpu(&text) {
            run.insert("cpu_s".into(), cpu);
            run.insert(
                "cpu_s_per_1k".into(),
                cpu * 1000.0 / kannel_messages(accepted, dlrs),
            );
        }
        runs.push(run);
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kannel_cpu_sums_its_three_processes() {
        let text = "peer-kannel: load: wrk -t2 -c32 -d10s on sendsms\n\
            peer-kannel: CPU seconds: bearerbox 7.5, smsbox 6.25, fakesmsc 1.0, DLR receiver 2.0, wrk 3.0\n\
            kannel: 9000 req/s accepted, 90000 delivered to SMSC, 90000 DLRs, 0 errors";
        assert_eq!(kannel_cpu(text), Some(14.75));
        assert_eq!(kannel_cpu("kannel: 9000 req/s accepted"), None);
    }

    #[test]
    fn kannel_cpu_is_shared_by_the_messages_whose_dlr_came() {
        assert_eq!(kannel_messages(9000.0, 90_312.0), 90_312.0);
        assert_eq!(kannel_messages(9000.0, 0.0), 90_000.0);
        assert_eq!(kannel_messages(0.0, 0.0), 1.0);
    }
}
