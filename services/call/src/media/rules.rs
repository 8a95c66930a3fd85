//! The rules of Audio Call as plain Rust: what a request must satisfy, to which
//! participants it goes, and how a participant's status moves on the network's reports.

use sha2::{Digest, Sha256};

use crate::domain::Session;

/// What was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// An audio message (`audiocall/messages/audio`).
    Audio,
    /// A play-and-record interaction.
    Recording,
    /// A play-and-collect interaction.
    Collection,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Recording => "recording",
            MediaKind::Collection => "collection",
        }
    }

    pub fn parse(s: &str) -> Option<MediaKind> {
        [
            MediaKind::Audio,
            MediaKind::Recording,
            MediaKind::Collection,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A participant's progress (`MessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStatus {
    Pending,
    Playing,
    Played,
    Error,
}

impl MediaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaStatus::Pending => "Pending",
            MediaStatus::Playing => "Playing",
            MediaStatus::Played => "Played",
            MediaStatus::Error => "Error",
        }
    }

    /// The stored name back; anything unknown reads as `Error`.
    pub fn parse(s: &str) -> MediaStatus {
        [
            MediaStatus::Pending,
            MediaStatus::Playing,
            MediaStatus::Played,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .unwrap_or(MediaStatus::Error)
    }

    /// Still under way: the network may be playing, recording or collecting.
    pub fn is_active(self) -> bool {
        matches!(self, MediaStatus::Pending | MediaStatus::Playing)
    }

    /// The status after `progress`; None when nothing changes (terminal states stay).
    pub fn advance(self, progress: Progress) -> Option<MediaStatus> {
        match (self, progress) {
            (MediaStatus::Played | MediaStatus::Error, _) => None,
            (MediaStatus::Pending, Progress::Playing) => Some(MediaStatus::Playing),
            (MediaStatus::Playing, Progress::Playing) => None,
            (_, Progress::Failed) => Some(MediaStatus::Error),
            (_, Progress::Played | Progress::Recorded | Progress::Collected) => {
                Some(MediaStatus::Played)
            }
        }
    }
}

/// What the network reported (a `MediaEvent` outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Playing,
    Played,
    Failed,
    Recorded,
    Collected,
}

impl Progress {
    /// Whether the report belongs to this kind of media: an interaction is done when its
    /// result is taken, not when its prompt was played.
    pub fn fits(self, kind: MediaKind) -> bool {
        match self {
            Progress::Playing | Progress::Failed => true,
            Progress::Played => kind == MediaKind::Audio,
            Progress::Recorded => kind == MediaKind::Recording,
            Progress::Collected => kind == MediaKind::Collection,
        }
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// A missing or invalid field (SVC0002, naming the field).
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// The media type is not supported (POL0011).
    #[error("media type {0} not supported")]
    MediaType(String),
    /// The address is not a live participant of the session (SVC0004).
    #[error("{0} is not a live participant of the call session")]
    NotParticipant(String),
    /// The session has ended (SVC0261).
    #[error("call session {0} has ended")]
    Ended(String),
}

/// A play or interaction request, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub kind: Option<MediaKind>,
    pub session_id: String,
    pub participants: Vec<String>,
    /// The audio to play, or the interaction's prompt.
    pub url: Option<String>,
    pub media_type: Option<String>,
    pub interrupt_media: Option<bool>,
    pub max_duration_secs: Option<u32>,
    pub min_digits: Option<u32>,
    pub max_digits: Option<u32>,
    pub end_char: Option<String>,
    pub client_correlator: Option<String>,
}

/// One participant a request goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub participant_id: String,
    /// As the application wrote it.
    pub address: String,
    /// As the session (and the network) knows it.
    pub network_address: String,
    pub name: Option<String>,
}

impl Request {
    pub fn kind(&self) -> MediaKind {
        self.kind.unwrap_or(MediaKind::Audio)
    }

