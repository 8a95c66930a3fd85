//! The gateway's router seen from outside: `tower::ServiceExt::oneshot` requests against
//! `parlay_gateway::router`, with a SQLite file of applications and, where a request gets
//! that far, a fake call service on a local port.

mod edge;
mod fake_call;
mod helpers;
mod thirdpartycall;
