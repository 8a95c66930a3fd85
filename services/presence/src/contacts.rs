//! The presence of a user's contacts, as the user may see it: one presentity, or every
//! contact of a list the user is authorised to see.

use parlay_proto::presence::v1 as pb;

use crate::{
    core::Core,
    domain,
    error::{Error, Result},
    notifications, relations,
};

/// `presentity`'s presence for `user`: SVC0221 when the user is no watcher of it, POL0002
/// when it watches without (or no longer with) authorisation. A user sees its own.
pub async fn one(core: &Core, user: &str, presentity: &str) -> Result<pb::PresenceContact> {
    if user != presentity {
        match relations::state_of(&core.db, user, presentity).await? {
            None => return Err(Error::NotAWatcher(user.to_string(), presentity.to_string())),
            s if !domain::may_see(s) => return Err(Error::NotAuthorised(presentity.to_string())),
            _ => {}
        }
    }
    notifications::contact(&core.db, presentity).await
}

/// Every contact of `user`'s list `list_id` the user may see, in the list's order.
pub async fn list(core: &Core, user: &str, list_id: &str) -> Result<Vec<pb::PresenceContact>> {
    if !relations::list_exists(&core.db, user, list_id).await? {
        return Err(Error::NotFound("contactListId"));
    }
    let mut out = Vec::new();
    let mut members = relations::members(&core.db, user, list_id).await?;
    members.sort();
    for m in members {
        if domain::may_see(relations::state_of(&core.db, user, &m).await?) {
            out.push(notifications::contact(&core.db, &m).await?);
        }
    }
    Ok(out)
}
