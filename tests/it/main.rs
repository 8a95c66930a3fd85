//! End-to-end tests: the real suite (embedded, and distributed over the machine's NATS
//! JetStream and PostgreSQL) driven through the gateway's HTTP port, with webhooks received
//! by a local receiver. Logs are quiet unless `RUST_LOG` is set.

mod addresslist;
mod audiocall;
mod callnotification;
mod grpc;
mod harness;
mod malformed;
mod messaging;
mod metrics;
mod netsim;
mod presence;
mod process;
mod receiver;
mod rehearsal;
mod thirdpartycall;
mod traces;
