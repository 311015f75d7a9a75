//! API tokens: shown once at creation, stored only as a SHA-256 hash.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, NotSet,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};

use crate::domain::Db;
use crate::domain::{
    Action, Actor, FieldErrorsExt, Role, audit, has_control, now, random_bytes, sha256_hex, users,
};
use crate::entities::{api_token, user};
use crate::error::{AppError, FieldErrors};

pub const PREFIX: &str = "cairn_";

pub struct NewToken {
    pub id: i64,
    /// The secret itself; never stored, shown to the user once.
    pub token: String,
}

/// What a token may do: a read-only one is refused every API write, whatever its
/// owner's role allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Read => "read-only",
            Scope::Write => "read and write",
        }
    }
}

/// What a user asks for when creating a token, as typed.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub name: String,
    /// `read` or `write`; empty means read-write, as tokens were before scopes.
    pub scope: String,
    /// Days until it stops working; empty means never.
    pub expires_in_days: String,
}

/// The longest a token may be set to last, in days (ten years).
const MAX_DAYS: i64 = 3650;

struct Checked {
    name: String,
    scope: Scope,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn check(req: &Request) -> Result<Checked, AppError> {
    let mut fields = FieldErrors::new();
    let name = req.name.trim();
    if has_control(name) {
        fields.set("name", "Token name cannot contain control characters.");
    } else if name.is_empty() || name.chars().count() > 120 {
        fields.set("name", "Token name must be 1 to 120 characters.");
    }
    let scope = match req.scope.trim() {
        "" => Some(Scope::Write),
        s => Scope::parse(s),
    };
    if scope.is_none() {
        fields.set("scope", "Scope must be read or write.");
    }
    let days = req.expires_in_days.trim();
    let expires_at = match days {
        "" | "never" => None,
        d => {
            match d.parse::<i64>() {
                Ok(n) if (1..=MAX_DAYS).contains(&n) => Some(now() + chrono::Duration::days(n)),
                _ => {
                    fields.set(
                    "expires_in_days",
                    format!("Expiry must be a number of days from 1 to {MAX_DAYS}, or empty for never."),
                );
                    None
                }
            }
        }
    };
    match scope {
        Some(scope) if fields.is_empty() => Ok(Checked {
            name: name.to_string(),
            scope,
            expires_at,
        }),
        _ => Err(AppError::validation(fields)),
    }
}

/// Creates a token for the user with `email` (themselves, or anyone's for an admin);
/// returns the secret.
pub async fn create_for_email(
    db: &Db,
    actor: Option<&Actor>,
    email: &str,
    req: &Request,
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
    let c = check(req)?;
    let token = format!("{PREFIX}{}", hex::encode(random_bytes::<32>()?));
    let tx = db.begin_write().await?;
    let model = api_token::ActiveModel {
        id: NotSet,
        user_id: Set(user.id),
        name: Set(c.name.clone()),
        token_hash: Set(sha256_hex(token.as_bytes())),
        prefix: Set(token[..PREFIX.len() + 6].to_string()),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        scope: Set(c.scope.as_str().to_string()),
        expires_at: Set(c.expires_at),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        actor,
        "create",
        "api_token",
        model.id,
        Some(serde_json::json!({"user_id": user.id, "name": c.name,
            "scope": c.scope.as_str(), "expires_at": c.expires_at})),
    )
    .await?;
    tx.commit().await?;
    Ok(NewToken {
        id: model.id,
        token,
    })
}

/// A token as its owner (or an admin) sees it: never the secret or its hash, only the
/// prefix.
#[derive(Debug, Clone, FromQueryResult)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scope: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub owner_name: String,
    pub owner_email: String,
}

impl TokenInfo {
    pub fn scope_label(&self) -> &'static str {
        Scope::parse(&self.scope).unwrap_or(Scope::Write).label()
    }

    pub fn expired(&self) -> bool {
        self.expires_at.is_some_and(|t| t <= now())
    }
}

/// The tokens an admin's list shows at most (a workspace has a handful per user).
pub const ADMIN_LIST_LIMIT: u64 = 500;

