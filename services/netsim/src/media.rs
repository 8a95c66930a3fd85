//! Media on call legs: play audio, record a participant, collect their digits, and stop
//! any of these. Each runs as one task that publishes its `MediaEvent`s on
//! `net.evt.call.media` in order (PLAYING before PLAYED or FAILED). Only connected legs take
//! media; a leg that ends, or a `StopMedia` for the same media id, fails it at once.
//!
//! How long a play lasts, what a participant says and which digits they press come from the
//! first rule matching the leg's address (see [`rules::media_plan`]).

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::Utc;
use parlay_kit::{ids::new_id, wire};
use parlay_proto::net::v1::{
    CallCommand, MediaEvent, MediaOutcome, RecordedMedia,
    call_command::{Collect, Play, Record, StopMedia},
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    Shared, audio,
    legs::LegState,
    log::{LogEntry, LogKind},
    publish::{MEDIA_SUBJECT, publish},
    rules::{self, MediaPlan},
};

/// FAILED reasons, for the suite's logs.
const NOT_CONNECTED: &str = "participant not connected";
const STOPPED: &str = "stopped";
const LEFT: &str = "participant left the call";
const NO_INPUT: &str = "no input";

/// One piece of media in progress: a media id on one participant's leg.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct JobKey {
    session: String,
    participant: String,
    media_id: String,
}

impl JobKey {
    fn of(command: &CallCommand, media_id: &str) -> JobKey {
        JobKey {
            session: command.call_session_id.clone(),
            participant: command.participant_id.clone(),
            media_id: media_id.to_string(),
        }
    }

    fn event(&self, outcome: MediaOutcome) -> MediaEvent {
        MediaEvent {
            event_id: new_id("ev"),
            call_session_id: self.session.clone(),
            participant_id: self.participant.clone(),
            media_id: self.media_id.clone(),
            outcome: outcome.into(),
            digits: None,
            recording: None,
            reason: None,
            occurred_at: Some(wire::timestamp(Utc::now())),
        }
    }

    fn failed(&self, reason: &str) -> MediaEvent {
        MediaEvent {
            reason: Some(reason.to_string()),
            ..self.event(MediaOutcome::Failed)
        }
    }
}

/// The media in progress; cancelling a token stops its media.
#[derive(Debug, Default)]
pub(crate) struct MediaJobs {
    jobs: HashMap<JobKey, CancellationToken>,
}

/// What a job does once started.
#[derive(Debug)]
enum Work {
    Play {
        duration: Duration,
    },
    Record {
        /// Prompt, then speech.
        duration: Duration,
        content_type: String,
        speech: Duration,
    },
    Collect {
        prompt: Duration,
        digits: Result<String, &'static str>,
    },
}

/// Plays `play.url` to the participant: PLAYING, then PLAYED after the rule's `playMs`.
pub(crate) fn play(shared: &Arc<Shared>, command: &CallCommand, play: &Play) {
    start(shared, command, LogKind::Play, &play.media_id, |plan| {
        Work::Play {
            duration: plan.play,
        }
    });
}

/// Plays the prompt, then records the participant for the rule's duration (capped by the
/// command's maximum and the size limit): RECORDED with the media.
pub(crate) fn record(shared: &Arc<Shared>, command: &CallCommand, record: &Record) {
    let has_prompt = record.prompt_url.as_deref().is_some_and(|u| !u.is_empty());
    let max = Duration::from_secs(u64::from(record.max_duration_secs));
    start(shared, command, LogKind::Record, &record.media_id, |plan| {
        let mut speech = plan.recording;
        if !max.is_zero() {
            speech = speech.min(max);
        }
        let speech = audio::capped(&plan.content_type, speech);
        Work::Record {
            duration: prompt(plan, has_prompt) + speech,
            content_type: plan.content_type.clone(),
            speech,
        }
    });
}

