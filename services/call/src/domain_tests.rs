//! Unit tests of the call-session state machine.

use chrono::Utc;

use super::*;

fn session(n: usize) -> Session {
    let ps = (0..n)
        .map(|i| Participant::new(format!("p{i}"), format!("tel:+1555000000{i}"), None))
        .collect();
    Session::new("cs1".into(), ps)
}

fn connects(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Connect { participant_id } => Some(participant_id.as_str()),
            _ => None,
        })
        .collect()
}

fn releases(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Release { participant_id } => Some(participant_id.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_party_first_then_the_others() {
    let mut s = session(3);
    assert_eq!(connects(&s.start(Utc::now())), ["p0"]);
    let fx = s.apply("p0", Outcome::Answered, Utc::now());
    assert_eq!(connects(&fx), ["p1", "p2"]);
    assert!(fx.contains(&Effect::Notify {
        participant_id: "p0".into(),
        event: Event::Answer
    }));
    assert_eq!(s.participants[0].status, Status::Connected);
}

#[test]
fn busy_b_party_ends_a_two_party_session_and_releases_a() {
    let mut s = session(2);
    s.start(Utc::now());
    s.apply("p0", Outcome::Answered, Utc::now());
    let fx = s.apply("p1", Outcome::Busy, Utc::now());
    assert!(s.terminated);
    assert_eq!(s.participants[1].status, Status::Terminated(Cause::Busy));
    assert_eq!(s.participants[0].status, Status::Terminated(Cause::HangUp));
    assert_eq!(releases(&fx), ["p0"]);
    assert!(fx.contains(&Effect::Notify {
        participant_id: "p0".into(),
        event: Event::Disconnected
    }));
}

#[test]
fn unreachable_a_party_ends_without_calling_b() {
    let mut s = session(2);
    s.start(Utc::now());
    let fx = s.apply("p0", Outcome::NotReachable, Utc::now());
    assert!(s.terminated);
    assert!(connects(&fx).is_empty());
    assert!(releases(&fx).is_empty(), "B was never dialled");
    assert_eq!(s.participants[1].status, Status::Terminated(Cause::Aborted));
}

#[test]
fn hang_up_ends_two_party_session() {
    let mut s = session(2);
    s.start(Utc::now());
    s.apply("p0", Outcome::Answered, Utc::now());
    s.apply("p1", Outcome::Answered, Utc::now());
    let fx = s.apply("p1", Outcome::Disconnected, Utc::now());
    assert!(s.terminated);
    assert_eq!(s.participants[1].status, Status::Terminated(Cause::HangUp));
    assert_eq!(releases(&fx), ["p0"]);
}

#[test]
fn three_party_session_survives_one_hang_up() {
    let mut s = session(3);
    s.start(Utc::now());
    for p in ["p0", "p1", "p2"] {
        s.apply(p, Outcome::Answered, Utc::now());
    }
    s.apply("p2", Outcome::Disconnected, Utc::now());
    assert!(!s.terminated);
}

#[test]
fn one_participant_session_ends_when_it_hangs_up() {
    let mut s = session(1);
    s.start(Utc::now());
    s.apply("p0", Outcome::Answered, Utc::now());
    assert!(!s.terminated);
    s.apply("p0", Outcome::Disconnected, Utc::now());
    assert!(s.terminated);
}

#[test]
fn late_and_repeated_events_never_leave_a_terminal_state() {
    let mut s = session(2);
    s.start(Utc::now());
    s.apply("p0", Outcome::Answered, Utc::now());
    s.apply("p1", Outcome::Busy, Utc::now());
    let before = s.clone();
    for outcome in [
        Outcome::Answered,
        Outcome::Busy,
        Outcome::Disconnected,
        Outcome::NoAnswer,
    ] {
        assert!(s.apply("p1", outcome, Utc::now()).is_empty());
        assert!(s.apply("p0", outcome, Utc::now()).is_empty());
    }
    assert_eq!(s, before);
}

#[test]
fn repeated_answer_is_ignored() {
    let mut s = session(3);
    s.start(Utc::now());
    s.apply("p0", Outcome::Answered, Utc::now());
    assert!(s.apply("p0", Outcome::Answered, Utc::now()).is_empty());
}

#[test]
fn end_releases_dialled_legs_and_refuses_twice() {
    let mut s = session(2);
    s.start(Utc::now());
    let fx = s.end(Utc::now()).unwrap();
    assert_eq!(releases(&fx), ["p0"]);
    assert_eq!(s.participants[0].status, Status::Terminated(Cause::Aborted));
    assert_eq!(s.end(Utc::now()), Err(DomainError::AlreadyTerminated));
}

#[test]
fn added_participant_is_called_once_a_is_connected() {
    let mut s = session(2);
    s.start(Utc::now());
    let fx = s
        .add(
            Participant::new("p2".into(), "tel:+15550000009".into(), None),
            10,
            Utc::now(),
        )
        .unwrap();
    assert!(connects(&fx).is_empty());
    let fx = s.apply("p0", Outcome::Answered, Utc::now());
    assert_eq!(connects(&fx), ["p1", "p2"]);
    let fx = s
        .add(
            Participant::new("p3".into(), "tel:+15550000008".into(), None),
            10,
            Utc::now(),
        )
        .unwrap();
    assert_eq!(connects(&fx), ["p3"]);
}

#[test]
fn removing_a_participant_can_end_the_session() {
    let mut s = session(2);
    s.start(Utc::now());
    s.apply("p0", Outcome::Answered, Utc::now());
    s.apply("p1", Outcome::Answered, Utc::now());
    let fx = s.remove("p1", Utc::now()).unwrap();
    assert!(s.terminated);
    assert_eq!(releases(&fx), ["p1", "p0"]);
    assert_eq!(
        s.remove("p1", Utc::now()),
        Err(DomainError::AlreadyTerminated)
    );
}

#[test]
fn duration_counts_connected_time() {
    let mut s = session(1);
    let t0 = Utc::now();
    s.start(Utc::now());
    s.apply("p0", Outcome::Answered, t0);
    s.apply(
        "p0",
        Outcome::Disconnected,
        t0 + chrono::Duration::seconds(42),
    );
    assert_eq!(s.participants[0].duration_secs(Utc::now()), Some(42));
}

#[test]
fn a_failed_a_party_ends_a_larger_session_without_calling_the_others() {
    for outcome in [Outcome::Busy, Outcome::NotReachable, Outcome::NoAnswer] {
        let mut s = session(3);
        s.start(Utc::now());
        let fx = s.apply("p0", outcome, Utc::now());
        assert!(s.terminated, "{outcome:?}");
        assert!(connects(&fx).is_empty() && releases(&fx).is_empty());
        assert_eq!(s.participants[1].status, Status::Terminated(Cause::Aborted));
        assert_eq!(s.participants[2].status, Status::Terminated(Cause::Aborted));
    }
}

#[test]
fn removing_the_a_party_before_it_answers_ends_the_session() {
    let mut s = session(3);
    s.start(Utc::now());
    let fx = s.remove("p0", Utc::now()).unwrap();
    assert!(s.terminated);
    assert_eq!(releases(&fx), ["p0"]);
}

#[test]
fn an_established_session_calls_added_participants_after_the_a_party_left() {
    let mut s = session(3);
    s.start(Utc::now());
    for p in ["p0", "p1", "p2"] {
        s.apply(p, Outcome::Answered, Utc::now());
    }
    s.apply("p0", Outcome::Disconnected, Utc::now());
    assert!(!s.terminated, "B and C go on");
    let fx = s
        .add(
            Participant::new("p3".into(), "tel:+15550000007".into(), None),
            10,
            Utc::now(),
        )
        .unwrap();
    assert_eq!(connects(&fx), ["p3"]);
}

#[test]
fn add_checks_correlator_duplicates_and_the_limit_against_current_state() {
    let mut s = session(2);
    s.start(Utc::now());
    let mut carol = Participant::new("p2".into(), "tel:+15550000009".into(), None);
    carol.client_correlator = Some("c1".into());
    s.add(carol.clone(), 10, Utc::now()).unwrap();
    let mut retry = carol.clone();
    retry.id = "p9".into();
    assert_eq!(
        s.add(retry.clone(), 10, Utc::now()),
        Err(DomainError::Replay("p2".into()))
    );
    retry.address = "tel:+15550000001".into();
    assert_eq!(
        s.add(retry, 10, Utc::now()),
        Err(DomainError::CorrelatorReused("c1".into()))
    );
    let twin = Participant::new("p4".into(), "TEL:+15550000009".into(), None);
    assert_eq!(
        s.add(twin, 10, Utc::now()),
        Err(DomainError::DuplicateAddress)
    );
    let dave = Participant::new("p5".into(), "tel:+15550000005".into(), None);
    assert_eq!(
        s.add(dave, 3, Utc::now()),
        Err(DomainError::TooManyParticipants)
    );
    s.end(Utc::now()).unwrap();
    assert_eq!(
        s.add(carol, 10, Utc::now()),
        Err(DomainError::Replay("p2".into())),
        "a retry after the end still answers"
    );
}

#[test]
fn the_no_answer_timer_ends_legs_the_network_never_reported() {
    let t0 = Utc::now();
    let mut s = session(2);
    s.start(t0);
    assert!(s.expire_unanswered(t0, t0).is_empty(), "not yet due");
    let later = t0 + chrono::Duration::seconds(61);
    let fx = s.expire_unanswered(t0 + chrono::Duration::seconds(60), later);
    assert_eq!(
        s.participants[0].status,
        Status::Terminated(Cause::NoAnswer)
    );
    assert_eq!(releases(&fx), ["p0"]);
    assert!(fx.contains(&Effect::Notify {
        participant_id: "p0".into(),
        event: Event::NoAnswer
    }));
    assert!(s.terminated, "B was waiting for A: the session is over");
    assert!(s.expire_unanswered(later, later).is_empty());
}

#[test]
fn the_no_answer_timer_leaves_connected_legs_alone() {
    let t0 = Utc::now();
    let mut s = session(3);
    s.start(t0);
    s.apply("p0", Outcome::Answered, t0);
    s.apply("p1", Outcome::Answered, t0);
    let later = t0 + chrono::Duration::seconds(120);
    let fx = s.expire_unanswered(later, later);
    assert_eq!(releases(&fx), ["p2"]);
    assert_eq!(
        s.participants[2].status,
        Status::Terminated(Cause::NoAnswer)
    );
    assert_eq!(s.participants[0].status, Status::Connected);
    assert_eq!(s.participants[1].status, Status::Connected);
    assert!(!s.terminated, "two remain connected");
}

fn network_call() -> Session {
    Session::network(
        "cs9".into(),
        "nc1".into(),
        Participant::new("caller".into(), "tel:+15557654321".into(), None),
        Participant::new("called".into(), "tel:+15551230001".into(), None),
        Utc::now(),
    )
}

fn ask(default: Action) -> Ask {
    Ask {
        subscription_id: "sb1".into(),
        app_id: "app1".into(),
        notify_url: "http://app.example/direct".into(),
        callback_data: None,
        deadline: Utc::now() + chrono::Duration::seconds(5),
        default,
    }
}

fn application(action: Action, routing: Option<&str>) -> Verdict {
    Verdict::Application {
        action,
        routing_address: routing.map(str::to_string),
    }
}

fn decided(s: &Session) -> &Decided {
    match &s.decision {
        Some(Decision::Decided(d)) => d,
        other => panic!("not decided: {other:?}"),
    }
}

#[test]
fn a_network_call_without_a_decision_rings_the_called_party() {
    let mut s = network_call();
    let fx = s.attempt("d1".into(), None, Utc::now());
    assert!(fx.contains(&Effect::Notify {
        participant_id: "called".into(),
        event: Event::CalledNumber
    }));
    assert_eq!(connects(&fx), ["called"]);
    assert_eq!(s.participants[0].status, Status::Connected);
    assert_eq!(s.parties("caller").unwrap().1, "tel:+15551230001");
    assert_eq!(s.parties("called").unwrap().0, "tel:+15557654321");
}

#[test]
fn a_held_call_waits_for_the_decision_then_follows_it() {
    let mut s = network_call();
    let fx = s.attempt("d1".into(), Some(ask(Action::Continue)), Utc::now());
    assert!(connects(&fx).is_empty());
    assert!(fx.iter().any(|e| matches!(e, Effect::Ask { .. })));
    assert_eq!(s.pending().unwrap().id, "d1");
    // A verdict for another decision changes nothing.
    assert!(
        s.decide(
            "other",
            application(Action::EndCall, None),
            "r".into(),
            10,
            Utc::now()
        )
        .is_empty()
    );
    let fx = s.decide(
        "d1",
        application(Action::Continue, None),
        "r".into(),
        10,
        Utc::now(),
    );
    assert_eq!(connects(&fx), ["called"]);
    assert_eq!(decided(&s).source, Source::Application);
    // Repeated: nothing.
    assert!(
        s.decide(
            "d1",
            application(Action::EndCall, None),
            "r".into(),
            10,
            Utc::now()
        )
        .is_empty()
    );
}

#[test]
fn end_call_releases_the_caller_and_ends_the_session() {
    let mut s = network_call();
    s.attempt("d1".into(), Some(ask(Action::Continue)), Utc::now());
    let fx = s.decide(
        "d1",
        application(Action::EndCall, None),
        "r".into(),
        10,
        Utc::now(),
    );
    assert_eq!(releases(&fx), ["caller"]);
    assert!(s.terminated);
    assert_eq!(s.participants[1].status, Status::Terminated(Cause::Aborted));
}

#[test]
fn route_rings_the_routing_address_instead() {
    let mut s = network_call();
    s.attempt("d1".into(), Some(ask(Action::Continue)), Utc::now());
    let fx = s.decide(
        "d1",
        application(Action::Route, Some("tel:+15551239999")),
        "routed".into(),
        10,
        Utc::now(),
    );
    assert_eq!(connects(&fx), ["routed"]);
    assert_eq!(s.participants[2].address, "tel:+15551239999");
    assert_eq!(s.participants[1].status, Status::Terminated(Cause::Aborted));
    assert!(!s.terminated);
}

#[test]
fn route_without_an_address_takes_the_default() {
    let mut s = network_call();
    s.attempt("d1".into(), Some(ask(Action::EndCall)), Utc::now());
    let fx = s.decide(
        "d1",
        application(Action::Route, None),
        "r".into(),
        10,
        Utc::now(),
    );
    assert_eq!(releases(&fx), ["caller"]);
    let d = decided(&s);
    assert_eq!(
        (d.action, d.source, d.reason),
        (Action::EndCall, Source::Default, Reason::BadBody)
    );
}

#[test]
fn timeout_applies_the_default_action() {
    let mut s = network_call();
    s.attempt("d1".into(), Some(ask(Action::Continue)), Utc::now());
    let fx = s.decide(
        "d1",
        Verdict::Default(Reason::Timeout),
        "r".into(),
        10,
        Utc::now(),
    );
    assert_eq!(connects(&fx), ["called"]);
    assert_eq!(decided(&s).reason, Reason::Timeout);
}

#[test]
fn the_caller_hanging_up_ends_a_held_call() {
    let mut s = network_call();
    s.attempt("d1".into(), Some(ask(Action::Continue)), Utc::now());
    s.apply("caller", Outcome::Disconnected, Utc::now());
    assert!(s.terminated);
    assert!(s.pending().is_none());
    assert!(
        s.decide(
            "d1",
            application(Action::Continue, None),
            "r".into(),
            10,
            Utc::now()
        )
        .is_empty()
    );
}

#[test]
fn busy_can_be_routed_elsewhere() {
    let mut s = network_call();
    s.attempt("d1".into(), None, Utc::now());
    let fx = s.apply_or_ask(
        "called",
        Outcome::Busy,
        Utc::now(),
        Some(ask(Action::Continue)),
        "d2".into(),
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Ask { .. })));
    assert!(!s.terminated, "held for the decision");
    let fx = s.decide(
        "d2",
        application(Action::Route, Some("tel:+15551239999")),
        "routed".into(),
        10,
        Utc::now(),
    );
    assert_eq!(connects(&fx), ["routed"]);
    // Busy then Continue: the call ends as the network would end it.
    let mut s = network_call();
    s.attempt("d1".into(), None, Utc::now());
    s.apply_or_ask(
        "called",
        Outcome::Busy,
        Utc::now(),
        Some(ask(Action::Continue)),
        "d2".into(),
    );
    let fx = s.decide(
        "d2",
        application(Action::Continue, None),
        "r".into(),
        10,
        Utc::now(),
    );
    assert_eq!(releases(&fx), ["caller"]);
    assert!(s.terminated);
}