    /// Checks what needs no session: media type, URL, and the kind's own limits.
    pub fn check(&self, media_types: &[String], max_recording_secs: u32) -> Result<(), MediaError> {
        if let Some(t) = &self.media_type
            && !media_type_supported(media_types, t)
        {
            return Err(MediaError::MediaType(t.clone()));
        }
        let kind = self.kind();
        match (&self.url, kind) {
            (Some(url), _) if !is_http_url(url) => {
                return Err(MediaError::Invalid(url_field(kind)));
            }
            (None, MediaKind::Audio) => return Err(MediaError::Invalid("audioUrl")),
            _ => {}
        }
        if self.participants.is_empty() {
            return Err(MediaError::Invalid("callParticipant"));
        }
        match kind {
            MediaKind::Audio => {}
            MediaKind::Recording => {
                if self.participants.len() != 1 {
                    return Err(MediaError::Invalid("callParticipant"));
                }
                if self
                    .max_duration_secs
                    .is_some_and(|d| d > max_recording_secs)
                {
                    return Err(MediaError::Invalid("maxDuration"));
                }
            }
            MediaKind::Collection => {
                if let (Some(min), Some(max)) = (self.min_digits, self.max_digits)
                    && max > 0
                    && min > max
                {
                    return Err(MediaError::Invalid("minDigits"));
                }
                if let Some(end) = &self.end_char
                    && !is_key(end)
                {
                    return Err(MediaError::Invalid("endChar"));
                }
            }
        }
        Ok(())
    }

    /// The live participants of `session` this request goes to, in request order, each
    /// once; the session must not have ended.
    pub fn targets(&self, session: &Session) -> Result<Vec<Target>, MediaError> {
        if session.terminated {
            return Err(MediaError::Ended(session.id.clone()));
        }
        let mut targets: Vec<Target> = Vec::new();
        for address in &self.participants {
            if targets
                .iter()
                .any(|t| t.address.eq_ignore_ascii_case(address))
            {
                continue;
            }
            let p = session
                .participants
                .iter()
                .find(|p| p.is_live() && p.address.eq_ignore_ascii_case(address))
                .ok_or_else(|| MediaError::NotParticipant(address.clone()))?;
            targets.push(Target {
                participant_id: p.id.clone(),
                address: address.clone(),
                network_address: p.address.clone(),
                name: p.name.clone(),
            });
        }
        Ok(targets)
    }

    /// What makes two requests with one clientCorrelator "the same".
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |tag: u8, value: Option<&str>| {
            h.update([tag]);
            match value {
                Some(v) => {
                    h.update([1]);
                    h.update((v.len() as u64).to_be_bytes());
                    h.update(v.as_bytes());
                }
                None => h.update([0]),
            }
        };
        let num = |n: Option<u32>| n.map(|n| n.to_string());
        field(0, Some(self.kind().as_str()));
        field(1, Some(&self.session_id));
        for p in &self.participants {
            field(2, Some(p));
        }
        field(3, self.url.as_deref());
        field(4, self.media_type.as_deref());
        field(5, self.interrupt_media.map(|b| if b { "1" } else { "0" }));
        field(6, num(self.max_duration_secs).as_deref());
        field(7, num(self.min_digits).as_deref());
        field(8, num(self.max_digits).as_deref());
        field(9, self.end_char.as_deref());
        hex::encode(h.finalize())
    }
}

/// The field an invalid URL is reported as.
fn url_field(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => "audioUrl",
        MediaKind::Recording | MediaKind::Collection => "playFileLocation",
    }
}

/// Whether `media_type` is one of `supported`: compared without case and without
/// parameters (`audio/WAV; codec=1` is `audio/wav`).
pub fn media_type_supported(supported: &[String], media_type: &str) -> bool {
    let essence = |t: &str| t.split(';').next().unwrap_or_default().trim().to_string();
    let wanted = essence(media_type);
    !wanted.is_empty()
        && supported
            .iter()
            .any(|s| essence(s).eq_ignore_ascii_case(&wanted))
}

/// An absolute http or https URL with a host.
pub fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// One DTMF key.
fn is_key(s: &str) -> bool {
    let mut chars = s.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_digit() || "*#ABCD".contains(c))
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
