//! Settings → Organisation: the workspace's name (in the header and emails), the time
//! zone new users start in, the currency new deals start in, how long a sign-in lasts,
//! and the two access rules (reps see only their own records; two-factor required).
//! Each is a row of the `settings` table, so every process of an install shares them.
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::deals::CURRENCIES;
use crate::domain::{Action, Actor, Db, FieldErrorsExt, audit, has_control, settings};
use crate::entities::setting;
use crate::error::{AppError, FieldErrors};
use crate::mail::settings::{DEFAULT_ORG_NAME, ORG_NAME};

pub const TIME_ZONE: &str = "org.time_zone";
/// Shared with Settings → Pipelines' older form and `deals::org_currency`.
pub const CURRENCY: &str = "currency";
pub const SESSION_DAYS: &str = "org.session_days";
pub const OWN_RECORDS_ONLY: &str = "own_records_only";
pub const REQUIRE_2FA: &str = "require_2fa";

/// A sign-in lasts this long unless an admin says otherwise.
pub const DEFAULT_SESSION_DAYS: i64 = 14;
/// The longest an admin may make a sign-in last (the cookie's own lifetime).
pub const MAX_SESSION_DAYS: i64 = 90;

const KEYS: [&str; 6] = [
    ORG_NAME,
    TIME_ZONE,
    CURRENCY,
    SESSION_DAYS,
    OWN_RECORDS_ONLY,
    REQUIRE_2FA,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub name: String,
    pub time_zone: String,
    pub currency: String,
    pub session_days: i64,
    pub own_records_only: bool,
    pub require_2fa: bool,
}

impl Organisation {
    fn as_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "time_zone": self.time_zone,
            "currency": self.currency,
            "session_days": self.session_days,
            "own_records_only": self.own_records_only,
            "require_2fa": self.require_2fa,
        })
    }
}

/// The settings as stored, with the defaults for those never set; one read.
pub async fn load(conn: &impl ConnectionTrait) -> Result<Organisation, AppError> {
    let rows = setting::Entity::find()
        .filter(setting::Column::Key.is_in(KEYS))
        .all(conn)
        .await?;
    let get = |k: &str| rows.iter().find(|r| r.key == k).map(|r| r.value.as_str());
    Ok(Organisation {
        name: get(ORG_NAME).unwrap_or(DEFAULT_ORG_NAME).to_string(),
        time_zone: stored_zone(get(TIME_ZONE)),
        currency: get(CURRENCY).unwrap_or("USD").to_string(),
        session_days: stored_days(get(SESSION_DAYS)),
        own_records_only: get(OWN_RECORDS_ONLY) == Some("true"),
        require_2fa: get(REQUIRE_2FA) == Some("true"),
    })
}

/// The settings for drawing pages (the header's name): read at most every few seconds
/// per process, so a change shows in other processes within that time and at once in
/// the one that saved it.
pub async fn cached(db: &Db) -> Result<Arc<Organisation>, AppError> {
    if let Some(o) = db.org_cache.get(&()) {
        return Ok(o);
    }
    let o = Arc::new(load(&db.read).await?);
    db.org_cache.insert((), o.clone());
    Ok(o)
}

/// The form as typed.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub name: String,
    pub time_zone: String,
    pub currency: String,
    pub session_days: String,
    pub own_records_only: bool,
    pub require_2fa: bool,
}

fn check(form: &Form) -> Result<Organisation, AppError> {
    let mut fields = FieldErrors::new();
    let name = form.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 120 || has_control(&name) {
        fields.set(
            "name",
            "The organisation's name is 1 to 120 characters of text.",
        );
    }
    let tz = form.time_zone.trim().parse::<chrono_tz::Tz>();
    if tz.is_err() {
        fields.set(
            "time_zone",
            "Pick a time zone from the list (an IANA name such as Europe/Paris).",
        );
    }
    let currency = form.currency.trim().to_uppercase();
    if !CURRENCIES.contains(&currency.as_str()) {
        fields.set(
            "currency",
            "Currency must be an ISO code such as USD or EUR.",
        );
    }
    let days = form.session_days.trim().parse::<i64>();
    let days = match days {
        Ok(d) if (1..=MAX_SESSION_DAYS).contains(&d) => d,
        _ => {
            fields.set(
                "session_days",
                format!("A sign-in lasts from 1 to {MAX_SESSION_DAYS} days."),
            );
            DEFAULT_SESSION_DAYS
        }
    };
    match tz {
        Ok(tz) if fields.is_empty() => Ok(Organisation {
            name,
            time_zone: tz.name().to_string(),
            currency,
            session_days: days,
            own_records_only: form.own_records_only,
            require_2fa: form.require_2fa,
        }),
        _ => Err(AppError::validation(fields)),
    }
}

/// Saves the whole form (admins), with the changed fields in the audit log, in one
/// transaction.
pub async fn save(db: &Db, actor: &Actor, form: &Form) -> Result<Organisation, AppError> {
    actor.require(Action::OrgSettings)?;
    let new = check(form)?;
    let tx = db.begin_write().await?;
    let old = load(&tx).await?;
    let flag = |b: bool| if b { "true" } else { "false" };
    settings::set(&tx, ORG_NAME, &new.name).await?;
    settings::set(&tx, TIME_ZONE, &new.time_zone).await?;
    settings::set(&tx, CURRENCY, &new.currency).await?;
    settings::set(&tx, SESSION_DAYS, &new.session_days.to_string()).await?;
    settings::set(&tx, OWN_RECORDS_ONLY, flag(new.own_records_only)).await?;
    settings::set(&tx, REQUIRE_2FA, flag(new.require_2fa)).await?;
    let changes = audit::diff(&old.as_json(), &new.as_json());
    audit::record(
        &tx,
        Some(actor),
        "set_organisation",
        "settings",
        0,
        Some(serde_json::json!({"changes": changes})),
    )
    .await?;
    tx.commit().await?;
    db.org_cache.clear();
    // Seen by record-level access on the next request (its cache may have read the
    // setting between the write and the commit).
    crate::domain::access::settings_changed();
    Ok(new)
}

/// A stored zone, or UTC for none (or a hand-edited one the tz database does not know).
fn stored_zone(v: Option<&str>) -> String {
    v.filter(|z| z.parse::<chrono_tz::Tz>().is_ok())
        .unwrap_or("UTC")
        .to_string()
}

/// A stored sign-in lifetime, or the default for none or one out of range.
fn stored_days(v: Option<&str>) -> i64 {
    v.and_then(|d| d.parse().ok())
        .filter(|d| (1..=MAX_SESSION_DAYS).contains(d))
        .unwrap_or(DEFAULT_SESSION_DAYS)
}

/// How long a sign-in made now lasts.
pub async fn session_days(conn: &impl ConnectionTrait) -> Result<i64, AppError> {
    Ok(stored_days(
        settings::get(conn, SESSION_DAYS).await?.as_deref(),
    ))
}

/// The time zone a new user starts in.
pub async fn default_time_zone(conn: &impl ConnectionTrait) -> Result<String, AppError> {
    Ok(stored_zone(
        settings::get(conn, TIME_ZONE).await?.as_deref(),
    ))
}
