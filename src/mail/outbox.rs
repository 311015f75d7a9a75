//! The outbox: every email, from enqueue to sent (or held, or failing), and what
//! Settings → Email reads of it.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, NotSet, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TryInsertResult,
};
use serde_json::json;

use super::content::Letter;
use super::job::SEND;
use crate::domain::{Action, Actor, Db, Page, now};
use crate::entities::outbox;
use crate::error::AppError;
use crate::jobs::queue::{NewJob, enqueue_in};

/// Errors kept: enough to diagnose, small enough to list.
const MAX_ERROR_CHARS: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Waiting for its job.
    Queued,
    Sent,
    /// The last try failed; its job tries again (Settings → Jobs shows when).
    Failed,
    /// No SMTP server was configured when its job ran: kept here, not sent.
    Held,
}

impl State {
    pub const ALL: [State; 4] = [State::Queued, State::Sent, State::Failed, State::Held];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sent => "sent",
            State::Failed => "failed",
            State::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }
}

/// A message to send.
pub struct NewEmail {
    /// The recipient when they are a user.
    pub user_id: Option<i64>,
    pub to: String,
    pub subject: String,
    pub letter: Letter,
    /// At most one message per key, ever.
    pub key: String,
}

/// Adds the message and its `email.send` job through `conn` (the transaction of the
/// change it is about; call `jobs::wake()` after the commit). None when a message with
/// this key exists already: it is not sent twice.
pub async fn enqueue(conn: &impl ConnectionTrait, e: &NewEmail) -> Result<Option<i64>, AppError> {
    let t = now();
    let content = serde_json::to_string(&e.letter)
        .map_err(|err| AppError::Internal(format!("email content: {err}")))?;
    let inserted = outbox::Entity::insert(outbox::ActiveModel {
        id: NotSet,
        user_id: Set(e.user_id),
        to_email: Set(e.to.clone()),
        subject: Set(e.subject.clone()),
        content: Set(content),
        html_body: Set(None),
        text_body: Set(None),
        state: Set(State::Queued.as_str().into()),
        attempts: Set(0),
        last_error: Set(None),
        server_reply: Set(None),
        idempotency_key: Set(e.key.chars().take(200).collect()),
        created_at: Set(t),
        updated_at: Set(t),
        sent_at: Set(None),
    })
    .on_conflict_do_nothing_on([outbox::Column::IdempotencyKey])
    .exec(conn)
    .await?;
    let id = match inserted {
        TryInsertResult::Inserted(r) => r.last_insert_id,
        TryInsertResult::Empty | TryInsertResult::Conflicted => return Ok(None),
    };
    enqueue_in(conn, &job_for(id).key(format!("outbox-{id}"))).await?;
    Ok(Some(id))
}

fn job_for(id: i64) -> NewJob {
    NewJob::new(SEND, json!({ "outbox_id": id }))
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<outbox::Model, AppError> {
    outbox::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("No email has this id.".into()))
}

/// Newest first, all or in one state.
pub async fn list(
    conn: &impl ConnectionTrait,
    state: Option<State>,
    page: u64,
    per_page: u64,
) -> Result<Page<outbox::Model>, AppError> {
    let mut q = outbox::Entity::find().order_by_desc(outbox::Column::Id);
    if let Some(s) = state {
        q = q.filter(outbox::Column::State.eq(s.as_str()));
    }
    let pages = q.paginate(conn, per_page);
    let total = pages.num_items().await?;
    let items = pages.fetch_page(page.saturating_sub(1)).await?;
    Ok(Page {
        total,
        total_is_estimate: false,
        page,
        per_page,
        items,
    })
}

pub async fn count(conn: &impl ConnectionTrait, state: State) -> Result<u64, AppError> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::State.eq(state.as_str()))
        .count(conn)
        .await?)
}

