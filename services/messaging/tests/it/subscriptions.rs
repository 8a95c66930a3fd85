//! Inbound subscriptions: durations, overlap, correlators, ownership, expiry, and the
//! notifications of matching inbound messages.

use parlay_proto::{common::v1::Callback, messaging::v1 as pb};
use serde_json::json;
use tonic::Code;

use crate::harness::{
    API_ROOT, APP, Backend, Harness, OTHER_APP, body, eventually, inbound_mms, inbound_sms,
    refusal, req,
};

const A: &str = "tel:+15551230001";
const B: &str = "tel:+15551230002";

pub fn subscription(
    addresses: &[&str],
    criteria: Option<&str>,
    data: &str,
) -> pb::InboundSubscription {
    pb::InboundSubscription {
        callback: Some(Callback {
            notify_url: format!("https://app.example.org/mo/{data}"),
            callback_data: Some(data.into()),
        }),
        destination_addresses: addresses.iter().map(|a| a.to_string()).collect(),
        criteria: criteria.map(str::to_string),
        ..Default::default()
    }
}

pub async fn create(
    h: &Harness,
    app: &str,
    sub: pb::InboundSubscription,
) -> Result<pb::CreateInboundSubscriptionResponse, tonic::Status> {
    h.client()
        .create_inbound_subscription(req(
            app,
            pb::CreateInboundSubscriptionRequest {
                subscription: Some(sub),
            },
        ))
        .await
        .map(|r| r.into_inner())
}

async fn created(h: &Harness, app: &str, sub: pb::InboundSubscription) -> pb::InboundSubscription {
    let r = create(h, app, sub).await.unwrap();
    assert!(r.created);
    r.subscription.unwrap()
}

fn sub_ref(id: &str) -> pb::InboundSubscriptionRef {
    pb::InboundSubscriptionRef {
        subscription_id: id.into(),
    }
}

#[tokio::test]
async fn durations_are_granted_up_to_the_maximum() {
    let h = Harness::start_with(Backend::Sqlite, |c| {
        c.messaging.max_subscription_secs = 3600
    })
    .await;
    let default = created(&h, APP, subscription(&[A], None, "d")).await;
    assert_eq!(default.duration_secs, Some(3600));
    let mut short = subscription(&[B], None, "s");
    short.duration_secs = Some(60);
    let short = created(&h, APP, short).await;
    assert_eq!(short.duration_secs, Some(60));
    let expires = short.expires_at.unwrap().seconds - chrono::Utc::now().timestamp();
    assert!((55..=61).contains(&expires), "{expires}");
    let mut long = subscription(&["tel:+1c"], None, "l");
    long.duration_secs = Some(86_400);
    assert_eq!(created(&h, APP, long).await.duration_secs, Some(3600));
    h.finish().await;
}

#[tokio::test]
async fn a_subscription_needs_addresses_and_a_callback() {
    let h = Harness::start().await;
    let e = create(&h, APP, subscription(&[], None, "x"))
        .await
        .unwrap_err();
    assert_eq!(
        refusal(e),
        (
            Code::InvalidArgument,
            "SVC0002".into(),
            vec!["destinationAddress".into()]
        )
    );
    let mut no_callback = subscription(&[A], None, "x");
    no_callback.callback = None;
    let e = create(&h, APP, no_callback).await.unwrap_err();
    assert_eq!(
        refusal(e),
        (
            Code::InvalidArgument,
            "SVC0002".into(),
            vec!["callbackReference".into()]
        )
    );
    h.finish().await;
}

/// Overlaps within one application are refused; other applications are independent.
pub async fn overlap_scenario(h: &Harness) {
    let all = created(h, APP, subscription(&[A], None, "all")).await;
    for (criteria, variable) in [(None, A), (Some("PIZZA"), A)] {
        let e = create(
            h,
            APP,
            subscription(&["TEL:+15551230001", B], criteria, "x"),
        )
        .await
        .unwrap_err();
        assert_eq!(
            refusal(e),
            (
                Code::InvalidArgument,
                "SVC0008".into(),
                vec![variable.replace("tel", "TEL")]
            )
        );
    }
    created(h, APP, subscription(&[B], Some("PIZZA"), "pizza")).await;
    let e = create(h, APP, subscription(&[B], Some("pizza"), "x"))
        .await
        .unwrap_err();
    assert_eq!(
        refusal(e),
        (
            Code::InvalidArgument,
            "SVC0008".into(),
            vec!["pizza".into()]
        )
    );
    let e = create(h, APP, subscription(&[B], None, "x"))
        .await
        .unwrap_err();
    assert_eq!(refusal(e).1, "SVC0008");
    created(h, APP, subscription(&[B], Some("PASTA"), "pasta")).await;
    // Another application may watch the same address.
    created(h, OTHER_APP, subscription(&[A], None, "theirs")).await;
    // Once deleted, the address is free again.
    h.client()
        .delete_inbound_subscription(req(APP, sub_ref(&all.subscription_id)))
        .await
        .unwrap();
    created(h, APP, subscription(&[A], Some("PIZZA"), "again")).await;
}

