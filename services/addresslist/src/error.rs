//! The address-list service's error type and its mapping to a gRPC status carrying the
//! ParlayREST exception (400 for SVC ids, 403 for POL ids, 404 for `NotFound` at the
//! gateway).

use parlay_kit::grpc;
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SVC0002: a part of the request is invalid (the variable names it).
    #[error("invalid input value for {0}")]
    Invalid(&'static str),
    /// SVC0240: the body names another member or list than the URL.
    #[error("key property {0} may not be changed")]
    KeyProperty(&'static str),
    /// POL0001: `rcs` and `rcs_revoke` cannot be deleted or renamed.
    #[error("list {0} is reserved")]
    Reserved(String),
    /// POL0210: the list is full.
    #[error("too many members in {0}")]
    TooManyMembers(String),
    /// POL0213: a list with that id exists.
    #[error("list {0} exists")]
    ListExists(String),
    /// POL0214: the user has as many lists as allowed.
    #[error("too many lists")]
    TooManyLists,
    /// No such list or member; the variable is the path parameter naming it.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("address-list store: {0}")]
    Db(#[from] sea_orm::DbErr),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::Invalid(part) => grpc::exception("SVC0002", [part]),
            Error::KeyProperty(part) => grpc::exception("SVC0240", [part]),
            Error::Reserved(list) => grpc::exception("POL0001", [list]),
            Error::TooManyMembers(list) => grpc::exception("POL0210", [list]),
            Error::ListExists(list) => grpc::exception("POL0213", [list]),
            Error::TooManyLists => grpc::exception("POL0214", ["contactList"]),
            Error::NotFound(param) => grpc::not_found(param),
            Error::Db(e) => grpc::internal("address-list store failed", &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use parlay_kit::grpc::exception_of;
    use tonic::Code;

    use super::*;

    #[test]
    fn every_refusal_carries_its_exception() {
        let cases = [
            (
                Error::KeyProperty("memberId"),
                Code::InvalidArgument,
                "SVC0240",
            ),
            (
                Error::Reserved("rcs".into()),
                Code::PermissionDenied,
                "POL0001",
            ),
            (
                Error::TooManyMembers("rcs".into()),
                Code::PermissionDenied,
                "POL0210",
            ),
            (
                Error::ListExists("l".into()),
                Code::PermissionDenied,
                "POL0213",
            ),
            (Error::TooManyLists, Code::PermissionDenied, "POL0214"),
            (Error::NotFound("contactListId"), Code::NotFound, "SVC0002"),
        ];
        for (e, code, id) in cases {
            let s = Status::from(e);
            assert_eq!(s.code(), code);
            assert_eq!(exception_of(&s).unwrap().message_id, id);
        }
    }
}
