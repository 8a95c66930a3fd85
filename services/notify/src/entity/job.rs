//! The `notify_jobs` table: a stored notification job, its delivery state and its lease.

use sea_orm::entity::prelude::*;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Status {
    /// Waiting for its next attempt (or in one, while leased).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The application answered 2xx.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Abandoned: the next attempt would have come after `expires_at`; or, for a job that
    /// asks a question, its one attempt was not 2xx or its deadline passed before it.
    #[sea_orm(string_value = "expired")]
    Expired,
}

/// One notification job.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notify_jobs")]
pub struct Model {
    /// The job's stable id, sent as the notification id header on every attempt.
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: String,
    /// The application the notification belongs to.
    pub application_id: String,
    /// Where to POST it.
    pub notify_url: String,
    /// The rendered body, sent as is.
    pub body: Vec<u8>,
    /// The body's `Content-Type`.
    pub content_type: String,
    /// Correlation for logs and support (`callSession`, …).
    pub resource_kind: String,
    /// Correlation for logs and support (the session id, …).
    pub resource_id: String,
    /// W3C trace context of the publisher.
    pub traceparent: Option<String>,
    /// When the publishing service created the job.
    pub created_at: ChronoDateTimeUtc,
    /// No attempt is scheduled after this. For an expired job, also when its retention
    /// starts (no column records when it was abandoned; see `store::prune`).
    pub expires_at: ChronoDateTimeUtc,
    /// Delivery state.
    pub status: Status,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the job is due for its next attempt.
    pub next_attempt_at: ChronoDateTimeUtc,
    /// Set while a dispatcher holds the job; another may take it over after this time.
    pub lease_until: Option<ChronoDateTimeUtc>,
    /// When the application accepted it; a delivered job's retention starts here.
    pub delivered_at: Option<ChronoDateTimeUtc>,
    /// For a job that asks a question: the bus subject its answer (or the failure) is
    /// published on, as a `NotificationReply`.
    pub reply_subject: Option<String>,
    /// For a job that asks a question: when the asker stops waiting. Such a job is attempted
    /// once, before this; it is set exactly when `reply_subject` is.
    pub reply_deadline: Option<ChronoDateTimeUtc>,
    /// Jobs with the same order key to the same URL are delivered in `created_at` order
    /// (None: in no order with others).
    pub order_key: Option<String>,
}

impl Model {
    /// Where and until when the answer to this job is awaited, if it asks a question.
    pub fn reply_to(&self) -> Option<(&str, ChronoDateTimeUtc)> {
        Some((self.reply_subject.as_deref()?, self.reply_deadline?))
    }
}

/// No relations: attempts refer to jobs by id only.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
