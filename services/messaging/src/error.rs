//! The messaging service's one error type, and its one mapping to a gRPC status carrying the
//! ParlayREST exception (see `parlay_kit::grpc`; the gateway answers 400 for SVC ids, 403 for
//! POL ids, 404 for `NotFound`).

use parlay_kit::grpc;
use tonic::Status;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SVC0002: a required part of the request is missing or invalid (the variable names it).
    #[error("invalid input value for {0}")]
    Invalid(&'static str),
    /// SVC0004: no addresses (the variable names the part: `address`).
    #[error("no valid addresses in {0}")]
    NoAddresses(&'static str),
    /// POL0013: the same address twice.
    #[error("duplicated address in {0}")]
    DuplicateAddress(&'static str),
    /// POL0003: more addresses than `messaging.max_addresses`.
    #[error("too many addresses in {0}")]
    TooManyAddresses(&'static str),
    /// SVC0280: the text needs more than `messaging.max_segments` segments; the variable is
    /// the most characters its encoding allows.
    #[error("message too long; at most {0} characters")]
    TooLong(usize),
    /// SVC0005: the clientCorrelator was used before for a different request.
    #[error("clientCorrelator {0} already used for another request")]
    CorrelatorReused(String),
    /// SVC0008: the subscription overlaps one of the application's (the shared criteria or
    /// address).
    #[error("overlapping subscription on {0}")]
    Overlap(String),
    /// No such resource for this application; the variable is the path parameter naming it.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The database failed (an internal error: logged, never shown to a client).
    #[error("messaging store: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The attachment files failed (an internal error, as `Db`).
    #[error("attachment files: {0}")]
    Files(#[from] std::io::Error),
}

/// The messaging result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::Invalid(part) => grpc::exception("SVC0002", [part]),
            Error::NoAddresses(part) => grpc::exception("SVC0004", [part]),
            Error::DuplicateAddress(part) => grpc::exception("POL0013", [part]),
            Error::TooManyAddresses(part) => grpc::exception("POL0003", [part]),
            Error::TooLong(max) => grpc::exception("SVC0280", [max.to_string()]),
            Error::CorrelatorReused(c) => {
                grpc::exception("SVC0005", [c, "clientCorrelator".to_string()])
            }
            Error::Overlap(on) => grpc::exception("SVC0008", [on]),
            Error::NotFound(param) => grpc::not_found(param),
            Error::Db(e) => grpc::internal("messaging store failed", &e),
            Error::Files(e) => grpc::internal("attachment files failed", &e),
        }
    }
}

/// Is `e` a unique-constraint violation (a concurrent request with the same correlator)?
pub fn is_unique_violation(e: &Error) -> bool {
    matches!(e, Error::Db(db) if matches!(
        db.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ))
}

#[cfg(test)]
mod tests {
    use parlay_kit::grpc::exception_of;
    use tonic::Code;

    use super::*;

    fn parts(e: Error) -> (Code, String, Vec<String>) {
        let status = Status::from(e);
        let x = exception_of(&status).unwrap();
        (status.code(), x.message_id, x.variables)
    }

    #[test]
    fn every_refusal_carries_its_exception() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parts(Error::NoAddresses("address")),
            (Code::InvalidArgument, "SVC0004".into(), s(&["address"]))
        );
        assert_eq!(
            parts(Error::DuplicateAddress("address")),
            (Code::PermissionDenied, "POL0013".into(), s(&["address"]))
        );
        assert_eq!(
            parts(Error::TooManyAddresses("address")),
            (Code::PermissionDenied, "POL0003".into(), s(&["address"]))
        );
        assert_eq!(
            parts(Error::TooLong(1530)),
            (Code::InvalidArgument, "SVC0280".into(), s(&["1530"]))
        );
        assert_eq!(
            parts(Error::CorrelatorReused("c1".into())),
            (
                Code::InvalidArgument,
                "SVC0005".into(),
                s(&["c1", "clientCorrelator"])
            )
        );
        assert_eq!(
            parts(Error::Overlap("PIZZA".into())),
            (Code::InvalidArgument, "SVC0008".into(), s(&["PIZZA"]))
        );
        assert_eq!(
            parts(Error::Invalid("attachments")),
            (Code::InvalidArgument, "SVC0002".into(), s(&["attachments"]))
        );
        assert_eq!(
            parts(Error::NotFound("messageId")),
            (Code::NotFound, "SVC0002".into(), s(&["messageId"]))
        );
        let internal = Status::from(Error::Files(std::io::Error::other("disk full")));
        assert_eq!(internal.code(), Code::Internal);
        assert!(!internal.message().contains("disk full"));
    }
}
