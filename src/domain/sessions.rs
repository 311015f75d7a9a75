//! Server-side sessions. A browser's cookie carries a random secret; the `sessions` row
//! holds its hash, the user, and where and when it was used. A request finds the row in
//! the process's kept credentials while the auth generation is unchanged, else in the
//! database (`credentials`); whatever ends a session or changes its user bumps the
//! generation after its commit, so signing out, a password change or a deactivation ends
//! a session in every process on its next request.
use chrono::Duration;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, NotSet,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};

use crate::domain::Db;
use crate::domain::{Actor, Role, audit, now, organisation, random_bytes, sha256_hex};
use crate::entities::{session, user};
use crate::error::AppError;

/// `last_seen_at` is written at most this often per session, so reading pages stays a
/// read.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// Where a sign-in came from, kept on the session for the owner to recognise it.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// Starts a session for `user_id`; returns the secret for the cookie (never stored).
pub async fn start(
    conn: &impl ConnectionTrait,
    user_id: i64,
    client: &Client,
) -> Result<String, AppError> {
    let secret = hex::encode(random_bytes::<32>()?);
    let t = now();
    session::ActiveModel {
        id: NotSet,
        token_hash: Set(sha256_hex(secret.as_bytes())),
        user_id: Set(user_id),
        ip: Set(client.ip.chars().take(64).collect()),
        user_agent: Set(client
            .user_agent
            .chars()
            .filter(|c| !c.is_control())
            .take(255)
            .collect()),
        created_at: Set(t),
        last_seen_at: Set(t),
        expires_at: Set(t + Duration::days(organisation::session_days(conn).await?)),
    }
    .insert(conn)
    .await?;
    // Expired rows of anyone go with each sign-in, so the table holds live sessions only.
    session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(t))
        .exec(conn)
        .await?;
    Ok(secret)
}

/// Signs `user_id` in: a new session and its `sign_in` audit row, inside the caller's
/// transaction; returns the secret for the cookie.
pub async fn open(
    conn: &impl ConnectionTrait,
    user_id: i64,
    client: &Client,
) -> Result<String, AppError> {
    let secret = start(conn, user_id, client).await?;
    let agent: String = client.user_agent.chars().take(255).collect();
    audit::record_as(
        conn,
        Some(user_id),
        Some(&client.ip),
        "sign_in",
        "user",
        user_id,
        Some(serde_json::json!({ "user_agent": agent })),
    )
    .await?;
    Ok(secret)
}

/// A live session: its row and who it belongs to.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Live {
    pub session_id: i64,
    last_seen_at: DateTime<Utc>,
    /// Checked here as well as in the lookup: a kept session may expire while kept.
    expires_at: DateTime<Utc>,
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    /// The user's IANA time zone (read here, with the session, at no extra query).
    pub time_zone: String,
}

impl Live {
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.user_id,
            name: self.name.clone(),
            email: self.email.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Viewer),
            ip: None,
        }
    }
}

/// The session behind a cookie's secret, while it and its user are live. Every page
/// request asks: a kept one costs no query; a lookup reads only the columns a request
/// needs.
pub async fn find(db: &Db, secret: &str) -> Result<Option<Live>, AppError> {
    let t = now();
    let hash = sha256_hex(secret.as_bytes());
    let kept = &db.credentials;
    let found = kept
        .get_or_lookup(&kept.sessions, &hash, || lookup(db, &hash, t))
        .await?;
    let Some(s) = found.filter(|s| s.expires_at > t) else {
        return Ok(None);
    };
    if (t - s.last_seen_at).num_seconds() >= TOUCH_EVERY_SECONDS {
        // The kept copy moves on too, or every later request would write again.
        kept.sessions.update(&hash, |live| live.last_seen_at = t);
        // Off the request's path: a page read never waits on the writer for this.
        let (write, id) = (db.write.clone(), s.session_id);
        tokio::spawn(async move {
            let touched = session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, Expr::value(t))
                .filter(session::Column::Id.eq(id))
                .exec(&write)
                .await;
            if let Err(e) = touched {
                tracing::debug!(error = %e, "could not record session use");
            }
        });
    }
    Ok(Some(s))
}

