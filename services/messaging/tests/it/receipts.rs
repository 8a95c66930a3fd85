//! Delivery receipts: applied under the monotonic rule, each applied change notified once
//! to the request's callback; late, repeated, redelivered and concurrent receipts change
//! nothing more.

use parlay_proto::{messaging::v1 as pb, net::v1::DeliveryState};
use serde_json::json;

use crate::{
    harness::{API_ROOT, APP, Harness, body, receipt},
    outbound::{SENDER, get, send, sms, statuses, with_receipts},
};

/// Receipts for three addresses: in order, overtaken, repeated and redelivered. Only the
/// changes that move a status forward are applied and notified.
pub async fn receipts_scenario(h: &Harness) {
    let (a, b, c) = (
        "tel:+15550000001",
        "tel:+15550000002",
        "sip:Carol@example.org",
    );
    let sent = send(
        h,
        APP,
        with_receipts(sms(&[a, b, c], "hello"), "order-5512"),
    )
    .await;
    let id = sent.message.unwrap().request_id;
    use DeliveryState::*;
    // a: in order.
    h.receipt(receipt(&id, a, DeliveredToNetwork, None)).await;
    h.receipt(receipt(&id, a, DeliveredToTerminal, None)).await;
    // b: the terminal receipt overtakes the earlier ones, which then change nothing.
    h.receipt(receipt(&id, b, DeliveredToTerminal, None)).await;
    h.receipt(receipt(&id, b, DeliveredToNetwork, None)).await;
    h.receipt(receipt(&id, b, MessageWaiting, None)).await;
    // c (matched case-insensitively): uncertain, the same again, a redelivery, then failed.
    let uncertain = receipt(
        &id,
        "SIP:carol@example.org",
        DeliveryUncertain,
        Some("no ack"),
    );
    h.receipt(uncertain.clone()).await;
    h.receipt(receipt(&id, c, DeliveryUncertain, Some("still no ack")))
        .await;
    h.receipt(uncertain.clone()).await;
    h.receipt(receipt(
        &id,
        c,
        DeliveryImpossible,
        Some("absent subscriber"),
    ))
    .await;
    h.receipt(uncertain).await;
    // A receipt for an address not in the request, and one for no request at all.
    h.receipt(receipt(&id, "tel:+19999", DeliveredToTerminal, None))
        .await;
    h.receipt(receipt("rqnone", a, DeliveredToTerminal, None))
        .await;

    let m = get(h, APP, SENDER, &id).await.unwrap();
    assert_eq!(
        statuses(&m),
        [
            (a.to_string(), pb::DeliveryStatus::DeliveredToTerminal, None),
            (b.to_string(), pb::DeliveryStatus::DeliveredToTerminal, None),
            (
                c.to_string(),
                pb::DeliveryStatus::DeliveryImpossible,
                Some("absent subscriber".to_string())
            ),
        ]
    );
    h.drained().await;
    let jobs: Vec<_> = h
        .jobs()
        .into_iter()
        .filter(|j| j.resource_id == id)
        .collect();
    let seen: Vec<(String, String)> = jobs
        .iter()
        .map(|j| {
            let info = &body(j)["deliveryInfoNotification"]["deliveryInfo"];
            (
                info["address"].as_str().unwrap().to_string(),
                info["deliveryStatus"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        (a, "DeliveredToNetwork"),
        (a, "DeliveredToTerminal"),
        (b, "DeliveredToTerminal"),
        (c, "DeliveryUncertain"),
        (c, "DeliveryImpossible"),
    ]
    .map(|(x, s)| (x.to_string(), s.to_string()));
    assert_eq!(seen, want);
    let href = format!("{API_ROOT}/messaging/outbound/tel%3A%2B15551230001/requests/{id}");
    for j in &jobs {
        assert_eq!(j.application_id, APP);
        assert_eq!(j.notify_url, "https://app.example.org/dlr");
        assert_eq!(j.resource_kind, "outboundMessageRequest");
        assert_eq!(j.content_type, "application/json");
        let n = &body(j)["deliveryInfoNotification"];
        assert_eq!(n["callbackData"], json!("order-5512"));
        assert_eq!(
            n["link"],
            json!([{"rel": "OutboundMessageRequest", "href": href}])
        );
    }
    assert_eq!(
        body(&jobs[4])["deliveryInfoNotification"]["deliveryInfo"],
        json!({"address": c, "deliveryStatus": "DeliveryImpossible",
               "description": "absent subscriber"})
    );
}

#[tokio::test]
async fn receipts_in_any_order_end_at_the_right_status_notifying_each_change_once() {
    let h = Harness::start().await;
    receipts_scenario(&h).await;
    h.finish().await;
}

#[tokio::test]
async fn receipts_without_a_callback_change_the_status_and_notify_nobody() {
    let h = Harness::start().await;
    let id = send(&h, APP, sms(&["tel:+1"], "quiet"))
        .await
        .message
        .unwrap()
        .request_id;
    h.receipt(receipt(
        &id,
        "tel:+1",
        DeliveryState::DeliveredToTerminal,
        None,
    ))
    .await;
    let m = get(&h, APP, SENDER, &id).await.unwrap();
    assert_eq!(
        m.delivery_infos[0].status(),
        pb::DeliveryStatus::DeliveredToTerminal
    );
    h.drained().await;
    assert!(h.jobs().is_empty());
    h.finish().await;
}

/// Many receipts for the same addresses at once (several copies of each status, each with
/// its own event id): every address ends terminal, and its notifications are exactly the
/// changes applied, in strictly rising order: no update is lost or applied twice.
pub async fn concurrent_receipts_scenario(h: &Harness) {
    let to: Vec<String> = (0..4).map(|i| format!("tel:+1555000010{i}")).collect();
    let to_ref: Vec<&str> = to.iter().map(String::as_str).collect();
    let id = send(h, APP, with_receipts(sms(&to_ref, "race"), "race"))
        .await
        .message
        .unwrap()
        .request_id;
    use DeliveryState::*;
    let mut receipts = Vec::new();
    for address in &to {
        for _ in 0..3 {
            for state in [DeliveredToNetwork, DeliveryUncertain, DeliveredToTerminal] {
                receipts.push(receipt(&id, address, state, None));
            }
        }
    }
    futures::future::join_all(receipts.into_iter().map(|r| h.receipt(r))).await;
    let m = get(h, APP, SENDER, &id).await.unwrap();
    assert!(
        m.delivery_infos
            .iter()
            .all(|d| d.status() == pb::DeliveryStatus::DeliveredToTerminal),
        "{m:?}"
    );
    h.drained().await;
    let rank = |s: &str| match s {
        "DeliveredToNetwork" => 1,
        "DeliveryUncertain" => 2,
        "DeliveredToTerminal" => 3,
        other => panic!("unexpected {other}"),
    };
    for address in &to {
        let ranks: Vec<i32> = h
            .jobs()
            .iter()
            .filter(|j| j.resource_id == id)
            .map(body)
            .filter(|b| b["deliveryInfoNotification"]["deliveryInfo"]["address"] == json!(address))
            .map(|b| {
                rank(
                    b["deliveryInfoNotification"]["deliveryInfo"]["deliveryStatus"]
                        .as_str()
                        .unwrap(),
                )
            })
            .collect();
        assert!(
            !ranks.is_empty() && ranks.len() <= 3,
            "{address}: {ranks:?}"
        );
        assert!(
            ranks.windows(2).all(|w| w[0] < w[1]),
            "{address}: {ranks:?}"
        );
        assert_eq!(ranks.last(), Some(&3), "{address}: {ranks:?}");
    }
}

#[tokio::test]
async fn concurrent_receipts_lose_no_update() {
    let h = Harness::start().await;
    concurrent_receipts_scenario(&h).await;
    h.finish().await;
}
