//! Load generation. The open model starts operation `i` at `start + i / rate` whatever the
//! earlier ones are doing, and measures each latency from that scheduled start, so a suite
//! that falls behind shows it in the figures (no coordinated omission). The closed model,
//! for the ceilings, runs `concurrency` loops flat out.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{task::JoinSet, time::Instant};

/// What a load run measured.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    /// Operations started.
    pub started: u64,
    /// Latencies (ms) of the operations that succeeded, sorted.
    pub ok_ms: Vec<f64>,
    /// Operations that failed (error, wrong status, timeout).
    pub failed: u64,
    /// From the first scheduled start to the last answer.
    pub elapsed: Duration,
}

impl Samples {
    pub fn ok(&self) -> u64 {
        self.ok_ms.len() as u64
    }

    /// Successful operations per second of the whole run.
    pub fn rate(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn quantile(&self, q: f64) -> f64 {
        quantile(&self.ok_ms, q)
    }
}

/// The `q` quantile of sorted values (nearest rank); NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Progress on stderr once a second while a run goes.
struct Progress {
    label: String,
    started: Arc<AtomicU64>,
    done: Arc<AtomicU64>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Progress {
    fn start(label: &str) -> Progress {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let (started, done) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (s, d, l) = (started.clone(), done.clone(), label.to_string());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => eprintln!(
                        "  [{l}] started {} answered {}",
                        s.load(Ordering::Relaxed),
                        d.load(Ordering::Relaxed)
                    ),
                    _ = stopped.changed() => break,
                }
            }
        });
        Progress {
            label: label.to_string(),
            started,
            done,
            stop,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        eprintln!(
            "  [{}] done: started {} answered {}",
            self.label,
            self.started.load(Ordering::Relaxed),
            self.done.load(Ordering::Relaxed)
        );
    }
}

/// Runs `op(i)` at `rate` per second for `duration`; `op` answers whether it succeeded.
/// Each operation is bounded by `timeout` (then it counts as failed).
pub async fn open<F, Fut>(
    label: &str,
    rate: f64,
    duration: Duration,
    timeout: Duration,
    op: F,
) -> Samples
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let total = (rate * duration.as_secs_f64()).round().max(1.0) as u64;
    let progress = Progress::start(label);
    let latencies = Arc::new(std::sync::Mutex::new(Vec::with_capacity(total as usize)));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut running = JoinSet::new();
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at).await;
        let fut = op(i);
        let (done, latencies, failed) = (progress.done.clone(), latencies.clone(), failed.clone());
        progress.started.fetch_add(1, Ordering::Relaxed);
        running.spawn(async move {
            let ok = matches!(tokio::time::timeout(timeout, fut).await, Ok(true));
            let ms = at.elapsed().as_secs_f64() * 1000.0;
            done.fetch_add(1, Ordering::Relaxed);
            if ok {
                latencies.lock().unwrap().push(ms);
            } else {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Reap what finished, so the set stays small on long runs.
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
    let elapsed = start.elapsed();
    drop(progress);
    let mut ok_ms = std::mem::take(&mut *latencies.lock().unwrap());
    ok_ms.sort_by(f64::total_cmp);
    Samples {
        started: total,
        ok_ms,
        failed: failed.load(Ordering::Relaxed),
        elapsed,
    }
}

/// Runs `concurrency` loops of `op` back to back for `duration` (a ceiling: as fast as the
/// thing measured goes).
pub async fn closed<F, Fut>(label: &str, concurrency: usize, duration: Duration, op: F) -> Samples
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let progress = Progress::start(label);
    let op = Arc::new(op);
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + duration;
    let mut loops = JoinSet::new();
    for _ in 0..concurrency {
        let (op, counter) = (op.clone(), counter.clone());
        let (started, done) = (progress.started.clone(), progress.done.clone());
        loops.spawn(async move {
            let (mut ok_ms, mut failed) = (Vec::new(), 0u64);
            while Instant::now() < until {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                started.fetch_add(1, Ordering::Relaxed);
                let began = Instant::now();
                if op(i).await {
                    ok_ms.push(began.elapsed().as_secs_f64() * 1000.0);
                } else {
                    failed += 1;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            (ok_ms, failed)
        });
    }
    let mut samples = Samples::default();
    while let Some(Ok((ok_ms, failed))) = loops.join_next().await {
        samples.ok_ms.extend(ok_ms);
        samples.failed += failed;
    }
    samples.elapsed = start.elapsed();
    samples.started = counter.load(Ordering::Relaxed);
    samples.ok_ms.sort_by(f64::total_cmp);
    drop(progress);
    samples
}

/// Runs `op(0..n)`, `concurrency` at a time (set-up steps); how many failed.
pub async fn bounded<F, Fut>(concurrency: usize, n: u64, op: F) -> u64
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut running = JoinSet::new();
    for i in 0..n {
        let permit = permits.clone().acquire_owned().await.expect("never closed");
        let fut = op(i);
        running.spawn(async move {
            let ok = fut.await;
            drop(permit);
            ok
        });
    }
    let mut failed = 0;
    while let Some(done) = running.join_next().await {
        failed += u64::from(!matches!(done, Ok(true)));
    }
    failed
}
