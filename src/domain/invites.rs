//! Invitations: an admin invites an address with a role; the invitee follows a
//! single-use link, valid for `VALID_DAYS`, to choose a name and a password and becomes a
//! user. The link's secret is kept only as its SHA-256 hash (like sessions and API
//! tokens), so resending makes a new link and the old one stops working.
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult,
    JoinType, NotSet, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};

use crate::domain::{
    Action, Actor, Db, Role, audit, normalise, now, random_bytes, sha256_hex, users,
};
use crate::entities::{invite, user};
use crate::error::AppError;
use crate::mail::content::{Content, Letter};
use crate::mail::outbox::{self, NewEmail};

pub const VALID_DAYS: i64 = 7;

/// An invitation not yet accepted nor revoked, as Settings → Users lists it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Pending {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub invited_by: Option<String>,
    pub sends: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Pending {
    pub fn expired(&self) -> bool {
        self.expires_at <= now()
    }
}

/// Pending invitations, newest first (expired ones too: resending revives them).
pub async fn list_pending(db: &Db) -> Result<Vec<Pending>, AppError> {
    Ok(invite::Entity::find()
        .select_only()
        .column(invite::Column::Id)
        .column(invite::Column::Email)
        .column(invite::Column::Role)
        .column_as(user::Column::Name, "invited_by")
        .column(invite::Column::Sends)
        .column(invite::Column::CreatedAt)
        .column(invite::Column::ExpiresAt)
        .join(JoinType::LeftJoin, invite::Relation::InvitedBy.def())
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .order_by_desc(invite::Column::Id)
        .into_model::<Pending>()
        .all(&db.read)
        .await?)
}

fn new_secret() -> Result<String, AppError> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// Invites `email` as `role` and queues the email with the link. Refused when the
/// address already has a user or a pending invitation (resend that one instead).
pub async fn create(
    db: &Db,
    actor: &Actor,
    email: &str,
    role: &str,
) -> Result<invite::Model, AppError> {
    actor.require(Action::ManageUsers)?;
    let email = email.trim().to_string();
    let mut fields = crate::error::FieldErrors::new();
    if !crate::domain::valid_email(&email) {
        fields.insert(
            "email".into(),
            "Enter a valid email address, like ana@example.com.".into(),
        );
    }
    let role = Role::parse(role);
    if role.is_none() {
        fields.insert(
            "role".into(),
            "Role must be one of admin, manager, rep, viewer.".into(),
        );
    }
    let Some(role) = role.filter(|_| fields.is_empty()) else {
        return Err(AppError::validation(fields));
    };
    let email_norm = normalise(&email);
    let tx = db.begin_write().await?;
    // A user an import created and nobody took up may be invited: accepting gives them
    // their password (`users::claim_in`).
    if users::find_by_email(&tx, &email)
        .await?
        .is_some_and(|u| !users::is_unclaimed(&u))
    {
        return Err(AppError::conflict_field(
            "email",
            "A user with this email already exists.",
        ));
    }
    let pending = invite::Entity::find()
        .filter(invite::Column::EmailNorm.eq(&email_norm))
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .one(&tx)
        .await?;
    if pending.is_some() {
        return Err(AppError::conflict_field(
            "email",
            "This address is invited already: resend or revoke that invitation below.",
        ));
    }
    let secret = new_secret()?;
    let t = now();
    let model = invite::ActiveModel {
        id: NotSet,
        email: Set(email.clone()),
        email_norm: Set(email_norm),
        role: Set(role.as_str().to_string()),
        token_hash: Set(sha256_hex(secret.as_bytes())),
        invited_by: Set(Some(actor.id)),
        sends: Set(1),
        created_at: Set(t),
        expires_at: Set(t + Duration::days(VALID_DAYS)),
        accepted_at: Set(None),
        user_id: Set(None),
        revoked_at: Set(None),
    }
    .insert(&tx)
    .await?;
    send(&tx, &model, &secret, actor).await?;
    audit::record(
        &tx,
        Some(actor),
        "invite",
        "invite",
        model.id,
        Some(serde_json::json!({"email": email, "role": model.role})),
    )
    .await?;
    tx.commit().await?;
    crate::jobs::wake();
    Ok(model)
}

/// Queues the invitation email with the link for `secret`, in the caller's transaction.
async fn send(
    conn: &impl ConnectionTrait,
    inv: &invite::Model,
    secret: &str,
    by: &Actor,
) -> Result<(), AppError> {
    let org = crate::mail::settings::org_name(conn).await?;
    let content = Content::Invite {
        invited_by: by.name.clone(),
        role: inv.role.clone(),
        token: secret.to_string(),
        expires: inv.expires_at.format("%-d %B %Y, %H:%M UTC").to_string(),
    };
    let email = NewEmail {
        user_id: None,
        to: inv.email.clone(),
        subject: content.subject(&org),
        letter: Letter {
            to_name: inv.email.clone(),
            content,
        },
        key: format!("invite:{}:{}", inv.id, inv.sends),
    };
    outbox::enqueue(conn, &email).await?;
    Ok(())
}