#[tokio::test]
async fn overlapping_subscriptions_of_one_application_are_refused() {
    let h = Harness::start().await;
    overlap_scenario(&h).await;
    h.finish().await;
}

#[tokio::test]
async fn a_correlator_retry_answers_the_first_subscription() {
    let h = Harness::start().await;
    let mut sub = subscription(&[A], None, "c");
    sub.client_correlator = Some("in-sub-3".into());
    let first = create(&h, APP, sub.clone()).await.unwrap();
    let again = create(&h, APP, sub.clone()).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.subscription, again.subscription);
    sub.criteria = Some("OTHER".into());
    let e = create(&h, APP, sub).await.unwrap_err();
    assert_eq!(
        refusal(e),
        (
            Code::InvalidArgument,
            "SVC0005".into(),
            vec!["in-sub-3".into(), "clientCorrelator".into()]
        )
    );
    h.finish().await;
}

#[tokio::test]
async fn another_application_finds_no_subscription() {
    let h = Harness::start().await;
    let mine = created(&h, APP, subscription(&[A], None, "m")).await;
    let mut client = h.client();
    let got = client
        .get_inbound_subscription(req(APP, sub_ref(&mine.subscription_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, mine);
    for status in [
        client
            .get_inbound_subscription(req(OTHER_APP, sub_ref(&mine.subscription_id)))
            .await
            .unwrap_err(),
        client
            .delete_inbound_subscription(req(OTHER_APP, sub_ref(&mine.subscription_id)))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(
            refusal(status),
            (
                Code::NotFound,
                "SVC0002".into(),
                vec!["subscriptionId".into()]
            )
        );
    }
    let theirs = client
        .list_inbound_subscriptions(req(OTHER_APP, pb::ListInboundSubscriptionsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(theirs.subscriptions.is_empty());
    let mine_listed = client
        .list_inbound_subscriptions(req(APP, pb::ListInboundSubscriptionsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine_listed.subscriptions, std::slice::from_ref(&mine));
    client
        .delete_inbound_subscription(req(APP, sub_ref(&mine.subscription_id)))
        .await
        .unwrap();
    let gone = client
        .get_inbound_subscription(req(APP, sub_ref(&mine.subscription_id)))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    h.finish().await;
}

/// The subscription ids notified so far about message `id`.
fn notified(h: &Harness, message_id: &str) -> Vec<String> {
    let mut subs: Vec<String> = h
        .jobs()
        .iter()
        .filter(|j| {
            body(j)["inboundMessageNotification"]["inboundMessage"]["messageId"]
                == json!(message_id)
        })
        .map(|j| j.resource_id.clone())
        .collect();
    subs.sort();
    subs
}

/// The id of the newest message of registration `r`.
async fn newest(h: &Harness, r: &str) -> String {
    let mut client = h.client();
    let taken = client
        .list_inbound_messages(req(
            APP,
            pb::ListInboundRequest {
                registration_id: r.into(),
                max_batch_size: 100,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    taken.messages.last().unwrap().message_id.clone()
}

#[tokio::test]
async fn inbound_messages_notify_the_matching_subscriptions() {
    let h = Harness::start().await;
    let all = created(&h, APP, subscription(&[A], None, "all")).await;
    let pizza = created(
        &h,
        OTHER_APP,
        subscription(&["TEL:+15551230001"], Some("PIZZA"), "pz"),
    )
    .await;
    let other = created(&h, APP, subscription(&[B], None, "b")).await;
    let expected = |ids: &[&pb::InboundSubscription]| {
        let mut v: Vec<String> = ids.iter().map(|s| s.subscription_id.clone()).collect();
        v.sort();
        v
    };

    h.inbound(inbound_sms("tel:+1555765", A, "pizza margherita x2"))
        .await;
    let first = newest(&h, A).await;
    h.inbound(inbound_sms("tel:+1555765", A, "pasta please"))
        .await;
    let second = newest(&h, A).await;
    h.inbound(inbound_mms(
        "tel:+1555765",
        A,
        Some("Pizza"),
        None,
        &[("p.jpg", "image/jpeg", vec![1, 2])],
    ))
    .await;
    let third = newest(&h, A).await;
    h.inbound(inbound_sms("tel:+1555765", "tel:+1nobody", "PIZZA"))
        .await;
    h.drained().await;
    assert_eq!(notified(&h, &first), expected(&[&all, &pizza]));
    assert_eq!(notified(&h, &second), expected(&[&all]));
    assert_eq!(notified(&h, &third), expected(&[&all, &pizza]));
    assert_eq!(h.jobs().len(), 5, "{:?}", h.jobs());
    assert!(
        !h.jobs()
            .iter()
            .any(|j| j.resource_id == other.subscription_id)
    );

    let job = h
        .jobs()
        .into_iter()
        .find(|j| {
            j.resource_id == pizza.subscription_id
                && body(j)["inboundMessageNotification"]["inboundMessage"]["messageId"]
                    == json!(first)
        })
        .unwrap();
    assert_eq!(job.application_id, OTHER_APP);
    assert_eq!(job.resource_kind, "inboundSubscription");
    assert_eq!(job.notify_url, "https://app.example.org/mo/pz");
    let n = &body(&job)["inboundMessageNotification"];
    let m = &n["inboundMessage"];
    assert_eq!(m["destinationAddress"], json!(A));
    assert_eq!(m["senderAddress"], json!("tel:+1555765"));
    assert_eq!(
        m["resourceURL"],
        json!(format!(
            "{API_ROOT}/messaging/inbound/registrations/tel%3A%2B15551230001/messages/{first}"
        ))
    );
    assert_eq!(
        m["inboundSMSTextMessage"],
        json!({"message": "pizza margherita x2"})
    );
    assert!(m["dateTime"].is_string());
    assert_eq!(n["callbackData"], json!("pz"));
    assert_eq!(
        n["link"],
        json!([{"rel": "Subscription",
                "href": format!("{API_ROOT}/messaging/inbound/subscriptions/{}", pizza.subscription_id)}])
    );
    // The MMS notification links its attachments.
    let mms_job = h
        .jobs()
        .into_iter()
        .find(|j| {
            body(j)["inboundMessageNotification"]["inboundMessage"]["messageId"] == json!(third)
        })
        .unwrap();
    let mms = &body(&mms_job)["inboundMessageNotification"]["inboundMessage"]["inboundMMSMessage"];
    assert_eq!(mms["subject"], json!("Pizza"));
    assert_eq!(mms["priority"], json!("High"));
    assert_eq!(
        mms["attachment"],
        json!([{"contentType": "image/jpeg", "size": 2, "link": {"rel": "attachment",
                "href": format!("{API_ROOT}/messaging/inbound/registrations/tel%3A%2B15551230001/messages/{third}/attachments/a1")}}])
    );
    h.finish().await;
}

/// Messages to several destinations arriving together (one batch, as a rule) each reach
/// the subscriptions of their own destination, whatever the spelling of its address.
pub async fn destinations_together_scenario(h: &Harness) {
    // Addresses of their own: the scenario also runs after others on one database.
    let (a, b, c) = ("tel:+15551230011", "tel:+15551230012", "tel:+15551230013");
    let on_a = created(h, APP, subscription(&[a], None, "a")).await;
    let on_b = created(h, OTHER_APP, subscription(&["TEL:+15551230012"], None, "b")).await;
    let on_both = created(h, APP, subscription(&[b, c], None, "ab")).await;
    let nobody = "tel:+15551230019";
    futures::future::join_all(
        [a, b, "TEL:+15551230013", nobody]
            .into_iter()
            .map(|to| h.inbound(inbound_sms("tel:+1555765", to, "hello"))),
    )
    .await;
    h.drained().await;
    let ids = |subs: &[&pb::InboundSubscription]| {
        let mut v: Vec<String> = subs.iter().map(|s| s.subscription_id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(notified(h, &newest(h, a).await), ids(&[&on_a]));
    assert_eq!(notified(h, &newest(h, b).await), ids(&[&on_b, &on_both]));
    assert_eq!(notified(h, &newest(h, c).await), ids(&[&on_both]));
    assert!(notified(h, &newest(h, nobody).await).is_empty());
}

#[tokio::test]
async fn messages_to_several_destinations_at_once_reach_their_own_subscriptions() {
    let h = Harness::start().await;
    destinations_together_scenario(&h).await;
    h.finish().await;
}

#[tokio::test]
async fn an_expired_subscription_notifies_no_more_and_is_purged() {
    // A short retention makes the janitor run every second.
    let h = Harness::start_with(Backend::Sqlite, |c| c.messaging.inbound_retention_secs = 4).await;
    let mut short = subscription(&[A], None, "short");
    short.duration_secs = Some(1);
    let short = created(&h, APP, short).await;
    let mut client = h.client();
    eventually("the subscription to expire", || {
        let mut client = client.clone();
        let id = short.subscription_id.clone();
        async move {
            client
                .get_inbound_subscription(req(APP, sub_ref(&id)))
                .await
                .is_err()
                .then_some(())
        }
    })
    .await;
    h.inbound(inbound_sms("tel:+1555765", A, "anyone?")).await;
    h.drained().await;
    assert!(h.jobs().is_empty());
    // Its address is free again (an expired subscription overlaps nothing).
    created(&h, APP, subscription(&[A], None, "new")).await;
    let listed = client
        .list_inbound_subscriptions(req(APP, pb::ListInboundSubscriptionsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.subscriptions.len(), 1);
    eventually("the janitor to purge the expired one", || async {
        (crate::count(&h, "messaging_subscriptions").await == 1
            && crate::count(&h, "messaging_subscription_addresses").await == 1)
            .then_some(())
    })
    .await;
    h.finish().await;
}
