//! Two-factor sign-in with TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//! clock drift either way, by `totp-rs`) and ten single-use recovery codes.
//!
//! - Set-up: `begin_setup` makes a secret that waits for its first code; `confirm` turns
//!   two-factor on with that code and hands back the recovery codes, which are shown once
//!   and kept only as SHA-256 hashes (like API tokens).
//! - `pending`: the second step of signing in, and set-up at sign-in when the
//!   organisation requires two-factor (`required`).
//! - A code is accepted once: the last accepted time step only moves forward, by one
//!   conditional update, so two requests racing with the same code cannot both pass.
//!
//! The secret is stored as is (base32). `secrets.rs` only derives the session key, and
//! that key lives in the same database unless `CAIRN_SECRET_KEY` is set; encrypting with
//! it would add little, and changing the configured key would then lock every user out
//! of their authenticator.
pub mod pending;

use chrono::{DateTime, Utc};
use qrcode::QrCode;
use qrcode::render::svg;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    Set,
};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::domain::{Actor, Db, audit, auth, now, random_bytes, settings, sha256_hex, users};
use crate::entities::{recovery_code, two_factor};
use crate::error::AppError;

/// The organisation setting (key/value, "true" when on; Settings → Organisation) that
/// makes everyone use two-factor: those without it set it up at their next sign-in.
pub const REQUIRED_SETTING: &str = crate::domain::organisation::REQUIRE_2FA;
/// Recovery codes made at each set-up.
pub const RECOVERY_CODES: usize = 10;
/// The name authenticator apps show beside the account.
const ISSUER: &str = "Cairn";

/// Whether the organisation requires two-factor sign-in of everyone.
pub async fn required(conn: &impl ConnectionTrait) -> Result<bool, AppError> {
    Ok(settings::get(conn, REQUIRED_SETTING).await?.as_deref() == Some("true"))
}

/// A user's two-factor state, as their account page shows it.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// When it was turned on; None when it is off.
    pub enabled_at: Option<DateTime<Utc>>,
    /// Recovery codes not used yet.
    pub recovery_left: u64,
}

impl Status {
    pub fn enabled(&self) -> bool {
        self.enabled_at.is_some()
    }
}

pub async fn status(conn: &impl ConnectionTrait, user_id: i64) -> Result<Status, AppError> {
    let Some(enabled_at) = enabled(conn, user_id).await?.and_then(|t| t.enabled_at) else {
        return Ok(Status::default());
    };
    Ok(Status {
        enabled_at: Some(enabled_at),
        recovery_left: recovery_left(conn, user_id).await?,
    })
}

/// The user's confirmed authenticator, if two-factor is on.
async fn enabled(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<two_factor::Model>, AppError> {
    Ok(two_factor::Entity::find_by_id(user_id)
        .filter(two_factor::Column::EnabledAt.is_not_null())
        .one(conn)
        .await?)
}

pub async fn is_enabled(conn: &impl ConnectionTrait, user_id: i64) -> Result<bool, AppError> {
    Ok(enabled(conn, user_id).await?.is_some())
}

async fn recovery_left(conn: &impl ConnectionTrait, user_id: i64) -> Result<u64, AppError> {
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(conn)
        .await?)
}

/// What set-up shows: the secret as text (typed by hand), its `otpauth://` address and
/// that address as a QR code (SVG, drawn here so the page loads nothing from elsewhere).
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret: String,
    pub url: String,
    pub qr_svg: String,
}

fn totp(secret: &str, account: &str) -> Result<Totp, AppError> {
    let bad = |e: String| AppError::Internal(format!("two-factor secret: {e}"));
    let secret = Secret::try_from_base32(secret).map_err(|e| bad(e.to_string()))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        // The otpauth format separates issuer and account with a colon.
        .with_account_name(account.replace(':', ""))
        .build()
        .map_err(|e| bad(e.to_string()))
}

fn unix_now() -> u64 {
    now().timestamp().max(0) as u64
}

