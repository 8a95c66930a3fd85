//! The gRPC clients of the services behind the gateway, and how one call is made: with the
//! application id and trace context in metadata, and a deadline enforced here.
//!
//! No `grpc-timeout` is sent: a tonic server answers an expired one with `Cancelled`, which
//! would race the local deadline and turn a 503 into a 500. Dropping the call at the
//! deadline resets the HTTP/2 stream, which cancels the handler on the service just as well
//! (in process, dropping the call drops the handler itself).

use std::{future::Future, time::Duration};

use crate::{apps::App, state::AppState};
use parlay_kit::grpc::{Transport, transport};
use parlay_proto::{
    addresslist::v1::address_list_client::AddressListClient,
    call::v1::{
        audio_call_client::AudioCallClient, call_notification_client::CallNotificationClient,
        third_party_call_client::ThirdPartyCallClient,
    },
    messaging::v1::messaging_client::MessagingClient,
    presence::v1::presence_client::PresenceClient,
};
use tonic::Status;

/// Largest gRPC answer accepted: a recording's media, or an inbound MMS attachment, comes
/// whole in one message. Both are bounded by the bus's message limit (about 1 MiB on NATS;
/// `messaging.max_attachment_bytes` is 768 KiB by default), far below tonic's default of
/// 4 MiB; this leaves room for an operator who raises them.
const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// One client per service. Cloning is cheap: clones share the transport.
#[derive(Clone)]
pub struct Upstreams {
    /// The call service (Third Party Call).
    pub call: ThirdPartyCallClient<Transport>,
    /// The call service (Call Notification subscriptions, recordings).
    pub call_notification: CallNotificationClient<Transport>,
    /// The call service (Audio Call).
    pub audio: AudioCallClient<Transport>,
    /// The messaging service (Multimedia Messaging).
    pub messaging: MessagingClient<Transport>,
    /// The presence service.
    pub presence: PresenceClient<Transport>,
    /// The address-list service.
    pub addresslist: AddressListClient<Transport>,
}

impl Upstreams {
    /// Lazily connecting channels (the gateway starts before the services answer), with
    /// presence and address lists at their default endpoints (`presence_grpc_url`,
    /// `addresslist_grpc_url`); see [`Upstreams::connect_all`].
    pub fn connect_lazy(
        call_url: &str,
        messaging_url: &str,
    ) -> Result<Upstreams, tonic::transport::Error> {
        let defaults = parlay_kit::Config::default();
        Self::connect_all(
            call_url,
            messaging_url,
            &defaults.presence_grpc_url,
            &defaults.addresslist_grpc_url,
        )
    }

    /// Lazily connecting channels to every service. Each URL may be a comma-separated list
    /// of replicas, balanced here while they are healthy ([`parlay_kit::grpc::channel`]).
    pub fn connect_all(
        call_url: &str,
        messaging_url: &str,
        presence_url: &str,
        addresslist_url: &str,
    ) -> Result<Upstreams, tonic::transport::Error> {
        Ok(Upstreams::over(
            transport::connect(call_url)?,
            transport::connect(messaging_url)?,
            transport::connect(presence_url)?,
            transport::connect(addresslist_url)?,
        ))
    }

    /// Clients over the given transports: channels ([`Upstreams::connect_all`]), or the
    /// services' own routes when they run in this process ([`transport::in_process`]).
    pub fn over(
        call: Transport,
        messaging: Transport,
        presence: Transport,
        addresslist: Transport,
    ) -> Upstreams {
        Upstreams {
            presence: PresenceClient::new(presence),
            addresslist: AddressListClient::new(addresslist),
            // Outbound MMS attachments go whole in one request too.
            messaging: MessagingClient::new(messaging)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            call_notification: CallNotificationClient::new(call.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            audio: AudioCallClient::new(call.clone()),
            call: ThirdPartyCallClient::new(call),
        }
    }
}

/// Picks one service's client out of [`Upstreams`] (`|u| &u.messaging`).
pub(crate) type Pick<C> = fn(&Upstreams) -> &C;

/// One call for `app` (its id in the request's metadata) to the service `pick` names, within
/// the upstream deadline.
pub(crate) async fn call<C: Clone, M, T, F>(
    state: &AppState,
    app: &App,
    pick: Pick<C>,
    message: M,
    rpc: impl FnOnce(C, tonic::Request<M>) -> F,
) -> Result<T, Status>
where
    F: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let request = parlay_kit::grpc::request_for(&app.id, message);
    within(
        state.upstream_timeout,
        rpc(pick(&state.upstreams).clone(), request),
    )
    .await
}

/// Awaits a gRPC call for at most `timeout`; running out counts as `DeadlineExceeded`.
pub(crate) async fn within<T>(
    timeout: Duration,
    call: impl Future<Output = Result<tonic::Response<T>, Status>>,
) -> Result<T, Status> {
    match tokio::time::timeout(timeout, call).await {
        Ok(reply) => reply.map(tonic::Response::into_inner),
        Err(_) => Err(Status::deadline_exceeded("upstream timeout")),
    }
}
