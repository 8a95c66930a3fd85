//! A fake messaging service on a local port, answering by id so each test can steer it,
//! and recording every call so a test can tell what reached it (or that nothing did).
//!
//! * sends: request id `rq5c77bd`; clientCorrelator `again` answers `created = false`,
//!   `reused` SVC0005; the text `too long` SVC0280;
//! * outbound requests `rq5c77bd` (an SMS), `rqsms0001` (sent as `outboundSMSMessageRequest`)
//!   and `rqmms0001` (an MMS), all from [`ALICE`]; anything else is not found;
//! * registrations [`ALICE`] and `3456` hold messages `m101` (an SMS) and `m102` (an MMS
//!   with attachments `a1`, a JPEG, and `a2`, whose stored type is unusable);
//! * inbound subscription `is88`; clientCorrelator `again` answers `created = false`,
//!   `overlap` SVC0008; the granted duration is at most [`MAX_DURATION`].

use std::sync::{Arc, Mutex};

use parlay_kit::grpc;
use parlay_proto::{
    Timestamp,
    common::v1::Callback,
    messaging::v1::{
        AttachmentContent, AttachmentInfo, AttachmentRef, CreateInboundSubscriptionRequest,
        CreateInboundSubscriptionResponse, DeleteResponse, DeliveryInfo, DeliveryStatus,
        InboundMessage, InboundMessageList, InboundMessageRef, InboundMms, InboundSubscription,
        InboundSubscriptionList, InboundSubscriptionRef, ListInboundRequest,
        ListInboundSubscriptionsRequest, OutboundMessage, OutboundMms, OutboundRef, Priority,
        RequestRoot, RetrieveAndDeleteRequest, SendMessageRequest, SendMessageResponse, SmsText,
        inbound_message,
        messaging_server::{Messaging, MessagingServer},
        outbound_message,
    },
};
use tonic::{Request, Response, Status, transport::server::TcpIncoming};

pub const ALICE: &str = "tel:+15551230001";
pub const BOB: &str = "tel:+15557654321";
/// The longest subscription the fake grants, in seconds.
pub const MAX_DURATION: u32 = 3600;
/// The bytes of attachment `a1`.
pub const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10];

/// What the fake saw.
#[derive(Clone, Default)]
pub struct FakeMessaging {
    /// Every call, by method name, with the application id.
    pub calls: Arc<Mutex<Vec<(String, String)>>>,
    pub sends: Arc<Mutex<Vec<OutboundMessage>>>,
    pub lists: Arc<Mutex<Vec<ListInboundRequest>>>,
    pub retrieves: Arc<Mutex<Vec<RetrieveAndDeleteRequest>>>,
    pub subscriptions: Arc<Mutex<Vec<InboundSubscription>>>,
}

impl FakeMessaging {
    /// Serves a fake on a free port; returns its URL and the fake.
    pub async fn spawn() -> (String, FakeMessaging) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeMessaging::default();
        let server = tonic::transport::Server::builder()
            .add_service(MessagingServer::new(fake.clone()).max_decoding_message_size(16 << 20))
            .serve_with_incoming(TcpIncoming::from(listener));
        tokio::spawn(server);
        (url, fake)
    }

    /// The names of the methods called so far.
    pub fn called(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(m, _)| m.clone())
            .collect()
    }

    fn seen<T>(&self, method: &str, request: &Request<T>) -> Result<(), Status> {
        let app = grpc::app_id(request)?;
        self.calls.lock().unwrap().push((method.into(), app));
        Ok(())
    }
}

fn at() -> Option<Timestamp> {
    Some(Timestamp {
        seconds: 1_343_127_730,
        nanos: 0,
    })
}

fn outbound(id: &str) -> Result<OutboundMessage, Status> {
    let sms = |text: &str| {
        Some(outbound_message::Content::Sms(SmsText {
            message: text.into(),
        }))
    };
    let base = OutboundMessage {
        request_id: id.into(),
        sender_address: ALICE.into(),
        addresses: vec![BOB.into()],
        delivery_infos: vec![DeliveryInfo {
            address: BOB.into(),
            status: DeliveryStatus::DeliveredToTerminal as i32,
            description: None,
        }],
        receipt_request: Some(Callback {
            notify_url: "https://app.example.org/msg/dlr".into(),
            callback_data: Some("order-5512".into()),
        }),
        client_correlator: Some("sms-000981".into()),
        root: RequestRoot::Message as i32,
        created_at: at(),
        segments: 1,
        ..Default::default()
    };
    match id {
        "rq5c77bd" => Ok(OutboundMessage {
            content: sms("See you at 8"),
            ..base
        }),
        "rqsms0001" => Ok(OutboundMessage {
            content: sms("OneAPI"),
            sender_name: Some("Shop".into()),
            root: RequestRoot::Sms as i32,
            receipt_request: None,
            client_correlator: None,
            ..base
        }),
        "rqmms0001" => Ok(OutboundMessage {
            content: Some(outbound_message::Content::Mms(OutboundMms {
                subject: Some("Holiday".into()),
                priority: Priority::Normal as i32,
                message: None,
                attachments: vec![],
            })),
            ..base
        }),
        _ => Err(grpc::not_found("requestId")),
    }
}

