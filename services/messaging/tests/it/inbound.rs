//! Inbound messages: stored with their attachments as files, read in batches and one by one,
//! deleted (files too), retrieved-and-deleted, redelivered, purged after retention.

use parlay_proto::{
    messaging::v1::{self as pb, inbound_message::Content},
    net::v1::InboundMessageEvent,
};
use tonic::Code;

use crate::harness::{
    APP, Backend, Harness, OTHER_APP, eventually, inbound_mms, inbound_sms, refusal, req,
};

const REG: &str = "tel:+15551230001";
const FROM: &str = "tel:+15557654321";

pub async fn list(h: &Harness, registration: &str, max: u32) -> pb::InboundMessageList {
    h.client()
        .list_inbound_messages(req(
            APP,
            pb::ListInboundRequest {
                registration_id: registration.into(),
                max_batch_size: max,
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

fn message_ref(registration: &str, id: &str) -> pb::InboundMessageRef {
    pb::InboundMessageRef {
        registration_id: registration.into(),
        message_id: id.into(),
    }
}

fn attachment_ref(registration: &str, message: &str, attachment: &str) -> pb::AttachmentRef {
    pb::AttachmentRef {
        registration_id: registration.into(),
        message_id: message.into(),
        attachment_id: attachment.into(),
    }
}

fn texts(list: &pb::InboundMessageList) -> Vec<String> {
    list.messages
        .iter()
        .map(|m| match &m.content {
            Some(Content::Sms(s)) => s.message.clone(),
            other => panic!("not an SMS: {other:?}"),
        })
        .collect()
}

/// An MMS with two files: stored, listed, read, its attachment fetched and deleted, then
/// the message deleted; the files go with them.
pub async fn mms_scenario(h: &Harness) {
    let jpeg: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let event = inbound_mms(
        FROM,
        "TEL:+15551230001",
        Some("Photo"),
        Some("Greetings"),
        &[
            ("IMG_0042.jpg", "image/jpeg", jpeg.clone()),
            ("", "", b"notes".to_vec()),
        ],
    );
    h.inbound(event).await;
    // The registration is the destination as received, matched case-insensitively.
    let listed = list(h, REG, 0).await;
    assert_eq!((listed.messages.len(), listed.total_pending), (1, 1));
    let m = &listed.messages[0];
    assert_eq!(m.registration_id, "TEL:+15551230001");
    assert_eq!(m.destination_address, "TEL:+15551230001");
    assert_eq!(m.sender_address, FROM);
    let Some(Content::Mms(mms)) = &m.content else {
        panic!("not an MMS: {m:?}");
    };
    assert_eq!(mms.subject.as_deref(), Some("Photo"));
    assert_eq!(mms.message.as_deref(), Some("Greetings"));
    assert_eq!(mms.priority(), pb::Priority::High);
    let infos: Vec<_> = mms
        .attachments
        .iter()
        .map(|a| {
            (
                a.attachment_id.as_str(),
                a.name.as_str(),
                a.content_type.as_str(),
                a.size,
            )
        })
        .collect();
    assert_eq!(
        infos,
        [
            ("a1", "IMG_0042.jpg", "image/jpeg", 5000),
            ("a2", "a2", "application/octet-stream", 5)
        ]
    );
    let dir = h.attachments_dir().join(&m.message_id);
    assert_eq!(std::fs::read(dir.join("a1")).unwrap(), jpeg);

    let mut client = h.client();
    let content = client
        .get_attachment(req(APP, attachment_ref(REG, &m.message_id, "a1")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(content.data, jpeg);
    assert_eq!(content.info.unwrap().content_type, "image/jpeg");
    client
        .delete_attachment(req(APP, attachment_ref(REG, &m.message_id, "a1")))
        .await
        .unwrap();
    assert!(!dir.join("a1").exists());
    let gone = client
        .get_attachment(req(APP, attachment_ref(REG, &m.message_id, "a1")))
        .await
        .unwrap_err();
    assert_eq!(
        refusal(gone),
        (
            Code::NotFound,
            "SVC0002".into(),
            vec!["attachmentId".into()]
        )
    );
    let again = client
        .get_inbound_message(req(APP, message_ref(REG, &m.message_id)))
        .await
        .unwrap()
        .into_inner();
    let Some(Content::Mms(mms)) = &again.content else {
        panic!("not an MMS");
    };
    assert_eq!(mms.attachments.len(), 1);
    assert_eq!(mms.attachments[0].attachment_id, "a2");

    // Not under another registration.
    let elsewhere = client
        .get_inbound_message(req(APP, message_ref("tel:+19999", &m.message_id)))
        .await
        .unwrap_err();
    assert_eq!(
        refusal(elsewhere),
        (Code::NotFound, "SVC0002".into(), vec!["messageId".into()])
    );
    client
        .delete_inbound_message(req(APP, message_ref(REG, &m.message_id)))
        .await
        .unwrap();
    assert!(!dir.exists(), "the message's files are gone");
    for status in [
        client
            .get_inbound_message(req(APP, message_ref(REG, &m.message_id)))
            .await
            .unwrap_err(),
        client
            .delete_inbound_message(req(APP, message_ref(REG, &m.message_id)))
            .await
            .unwrap_err(),
        client
            .get_attachment(req(APP, attachment_ref(REG, &m.message_id, "a2")))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(
            refusal(status),
            (Code::NotFound, "SVC0002".into(), vec!["messageId".into()])
        );
    }
    assert_eq!(list(h, REG, 0).await.total_pending, 0);
}

#[tokio::test]
async fn an_inbound_mms_keeps_its_attachments_as_files_until_deleted() {
    let h = Harness::start().await;
    mms_scenario(&h).await;
    h.finish().await;
}

/// Delivers `event` twice (one message is stored), deletes the message, delivers it again
/// (it does not come back); the message's id.
async fn redelivered_around_a_delete(h: &Harness, event: InboundMessageEvent) -> String {
    h.inbound(event.clone()).await;
    h.inbound(event.clone()).await;
    let listed = list(h, REG, 0).await;
    assert_eq!(listed.messages.len(), 1);
    let id = listed.messages[0].message_id.clone();
    h.client()
        .delete_inbound_message(req(APP, message_ref(REG, &id)))
        .await
        .unwrap();
    h.inbound(event).await;
    assert_eq!(list(h, REG, 0).await.messages.len(), 0);
    id
}

#[tokio::test]
async fn a_redelivered_inbound_event_stores_one_message_and_never_revives_files() {
    let h = Harness::start().await;
    let event = inbound_mms(
        FROM,
        REG,
        None,
        None,
        &[("a.txt", "text/plain", b"x".to_vec())],
    );
    let id = redelivered_around_a_delete(&h, event).await;
    assert!(!h.attachments_dir().join(&id).exists());
    h.finish().await;
}

/// Without files, the inbox's insert in the transaction is the only check.
#[tokio::test]
async fn a_redelivered_inbound_sms_stores_one_message_and_never_revives_it() {
    let h = Harness::start().await;
    redelivered_around_a_delete(&h, inbound_sms(FROM, REG, "once")).await;
    h.finish().await;
}

#[tokio::test]
async fn an_inbound_mms_over_the_size_limit_is_dropped() {
    let h = Harness::start_with(Backend::Sqlite, |c| c.messaging.max_attachment_bytes = 10).await;
    h.inbound(inbound_mms(
        FROM,
        REG,
        None,
        None,
        &[("a", "x/y", vec![0; 11])],
    ))
    .await;
    h.inbound(inbound_mms(
        FROM,
        REG,
        None,
        None,
        &[("a", "x/y", vec![0; 10])],
    ))
    .await;
    assert_eq!(list(&h, REG, 0).await.messages.len(), 1);
    h.finish().await;
}

#[tokio::test]
async fn messages_are_read_in_batches_and_retrieved_and_deleted() {
    let h = Harness::start_with(Backend::Sqlite, |c| {
        c.messaging.default_batch_size = 2;
        c.messaging.max_batch_size = 3;
    })
    .await;
    for i in 1..=6 {
        h.inbound(inbound_sms(FROM, REG, &format!("m{i}"))).await;
    }
    h.inbound(inbound_sms(FROM, "tel:+1other", "elsewhere"))
        .await;
    // Oldest first; 0 is the default, above the maximum is capped; nothing is removed and
    // the total includes the batch.
    let l = list(&h, REG, 0).await;
    assert_eq!(
        (texts(&l), l.total_pending),
        (vec!["m1".into(), "m2".into()], 6)
    );
    let l = list(&h, REG, 50).await;
    assert_eq!(texts(&l), ["m1", "m2", "m3"]);
    assert_eq!(list(&h, REG, 1).await.total_pending, 6);
    // Retrieve-and-delete: the batch goes, the total is what is left.
    let mut client = h.client();
    let taken = client
        .retrieve_and_delete_messages(req(
            OTHER_APP,
            pb::RetrieveAndDeleteRequest {
                registration_id: REG.into(),
                max_batch_size: 2,
                newest_first: false,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (texts(&taken), taken.total_pending),
        (vec!["m1".into(), "m2".into()], 4)
    );
    let newest = client
        .retrieve_and_delete_messages(req(
            APP,
            pb::RetrieveAndDeleteRequest {
                registration_id: REG.into(),
                max_batch_size: 1,
                newest_first: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (texts(&newest), newest.total_pending),
        (vec!["m6".into()], 3)
    );
    let l = list(&h, REG, 0).await;
    assert_eq!(
        (texts(&l), l.total_pending),
        (vec!["m3".into(), "m4".into()], 3)
    );
    // An unknown registration is an empty list.
    let none = list(&h, "tel:+10000000", 0).await;
    assert_eq!((none.messages.len(), none.total_pending), (0, 0));
    assert_eq!(list(&h, "TEL:+1OTHER", 0).await.total_pending, 1);
    h.finish().await;
}

#[tokio::test]
async fn messages_past_retention_are_purged_with_their_files() {
    let h = Harness::start_with(Backend::Sqlite, |c| c.messaging.inbound_retention_secs = 1).await;
    h.inbound(inbound_mms(
        FROM,
        REG,
        None,
        None,
        &[("a", "x/y", vec![1; 3])],
    ))
    .await;
    let id = list(&h, REG, 0).await.messages[0].message_id.clone();
    let dir = h.attachments_dir().join(&id);
    assert!(dir.exists());
    eventually("the message to expire", || async {
        list(&h, REG, 0).await.messages.is_empty().then_some(())
    })
    .await;
    eventually("the janitor to purge it with its files", || async {
        let rows = crate::count(&h, "messaging_inbound").await
            + crate::count(&h, "messaging_attachments").await;
        (rows == 0 && !dir.exists()).then_some(())
    })
    .await;
    h.finish().await;
}
