use sea_orm::entity::prelude::*;

/// An email the product sent, is sending, or holds (see `crate::mail`). `state` is queued,
/// sent, failed (its job retries it) or held (no SMTP server was configured). The bodies
/// are rendered from `content` (JSON) when the message is first handled.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: Option<i64>,
    pub to_email: String,
    pub subject: String,
    pub content: String,
    pub html_body: Option<String>,
    pub text_body: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub server_reply: Option<String>,
    pub idempotency_key: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub sent_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