/// One indexed read: the session by its hash, with its user, while both are live.
async fn lookup(db: &Db, hash: &str, t: DateTime<Utc>) -> Result<Option<Live>, AppError> {
    Ok(session::Entity::find()
        .select_only()
        .column_as(session::Column::Id, "session_id")
        .column(session::Column::LastSeenAt)
        .column(session::Column::ExpiresAt)
        .column_as(user::Column::Id, "user_id")
        .column(user::Column::Name)
        .column(user::Column::Email)
        .column(user::Column::Role)
        .column(user::Column::TimeZone)
        .join(JoinType::InnerJoin, session::Relation::User.def())
        .filter(session::Column::TokenHash.eq(hash))
        .filter(session::Column::ExpiresAt.gt(t))
        .filter(user::Column::Active.eq(true))
        .into_model::<Live>()
        .one(&db.read)
        .await?)
}

/// Signing out: this session ends everywhere, recorded in the audit log (by its user,
/// from `ip`) in the same transaction.
pub async fn end(db: &Db, secret: &str, ip: &str) -> Result<(), AppError> {
    let tx = db.begin_write().await?;
    let hash = sha256_hex(secret.as_bytes());
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(&hash))
        .one(&tx)
        .await?;
    if let Some(s) = found {
        session::Entity::delete_by_id(s.id).exec(&tx).await?;
        crate::domain::audit::record_as(
            &tx,
            Some(s.user_id),
            Some(ip),
            "sign_out",
            "user",
            s.user_id,
            None,
        )
        .await?;
    }
    tx.commit().await?;
    db.credentials.changed();
    Ok(())
}

/// Ends every session of `user_id` except `keep` (a session id), inside the caller's
/// transaction: a password change keeps the browser that made it.
pub async fn end_all_of(
    conn: &impl ConnectionTrait,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64, AppError> {
    let mut q = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    if let Some(id) = keep {
        q = q.filter(session::Column::Id.ne(id));
    }
    Ok(q.exec(conn).await?.rows_affected)
}

/// A live session as its owner sees it on the account page: never its secret's hash.
#[derive(Debug, Clone)]
pub struct Info {
    pub id: i64,
    /// "Firefox on Linux", from the user agent it signed in with.
    pub browser: String,
    pub ip: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The user's live sessions, the most recently used first.
pub async fn list_for_user(db: &Db, user_id: i64) -> Result<Vec<Info>, AppError> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ExpiresAt.gt(now()))
        .order_by_desc(session::Column::LastSeenAt)
        .order_by_desc(session::Column::Id)
        .all(&db.read)
        .await?
        .into_iter()
        .map(|s| Info {
            id: s.id,
            browser: browser_label(&s.user_agent),
            ip: s.ip,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
        })
        .collect())
}

/// A short name for a user agent: the browser and the system, enough to recognise a
/// device by. Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
pub fn browser_label(ua: &str) -> String {
    let pick = |pairs: &[(&str, &'static str)]| {
        pairs
            .iter()
            .find(|(needle, _)| ua.contains(needle))
            .map(|(_, name)| *name)
    };
    let browser = pick(&[
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]);
    let system = pick(&[
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) if ua.trim().is_empty() => "Unknown browser".to_string(),
        (None, None) => ua.chars().take(60).collect(),
    }
}

/// Ends one of the actor's own sessions (another user's is a 404, as if it did not
/// exist).
pub async fn end_one(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    let tx = db.begin_write().await?;
    let res = session::Entity::delete_many()
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::UserId.eq(actor.id))
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound(
            "No session of yours has this id; it may have ended already.".into(),
        ));
    }
    audit::record(&tx, Some(actor), "end", "session", id, None).await?;
    tx.commit().await?;
    db.credentials.changed();
    Ok(())
}

/// Ends every session of the actor but `keep` (the one asking); returns how many ended.
pub async fn end_others(db: &Db, actor: &Actor, keep: i64) -> Result<u64, AppError> {
    let tx = db.begin_write().await?;
    let ended = end_all_of(&tx, actor.id, Some(keep)).await?;
    audit::record(
        &tx,
        Some(actor),
        "end_other_sessions",
        "user",
        actor.id,
        Some(serde_json::json!({"ended": ended})),
    )
    .await?;
    tx.commit().await?;
    db.credentials.changed();
    Ok(ended)
}