/// A code as typed: without spaces and dashes, lower case.
fn cleaned(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Six digits are an authenticator's code; anything else may be a recovery code.
fn is_totp_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The time step `code` is right for at `at` (Unix seconds), one step either side.
fn matching_step(secret: &str, code: &str, at: u64) -> Result<Option<i64>, AppError> {
    Ok(totp(secret, "")?.check(code, at).map(|s| s as i64))
}

/// Makes a new secret for the actor that waits for its first code (replacing one that
/// waited); refused when two-factor is on already.
pub async fn begin_setup(db: &Db, actor: &Actor) -> Result<(), AppError> {
    let tx = db.begin_write().await?;
    new_secret(&tx, actor.id).await?;
    tx.commit().await?;
    Ok(())
}

async fn new_secret(conn: &impl ConnectionTrait, user_id: i64) -> Result<(), AppError> {
    if is_enabled(conn, user_id).await? {
        return Err(AppError::conflict_field(
            "two_factor",
            "Two-factor sign-in is on already; turn it off first to set it up again.",
        ));
    }
    two_factor::Entity::delete_by_id(user_id).exec(conn).await?;
    let secret = Secret::from(random_bytes::<20>()?.to_vec()).to_base32();
    two_factor::Entity::insert(two_factor::ActiveModel {
        user_id: Set(user_id),
        secret: Set(secret),
        enabled_at: Set(None),
        last_step: Set(None),
        created_at: Set(now()),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// The secret waiting for its first code, ready to show; None when no set-up is under way.
pub async fn enrolment(
    conn: &impl ConnectionTrait,
    user_id: i64,
    email: &str,
) -> Result<Option<Enrolment>, AppError> {
    let waiting = two_factor::Entity::find_by_id(user_id)
        .filter(two_factor::Column::EnabledAt.is_null())
        .one(conn)
        .await?;
    let Some(row) = waiting else {
        return Ok(None);
    };
    let url = totp(&row.secret, email)?
        .to_url()
        .map_err(|e| AppError::Internal(format!("otpauth address: {e}")))?;
    Ok(Some(Enrolment {
        qr_svg: qr_svg(&url)?,
        url,
        secret: row.secret,
    }))
}

fn qr_svg(data: &str) -> Result<String, AppError> {
    let code =
        QrCode::new(data.as_bytes()).map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
    let svg = code.render::<svg::Color>().min_dimensions(200, 200).build();
    // The XML declaration does not belong inside an HTML page.
    let svg = svg.find("<svg").map(|i| &svg[i..]).unwrap_or(&svg);
    Ok(svg.replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code of your two-factor secret\" ",
        1,
    ))
}

/// Turns two-factor on for the actor with a first code of the new secret, recorded in
/// the audit log; returns the recovery codes (shown once, never again).
pub async fn confirm(db: &Db, actor: &Actor, code: &str) -> Result<Vec<String>, AppError> {
    let tx = db.begin_write().await?;
    let codes = confirm_in(&tx, actor.id, code, unix_now()).await?;
    audit::record(
        &tx,
        Some(actor),
        "enable_two_factor",
        "user",
        actor.id,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// `confirm` inside the caller's transaction (and without its audit row).
async fn confirm_in(
    conn: &impl ConnectionTrait,
    user_id: i64,
    code: &str,
    at: u64,
) -> Result<Vec<String>, AppError> {
    let waiting = two_factor::Entity::find_by_id(user_id)
        .filter(two_factor::Column::EnabledAt.is_null())
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::conflict_field("code", "No two-factor set-up is under way: start it again.")
        })?;
    let code = cleaned(code);
    let step = if is_totp_code(&code) {
        matching_step(&waiting.secret, &code, at)?
    } else {
        None
    };
    let Some(step) = step else {
        return Err(AppError::field(
            "code",
            "That code is not right: type the 6 digits your authenticator app shows now.",
        ));
    };
    two_factor::Entity::update_many()
        .col_expr(two_factor::Column::EnabledAt, Expr::value(Some(now())))
        .col_expr(two_factor::Column::LastStep, Expr::value(Some(step)))
        .filter(two_factor::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    new_recovery_codes(conn, user_id).await
}

/// Replaces the user's recovery codes with ten new ones: 16 hex digits each (64 random
/// bits), written in four groups to be copied by hand.
async fn new_recovery_codes(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<String>, AppError> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut rows = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let hex = hex::encode(random_bytes::<8>()?);
        rows.push(recovery_code::ActiveModel {
            id: sea_orm::NotSet,
            user_id: Set(user_id),
            code_hash: Set(sha256_hex(hex.as_bytes())),
            used_at: Set(None),
            created_at: Set(now()),
        });
        let groups: Vec<&str> = (0..4).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        codes.push(groups.join("-"));
    }
    recovery_code::Entity::insert_many(rows).exec(conn).await?;
    Ok(codes)
}

/// What a second factor given at sign-in (or to turn two-factor off) turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// An authenticator code, accepted (its time step is now used).
    Code,
    /// A recovery code, now used.
    Recovery,
    Wrong,
    /// Right, but used before (the code's time step, or the recovery code).
    Reused,
}

impl Verdict {
    pub fn accepted(self) -> bool {
        matches!(self, Verdict::Code | Verdict::Recovery)
    }
}

/// Checks and uses up `code` (an authenticator code or a recovery code) of the user's
/// confirmed two-factor, inside the caller's transaction.
async fn use_code(
    conn: &impl ConnectionTrait,
    user_id: i64,
    code: &str,
    at: u64,
) -> Result<Verdict, AppError> {
    let Some(row) = enabled(conn, user_id).await? else {
        return Ok(Verdict::Wrong);
    };
    let code = cleaned(code);
    if !is_totp_code(&code) {
        return use_recovery_code(conn, user_id, &code).await;
    }
    let Some(step) = matching_step(&row.secret, &code, at)? else {
        return Ok(Verdict::Wrong);
    };
    let moved = two_factor::Entity::update_many()
        .col_expr(two_factor::Column::LastStep, Expr::value(Some(step)))
        .filter(two_factor::Column::UserId.eq(user_id))
        .filter(
            Condition::any()
                .add(two_factor::Column::LastStep.is_null())
                .add(two_factor::Column::LastStep.lt(step)),
        )
        .exec(conn)
        .await?;
    Ok(if moved.rows_affected == 1 {
        Verdict::Code
    } else {
        Verdict::Reused
    })
}

async fn use_recovery_code(
    conn: &impl ConnectionTrait,
    user_id: i64,
    code: &str,
) -> Result<Verdict, AppError> {
    let hash = sha256_hex(code.as_bytes());
    let of_code = || {
        recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(user_id))
            .filter(recovery_code::Column::CodeHash.eq(&hash))
    };
    let used = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(Some(now())))
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::CodeHash.eq(&hash))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(if used.rows_affected == 1 {
        Verdict::Recovery
    } else if of_code().count(conn).await? > 0 {
        Verdict::Reused
    } else {
        Verdict::Wrong
    })
}

