//! What the measured processes cost, from /proc: CPU seconds (user + system) and resident
//! memory, summed over the processes of the system under test.

use std::sync::OnceLock;

/// CPU seconds and memory of a set of processes at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu_secs: f64,
    /// Sum of the processes' resident set (MiB).
    pub rss_mib: f64,
    /// Sum of each process's peak resident set since its start or the last
    /// [`reset_peaks`] (MiB): an upper bound of the set's peak.
    pub peak_rss_mib: f64,
    /// Sum of the anonymous part of the resident sets (MiB): heap and stacks, without the
    /// mapped files (SQLite's memory map of its database files counts in the resident set).
    pub anon_mib: f64,
}

fn ticks_per_sec() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// One process's usage; `None` once it is gone.
fn of(pid: u32) -> Option<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of stat: 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Some(Usage {
        cpu_secs: ticks / ticks_per_sec(),
        rss_mib: kib("VmRSS:") / 1024.0,
        peak_rss_mib: kib("VmHWM:") / 1024.0,
        anon_mib: kib("RssAnon:") / 1024.0,
    })
}

/// The summed usage of `pids` now.
pub fn usage(pids: &[u32]) -> Usage {
    pids.iter()
        .filter_map(|p| of(*p))
        .fold(Usage::default(), |a, u| Usage {
            cpu_secs: a.cpu_secs + u.cpu_secs,
            rss_mib: a.rss_mib + u.rss_mib,
            peak_rss_mib: a.peak_rss_mib + u.peak_rss_mib,
            anon_mib: a.anon_mib + u.anon_mib,
        })
}

/// Resets the peak resident set of `pids` (Linux: `5` into clear_refs), so a scenario's
/// peak is its own. Without the permission the peaks stay since start.
pub fn reset_peaks(pids: &[u32]) {
    for pid in pids {
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    }
}

/// The machine, for the report: CPU model, cores, memory, kernel.
pub fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|k| k / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    serde_json::json!({
        "cpu": model,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": (mem_gib * 10.0).round() / 10.0,
        "kernel": kernel.trim(),
    })
}
