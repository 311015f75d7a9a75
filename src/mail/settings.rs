//! Which SMTP server and From address apply. Each can come from the environment
//! (`CAIRN_SMTP_URL`, `CAIRN_MAIL_FROM`) or from Settings → Email (the `settings` table);
//! **the environment wins**, so an install configured by its operator cannot be changed
//! from the browser, and the page says which applies. The SMTP password is kept apart
//! from the URL (`mail.smtp_password`) and is never shown again once saved.
use lettre::message::Mailbox;
use sea_orm::ConnectionTrait;
use serde::Deserialize;

use super::{Env, SmtpUrl};
use crate::domain::{Action, Actor, Db, FieldErrorsExt, audit, has_control, settings};
use crate::error::{AppError, FieldErrors};

const SMTP_URL: &str = "mail.smtp_url";
const SMTP_PASSWORD: &str = "mail.smtp_password";
const FROM: &str = "mail.from";
pub const ORG_NAME: &str = "org_name";
pub const DEFAULT_ORG_NAME: &str = "Cairn";
/// The From address when none is set: a local address a test server accepts; real
/// servers usually want one of their own domains (the page says so).
pub const DEFAULT_FROM: &str = "cairn@localhost";

/// Where a setting's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Env,
    Settings,
    Default,
}

/// What applies now.
#[derive(Clone, Debug)]
pub struct Effective {
    pub smtp: Option<SmtpUrl>,
    pub smtp_source: Source,
    pub from: Mailbox,
    pub from_source: Source,
    pub org_name: String,
}

pub fn parse_from(raw: &str) -> Result<Mailbox, String> {
    raw.trim().parse::<Mailbox>().map_err(|e| {
        format!(
            "'{raw}' is not an address like crm@example.com or Acme CRM <crm@example.com> ({e})"
        )
    })
}

pub async fn org_name(conn: &impl ConnectionTrait) -> Result<String, AppError> {
    Ok(settings::get(conn, ORG_NAME)
        .await?
        .unwrap_or_else(|| DEFAULT_ORG_NAME.into()))
}

/// The settings that apply. A stored value that no longer parses counts as unset (it
/// was checked when saved; this only guards against hand edits).
pub async fn effective(conn: &impl ConnectionTrait, env: &Env) -> Result<Effective, AppError> {
    let org_name = org_name(conn).await?;
    let (smtp, smtp_source) = match &env.smtp {
        Some(s) => (Some(s.clone()), Source::Env),
        None => match settings::get(conn, SMTP_URL).await? {
            Some(raw) => {
                let password = settings::get(conn, SMTP_PASSWORD).await?;
                match SmtpUrl::parse(&raw) {
                    Ok(s) => (Some(s.with_password(password)), Source::Settings),
                    Err(_) => (None, Source::Default),
                }
            }
            None => (None, Source::Default),
        },
    };
    let stored_from = match &env.from {
        Some(_) => None,
        None => settings::get(conn, FROM)
            .await?
            .and_then(|f| parse_from(&f).ok()),
    };
    let (mut from, from_source) = match (&env.from, stored_from) {
        (Some(f), _) => (f.clone(), Source::Env),
        (None, Some(f)) => (f, Source::Settings),
        (None, None) => (
            parse_from(DEFAULT_FROM).map_err(AppError::Internal)?,
            Source::Default,
        ),
    };
    if from.name.is_none() {
        from.name = Some(org_name.clone());
    }
    Ok(Effective {
        smtp,
        smtp_source,
        from,
        from_source,
        org_name,
    })
}

/// What an admin saves in Settings → Email. An empty password keeps the saved one.
#[derive(Debug, Default, Deserialize)]
pub struct Form {
    #[serde(default)]
    pub smtp_url: String,
    #[serde(default)]
    pub smtp_password: String,
    #[serde(default)]
    pub clear_password: Option<String>,
    #[serde(default)]
    pub mail_from: String,
}

/// The stored (not the effective) values, as the form shows them: never the password.
pub struct Stored {
    pub smtp_url: String,
    pub has_password: bool,
    pub mail_from: String,
}

pub async fn stored(conn: &impl ConnectionTrait) -> Result<Stored, AppError> {
    Ok(Stored {
        smtp_url: settings::get(conn, SMTP_URL).await?.unwrap_or_default(),
        has_password: settings::get(conn, SMTP_PASSWORD).await?.is_some(),
        mail_from: settings::get(conn, FROM).await?.unwrap_or_default(),
    })
}

/// Saves the form (admins). A password typed into the URL is moved to the password.
pub async fn save(db: &Db, actor: &Actor, form: &Form) -> Result<(), AppError> {
    actor.require(Action::EmailSettings)?;
    let mut fields = FieldErrors::new();
    let url = form.smtp_url.trim();
    let mut smtp = None;
    if !url.is_empty() {
        match SmtpUrl::parse(url) {
            Ok(s) => smtp = Some(s),
            Err(e) => fields.set("smtp_url", e),
        }
    }
    let from = form.mail_from.trim();
    if !from.is_empty()
        && let Err(e) = parse_from(from)
    {
        fields.set("mail_from", e);
    }
    if has_control(&form.smtp_password) {
        fields.set(
            "smtp_password",
            "The password cannot hold control characters.",
        );
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let typed = smtp.as_mut().and_then(SmtpUrl::take_password);
    let password =
        typed.or_else(|| (!form.smtp_password.is_empty()).then(|| form.smtp_password.clone()));
    let tx = db.begin_write().await?;
    let before = serde_json::json!({
        "smtp_url": settings::get(&tx, SMTP_URL).await?,
        "from": settings::get(&tx, FROM).await?,
    });
    match &smtp {
        Some(s) => settings::set(&tx, SMTP_URL, &s.shown()).await?,
        None => settings::delete(&tx, SMTP_URL).await?,
    }
    if let Some(p) = &password {
        settings::set(&tx, SMTP_PASSWORD, p).await?;
    } else if form.clear_password.is_some() || smtp.is_none() {
        settings::delete(&tx, SMTP_PASSWORD).await?;
    }
    put(&tx, FROM, from).await?;
    let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let after = serde_json::json!({
        "smtp_url": smtp.as_ref().map(SmtpUrl::shown),
        "from": some(from),
    });
    // The password itself never enters the log, only that it changed.
    let details = serde_json::json!({
        "smtp_url": smtp.as_ref().map(SmtpUrl::shown),
        "password_changed": password.is_some(),
        "from": from,
        "changes": audit::diff(&before, &after),
    });
    audit::record(
        &tx,
        Some(actor),
        "set_mail_settings",
        "settings",
        0,
        Some(details),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn put(conn: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), AppError> {
    if value.is_empty() {
        settings::delete(conn, key).await
    } else {
        settings::set(conn, key, value).await
    }
}
