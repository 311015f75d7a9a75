//! Who may read `GET /metrics`: a scraper presenting `CAIRN_METRICS_TOKEN` or the token
//! made under Settings → Monitoring (kept as its SHA-256 only, shown once when made), or
//! anyone reaching the separate `CAIRN_METRICS_BIND` address. Nobody by default: the
//! figures name routes, job kinds and traffic, which are nobody else's business.
use chrono::{DateTime, Utc};

use crate::config::Secret;
use crate::domain::{
    Action, Actor, Db, audit, constant_time_eq, now, random_bytes, settings, sha256_hex,
};
use crate::error::AppError;

const HASH: &str = "metrics.token_hash";
const MADE: &str = "metrics.token_made_at";
/// The made token's last four characters, to tell it apart in a scraper's settings.
const HINT: &str = "metrics.token_hint";

/// The stored token as Settings → Monitoring shows it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub hint: String,
    pub made_at: Option<DateTime<Utc>>,
}

pub async fn stored(db: &Db, actor: &Actor) -> Result<Option<Stored>, AppError> {
    actor.require(Action::Monitoring)?;
    if settings::get(&db.read, HASH).await?.is_none() {
        return Ok(None);
    }
    let made_at = settings::get(&db.read, MADE)
        .await?
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    Ok(Some(Stored {
        hint: settings::get(&db.read, HINT).await?.unwrap_or_default(),
        made_at,
    }))
}

/// Makes a new token, replacing any made before (a scraper with the old one is refused
/// from now on), and returns it: the only time it is seen.
pub async fn make(db: &Db, actor: &Actor) -> Result<String, AppError> {
    actor.require(Action::Monitoring)?;
    let token = format!("cairn_metrics_{}", hex::encode(random_bytes::<24>()?));
    let hint: String = token[token.len() - 4..].to_string();
    let tx = db.begin_write().await?;
    settings::set(&tx, HASH, &sha256_hex(token.as_bytes())).await?;
    settings::set(&tx, MADE, &now().to_rfc3339()).await?;
    settings::set(&tx, HINT, &hint).await?;
    audit::record(&tx, Some(actor), "create", "metrics_token", 0, None).await?;
    tx.commit().await?;
    Ok(token)
}

/// Revokes the made token: only `CAIRN_METRICS_TOKEN` (if set) and the separate address
/// still reach the metrics.
pub async fn revoke(db: &Db, actor: &Actor) -> Result<(), AppError> {
    actor.require(Action::Monitoring)?;
    let tx = db.begin_write().await?;
    for key in [HASH, MADE, HINT] {
        settings::delete(&tx, key).await?;
    }
    audit::record(&tx, Some(actor), "delete", "metrics_token", 0, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether `presented` (the `Authorization: Bearer` value) opens the metrics. Read at
/// each scrape (every 15 s or so): a revoked token is refused by every process at once.
pub async fn allows(
    db: &Db,
    env: Option<&Secret>,
    presented: Option<&str>,
) -> Result<bool, AppError> {
    let Some(presented) = presented.filter(|p| !p.is_empty()) else {
        return Ok(false);
    };
    if env.is_some_and(|t| constant_time_eq(t.0.as_bytes(), presented.as_bytes())) {
        return Ok(true);
    }
    Ok(match settings::get(&db.read, HASH).await? {
        Some(hash) => {
            constant_time_eq(hash.as_bytes(), sha256_hex(presented.as_bytes()).as_bytes())
        }
        None => false,
    })
}