fn no_pending() -> AppError {
    AppError::NotFound("No pending invitation has this id.".into())
}

/// Sends a pending invitation again with a new link, valid `VALID_DAYS` from now; the
/// previous link stops working.
pub async fn resend(db: &Db, actor: &Actor, id: i64) -> Result<invite::Model, AppError> {
    actor.require(Action::ManageUsers)?;
    let secret = new_secret()?;
    let t = now();
    let tx = db.begin_write().await?;
    // Guarded by the state: an invitation accepted or revoked meanwhile is not revived.
    let res = invite::Entity::update_many()
        .col_expr(
            invite::Column::TokenHash,
            Expr::value(sha256_hex(secret.as_bytes())),
        )
        .col_expr(
            invite::Column::ExpiresAt,
            Expr::value(t + Duration::days(VALID_DAYS)),
        )
        .col_expr(
            invite::Column::Sends,
            Expr::col(invite::Column::Sends).add(1),
        )
        .filter(invite::Column::Id.eq(id))
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(no_pending());
    }
    let model = invite::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(no_pending)?;
    send(&tx, &model, &secret, actor).await?;
    audit::record(
        &tx,
        Some(actor),
        "resend",
        "invite",
        id,
        Some(serde_json::json!({"email": model.email})),
    )
    .await?;
    tx.commit().await?;
    crate::jobs::wake();
    Ok(model)
}

/// Revokes a pending invitation: its link stops working at once.
pub async fn revoke(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Action::ManageUsers)?;
    let tx = db.begin_write().await?;
    let res = invite::Entity::update_many()
        .col_expr(invite::Column::RevokedAt, Expr::value(Some(now())))
        .filter(invite::Column::Id.eq(id))
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(no_pending());
    }
    audit::record(&tx, Some(actor), "revoke", "invite", id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// The invitation a link's secret opens, while it still may be accepted; otherwise a
/// 404 that says why.
pub async fn open(conn: &impl ConnectionTrait, secret: &str) -> Result<invite::Model, AppError> {
    let refused = |why: &str| {
        AppError::NotFound(format!(
            "This invitation link {why}. Ask whoever invited you to send a new one."
        ))
    };
    if secret.len() > 128 {
        return Err(refused("is not valid"));
    }
    let inv = invite::Entity::find()
        .filter(invite::Column::TokenHash.eq(sha256_hex(secret.as_bytes())))
        .one(conn)
        .await?
        .ok_or_else(|| refused("is not valid"))?;
    if inv.accepted_at.is_some() {
        return Err(refused("was used already"));
    }
    if inv.revoked_at.is_some() {
        return Err(refused("was revoked"));
    }
    if inv.expires_at <= now() {
        return Err(refused("has expired"));
    }
    Ok(inv)
}

/// Accepts the invitation behind `secret`: the invitee becomes a user with the role they
/// were invited as, the name and password they chose (the user an import made for their
/// address, if any, so the records it owns are theirs). The link works once.
pub async fn accept(
    db: &Db,
    secret: &str,
    name: &str,
    password: &str,
) -> Result<user::Model, AppError> {
    let inv = open(&db.read, secret).await?;
    let tx = db.begin_write().await?;
    let input = users::NewUser {
        email: inv.email.clone(),
        name: name.to_string(),
        password: password.to_string(),
        role: inv.role.clone(),
    };
    let created = match users::find_by_email(&tx, &inv.email).await? {
        Some(u) if users::is_unclaimed(&u) => users::claim_in(&tx, u, &input).await?,
        _ => users::create_in(&tx, None, &input).await?,
    };
    // Guarded by the state: two tabs accepting at once make one user, not two.
    let res = invite::Entity::update_many()
        .col_expr(invite::Column::AcceptedAt, Expr::value(Some(now())))
        .col_expr(invite::Column::UserId, Expr::value(Some(created.id)))
        .filter(invite::Column::Id.eq(inv.id))
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(now()))
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(open(&tx, secret).await.err().unwrap_or_else(no_pending));
    }
    let actor = Actor::from(&created);
    audit::record(
        &tx,
        Some(&actor),
        "accept",
        "invite",
        inv.id,
        Some(serde_json::json!({"user_id": created.id})),
    )
    .await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(created)
}
