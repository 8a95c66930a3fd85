//! The shared kit of every Parlay service: configuration, telemetry, shutdown, database
//! connection and migrations, the bus (NATS JetStream and in-process), the transactional
//! outbox and inbox, gRPC conventions, ids and the admin endpoints.
#![forbid(unsafe_code)]

pub mod admin;
pub mod batch;
pub mod bus;
pub mod config;
pub mod db;
pub mod grpc;
pub mod ids;
pub mod inbox;
pub mod lanes;
pub mod migration;
pub mod outbox;
mod serve;
pub mod shutdown;
pub mod telemetry;

pub use config::Config;
pub use serve::serve_http;

/// Protobuf helpers for bus payloads.
pub mod wire {
    use bytes::Bytes;
    use parlay_proto::Timestamp;

    use crate::bus::Envelope;

    /// An envelope for `message` on `subject`, with the current trace context.
    pub fn envelope(subject: &str, id: String, message: &impl prost::Message) -> Envelope {
        Envelope {
            subject: subject.to_string(),
            id,
            payload: Bytes::from(message.encode_to_vec()),
            traceparent: crate::telemetry::current_traceparent(),
        }
    }

    /// A protobuf timestamp for `at`.
    pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> Timestamp {
        Timestamp {
            seconds: at.timestamp(),
            nanos: at.timestamp_subsec_nanos() as i32,
        }
    }

    /// The UTC time of a protobuf timestamp (the epoch when out of range).
    pub fn time(ts: &Timestamp) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(ts.seconds, ts.nanos.max(0) as u32).unwrap_or_default()
    }
}
