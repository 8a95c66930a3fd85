//! Parlay's protobuf contracts, generated at build time from `proto/parlay/**`.
#![allow(clippy::all, missing_docs)]

pub mod common {
    pub mod v1 {
        tonic::include_proto!("parlay.common.v1");
    }
}
pub mod call {
    pub mod v1 {
        tonic::include_proto!("parlay.call.v1");
    }
}
pub mod messaging {
    pub mod v1 {
        tonic::include_proto!("parlay.messaging.v1");
    }
}
pub mod presence {
    pub mod v1 {
        tonic::include_proto!("parlay.presence.v1");
    }
}
pub mod addresslist {
    pub mod v1 {
        tonic::include_proto!("parlay.addresslist.v1");
    }
}
pub mod net {
    pub mod v1 {
        tonic::include_proto!("parlay.net.v1");
    }
}
pub mod notify {
    pub mod v1 {
        tonic::include_proto!("parlay.notify.v1");
    }
}

/// The encoded `FileDescriptorSet` of every contract, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/parlay_descriptor.bin"));

pub use prost_types::Timestamp;