/// What a refused second factor is called in the audit log.
fn reason(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Reused => "reused code",
        _ => "wrong code",
    }
}

/// Turns two-factor off for the actor, who proves it is them with their password or a
/// current code (both throttled like sign-in). Refused while the organisation requires
/// two-factor.
pub async fn disable(db: &Db, actor: &Actor, proof: &str, ip: &str) -> Result<(), AppError> {
    if required(&db.read).await? {
        return Err(AppError::conflict_field(
            "proof",
            "Two-factor sign-in is required for everyone here, so it stays on.",
        ));
    }
    if !is_enabled(&db.read, actor.id).await? {
        return Err(AppError::conflict_field(
            "proof",
            "Two-factor sign-in is off already.",
        ));
    }
    let user = users::get(&db.read, actor.id).await?;
    let proven = if is_totp_code(&cleaned(proof)) {
        let check = async {
            let tx = db.begin_write().await?;
            let verdict = use_code(&tx, actor.id, proof, unix_now()).await?;
            tx.commit().await?;
            Ok(verdict)
        };
        let verdict = auth::throttled(db, &user.email_norm, ip, check, |v| v.accepted()).await?;
        if !verdict.accepted() {
            let detail = serde_json::json!({"reason": reason(verdict), "to": "turn off"});
            audit::record(
                &db.write,
                Some(actor),
                "two_factor_failed",
                "user",
                actor.id,
                Some(detail),
            )
            .await?;
        }
        verdict.accepted()
    } else {
        auth::confirm_password(db, &user, proof, ip).await?
    };
    if !proven {
        return Err(AppError::field(
            "proof",
            "That is neither your password nor a current code.",
        ));
    }
    reset(db, Some(actor), actor.id).await
}

/// Turns the actor's own two-factor off (their secret and recovery codes go), once
/// `disable` has the proof.
pub async fn reset(db: &Db, by: Option<&Actor>, user_id: i64) -> Result<(), AppError> {
    let tx = db.begin_write().await?;
    remove(&tx, user_id).await?;
    audit::record(&tx, by, "disable_two_factor", "user", user_id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Resets `user_id`'s two-factor for someone who lost their phone and every recovery
/// code: an admin from Settings → Users (`by`, whose address the audit row keeps), or the
/// command line (None). Their sessions end with it, so they sign in again and, while
/// two-factor is required, are sent to set it up anew. Recorded as "reset_two_factor".
pub async fn reset_for(db: &Db, by: Option<&Actor>, user_id: i64) -> Result<(), AppError> {
    if let Some(admin) = by {
        admin.require(crate::domain::Action::ManageUsers)?;
        if admin.id == user_id {
            return Err(AppError::conflict_field(
                "proof",
                "Turn your own two-factor sign-in off on your account page.",
            ));
        }
    }
    let tx = db.begin_write().await?;
    remove(&tx, user_id).await?;
    crate::domain::sessions::end_all_of(&tx, user_id, None).await?;
    audit::record(&tx, by, "reset_two_factor", "user", user_id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the user's authenticator and recovery codes; refused when there is none.
async fn remove(conn: &impl ConnectionTrait, user_id: i64) -> Result<(), AppError> {
    let removed = two_factor::Entity::delete_by_id(user_id).exec(conn).await?;
    if removed.rows_affected == 0 {
        return Err(AppError::conflict_field(
            "proof",
            "Two-factor sign-in is off already.",
        ));
    }
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The users among `ids` who have two-factor sign-in on (Settings → Users marks them).
pub async fn enabled_among(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<i64>, AppError> {
    Ok(two_factor::Entity::find()
        .select_only()
        .column(two_factor::Column::UserId)
        .filter(two_factor::Column::UserId.is_in(ids.iter().copied()))
        .filter(two_factor::Column::EnabledAt.is_not_null())
        .into_tuple()
        .all(conn)
        .await?)
}
