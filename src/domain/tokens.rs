//! API tokens: shown once at creation, stored only as a SHA-256 hash.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, NotSet,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set, TransactionTrait,
};

use crate::domain::Db;
use crate::domain::{
    Action, Actor, Role, audit, has_control, now, random_bytes, sha256_hex, users,
};
use crate::entities::{api_token, user};
use crate::error::AppError;

pub const PREFIX: &str = "cairn_";

pub struct NewToken {
    pub id: i64,
    /// The secret itself; never stored, shown to the user once.
    pub token: String,
}

/// Creates a token for the user with `email`; returns the secret.
pub async fn create_for_email(
    db: &Db,
    actor: Option<&Actor>,
    email: &str,
    name: &str,
) -> Result<NewToken, AppError> {
    let user = users::find_by_email(&db.read, email)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| AppError::field("email", "No active user has this email."))?;
    if let Some(a) = actor
        && a.id != user.id
    {
        a.require(Action::ManageTokens)?;
    }
    let name = name.trim();
    if has_control(name) {
        return Err(AppError::field(
            "name",
            "Token name cannot contain control characters.",
        ));
    }
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::field(
            "name",
            "Token name must be 1 to 120 characters.",
        ));
    }
    let token = format!("{PREFIX}{}", hex::encode(random_bytes::<32>()?));
    let tx = db.write.begin().await?;
    let model = api_token::ActiveModel {
        id: NotSet,
        user_id: Set(user.id),
        name: Set(name.to_string()),
        token_hash: Set(sha256_hex(token.as_bytes())),
        prefix: Set(token[..PREFIX.len() + 6].to_string()),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        actor,
        "create",
        "api_token",
        model.id,
        Some(serde_json::json!({"user_id": user.id, "name": name})),
    )
    .await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(NewToken {
        id: model.id,
        token,
    })
}

/// A token as its owner sees it: never the secret or its hash, only the prefix.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A user's tokens that still work, newest first.
pub async fn list_for_user(db: &Db, user_id: i64) -> Result<Vec<TokenInfo>, AppError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .order_by_desc(api_token::Column::Id)
        .all(&db.read)
        .await?
        .into_iter()
        .map(|t| TokenInfo {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
        })
        .collect())
}

/// Revokes a token: its owner or an admin may.
pub async fn revoke(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    let tx = db.write.begin().await?;
    let token = api_token::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .filter(|t| t.revoked_at.is_none())
        .ok_or_else(|| AppError::not_found("API token"))?;
    if token.user_id != actor.id {
        actor.require(Action::ManageTokens)?;
    }
    let mut am: api_token::ActiveModel = token.into();
    am.revoked_at = Set(Some(now()));
    am.update(&tx).await?;
    audit::record(&tx, Some(actor), "revoke", "api_token", id, None).await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(())
}

/// Revokes every working token of `user_id` inside the caller's transaction (on
/// deactivation, so reactivating brings none back).
pub async fn revoke_all_of(conn: &impl ConnectionTrait, user_id: i64) -> Result<u64, AppError> {
    let res = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Some(now())),
        )
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

#[derive(FromQueryResult)]
struct TokenOwner {
    token_id: i64,
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    id: i64,
    name: String,
    email: String,
    role: String,
}

/// The active user a bearer token belongs to, or 401.
pub async fn authenticate(db: &Db, token: &str) -> Result<Actor, AppError> {
    let unauthorized =
        || AppError::Unauthorized("The API token is missing, revoked or invalid.".into());
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Err(unauthorized());
    }
    let hash = sha256_hex(token.as_bytes());
    if let Some(actor) = db.auth_cache.tokens.get(&hash) {
        return Ok(actor);
    }
    let owner = api_token::Entity::find()
        .select_only()
        .column_as(api_token::Column::Id, "token_id")
        .column(api_token::Column::LastUsedAt)
        .column(user::Column::Id)
        .column(user::Column::Name)
        .column(user::Column::Email)
        .column(user::Column::Role)
        .join(JoinType::InnerJoin, api_token::Relation::User.def())
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(user::Column::Active.eq(true))
        .filter(api_token::Column::TokenHash.eq(hash.as_str()))
        .into_model::<TokenOwner>()
        .one(&db.read)
        .await?
        .ok_or_else(unauthorized)?;
    // "Last used" is kept to the hour: one write per token per hour at most, off the
    // request's path.
    let stale = owner
        .last_used_at
        .is_none_or(|t| now() - t > chrono::Duration::hours(1));
    if stale {
        let write = db.write.clone();
        let token_id = owner.token_id;
        tokio::spawn(async move {
            let touched = api_token::Entity::update_many()
                .col_expr(
                    api_token::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(now()),
                )
                .filter(api_token::Column::Id.eq(token_id))
                .exec(&write)
                .await;
            if let Err(e) = touched {
                tracing::debug!(error = %e, "could not record token use");
            }
        });
    }
    let actor = Actor {
        id: owner.id,
        name: owner.name,
        email: owner.email,
        role: Role::parse(&owner.role).unwrap_or(Role::Viewer),
        ip: None,
    };
    db.auth_cache.tokens.insert(hash, actor.clone());
    Ok(actor)
}
