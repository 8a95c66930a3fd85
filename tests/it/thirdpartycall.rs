//! Third Party Call end to end: what an application sees by polling and by webhooks.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    harness::{Mode, Suite, both_modes, causes, eventually, statuses},
    receiver::{Answer as Plan, Receiver},
};

const A: &str = "tel:+15551230001";
const B: &str = "tel:+15551230002";

both_modes!(
    two_participants_connect_seen_by_polling_and_webhooks,
    busy_and_unreachable_participants,
    hang_up_ends_a_two_party_session,
    delete_ends_the_session_and_a_second_delete_is_svc0261,
    client_correlator_retry_calls_nobody_twice,
    another_application_cannot_see_or_delete_the_session,
    webhook_failing_three_times_is_delivered_with_one_id,
    participants_can_be_added_read_and_removed,
    keys_limited_to_users,
    an_unanswered_call_ends_as_no_answer,
);

/// The `resourceURL` of a created session.
fn resource_url(created: &crate::harness::Answer) -> String {
    created.body["callSessionInformation"]["resourceURL"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Polls the session until its participants have `expected` statuses; returns it.
async fn until_statuses(app: &crate::harness::App, url: &str, expected: &[&str]) -> Value {
    eventually(&format!("statuses {expected:?}"), 10, || async {
        let s = session(app, url).await;
        (statuses(&s) == expected).then_some(s)
    })
    .await
}

const CONNECTED: &str = "CallParticipantConnected";
const TERMINATED: &str = "CallParticipantTerminated";

async fn session(app: &crate::harness::App, url: &str) -> Value {
    let r = app.get_url(url).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

async fn two_participants_connect_seen_by_polling_and_webhooks(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("alice-app", &[]).await;
    let hook = Receiver::start().await;
    // The application's own trace: every hop, up to the webhooks, must stay in it.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let body = json!({"callSessionInformation": {
        "participant": [{"participantAddress": A}, {"participantAddress": B}],
        "callbackReference": {"notifyURL": hook.url, "callbackData": "cb-data-1"}}});
    let created = crate::harness::read(
        app.http
            .post(app.url("/thirdpartycall/callSessions"))
            .bearer_auth(&app.key)
            .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let url = resource_url(&created);
    assert_eq!(created.header("location"), url);
    assert!(
        url.starts_with(&format!("{}/thirdpartycall/callSessions/", suite.api)),
        "{url}"
    );
    assert_eq!(created.header("content-type"), "application/json");
    let parts = created.body["callSessionInformation"]["participant"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["participantAddress"], A);
    assert!(
        parts[1]["resourceURL"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{url}/participants/"))
    );

    let connected = until_statuses(&app, &url, &[CONNECTED, CONNECTED]).await;
    assert!(connected["callSessionInformation"]["participant"][0]["startTime"].is_string());

    let list = app.get_url(&format!("{url}/participants")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["callParticipantList"]["resourceURL"],
        format!("{url}/participants")
    );
    assert_eq!(
        list.body["callParticipantList"]["participant"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let id = url.rsplit('/').next().unwrap().to_string();
    let hooks = eventually("two Answer webhooks", 10, || async {
        let got: Vec<_> = hook
            .received()
            .into_iter()
            .filter(|r| r.call_event() == "Answer")
            .collect();
        (got.len() == 2).then_some(got)
    })
    .await;
    let mut called: Vec<_> = hooks.iter().map(|h| h.called().to_string()).collect();
    called.sort();
    assert_eq!(called, [A, B]);
    for h in &hooks {
        let n = &h.body["callEventNotification"];
        assert_eq!(n["callbackData"], "cb-data-1");
        assert_eq!(n["callSessionIdentifier"], id.as_str());
        assert_eq!(n["notificationType"], "CallEvent");
        assert_eq!(n["callingParticipant"], A);
        assert_eq!(n["link"][0]["href"], url.as_str());
        assert!(!h.notification_id().is_empty());
        let tp = h
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            tp.contains(trace_id),
            "webhook outside the request's trace: {tp:?}"
        );
        assert_eq!(h.headers.get("content-type").unwrap(), "application/json");
    }
}

async fn busy_and_unreachable_participants(mode: Mode) {
    let suite = Suite::start(mode).await;
    suite
        .set_rules(json!([
            {"address": "tel:+1555999*", "call": "busy", "callDelayMs": 10},
            {"address": "tel:+1555888*", "call": "notReachable", "callDelayMs": 10},
        ]))
        .await;
    let app = suite.app("app", &[]).await;
    let hook = Receiver::start().await;

    // B busy: B ends Busy, A (connected) is released; Busy and Disconnected are notified.
    let busy_b = "tel:+15559990002";
    let created = app.create_call(&[A, busy_b], Some(&hook.url), None).await;
    let url = resource_url(&created);
    let s = until_statuses(&app, &url, &[TERMINATED, TERMINATED]).await;
    assert_eq!(causes(&s), ["CallParticipantHangUp", "CallParticipantBusy"]);
    eventually("Busy and Disconnected webhooks", 10, || async {
        let got = hook.received();
        let busy = got
            .iter()
            .any(|r| r.call_event() == "Busy" && r.called() == busy_b);
        let gone = got
            .iter()
            .any(|r| r.call_event() == "Disconnected" && r.called() == A);
        (busy && gone).then_some(())
    })
    .await;
    let id = url.rsplit('/').next().unwrap();
    let log = suite.network_log(id).await;
    assert!(
        log.iter()
            .any(|c| c["kind"] == "release" && c["address"] == A),
        "{log:?}"
    );

    // A unreachable: the session ends and B is never called.
    let created = app.create_call(&["tel:+15558880001", B], None, None).await;
    let url = resource_url(&created);
    let s = until_statuses(&app, &url, &[TERMINATED, TERMINATED]).await;
    assert_eq!(
        causes(&s),
        ["CallParticipantNotReachable", "CallParticipantAborted"]
    );
    let id = url.rsplit('/').next().unwrap();
    let log = suite.network_log(id).await;
    assert!(
        !log.iter().any(|c| c["address"] == B),
        "B was called: {log:?}"
    );
}

async fn hang_up_ends_a_two_party_session(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("app", &[]).await;
    let hook = Receiver::start().await;
    let created = app.create_call(&[A, B], Some(&hook.url), None).await;
    let url = resource_url(&created);
    let id = url.rsplit('/').next().unwrap().to_string();
    until_statuses(&app, &url, &[CONNECTED, CONNECTED]).await;
    suite.hang_up(&id, B).await;
    let s = until_statuses(&app, &url, &[TERMINATED, TERMINATED]).await;
    assert_eq!(
        causes(&s),
        ["CallParticipantHangUp", "CallParticipantHangUp"]
    );
    let p = &s["callSessionInformation"]["participant"][1];
    assert!(p["duration"].as_i64().unwrap() >= 0);
    eventually("two Disconnected webhooks", 10, || async {
        (hook
            .received()
            .iter()
            .filter(|r| r.call_event() == "Disconnected")
            .count()
            == 2)
            .then_some(())
    })
    .await;
    let log = suite.network_log(&id).await;
    assert!(
        log.iter()
            .any(|c| c["kind"] == "release" && c["address"] == A)
    );
    // A released session refuses changes.
    let r = app.delete_url(&url).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.exception().0, "SVC0261");
}

async fn delete_ends_the_session_and_a_second_delete_is_svc0261(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("app", &[]).await;
    let created = app.create_call(&[A, B], None, None).await;
    let url = resource_url(&created);
    let id = url.rsplit('/').next().unwrap().to_string();
    eventually("A connected", 10, || async {
        (statuses(&session(&app, &url).await)[0] == CONNECTED).then_some(())
    })
    .await;
    let r = app.delete_url(&url).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.body, Value::Null);
    let s = session(&app, &url).await;
    assert_eq!(statuses(&s), [TERMINATED, TERMINATED]);
    let again = app.delete_url(&url).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.exception(), ("SVC0261", vec![id.clone()]));
    eventually("A released at the network", 10, || async {
        let log = suite.network_log(&id).await;
        log.iter()
            .any(|c| c["kind"] == "release" && c["address"] == A)
            .then_some(())
    })
    .await;
    let missing = app
        .get_url(&format!(
            "{}/thirdpartycall/callSessions/csnosuchsession00000",
            suite.api
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn client_correlator_retry_calls_nobody_twice(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("app", &[]).await;
    let first = app.create_call(&[A, B], None, Some("c2c-000117")).await;
    let second = app.create_call(&[A, B], None, Some("c2c-000117")).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.header("location"), second.header("location"));
    assert_eq!(
        second.body["callSessionInformation"]["clientCorrelator"],
        "c2c-000117"
    );
    let url = first.header("location").to_string();
    let id = url.rsplit('/').next().unwrap().to_string();
    until_statuses(&app, &url, &[CONNECTED, CONNECTED]).await;
    let third = app.create_call(&[A, B], None, Some("c2c-000117")).await;
    assert_eq!(third.header("location"), url);
    suite.marker(&app).await;
    let connects: Vec<_> = suite
        .network_log(&id)
        .await
        .into_iter()
        .filter(|c| c["kind"] == "connect")
        .collect();
    assert_eq!(connects.len(), 2, "{connects:?}");
    let other = app
        .create_call(&[A, "tel:+15551230009"], None, Some("c2c-000117"))
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert_eq!(other.exception().0, "SVC0005");
    // The same correlator belongs to each application separately.
    let app2 = suite.app("other", &[]).await;
    let theirs = app2.create_call(&[A, B], None, Some("c2c-000117")).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.header("location"), url);
}

async fn another_application_cannot_see_or_delete_the_session(mode: Mode) {
    let suite = Suite::start(mode).await;
    let owner = suite.app("owner", &[]).await;
    let intruder = suite.app("intruder", &[]).await;
    let created = owner.create_call(&[A, B], None, None).await;
    let url = created.header("location").to_string();
    for r in [
        intruder.get_url(&url).await,
        intruder.get_url(&format!("{url}/participants")).await,
        intruder.delete_url(&url).await,
        intruder
            .send(Method::POST, &format!("{url}/participants"), Some(json!({"callParticipantInformation": {"participantAddress": "tel:+15551230003"}})))
            .await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    }
    let s = session(&owner, &url).await;
    assert_ne!(statuses(&s), [TERMINATED, TERMINATED]);
    let r = owner.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = owner
        .http
        .get(&url)
        .bearer_auth("prl_nottherightkey")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn webhook_failing_three_times_is_delivered_with_one_id(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("app", &[]).await;
    let hook = Receiver::start().await;
    hook.plan(&[Plan::Status(500), Plan::Status(503), Plan::Status(500)]);
    // A one-participant session: exactly one Answer notification.
    let created = app.create_call(&[A], Some(&hook.url), None).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let got = eventually("four attempts", 15, || async {
        let got = hook.received();
        (got.len() >= 4).then_some(got)
    })
    .await;
    // The 4th attempt got 204: no 5th may follow. A retry would come within the test
    // config's longest back-off (500 ms); watch three times that long.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(hook.received().len(), 4, "attempts after a 2xx answer");
    let ids: Vec<_> = got.iter().map(|r| r.notification_id()).collect();
    assert!(ids.iter().all(|i| i == &ids[0] && !i.is_empty()), "{ids:?}");
    assert!(got.iter().all(|r| r.call_event() == "Answer"));
    assert_eq!(got[3].body, got[0].body);
}

async fn participants_can_be_added_read_and_removed(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("app", &[]).await;
    let created = app.create_call(&[A, B], None, None).await;
    let url = created.header("location").to_string();
    until_statuses(&app, &url, &[CONNECTED, CONNECTED]).await;
    let carol = "sip:+15551230003@ims.example.com";
    let body = json!({"callParticipantInformation": {"participantAddress": carol, "participantName": "Carol", "clientCorrelator": "c2c-000118"}});
    let added = app
        .send(
            Method::POST,
            &format!("{url}/participants"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    let p_url = added.body["callParticipantInformation"]["resourceURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(added.header("location"), p_url);
    let again = app
        .send(Method::POST, &format!("{url}/participants"), Some(body))
        .await;
    assert_eq!(again.header("location"), p_url);
    let p = eventually("Carol connected", 10, || async {
        let p = app.get_url(&p_url).await;
        (p.body["callParticipantInformation"]["participantStatus"] == CONNECTED).then_some(p)
    })
    .await;
    assert_eq!(
        p.body["callParticipantInformation"]["participantName"],
        "Carol"
    );
    let unknown = app
        .get_url(&format!("{url}/participants/panosuchparticipant"))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.exception(),
        ("SVC0002", vec!["participantId".to_string()])
    );
    assert_eq!(app.delete_url(&p_url).await.status, StatusCode::NO_CONTENT);
    let p = app.get_url(&p_url).await;
    assert_eq!(
        p.body["callParticipantInformation"]["participantStatus"],
        TERMINATED
    );
    // Two remain connected: the session goes on.
    let s = session(&app, &url).await;
    assert_eq!(&statuses(&s)[..2], [CONNECTED, CONNECTED]);
}

async fn keys_limited_to_users(mode: Mode) {
    let suite = Suite::start(mode).await;
    let alice = suite.app("alice", &[A]).await;
    let created = alice
        .create_call(&["acr:Authorization", B], None, None)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(
        created.body["callSessionInformation"]["participant"][0]["participantAddress"],
        A
    );
    let refused = alice
        .create_call(&["tel:+15557770001", B], None, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.exception().0, "POL0002");
    let wide = suite.app("wide", &["tel:+1555*"]).await;
    let r = wide
        .create_call(&["acr:Authorization", B], None, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.exception(),
        ("POL0002", vec!["acr:Authorization".to_string()])
    );
}

/// The network never answers (60 s delay): the suite's no-answer timer (2 s in tests) ends
/// the leg, releases it at the network and tells the application.
async fn an_unanswered_call_ends_as_no_answer(mode: Mode) {
    let suite = Suite::start(mode).await;
    suite
        .set_rules(json!([{"address": "tel:+1555777*", "call": "answer", "callDelayMs": 60000}]))
        .await;
    let app = suite.app("app", &[]).await;
    let hook = Receiver::start().await;
    let slow = "tel:+15557770001";
    let created = app.create_call(&[slow, B], Some(&hook.url), None).await;
    let url = resource_url(&created);
    let s = until_statuses(&app, &url, &[TERMINATED, TERMINATED]).await;
    assert_eq!(
        causes(&s),
        ["CallParticipantNoAnswer", "CallParticipantAborted"]
    );
    let id = url.rsplit('/').next().unwrap_or_default().to_string();
    eventually("the leg released at the network", 10, || async {
        let log = suite.network_log(&id).await;
        log.iter()
            .any(|c| c["kind"] == "release" && c["address"] == slow)
            .then_some(())
    })
    .await;
    eventually("a NoAnswer webhook", 10, || async {
        hook.received()
            .iter()
            .any(|r| r.call_event() == "NoAnswer" && r.called() == slow)
            .then_some(())
    })
    .await;
}
