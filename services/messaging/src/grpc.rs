//! The `Messaging` gRPC service: decode, call the module that owns the operation, encode.
//! Every call needs the application id (`x-parlay-app`); outbound requests and inbound
//! subscriptions are scoped by it (another application's are "not found").

use std::sync::Arc;

use parlay_kit::grpc;
use parlay_proto::messaging::v1::{self as pb, messaging_server::Messaging};
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::{core::Core, error::Error, mailbox, outbound, subscriptions};

/// The gRPC service; mount it with [`crate::MessagingService::grpc`].
pub struct MessagingGrpc {
    pub(crate) core: Arc<Core>,
}

/// What a handler answers.
type Reply<T> = Result<Response<T>, Status>;

/// Runs a handler for the calling application inside a span joined to the caller's trace,
/// mapping its error to a status in one place.
async fn call<T, R, F, Fut>(name: &'static str, request: Request<T>, f: F) -> Reply<R>
where
    F: FnOnce(String, T) -> Fut,
    Fut: std::future::Future<Output = Result<R, Error>>,
{
    let app = grpc::app_id(&request)?;
    let span = tracing::info_span!("messaging.grpc", method = name);
    grpc::adopt_trace(&request, &span);
    f(app, request.into_inner())
        .instrument(span)
        .await
        .map(Response::new)
        .map_err(Status::from)
}

impl MessagingGrpc {
    fn core(&self) -> &Core {
        &self.core
    }
}

#[tonic::async_trait]
impl Messaging for MessagingGrpc {
    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Reply<pb::SendMessageResponse> {
        call("SendMessage", request, |app, r| async move {
            let message = r.message.ok_or(Error::Invalid("outboundMessageRequest"))?;
            let (message, created) = outbound::send(self.core(), &app, message).await?;
            Ok(pb::SendMessageResponse {
                message: Some(message),
                created,
            })
        })
        .await
    }

    async fn get_outbound_request(
        &self,
        request: Request<pb::OutboundRef>,
    ) -> Reply<pb::OutboundMessage> {
        call("GetOutboundRequest", request, |app, r| async move {
            outbound::get(self.core(), &app, &r.sender_address, &r.request_id).await
        })
        .await
    }

    /// Oldest first. Retrieval removes nothing: `total_pending` counts every stored message
    /// of the registration, including the batch just returned.
    async fn list_inbound_messages(
        &self,
        request: Request<pb::ListInboundRequest>,
    ) -> Reply<pb::InboundMessageList> {
        call("ListInboundMessages", request, |_, r| async move {
            mailbox::list(self.core(), &r.registration_id, r.max_batch_size).await
        })
        .await
    }

    async fn retrieve_and_delete_messages(
        &self,
        request: Request<pb::RetrieveAndDeleteRequest>,
    ) -> Reply<pb::InboundMessageList> {
        call("RetrieveAndDeleteMessages", request, |_, r| async move {
            mailbox::retrieve_and_delete(
                self.core(),
                &r.registration_id,
                r.max_batch_size,
                r.newest_first,
            )
            .await
        })
        .await
    }

    async fn get_inbound_message(
        &self,
        request: Request<pb::InboundMessageRef>,
    ) -> Reply<pb::InboundMessage> {
        call("GetInboundMessage", request, |_, r| async move {
            mailbox::get(self.core(), &r.registration_id, &r.message_id).await
        })
        .await
    }

    async fn delete_inbound_message(
        &self,
        request: Request<pb::InboundMessageRef>,
    ) -> Reply<pb::DeleteResponse> {
        call("DeleteInboundMessage", request, |_, r| async move {
            mailbox::delete(self.core(), &r.registration_id, &r.message_id).await?;
            Ok(pb::DeleteResponse {})
        })
        .await
    }

    async fn get_attachment(
        &self,
        request: Request<pb::AttachmentRef>,
    ) -> Reply<pb::AttachmentContent> {
        call("GetAttachment", request, |_, r| async move {
            mailbox::attachment(
                self.core(),
                &r.registration_id,
                &r.message_id,
                &r.attachment_id,
            )
            .await
        })
        .await
    }

    async fn delete_attachment(
        &self,
        request: Request<pb::AttachmentRef>,
    ) -> Reply<pb::DeleteResponse> {
        call("DeleteAttachment", request, |_, r| async move {
            mailbox::delete_attachment(
                self.core(),
                &r.registration_id,
                &r.message_id,
                &r.attachment_id,
            )
            .await?;
            Ok(pb::DeleteResponse {})
        })
        .await
    }

    async fn create_inbound_subscription(
        &self,
        request: Request<pb::CreateInboundSubscriptionRequest>,
    ) -> Reply<pb::CreateInboundSubscriptionResponse> {
        call("CreateInboundSubscription", request, |app, r| async move {
            let sub = r.subscription.ok_or(Error::Invalid("subscription"))?;
            let (subscription, created) = subscriptions::create(self.core(), &app, sub).await?;
            Ok(pb::CreateInboundSubscriptionResponse {
                subscription: Some(subscription),
                created,
            })
        })
        .await
    }

    async fn get_inbound_subscription(
        &self,
        request: Request<pb::InboundSubscriptionRef>,
    ) -> Reply<pb::InboundSubscription> {
        call("GetInboundSubscription", request, |app, r| async move {
            subscriptions::get(self.core(), &app, &r.subscription_id).await
        })
        .await
    }

    async fn list_inbound_subscriptions(
        &self,
        request: Request<pb::ListInboundSubscriptionsRequest>,
    ) -> Reply<pb::InboundSubscriptionList> {
        call("ListInboundSubscriptions", request, |app, _| async move {
            Ok(pb::InboundSubscriptionList {
                subscriptions: subscriptions::list(self.core(), &app).await?,
            })
        })
        .await
    }

    async fn delete_inbound_subscription(
        &self,
        request: Request<pb::InboundSubscriptionRef>,
    ) -> Reply<pb::DeleteResponse> {
        call("DeleteInboundSubscription", request, |app, r| async move {
            subscriptions::remove(self.core(), &app, &r.subscription_id).await?;
            Ok(pb::DeleteResponse {})
        })
        .await
    }
}