fn registered(registration: &str) -> Result<(), Status> {
    if registration == ALICE || registration == "3456" {
        Ok(())
    } else {
        Err(grpc::not_found("registrationId"))
    }
}

fn inbound(registration: &str, id: &str) -> Result<InboundMessage, Status> {
    registered(registration)?;
    let base = InboundMessage {
        message_id: id.into(),
        registration_id: registration.into(),
        destination_address: registration.into(),
        sender_address: BOB.into(),
        received_at: at(),
        content: None,
    };
    match id {
        "m101" => Ok(InboundMessage {
            content: Some(inbound_message::Content::Sms(SmsText {
                message: "OK, 8 it is".into(),
            })),
            ..base
        }),
        "m102" => Ok(InboundMessage {
            content: Some(inbound_message::Content::Mms(InboundMms {
                subject: Some("Photo".into()),
                priority: Priority::High as i32,
                message: Some("look".into()),
                attachments: vec![info("a1"), info("a2")],
            })),
            ..base
        }),
        _ => Err(grpc::not_found("messageId")),
    }
}

fn info(id: &str) -> AttachmentInfo {
    match id {
        "a1" => AttachmentInfo {
            attachment_id: "a1".into(),
            name: "IMG_0042.jpg".into(),
            content_type: "image/jpeg".into(),
            size: JPEG.len() as u64,
        },
        _ => AttachmentInfo {
            attachment_id: id.into(),
            name: "blob".into(),
            content_type: "bad\ntype".into(),
            size: 2,
        },
    }
}

fn attachment(r: &AttachmentRef) -> Result<AttachmentContent, Status> {
    inbound(&r.registration_id, &r.message_id)?;
    match (r.message_id.as_str(), r.attachment_id.as_str()) {
        ("m102", "a1") => Ok(AttachmentContent {
            info: Some(info("a1")),
            data: JPEG.to_vec(),
        }),
        ("m102", "a2") => Ok(AttachmentContent {
            info: Some(info("a2")),
            data: vec![7, 7],
        }),
        _ => Err(grpc::not_found("attachmentId")),
    }
}

fn subscription(id: &str) -> Result<InboundSubscription, Status> {
    if id != "is88" {
        return Err(grpc::not_found("subscriptionId"));
    }
    Ok(InboundSubscription {
        subscription_id: "is88".into(),
        callback: Some(Callback {
            notify_url: "https://app.example.org/msg/mo".into(),
            callback_data: Some("alice-inbox".into()),
        }),
        destination_addresses: vec![ALICE.into()],
        criteria: Some("PIZZA".into()),
        client_correlator: Some("in-sub-3".into()),
        duration_secs: Some(MAX_DURATION),
        expires_at: at(),
    })
}

#[tonic::async_trait]
impl Messaging for FakeMessaging {
    async fn send_message(
        &self,
        request: Request<SendMessageRequest>,
    ) -> Result<Response<SendMessageResponse>, Status> {
        self.seen("SendMessage", &request)?;
        let message = request.into_inner().message.unwrap_or_default();
        self.sends.lock().unwrap().push(message.clone());
        let correlator = message.client_correlator.as_deref();
        if correlator == Some("reused") {
            return Err(grpc::exception("SVC0005", ["reused", "clientCorrelator"]));
        }
        if let Some(outbound_message::Content::Sms(s)) = &message.content
            && s.message == "too long"
        {
            return Err(grpc::exception("SVC0280", ["1530"]));
        }
        Ok(Response::new(SendMessageResponse {
            created: correlator != Some("again"),
            message: Some(OutboundMessage {
                request_id: "rq5c77bd".into(),
                ..message
            }),
        }))
    }

