//! The webhook's signing secrets: `CAIRN_STRIPE_WEBHOOK_SECRET`, and the current and
//! previous secret set on Settings → Integrations → Stripe (setting a new one keeps the
//! old as previous, so both verify while Stripe rolls over). Never logged; shown masked.
use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::config::Secret;
use crate::domain::{Action, Actor, Db, audit, settings};
use crate::entities::setting;
use crate::error::AppError;

const CURRENT: &str = "stripe.webhook_secret";
const PREVIOUS: &str = "stripe.webhook_secret_previous";

/// The secrets as the settings page shows them.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub env: Option<String>,
    pub current: Option<String>,
    pub previous: Option<String>,
}

/// Every secret that verifies a delivery now.
pub async fn active(db: &Db, env: Option<&Secret>) -> Result<Vec<String>, AppError> {
    let mut all: Vec<String> = env.map(|s| s.0.clone()).into_iter().collect();
    all.extend(stored(db).await?.iter().cloned());
    Ok(all)
}

/// The secrets set in the settings, read at most every `cache::TTL` (a delivery would
/// otherwise cost a read): a rotation made in this process counts at once, one made in
/// another within 5 s, well inside the hours Stripe signs with both secrets.
async fn stored(db: &Db) -> Result<Arc<Vec<String>>, AppError> {
    if let Some(found) = db.stripe_secrets.get(&()) {
        return Ok(found);
    }
    let rows = setting::Entity::find()
        .filter(setting::Column::Key.is_in([CURRENT, PREVIOUS]))
        .all(&db.read)
        .await?;
    let list = Arc::new(rows.into_iter().map(|s| s.value).collect::<Vec<_>>());
    db.stripe_secrets.insert((), list.clone());
    Ok(list)
}

/// `whsec_abcdef…` → `whsec_…cdef`: enough to tell two secrets apart.
pub fn mask(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let head = if secret.starts_with("whsec_") {
        "whsec_"
    } else {
        ""
    };
    format!("{head}…{tail}")
}

pub async fn shown(db: &Db, actor: &Actor, env: Option<&Secret>) -> Result<Shown, AppError> {
    actor.require(Action::Integrations)?;
    Ok(Shown {
        env: env.map(|s| mask(&s.0)),
        current: settings::get(&db.read, CURRENT).await?.map(|s| mask(&s)),
        previous: settings::get(&db.read, PREVIOUS).await?.map(|s| mask(&s)),
    })
}

/// Sets a new current secret; the one it replaces stays valid as the previous.
pub async fn rotate(db: &Db, actor: &Actor, secret: &str) -> Result<(), AppError> {
    actor.require(Action::Integrations)?;
    let secret = secret.trim();
    if secret.len() < 8 || secret.len() > 255 || secret.chars().any(char::is_whitespace) {
        return Err(AppError::field(
            "secret",
            "Paste the endpoint's signing secret from Stripe (whsec_…), 8 to 255 characters without spaces.",
        ));
    }
    let tx = db.begin_write().await?;
    if let Some(old) = settings::get(&tx, CURRENT).await?
        && old != secret
    {
        settings::set(&tx, PREVIOUS, &old).await?;
    }
    settings::set(&tx, CURRENT, secret).await?;
    audit::record(&tx, Some(actor), "update", "stripe_secret", 0, None).await?;
    tx.commit().await?;
    db.stripe_secrets.clear();
    Ok(())
}

/// Ends the rotation: the previous secret no longer verifies.
pub async fn drop_previous(db: &Db, actor: &Actor) -> Result<(), AppError> {
    actor.require(Action::Integrations)?;
    let tx = db.begin_write().await?;
    settings::delete(&tx, PREVIOUS).await?;
    audit::record(&tx, Some(actor), "delete", "stripe_secret", 0, None).await?;
    tx.commit().await?;
    db.stripe_secrets.clear();
    Ok(())
}
