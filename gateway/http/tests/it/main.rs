//! The gateway's router seen from outside: `tower::ServiceExt::oneshot` requests against
//! `parlay_gateway::router`, with a SQLite file of applications and, where a request gets
//! that far, a fake call service on a local port
//! (`fake_call` for Third Party Call, `fake_media` for Call Notification and Audio Call,
//! `fake_messaging` for Multimedia Messaging).

mod audiocall;
mod callnotification;
mod edge;
mod fake_call;
mod fake_media;
mod fake_messaging;
mod helpers;
mod messaging;
mod thirdpartycall;
