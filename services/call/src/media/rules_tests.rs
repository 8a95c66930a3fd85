use super::*;
use crate::domain::{Cause, Participant, Status};

fn types() -> Vec<String> {
    ["audio/wav", "audio/mpeg"].map(String::from).to_vec()
}

fn audio() -> Request {
    Request {
        kind: Some(MediaKind::Audio),
        session_id: "cs1".into(),
        participants: vec!["tel:+15550001".into()],
        url: Some("https://app.example.org/hello.wav".into()),
        media_type: Some("audio/wav".into()),
        ..Request::default()
    }
}

fn session() -> Session {
    let mut gone = Participant::new("pa3".into(), "tel:+15550003".into(), None);
    gone.status = Status::Terminated(Cause::HangUp);
    let mut live = Participant::new("pa1".into(), "tel:+15550001".into(), Some("Ann".into()));
    live.status = Status::Connected;
    Session::new(
        "cs1".into(),
        vec![
            live,
            Participant::new("pa2".into(), "sip:bob@example.org".into(), None),
            gone,
        ],
    )
}

#[test]
fn media_types_compare_without_case_and_parameters() {
    assert!(media_type_supported(&types(), "audio/wav"));
    assert!(media_type_supported(&types(), "Audio/WAV; codecs=1"));
    assert!(!media_type_supported(&types(), "audio/flac"));
    assert!(!media_type_supported(&types(), ""));
    assert!(media_type_supported(
        &["audio/mpeg;q=1".to_string()],
        "AUDIO/MPEG"
    ));
}

#[test]
fn only_http_and_https_urls_with_a_host() {
    assert!(is_http_url("http://x.example/a.wav"));
    assert!(is_http_url("HTTPS://x.example"));
    assert!(!is_http_url("ftp://x.example/a.wav"));
    assert!(!is_http_url("https://"));
    assert!(!is_http_url("https:///path"));
    assert!(!is_http_url("https://x.example/a b.wav"));
    assert!(!is_http_url("x.example/a.wav"));
}

#[test]
fn a_request_is_checked_before_the_session_is_read() {
    assert_eq!(audio().check(&types(), 300), Ok(()));
    let flac = Request {
        media_type: Some("audio/flac".into()),
        ..audio()
    };
    assert_eq!(
        flac.check(&types(), 300),
        Err(MediaError::MediaType("audio/flac".into()))
    );
    let no_url = Request {
        url: None,
        ..audio()
    };
    assert_eq!(
        no_url.check(&types(), 300),
        Err(MediaError::Invalid("audioUrl"))
    );
    let prompt = Request {
        kind: Some(MediaKind::Collection),
        url: Some("file:///etc/passwd".into()),
        ..audio()
    };
    assert_eq!(
        prompt.check(&types(), 300),
        Err(MediaError::Invalid("playFileLocation"))
    );
    let nobody = Request {
        participants: vec![],
        ..audio()
    };
    assert_eq!(
        nobody.check(&types(), 300),
        Err(MediaError::Invalid("callParticipant"))
    );
}

#[test]
fn recordings_take_one_participant_and_a_bounded_duration() {
    let rec = Request {
        kind: Some(MediaKind::Recording),
        url: None,
        max_duration_secs: Some(300),
        ..audio()
    };
    assert_eq!(rec.check(&types(), 300), Ok(()));
    let long = Request {
        max_duration_secs: Some(301),
        ..rec.clone()
    };
    assert_eq!(
        long.check(&types(), 300),
        Err(MediaError::Invalid("maxDuration"))
    );
    let two = Request {
        participants: vec!["tel:+15550001".into(), "sip:bob@example.org".into()],
        ..rec
    };
    assert_eq!(
        two.check(&types(), 300),
        Err(MediaError::Invalid("callParticipant"))
    );
}

#[test]
fn collections_need_sane_digit_limits() {
    let col = Request {
        kind: Some(MediaKind::Collection),
        min_digits: Some(1),
        max_digits: Some(4),
        end_char: Some("#".into()),
        ..audio()
    };
    assert_eq!(col.check(&types(), 300), Ok(()));
    let unbounded = Request {
        min_digits: Some(6),
        max_digits: Some(0),
        ..col.clone()
    };
    assert_eq!(unbounded.check(&types(), 300), Ok(()));
    let inverted = Request {
        min_digits: Some(5),
        ..col.clone()
    };
    assert_eq!(
        inverted.check(&types(), 300),
        Err(MediaError::Invalid("minDigits"))
    );
    let end = Request {
        end_char: Some("##".into()),
        ..col
    };
    assert_eq!(
        end.check(&types(), 300),
        Err(MediaError::Invalid("endChar"))
    );
}