fn infos() -> sea_orm::Select<api_token::Entity> {
    api_token::Entity::find()
        .select_only()
        .columns([
            api_token::Column::Id,
            api_token::Column::Name,
            api_token::Column::Prefix,
            api_token::Column::Scope,
            api_token::Column::CreatedAt,
            api_token::Column::LastUsedAt,
            api_token::Column::ExpiresAt,
        ])
        .column_as(user::Column::Name, "owner_name")
        .column_as(user::Column::Email, "owner_email")
        .join(JoinType::InnerJoin, api_token::Relation::User.def())
        .filter(api_token::Column::RevokedAt.is_null())
}

/// A user's tokens not revoked (expired ones too, marked), newest first.
pub async fn list_for_user(db: &Db, user_id: i64) -> Result<Vec<TokenInfo>, AppError> {
    Ok(infos()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::Id)
        .into_model::<TokenInfo>()
        .all(&db.read)
        .await?)
}

/// Every user's tokens not revoked, newest first: Settings → API tokens (admins).
pub async fn list_all(db: &Db, actor: &Actor) -> Result<Vec<TokenInfo>, AppError> {
    actor.require(Action::ManageTokens)?;
    Ok(infos()
        .order_by_desc(api_token::Column::Id)
        .limit(ADMIN_LIST_LIMIT)
        .into_model::<TokenInfo>()
        .all(&db.read)
        .await?)
}

/// Revokes a token: its owner or an admin may.
pub async fn revoke(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    let tx = db.begin_write().await?;
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
    db.credentials.changed();
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

/// What a token stands for, as a request needs it (kept between requests, see
/// `credentials`).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Owner {
    token_id: i64,
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Checked here as well as in the lookup: a kept token may expire while kept.
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    scope: String,
    id: i64,
    name: String,
    email: String,
    role: String,
}

/// Who a request's token acts as, and how far.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub actor: Actor,
    pub scope: Scope,
}

/// The active user a bearer token belongs to, or 401. A kept answer costs no query; a
/// lookup is one indexed read. Whatever revokes a token or changes its owner bumps the
/// auth generation after its commit, and an expiry is checked here, so a revocation, an
/// expiry or the owner's deactivation stops the token at once in every process.
pub async fn authenticate(db: &Db, token: &str) -> Result<Bearer, AppError> {
    let unauthorized =
        || AppError::Unauthorized("The API token is missing, revoked, expired or invalid.".into());
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Err(unauthorized());
    }
    let hash = sha256_hex(token.as_bytes());
    let t = now();
    let kept = &db.credentials;
    let owner = kept
        .get_or_lookup(&kept.tokens, &hash, || lookup(db, &hash, t))
        .await?
        .filter(|o| o.expires_at.is_none_or(|at| at > t))
        .ok_or_else(unauthorized)?;
    // "Last used" is kept to the hour: one write per token per hour at most, off the
    // request's path.
    let stale = owner
        .last_used_at
        .is_none_or(|used| t - used > chrono::Duration::hours(1));
    if stale {
        // The kept copy moves on too, or every later request would write again.
        kept.tokens.update(&hash, |o| o.last_used_at = Some(t));
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
    Ok(Bearer {
        actor: Actor {
            id: owner.id,
            name: owner.name,
            email: owner.email,
            role: Role::parse(&owner.role).unwrap_or(Role::Viewer),
            ip: None,
        },
        scope: Scope::parse(&owner.scope).unwrap_or(Scope::Read),
    })
}

/// One indexed read: the token by its hash, with its owner, while both are live.
async fn lookup(
    db: &Db,
    hash: &str,
    t: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Owner>, AppError> {
    Ok(api_token::Entity::find()
        .select_only()
        .column_as(api_token::Column::Id, "token_id")
        .column(api_token::Column::LastUsedAt)
        .column(api_token::Column::ExpiresAt)
        .column(api_token::Column::Scope)
        .column(user::Column::Id)
        .column(user::Column::Name)
        .column(user::Column::Email)
        .column(user::Column::Role)
        .join(JoinType::InnerJoin, api_token::Relation::User.def())
        .filter(api_token::Column::TokenHash.eq(hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(
            sea_orm::Condition::any()
                .add(api_token::Column::ExpiresAt.is_null())
                .add(api_token::Column::ExpiresAt.gt(t)),
        )
        .filter(user::Column::Active.eq(true))
        .into_model::<Owner>()
        .one(&db.read)
        .await?)
}
