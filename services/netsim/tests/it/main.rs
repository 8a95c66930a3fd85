//! Netsim seen from outside: commands in over an in-process bus, what it publishes captured
//! by a consumer of our own, the control API driven through its router.

mod calls;
mod control;
mod harness;
mod media;
mod messages;
mod network;
