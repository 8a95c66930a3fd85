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

/// A server of the machine's found by its processes' name: all of them (a PostgreSQL
/// server's postmaster and its backends), whatever started them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tree {
    /// The name in the report (`<name>_cpu_s`, `<name>_cpu_s_per_1k`).
    pub name: &'static str,
    /// The processes' command name (`/proc/<pid>/comm`).
    comm: &'static str,
}

impl Tree {
    pub const POSTGRES: Tree = Tree {
        name: "pg",
        comm: "postgres",
    };
    pub const NATS: Tree = Tree {
        name: "nats",
        comm: "nats-server",
    };

    /// CPU seconds its processes have used: those running (user + system) and, through
    /// their parents' counts of reaped children, those that have exited (a PostgreSQL
    /// backend closed by a pool). `None` when no process of that name runs.
    ///
    /// Read twice, the difference is what the server used between: a process that exits
    /// in between moves from the first sum to its parent's count of reaped children, a
    /// process started in between counts only what it used. Another client of the same
    /// server counts too, so it is read on an otherwise quiet machine.
    pub fn cpu_secs(&self) -> Option<f64> {
        let mut ticks = 0.0;
        let mut found = false;
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            let Some(stat) = Stat::read(pid) else {
                continue;
            };
            if stat.comm != self.comm {
                continue;
            }
            found = true;
            ticks += stat.ticks + stat.children_ticks;
        }
        found.then(|| ticks / ticks_per_sec())
    }
}

/// What a process's /proc/<pid>/stat says of its CPU.
struct Stat {
    comm: String,
    /// utime + stime.
    ticks: f64,
    /// cutime + cstime: the children it has reaped, with their own reaped children.
    children_ticks: f64,
}

impl Stat {
    fn read(pid: u32) -> Option<Stat> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name is in parentheses and may hold spaces; the fields follow it.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let fields: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
        let field = |i: usize| fields.get(i)?.parse::<f64>().ok();
        // utime, stime, cutime, cstime are fields 14 to 17 of stat: 11 to 14 after the name.
        Some(Stat {
            comm: stat[open + 1..close].to_string(),
            ticks: field(11)? + field(12)?,
            children_ticks: field(13)? + field(14)?,
        })
    }
}

/// One process's usage; `None` once it is gone.
fn of(pid: u32) -> Option<Usage> {
    let ticks = Stat::read(pid)?.ticks;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A shell under a name of the test's own (`/proc/<pid>/comm` is the name it was run
    /// as) runs another that loops for a moment and exits; once the first has reaped it,
    /// their tree holds the loop's CPU through the first one's count of reaped children.
    #[test]
    fn a_tree_counts_the_processes_its_own_reaped() {
        use std::io::BufRead;

        let name = format!("pbtree{}", std::process::id());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let shell = dir.join(&name);
        std::os::unix::fs::symlink("/bin/sh", &shell).unwrap();
        let comm: &'static str = Box::leak(name[..name.len().min(15)].to_string().into_boxed_str());
        let tree = Tree { name: "t", comm };
        assert_eq!(tree.cpu_secs(), None);
        let script = format!(
            "{} -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'; echo reaped; read _",
            shell.display()
        );
        let mut outer = std::process::Command::new(&shell)
            .arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(outer.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let cpu = tree.cpu_secs();
        let _ = outer.kill();
        let _ = outer.wait();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(line, "reaped\n");
        assert!(cpu.is_some_and(|s| s >= 0.05), "{cpu:?}");
    }
}