    async fn get_outbound_request(
        &self,
        request: Request<OutboundRef>,
    ) -> Result<Response<OutboundMessage>, Status> {
        self.seen("GetOutboundRequest", &request)?;
        let r = request.into_inner();
        let m = outbound(&r.request_id)?;
        if !m.sender_address.eq_ignore_ascii_case(&r.sender_address) {
            return Err(grpc::not_found("requestId"));
        }
        Ok(Response::new(m))
    }

    async fn list_inbound_messages(
        &self,
        request: Request<ListInboundRequest>,
    ) -> Result<Response<InboundMessageList>, Status> {
        self.seen("ListInboundMessages", &request)?;
        let r = request.into_inner();
        self.lists.lock().unwrap().push(r.clone());
        Ok(Response::new(InboundMessageList {
            messages: vec![
                inbound(&r.registration_id, "m101")?,
                inbound(&r.registration_id, "m102")?,
            ],
            total_pending: 5,
        }))
    }

    async fn retrieve_and_delete_messages(
        &self,
        request: Request<RetrieveAndDeleteRequest>,
    ) -> Result<Response<InboundMessageList>, Status> {
        self.seen("RetrieveAndDeleteMessages", &request)?;
        let r = request.into_inner();
        registered(&r.registration_id)?;
        self.retrieves.lock().unwrap().push(r);
        Ok(Response::new(InboundMessageList::default()))
    }

    async fn get_inbound_message(
        &self,
        request: Request<InboundMessageRef>,
    ) -> Result<Response<InboundMessage>, Status> {
        self.seen("GetInboundMessage", &request)?;
        let r = request.into_inner();
        inbound(&r.registration_id, &r.message_id).map(Response::new)
    }

    async fn delete_inbound_message(
        &self,
        request: Request<InboundMessageRef>,
    ) -> Result<Response<DeleteResponse>, Status> {
        self.seen("DeleteInboundMessage", &request)?;
        let r = request.into_inner();
        inbound(&r.registration_id, &r.message_id)?;
        Ok(Response::new(DeleteResponse {}))
    }

    async fn get_attachment(
        &self,
        request: Request<AttachmentRef>,
    ) -> Result<Response<AttachmentContent>, Status> {
        self.seen("GetAttachment", &request)?;
        attachment(request.get_ref()).map(Response::new)
    }

    async fn delete_attachment(
        &self,
        request: Request<AttachmentRef>,
    ) -> Result<Response<DeleteResponse>, Status> {
        self.seen("DeleteAttachment", &request)?;
        attachment(request.get_ref())?;
        Ok(Response::new(DeleteResponse {}))
    }

    async fn create_inbound_subscription(
        &self,
        request: Request<CreateInboundSubscriptionRequest>,
    ) -> Result<Response<CreateInboundSubscriptionResponse>, Status> {
        self.seen("CreateInboundSubscription", &request)?;
        let s = request.into_inner().subscription.unwrap_or_default();
        self.subscriptions.lock().unwrap().push(s.clone());
        let correlator = s.client_correlator.as_deref();
        if correlator == Some("overlap") {
            return Err(grpc::exception("SVC0008", ["PIZZA"]));
        }
        let granted = s
            .duration_secs
            .filter(|d| *d > 0)
            .map_or(MAX_DURATION, |d| d.min(MAX_DURATION));
        Ok(Response::new(CreateInboundSubscriptionResponse {
            created: correlator != Some("again"),
            subscription: Some(InboundSubscription {
                subscription_id: "is88".into(),
                duration_secs: Some(granted),
                expires_at: at(),
                ..s
            }),
        }))
    }

    async fn get_inbound_subscription(
        &self,
        request: Request<InboundSubscriptionRef>,
    ) -> Result<Response<InboundSubscription>, Status> {
        self.seen("GetInboundSubscription", &request)?;
        subscription(&request.get_ref().subscription_id).map(Response::new)
    }

    async fn list_inbound_subscriptions(
        &self,
        request: Request<ListInboundSubscriptionsRequest>,
    ) -> Result<Response<InboundSubscriptionList>, Status> {
        self.seen("ListInboundSubscriptions", &request)?;
        Ok(Response::new(InboundSubscriptionList {
            subscriptions: vec![subscription("is88")?],
        }))
    }

    async fn delete_inbound_subscription(
        &self,
        request: Request<InboundSubscriptionRef>,
    ) -> Result<Response<DeleteResponse>, Status> {
        self.seen("DeleteInboundSubscription", &request)?;
        subscription(&request.get_ref().subscription_id)?;
        Ok(Response::new(DeleteResponse {}))
    }
}
