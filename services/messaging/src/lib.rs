//! The messaging service (being built).