/// Plays the prompt, then reports the digits the rule scripts: COLLECTED, or FAILED
/// ("no input") when there are none or too few.
pub(crate) fn collect(shared: &Arc<Shared>, command: &CallCommand, collect: &Collect) {
    let has_prompt = collect.prompt_url.as_deref().is_some_and(|u| !u.is_empty());
    start(
        shared,
        command,
        LogKind::Collect,
        &collect.media_id,
        |plan| Work::Collect {
            prompt: prompt(plan, has_prompt),
            digits: collected(
                plan.digits.as_deref(),
                collect.min_digits,
                collect.max_digits,
                collect.end_char.as_deref(),
            ),
        },
    );
}

/// Stops the media with `stop.media_id` (on the command's session and participant, when
/// it names them); each fails with "stopped". Logged as ignored when nothing matched.
pub(crate) fn stop(shared: &Shared, command: &CallCommand, stop: &StopMedia) {
    let session = command.call_session_id.as_str();
    let participant = command.participant_id.as_str();
    let mut state = shared.lock();
    let matching: Vec<JobKey> = state
        .media
        .jobs
        .keys()
        .filter(|k| {
            k.media_id == stop.media_id
                && (session.is_empty() || k.session == session)
                && (participant.is_empty() || k.participant == participant)
        })
        .cloned()
        .collect();
    let mut entry = LogEntry::command(LogKind::Stop, command);
    entry.ignored = matching.is_empty();
    state.log.push(entry);
    for key in &matching {
        if let Some(token) = state.media.jobs.remove(key) {
            token.cancel();
        }
    }
    tracing::info!(
        media_id = stop.media_id,
        stopped = matching.len(),
        "stop media"
    );
}

fn prompt(plan: &MediaPlan, has_prompt: bool) -> Duration {
    if has_prompt {
        plan.play
    } else {
        Duration::ZERO
    }
}

/// The digits a participant who presses `scripted` leaves, cut at `end_char` and
/// truncated to `max` (0: no limit); "no input" when none are left or fewer than `min`.
fn collected(
    scripted: Option<&str>,
    min: u32,
    max: u32,
    end_char: Option<&str>,
) -> Result<String, &'static str> {
    let scripted = scripted.ok_or(NO_INPUT)?;
    let digits = match end_char.and_then(|e| e.chars().next()) {
        Some(end) => scripted.split(end).next().unwrap_or_default(),
        None => scripted,
    };
    let digits: String = match usize::try_from(max) {
        Ok(max) if max > 0 => digits.chars().take(max).collect(),
        _ => digits.to_string(),
    };
    let count = digits.chars().count();
    if count == 0 || u32::try_from(count).is_ok_and(|n| n < min) {
        return Err(NO_INPUT);
    }
    Ok(digits)
}

/// Logs a media command and starts its job on a connected leg; a leg that is not
/// connected gets FAILED at once. A second command for media already in progress on the
/// leg is logged as ignored.
fn start(
    shared: &Arc<Shared>,
    command: &CallCommand,
    kind: LogKind,
    media_id: &str,
    work: impl FnOnce(&MediaPlan) -> Work,
) {
    let key = JobKey::of(command, media_id);
    let mut state = shared.lock();
    let mut entry = LogEntry::command(kind, command);
    entry.ignored = state.media.jobs.contains_key(&key);
    state.log.push(entry);
    if state.media.jobs.contains_key(&key) {
        tracing::info!(media_id, "media already in progress on this leg; ignored");
        return;
    }
    let leg = state
        .legs
        .get(&key.session, &key.participant)
        .filter(|leg| matches!(leg.state, LegState::Connected(_)));
    let Some(leg) = leg else {
        drop(state);
        tracing::info!(media_id, ?kind, "media for a leg not connected; failed");
        let event = key.failed(NOT_CONNECTED);
        let shared = shared.clone();
        tokio::spawn(async move { send(&shared, &event).await }.in_current_span());
        return;
    };
    let gone = leg.gone.clone();
    let plan = rules::media_plan(&state.rules, &leg.address, shared.media_defaults);
    let work = work(&plan);
    let stop = CancellationToken::new();
    state.media.jobs.insert(key.clone(), stop.clone());
    drop(state);
    tracing::info!(media_id, work = ?work, "media started");
    let job = Job {
        shared: shared.clone(),
        key,
        stop,
        gone,
    };
    tokio::spawn(job.run(work).in_current_span());
}

