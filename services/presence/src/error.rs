//! The presence service's error type and its mapping to a gRPC status carrying the
//! ParlayREST exception.

use parlay_kit::grpc;
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SVC0002: a part of the request is missing or invalid.
    #[error("invalid input value for {0}")]
    Invalid(&'static str),
    /// POL0260: too many notes or links (the variable names the element).
    #[error("too many {0}")]
    TooMany(&'static str),
    /// SVC0221: the user is no watcher of the presentity.
    #[error("{0} is not a watcher of {1}")]
    NotAWatcher(String, String),
    /// POL0002: the user watches the presentity but is not (or no longer) authorised.
    #[error("not authorised to see {0}")]
    NotAuthorised(String),
    /// No such resource; the variable is the path parameter naming it.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("presence store: {0}")]
    Db(#[from] sea_orm::DbErr),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::Invalid(part) => grpc::exception("SVC0002", [part]),
            Error::TooMany(part) => grpc::exception("POL0260", [part]),
            Error::NotAWatcher(user, presentity) => grpc::exception("SVC0221", [user, presentity]),
            Error::NotAuthorised(presentity) => grpc::exception("POL0002", [presentity]),
            Error::NotFound(param) => grpc::not_found(param),
            Error::Db(e) => grpc::internal("presence store failed", &e),
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
            (Error::TooMany("note"), Code::PermissionDenied, "POL0260"),
            (
                Error::NotAWatcher("a".into(), "b".into()),
                Code::InvalidArgument,
                "SVC0221",
            ),
            (
                Error::NotAuthorised("b".into()),
                Code::PermissionDenied,
                "POL0002",
            ),
            (Error::NotFound("contactListId"), Code::NotFound, "SVC0002"),
        ];
        for (e, code, id) in cases {
            let s = Status::from(e);
            assert_eq!(s.code(), code);
            assert_eq!(exception_of(&s).unwrap().message_id, id);
        }
    }
}
