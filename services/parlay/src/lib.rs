//! The suite assembled: every service in one process (`up`, embedded mode) or one service
//! per process (`serve`, distributed mode), both from the same service code. Tests start
//! the suite through these functions on port 0.
#![forbid(unsafe_code)]

pub mod cli;
mod components;

pub use components::{Served, Service, serve, up};