#[test]
fn third_party_call_sessions_never_ask() {
    let mut s = session(2);
    s.start(Utc::now());
    s.apply("p0", Outcome::Answered, Utc::now());
    let fx = s.apply_or_ask(
        "p1",
        Outcome::Busy,
        Utc::now(),
        Some(ask(Action::Continue)),
        "d".into(),
    );
    assert!(!fx.iter().any(|e| matches!(e, Effect::Ask { .. })));
    assert!(s.terminated);
    assert_eq!(s.parties("p0"), None);
}

#[test]
fn route_beyond_the_participant_limit_takes_the_default() {
    let mut s = network_call();
    s.attempt("d1".into(), Some(ask(Action::EndCall)), Utc::now());
    let fx = s.decide(
        "d1",
        application(Action::Route, Some("tel:+15551239999")),
        "routed".into(),
        2,
        Utc::now(),
    );
    assert!(connects(&fx).is_empty());
    assert_eq!(decided(&s).reason, Reason::Limit);
    assert!(s.terminated);
}

#[test]
fn a_participant_added_to_an_answered_call_is_not_asked_about() {
    let mut s = network_call();
    s.attempt("d1".into(), None, Utc::now());
    s.apply("called", Outcome::Answered, Utc::now());
    s.add(
        Participant::new("added".into(), "tel:+15551230077".into(), None),
        10,
        Utc::now(),
    )
    .unwrap();
    let fx = s.apply_or_ask(
        "added",
        Outcome::Busy,
        Utc::now(),
        Some(ask(Action::Continue)),
        "d2".into(),
    );
    assert!(!fx.iter().any(|e| matches!(e, Effect::Ask { .. })));
    assert!(!s.terminated, "the answered call goes on");
}