/// A started job and what can interrupt it.
struct Job {
    shared: Arc<Shared>,
    key: JobKey,
    /// Cancelled by `StopMedia` (which also removes the job).
    stop: CancellationToken,
    /// Cancelled when the leg ends.
    gone: CancellationToken,
}

impl Job {
    async fn run(self, work: Work) {
        let started = Instant::now();
        let event = match work {
            Work::Play { duration } => {
                if !send(&self.shared, &self.key.event(MediaOutcome::Playing)).await {
                    return;
                }
                match self.finish(started + duration).await {
                    Some(Ok(())) => self.key.event(MediaOutcome::Played),
                    Some(Err(reason)) => self.key.failed(reason),
                    None => return,
                }
            }
            Work::Record {
                duration,
                content_type,
                speech,
            } => match self.finish(started + duration).await {
                Some(Ok(())) => MediaEvent {
                    recording: Some(RecordedMedia {
                        data: audio::render(&content_type, speech),
                        content_type,
                        duration_ms: u32::try_from(speech.as_millis()).unwrap_or(u32::MAX),
                    }),
                    ..self.key.event(MediaOutcome::Recorded)
                },
                Some(Err(reason)) => self.key.failed(reason),
                None => return,
            },
            Work::Collect { prompt, digits } => match self.finish(started + prompt).await {
                Some(Ok(())) => match digits {
                    Ok(digits) => MediaEvent {
                        digits: Some(digits),
                        ..self.key.event(MediaOutcome::Collected)
                    },
                    Err(reason) => self.key.failed(reason),
                },
                Some(Err(reason)) => self.key.failed(reason),
                None => return,
            },
        };
        tracing::info!(media_id = self.key.media_id, outcome = ?event.outcome(), "media done");
        send(&self.shared, &event).await;
    }

    /// Waits until `until`, a stop, the leg's end or shutdown (`None`), then settles the
    /// job under the lock: a stop that got there first wins, then the leg's end.
    async fn finish(&self, until: Instant) -> Option<Result<(), &'static str>> {
        tokio::select! {
            () = self.shared.shutdown.cancelled() => return None,
            () = self.stop.cancelled() => {}
            () = self.gone.cancelled() => {}
            () = tokio::time::sleep_until(until) => {}
        }
        let mut state = self.shared.lock();
        if self.stop.is_cancelled() {
            // `stop` removed the job already.
            return Some(Err(STOPPED));
        }
        state.media.jobs.remove(&self.key);
        if self.gone.is_cancelled() {
            return Some(Err(LEFT));
        }
        Some(Ok(()))
    }
}

async fn send(shared: &Shared, event: &MediaEvent) -> bool {
    publish(
        &shared.bus,
        &shared.shutdown,
        MEDIA_SUBJECT,
        &event.event_id,
        event,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collected_digits_are_cut_truncated_and_checked() {
        assert_eq!(
            collected(Some("1234#56"), 1, 0, Some("#")),
            Ok("1234".into())
        );
        assert_eq!(collected(Some("1234#56"), 1, 2, Some("#")), Ok("12".into()));
        assert_eq!(collected(Some("1234"), 0, 0, None), Ok("1234".into()));
        assert_eq!(collected(Some("12*4"), 0, 0, Some("")), Ok("12*4".into()));
        assert_eq!(collected(Some("12"), 3, 0, None), Err(NO_INPUT));
        assert_eq!(collected(Some("#12"), 0, 0, Some("#")), Err(NO_INPUT));
        assert_eq!(collected(Some(""), 0, 0, None), Err(NO_INPUT));
        assert_eq!(collected(None, 0, 0, None), Err(NO_INPUT));
    }
}
