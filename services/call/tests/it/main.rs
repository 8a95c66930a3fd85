//! Integration tests of the call service: the real service over gRPC, with a fake network
//! and a fake notify on the in-process bus.

mod harness;
mod media;
