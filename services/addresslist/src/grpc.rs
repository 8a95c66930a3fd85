//! The `AddressList` gRPC service: decode, call [`crate::lists`], encode. Lists belong to
//! users; the gateway checks which users the calling application may act for.

use std::sync::Arc;

use parlay_kit::grpc;
use parlay_proto::addresslist::v1::{self as pb, address_list_server::AddressList};
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::{core::Core, error::Error, lists};

pub struct AddressListGrpc {
    pub(crate) core: Arc<Core>,
}

type Reply<T> = Result<Response<T>, Status>;

async fn call<T, R, F, Fut>(name: &'static str, request: Request<T>, f: F) -> Reply<R>
where
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = Result<R, Error>>,
{
    grpc::app_id(&request)?;
    let span = tracing::info_span!("addresslist.grpc", method = name);
    grpc::adopt_trace(&request, &span);
    f(request.into_inner())
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
impl AddressList for AddressListGrpc {
    async fn list_contact_lists(
        &self,
        request: Request<pb::UserRef>,
    ) -> Reply<pb::ContactListCollection> {
        call("ListContactLists", request, |r| async move {
            Ok(pb::ContactListCollection {
                contact_lists: lists::lists(&self.core, user(&r.user_id)?).await?,
            })
        })
        .await
    }

    async fn create_contact_list(
        &self,
        request: Request<pb::CreateContactListRequest>,
    ) -> Reply<pb::ContactList> {
        call("CreateContactList", request, |r| async move {
            let list = lists::create(
                &self.core,
                user(&r.user_id)?,
                r.contact_list.unwrap_or_default(),
            )
            .await?;
            self.core.after_change().await;
            Ok(list)
        })
        .await
    }

    async fn get_contact_list(
        &self,
        request: Request<pb::ContactListRef>,
    ) -> Reply<pb::ContactList> {
        call("GetContactList", request, |r| async move {
            lists::get(&self.core, user(&r.user_id)?, &r.contact_list_id).await
        })
        .await
    }

    async fn update_contact_list(
        &self,
        request: Request<pb::UpdateContactListRequest>,
    ) -> Reply<pb::ContactList> {
        call("UpdateContactList", request, |r| async move {
            lists::update(
                &self.core,
                user(&r.user_id)?,
                &r.contact_list_id,
                r.contact_list.unwrap_or_default(),
            )
            .await
        })
        .await
    }

    async fn delete_contact_list(&self, request: Request<pb::ContactListRef>) -> Reply<pb::Empty> {
        call("DeleteContactList", request, |r| async move {
            lists::delete(&self.core, user(&r.user_id)?, &r.contact_list_id).await?;
            self.core.after_change().await;
            Ok(pb::Empty {})
        })
        .await
    }

    async fn put_member(
        &self,
        request: Request<pb::PutMemberRequest>,
    ) -> Reply<pb::PutMemberResponse> {
        call("PutMember", request, |r| async move {
            if r.member_id.is_empty() {
                return Err(Error::Invalid("memberId"));
            }
            let (member, created) = lists::put_member(
                &self.core,
                user(&r.user_id)?,
                &r.contact_list_id,
                &r.member_id,
                r.member.unwrap_or_default(),
            )
            .await?;
            self.core.after_change().await;
            Ok(pb::PutMemberResponse {
                member: Some(member),
                created,
            })
        })
        .await
    }

    async fn get_member(&self, request: Request<pb::MemberRef>) -> Reply<pb::Member> {
        call("GetMember", request, |r| async move {
            lists::get_member(
                &self.core,
                user(&r.user_id)?,
                &r.contact_list_id,
                &r.member_id,
            )
            .await
        })
        .await
    }

    async fn list_members(&self, request: Request<pb::ContactListRef>) -> Reply<pb::MemberList> {
        call("ListMembers", request, |r| async move {
            Ok(pb::MemberList {
                members: lists::members(&self.core, user(&r.user_id)?, &r.contact_list_id).await?,
            })
        })
        .await
    }

    async fn delete_member(&self, request: Request<pb::MemberRef>) -> Reply<pb::Empty> {
        call("DeleteMember", request, |r| async move {
            lists::delete_member(
                &self.core,
                user(&r.user_id)?,
                &r.contact_list_id,
                &r.member_id,
            )
            .await?;
            self.core.after_change().await;
            Ok(pb::Empty {})
        })
        .await
    }
}