#[test]
fn targets_are_live_participants_in_request_order_once_each() {
    let req = Request {
        participants: vec![
            "SIP:Bob@example.org".into(),
            "tel:+15550001".into(),
            "sip:bob@example.org".into(),
        ],
        ..audio()
    };
    let targets = req.targets(&session()).unwrap();
    let ids: Vec<_> = targets.iter().map(|t| t.participant_id.as_str()).collect();
    assert_eq!(ids, ["pa2", "pa1"]);
    assert_eq!(targets[0].address, "SIP:Bob@example.org");
    assert_eq!(targets[0].network_address, "sip:bob@example.org");
    assert_eq!(targets[1].name.as_deref(), Some("Ann"));
}

#[test]
fn ended_legs_strangers_and_ended_sessions_are_refused() {
    let gone = Request {
        participants: vec!["tel:+15550003".into()],
        ..audio()
    };
    assert_eq!(
        gone.targets(&session()),
        Err(MediaError::NotParticipant("tel:+15550003".into()))
    );
    let stranger = Request {
        participants: vec!["tel:+15550001".into(), "tel:+19999".into()],
        ..audio()
    };
    assert_eq!(
        stranger.targets(&session()),
        Err(MediaError::NotParticipant("tel:+19999".into()))
    );
    let mut ended = session();
    ended.terminated = true;
    assert_eq!(
        audio().targets(&ended),
        Err(MediaError::Ended("cs1".into()))
    );
}

#[test]
fn the_hash_tells_requests_apart() {
    let a = audio();
    assert_eq!(a.hash(), audio().hash());
    let correlated = Request {
        client_correlator: Some("c1".into()),
        ..audio()
    };
    assert_eq!(
        a.hash(),
        correlated.hash(),
        "the correlator itself is not hashed"
    );
    let other_url = Request {
        url: Some("https://app.example.org/bye.wav".into()),
        ..audio()
    };
    assert_ne!(a.hash(), other_url.hash());
    let as_recording = Request {
        kind: Some(MediaKind::Recording),
        ..audio()
    };
    assert_ne!(a.hash(), as_recording.hash());
    let interrupting = Request {
        interrupt_media: Some(false),
        ..audio()
    };
    assert_ne!(a.hash(), interrupting.hash());
}

#[test]
fn statuses_move_forward_and_terminal_ones_stay() {
    use MediaStatus::*;
    assert_eq!(Pending.advance(Progress::Playing), Some(Playing));
    assert_eq!(Playing.advance(Progress::Playing), None);
    assert_eq!(Pending.advance(Progress::Played), Some(Played));
    assert_eq!(Playing.advance(Progress::Played), Some(Played));
    assert_eq!(Playing.advance(Progress::Failed), Some(Error));
    assert_eq!(Playing.advance(Progress::Recorded), Some(Played));
    assert_eq!(Pending.advance(Progress::Collected), Some(Played));
    for terminal in [Played, Error] {
        for p in [
            Progress::Playing,
            Progress::Played,
            Progress::Failed,
            Progress::Recorded,
        ] {
            assert_eq!(terminal.advance(p), None);
        }
    }
    for s in [Pending, Playing, Played, Error] {
        assert_eq!(MediaStatus::parse(s.as_str()), s);
    }
}

#[test]
fn interactions_end_with_their_result_not_their_prompt() {
    assert!(Progress::Played.fits(MediaKind::Audio));
    assert!(!Progress::Played.fits(MediaKind::Recording));
    assert!(Progress::Recorded.fits(MediaKind::Recording));
    assert!(!Progress::Recorded.fits(MediaKind::Collection));
    assert!(Progress::Collected.fits(MediaKind::Collection));
    assert!(Progress::Failed.fits(MediaKind::Collection));
    assert!(Progress::Playing.fits(MediaKind::Recording));
}
