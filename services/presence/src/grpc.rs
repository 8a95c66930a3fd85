//! The `Presence` gRPC service: decode, call the module that owns the operation, encode.
//! Subscriptions are scoped by the calling application (`x-parlay-app`).

use std::sync::Arc;

use parlay_kit::grpc;
use parlay_proto::presence::v1::{self as pb, presence_server::Presence};
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::{
    attributes, contacts, content,
    core::Core,
    deliveries::{KIND_LIST, KIND_WATCHERS},
    error::Error,
    relations, sources, subscriptions,
};

pub struct PresenceGrpc {
    pub(crate) core: Arc<Core>,
}

type Reply<T> = Result<Response<T>, Status>;

async fn call<T, R, F, Fut>(name: &'static str, request: Request<T>, f: F) -> Reply<R>
where
    F: FnOnce(String, T) -> Fut,
    Fut: std::future::Future<Output = Result<R, Error>>,
{
    let app = grpc::app_id(&request)?;
    let span = tracing::info_span!("presence.grpc", method = name);
    grpc::adopt_trace(&request, &span);
    f(app, request.into_inner())
        .instrument(span)
        .await
        .map(Response::new)
        .map_err(Status::from)
}

fn user(id: &str) -> Result<&str, Error> {
    if id.is_empty() {
        Err(Error::Invalid("userId"))
    } else {
        Ok(id)
    }
}

#[tonic::async_trait]
impl Presence for PresenceGrpc {
    async fn put_attribute(
        &self,
        request: Request<pb::PutAttributeRequest>,
    ) -> Reply<pb::PutAttributeResponse> {
        call("PutAttribute", request, |_, r| async move {
            let attribute = r.attribute.ok_or(Error::Invalid("attribute"))?;
            let (attribute, created) =
                attributes::put(&self.core, user(&r.user_id)?, attribute).await?;
            Ok(pb::PutAttributeResponse {
                attribute: Some(attribute),
                created,
            })
        })
        .await
    }

    async fn get_attribute(&self, request: Request<pb::AttributeRef>) -> Reply<pb::Attribute> {
        call("GetAttribute", request, |_, r| async move {
            attributes::get(&self.core, user(&r.user_id)?, r.kind()).await
        })
        .await
    }

    async fn delete_attribute(&self, request: Request<pb::AttributeRef>) -> Reply<pb::Empty> {
        call("DeleteAttribute", request, |_, r| async move {
            attributes::delete(&self.core, user(&r.user_id)?, r.kind()).await?;
            Ok(pb::Empty {})
        })
        .await
    }

    async fn get_persistent_source(&self, request: Request<pb::UserRef>) -> Reply<pb::Person> {
        call("GetPersistentSource", request, |_, r| async move {
            attributes::get_persistent(&self.core, user(&r.user_id)?).await
        })
        .await
    }

    async fn create_presence_source(
        &self,
        request: Request<pb::CreateSourceRequest>,
    ) -> Reply<pb::CreateSourceResponse> {
        call("CreatePresenceSource", request, |_, r| async move {
            user(&r.user_id)?;
            let (source, created) = sources::create(&self.core, r).await?;
            Ok(pb::CreateSourceResponse {
                source: Some(source),
                created,
            })
        })
        .await
    }

    async fn get_presence_source(
        &self,
        request: Request<pb::SourceRef>,
    ) -> Reply<pb::PresenceSource> {
        call("GetPresenceSource", request, |_, r| async move {
            sources::get(&self.core, user(&r.user_id)?, &r.presence_source_id).await
        })
        .await
    }

    async fn refresh_presence_source(
        &self,
        request: Request<pb::CreateSourceRequest>,
    ) -> Reply<pb::PresenceSource> {
        call("RefreshPresenceSource", request, |_, r| async move {
            user(&r.user_id)?;
            sources::refresh(&self.core, r).await
        })
        .await
    }

    async fn delete_presence_source(&self, request: Request<pb::SourceRef>) -> Reply<pb::Empty> {
        call("DeletePresenceSource", request, |_, r| async move {
            sources::delete(&self.core, user(&r.user_id)?, &r.presence_source_id).await?;
            Ok(pb::Empty {})
        })
        .await
    }

    async fn put_content(
        &self,
        request: Request<pb::PutContentRequest>,
    ) -> Reply<pb::PutContentResponse> {
        call("PutContent", request, |_, r| async move {
            content::put(&self.core, r).await
        })
        .await
    }

    async fn get_content(&self, request: Request<pb::ContentRef>) -> Reply<pb::Content> {
        call("GetContent", request, |_, r| async move {
            content::get(&self.core, &r).await
        })
        .await
    }

    async fn delete_content(&self, request: Request<pb::ContentRef>) -> Reply<pb::Empty> {
        call("DeleteContent", request, |_, r| async move {
            content::delete(&self.core, &r).await?;
            Ok(pb::Empty {})
        })
        .await
    }

    async fn get_presence_contact(
        &self,
        request: Request<pb::ContactRef>,
    ) -> Reply<pb::PresenceContact> {
        call("GetPresenceContact", request, |_, r| async move {
            contacts::one(&self.core, user(&r.user_id)?, &r.presentity_user_id).await
        })
        .await
    }

    async fn get_presence_contact_list(
        &self,
        request: Request<pb::ListRef>,
    ) -> Reply<pb::PresenceContactList> {
        call("GetPresenceContactList", request, |_, r| async move {
            Ok(pb::PresenceContactList {
                contacts: contacts::list(&self.core, user(&r.user_id)?, &r.contact_list_id).await?,
            })
        })
        .await
    }

    async fn list_watchers(&self, request: Request<pb::UserRef>) -> Reply<pb::WatcherList> {
        call("ListWatchers", request, |_, r| async move {
            Ok(pb::WatcherList {
                watchers: relations::watchers(&self.core, user(&r.user_id)?).await?,
            })
        })
        .await
    }

    async fn create_watchers_subscription(
        &self,
        request: Request<pb::CreateSubscriptionRequest>,
    ) -> Reply<pb::CreateSubscriptionResponse> {
        call("CreateWatchersSubscription", request, |app, r| async move {
            let (subscription, created) =
                subscriptions::create(&self.core, &app, KIND_WATCHERS, r).await?;
            Ok(pb::CreateSubscriptionResponse {
                subscription: Some(subscription),
                created,
            })
        })
        .await
    }

    async fn get_watchers_subscription(
        &self,
        request: Request<pb::SubscriptionRef>,
    ) -> Reply<pb::Subscription> {
        call("GetWatchersSubscription", request, |app, r| async move {
            subscriptions::get(&self.core, &app, KIND_WATCHERS, &r).await
        })
        .await
    }

    async fn delete_watchers_subscription(
        &self,
        request: Request<pb::SubscriptionRef>,
    ) -> Reply<pb::Empty> {
        call("DeleteWatchersSubscription", request, |app, r| async move {
            subscriptions::remove(&self.core, &app, KIND_WATCHERS, &r).await?;
            Ok(pb::Empty {})
        })
        .await
    }

    async fn create_presence_list_subscription(
        &self,
        request: Request<pb::CreateSubscriptionRequest>,
    ) -> Reply<pb::CreateSubscriptionResponse> {
        call(
            "CreatePresenceListSubscription",
            request,
            |app, r| async move {
                let (subscription, created) =
                    subscriptions::create(&self.core, &app, KIND_LIST, r).await?;
                Ok(pb::CreateSubscriptionResponse {
                    subscription: Some(subscription),
                    created,
                })
            },
        )
        .await
    }

    async fn get_presence_list_subscription(
        &self,
        request: Request<pb::SubscriptionRef>,
    ) -> Reply<pb::Subscription> {
        call(
            "GetPresenceListSubscription",
            request,
            |app, r| async move { subscriptions::get(&self.core, &app, KIND_LIST, &r).await },
        )
        .await
    }

    async fn list_presence_list_subscriptions(
        &self,
        request: Request<pb::ListRef>,
    ) -> Reply<pb::SubscriptionList> {
        call(
            "ListPresenceListSubscriptions",
            request,
            |app, r| async move {
                Ok(pb::SubscriptionList {
                    subscriptions: subscriptions::list(
                        &self.core,
                        &app,
                        user(&r.user_id)?,
                        &r.contact_list_id,
                    )
                    .await?,
                })
            },
        )
        .await
    }

    async fn delete_presence_list_subscription(
        &self,
        request: Request<pb::SubscriptionRef>,
    ) -> Reply<pb::Empty> {
        call(
            "DeletePresenceListSubscription",
            request,
            |app, r| async move {
                subscriptions::remove(&self.core, &app, KIND_LIST, &r).await?;
                Ok(pb::Empty {})
            },
        )
        .await
    }

    async fn apply_list_changes(&self, request: Request<pb::ListChanges>) -> Reply<pb::Empty> {
        call("ApplyListChanges", request, |_, r| async move {
            relations::apply(&self.core, r.changes).await?;
            Ok(pb::Empty {})
        })
        .await
    }
}