#[test]
fn a_legs_events_apply_in_their_order_whatever_order_they_arrive_in() {
    let mut s = session(2);
    s.start(Utc::now());
    let now = Utc::now();
    let apply = |s: &mut Session, seq, outcome| {
        s.apply_in_order("p0", seq, outcome, now, None, String::new())
    };
    // The hang-up overtook the answer: refused until the answer is applied.
    assert_eq!(
        apply(&mut s, 2, Outcome::Disconnected),
        Err(DomainError::EarlyLegEvent {
            expected: 1,
            got: 2
        })
    );
    assert_eq!(s.participants[0].status, Status::Initial);
    let fx = apply(&mut s, 1, Outcome::Answered).unwrap();
    assert!(fx.contains(&Effect::Notify {
        participant_id: "p0".into(),
        event: Event::Answer
    }));
    assert_eq!(s.participants[0].sequence, 1);
    // Applied once; a repeat changes nothing.
    assert_eq!(apply(&mut s, 1, Outcome::Answered), Ok(Vec::new()));
    let fx = apply(&mut s, 2, Outcome::Disconnected).unwrap();
    assert!(fx.contains(&Effect::Notify {
        participant_id: "p0".into(),
        event: Event::Disconnected
    }));
    assert_eq!(s.participants[0].sequence, 2);
    assert_eq!(apply(&mut s, 2, Outcome::Disconnected), Ok(Vec::new()));
}

#[test]
fn unsequenced_leg_events_apply_as_they_come() {
    let mut s = session(1);
    s.start(Utc::now());
    let fx = s
        .apply_in_order("p0", 0, Outcome::Answered, Utc::now(), None, String::new())
        .unwrap();
    assert!(!fx.is_empty());
    assert_eq!(s.participants[0].sequence, 0);
}