/// Keeps the rendered bodies, so the outbox shows what was (or would be) sent.
pub async fn store_bodies(
    conn: &impl ConnectionTrait,
    id: i64,
    html: &str,
    text: &str,
) -> Result<(), AppError> {
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::HtmlBody,
            Expr::value(Some(html.to_string())),
        )
        .col_expr(
            outbox::Column::TextBody,
            Expr::value(Some(text.to_string())),
        )
        .filter(outbox::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Replaces what a message is rendered from (to drop a link's secret once it is sent).
pub async fn replace_content(
    conn: &impl ConnectionTrait,
    id: i64,
    letter: &Letter,
) -> Result<(), AppError> {
    let content = serde_json::to_string(letter)
        .map_err(|err| AppError::Internal(format!("email content: {err}")))?;
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Content, Expr::value(content))
        .filter(outbox::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// What a try came to: sent (with the server's answer), failed (with the error), or
/// held. A message already sent is never changed again.
pub async fn record(
    conn: &impl ConnectionTrait,
    id: i64,
    outcome: Result<Option<&str>, &str>,
) -> Result<(), AppError> {
    let t = now();
    let mut up = outbox::Entity::update_many()
        .col_expr(outbox::Column::UpdatedAt, Expr::value(t))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::State.ne(State::Sent.as_str()));
    up = match outcome {
        Ok(Some(reply)) => up
            .col_expr(outbox::Column::State, Expr::value(State::Sent.as_str()))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .col_expr(outbox::Column::ServerReply, Expr::value(Some(clip(reply))))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .col_expr(outbox::Column::SentAt, Expr::value(Some(t))),
        Ok(None) => up.col_expr(outbox::Column::State, Expr::value(State::Held.as_str())),
        Err(error) => up
            .col_expr(outbox::Column::State, Expr::value(State::Failed.as_str()))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .col_expr(outbox::Column::LastError, Expr::value(Some(clip(error)))),
    };
    up.exec(conn).await?;
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
}

/// Queues every held message again (once an SMTP server is configured). Returns how many.
pub async fn release_held(db: &Db, actor: &Actor) -> Result<u64, AppError> {
    actor.require(Action::EmailSettings)?;
    let tx = db.begin_write().await?;
    let held: Vec<i64> = outbox::Entity::find()
        .filter(outbox::Column::State.eq(State::Held.as_str()))
        .all(&tx)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    for id in &held {
        // Guarded by the state: a message is released once, whoever else clicks.
        let moved = outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value(State::Queued.as_str()))
            .col_expr(outbox::Column::UpdatedAt, Expr::value(now()))
            .filter(outbox::Column::Id.eq(*id))
            .filter(outbox::Column::State.eq(State::Held.as_str()))
            .exec(&tx)
            .await?;
        if moved.rows_affected == 1 {
            enqueue_in(&tx, &job_for(*id)).await?;
        }
    }
    tx.commit().await?;
    crate::jobs::wake();
    Ok(held.len() as u64)
}

/// Keeps a message that was sent at once rather than by a job (the test email), with
/// the server's answer.
pub async fn log_sent(
    conn: &impl ConnectionTrait,
    e: &NewEmail,
    bodies: (&str, &str),
    reply: &str,
) -> Result<i64, AppError> {
    let t = now();
    let content = serde_json::to_string(&e.letter)
        .map_err(|err| AppError::Internal(format!("email content: {err}")))?;
    let r = outbox::Entity::insert(outbox::ActiveModel {
        id: NotSet,
        user_id: Set(e.user_id),
        to_email: Set(e.to.clone()),
        subject: Set(e.subject.clone()),
        content: Set(content),
        html_body: Set(Some(bodies.0.to_string())),
        text_body: Set(Some(bodies.1.to_string())),
        state: Set(State::Sent.as_str().into()),
        attempts: Set(1),
        last_error: Set(None),
        server_reply: Set(Some(clip(reply))),
        idempotency_key: Set(e.key.chars().take(200).collect()),
        created_at: Set(t),
        updated_at: Set(t),
        sent_at: Set(Some(t)),
    })
    .exec(conn)
    .await?;
    Ok(r.last_insert_id)
}
