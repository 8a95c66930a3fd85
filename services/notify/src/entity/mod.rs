//! The sea-orm entities of notify's tables: `notify_jobs` (one row per notification, its
//! delivery state and lease) and `notify_attempts` (one row per delivery attempt).

pub mod attempt;
pub mod job;
