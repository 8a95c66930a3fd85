//! The `notify_attempts` table: one row per delivery attempt, whatever its outcome.

use sea_orm::entity::prelude::*;

/// One delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notify_attempts")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The job attempted.
    pub job_id: String,
    /// 1 for the first attempt of the job.
    pub attempt: i32,
    /// When the request started.
    pub started_at: ChronoDateTimeUtc,
    /// How long it took, until the answer (or the failure).
    pub duration_ms: i64,
    /// The HTTP status answered, if the application answered.
    pub http_status: Option<i32>,
    /// Why no answer came (connect error, timeout, …).
    pub error: Option<String>,
}

/// No relations: attempts refer to jobs by id only.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
