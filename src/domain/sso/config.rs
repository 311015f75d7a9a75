//! The provider and the sign-in rules, as admins set them in Settings → Sign-in. They
//! live in the `settings` table under `sso.*`, so every process of an install reads the
//! same. The client secret is kept like the SMTP password: stored as typed, never put in
//! a log or an audit row, and shown back only as its last characters.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::domain::{Actor, Db, FieldErrorsExt, Role, audit, has_control, settings};
use crate::entities::setting;
use crate::error::{AppError, FieldErrors};

const PREFIX: &str = "sso.";
const ISSUER: &str = "sso.issuer";
const CLIENT_ID: &str = "sso.client_id";
const CLIENT_SECRET: &str = "sso.client_secret";
const LABEL: &str = "sso.label";
const CREATE_USERS: &str = "sso.create_users";
const DOMAINS: &str = "sso.allowed_domains";
const DEFAULT_ROLE: &str = "sso.default_role";
const PASSWORD_ADMINS_ONLY: &str = "sso.password_admins_only";

/// The button's label when the admin gave none: "Sign in with single sign-on".
pub const DEFAULT_LABEL: &str = "single sign-on";
const MAX_DOMAINS: usize = 50;

/// The identity provider Cairn sends browsers to. `Debug` leaves the secret out, so a
/// stray `{:?}` cannot log it.
#[derive(Clone, PartialEq, Eq)]
pub struct Provider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub label: String,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("has_secret", &self.client_secret.is_some())
            .field("label", &self.label)
            .finish()
    }
}

/// Who may sign in how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Unknown users whose verified email is at one of `allowed_domains` get an account.
    pub create_users: bool,
    /// Lower-case domains, without `@`.
    pub allowed_domains: Vec<String>,
    /// The role such a new account gets (never admin).
    pub default_role: Role,
    /// Password sign-in is refused to everyone but admins (who keep it, so a broken
    /// provider cannot lock the install out).
    pub password_admins_only: bool,
}

/// Everything Settings → Sign-in holds. `provider` is None while single sign-on is off.
#[derive(Clone, Debug)]
pub struct Sso {
    pub provider: Option<Provider>,
    pub rules: Rules,
}

/// What is saved now (one query: the `sso.*` rows).
pub async fn load(conn: &impl ConnectionTrait) -> Result<Sso, AppError> {
    let rows = setting::Entity::find()
        .filter(setting::Column::Key.starts_with(PREFIX))
        .all(conn)
        .await?;
    let get = |key: &str| {
        rows.iter()
            .find(|r| r.key == key)
            .map(|r| r.value.clone())
            .filter(|v| !v.is_empty())
    };
    let provider = match (get(ISSUER), get(CLIENT_ID)) {
        (Some(issuer), Some(client_id)) => Some(Provider {
            issuer,
            client_id,
            client_secret: get(CLIENT_SECRET),
            label: get(LABEL).unwrap_or_else(|| DEFAULT_LABEL.into()),
        }),
        _ => None,
    };
    let rules = Rules {
        create_users: get(CREATE_USERS).is_some_and(|v| v == "1"),
        allowed_domains: get(DOMAINS)
            .map(|d| d.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        default_role: get(DEFAULT_ROLE)
            .and_then(|r| Role::parse(&r))
            .unwrap_or(Role::Rep),
        // Only while a provider is set: otherwise nobody but admins could sign in.
        password_admins_only: provider.is_some()
            && get(PASSWORD_ADMINS_ONLY).is_some_and(|v| v == "1"),
    };
    Ok(Sso { provider, rules })
}

/// Why a user with `role` may not sign in with a password, when "password sign-in only
/// for admins" is on and they are not an admin: the message to show them.
pub async fn password_refusal(
    conn: &impl ConnectionTrait,
    role: &str,
) -> Result<Option<String>, AppError> {
    let sso = load(conn).await?;
    Ok(match sso.provider {
        Some(p) if sso.rules.password_admins_only && role != Role::Admin.as_str() => Some(format!(
            "Password sign-in is for admins only here. Use “Sign in with {}” instead.",
            p.label
        )),
        _ => None,
    })
}

/// What an admin posts. An empty secret keeps the saved one.
#[derive(Debug, Default, Deserialize)]
pub struct Form {
    #[serde(default)]
    pub issuer_url: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub clear_secret: Option<String>,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub create_users: Option<String>,
    #[serde(default)]
    pub allowed_domains: String,
    #[serde(default)]
    pub default_role: String,
    #[serde(default)]
    pub password_admins_only: Option<String>,
}

/// The form as the page shows it: the secret only as a hint of its last characters.
#[derive(Debug, Default)]
pub struct Shown {
    pub issuer_url: String,
    pub client_id: String,
    /// "…wxyz" when a secret is saved (its last four characters, only for a long one).
    pub secret_hint: Option<String>,
    pub label: String,
    pub create_users: bool,
    pub allowed_domains: String,
    pub default_role: String,
    pub password_admins_only: bool,
}

pub async fn shown(conn: &impl ConnectionTrait) -> Result<Shown, AppError> {
    let raw = |key| settings::get(conn, key);
    let secret = raw(CLIENT_SECRET).await?;
    Ok(Shown {
        issuer_url: raw(ISSUER).await?.unwrap_or_default(),
        client_id: raw(CLIENT_ID).await?.unwrap_or_default(),
        secret_hint: secret.map(|s| hint(&s)),
        label: raw(LABEL).await?.unwrap_or_default(),
        create_users: raw(CREATE_USERS).await?.is_some_and(|v| v == "1"),
        allowed_domains: raw(DOMAINS).await?.unwrap_or_default().replace(',', ", "),
        default_role: raw(DEFAULT_ROLE)
            .await?
            .unwrap_or_else(|| Role::Rep.as_str().into()),
        password_admins_only: raw(PASSWORD_ADMINS_ONLY).await?.is_some_and(|v| v == "1"),
    })
}

/// Enough of a secret to recognise it, never enough to use it.
fn hint(secret: &str) -> String {
    let n = secret.chars().count();
    if n < 16 {
        return "saved".into();
    }
    let tail: String = secret.chars().skip(n - 4).collect();
    format!("saved, ends in …{tail}")
}

/// The form, checked: what `save` stores.
struct Checked {
    issuer: String,
    client_id: String,
    label: String,
    domains: Vec<String>,
    role: Role,
    create_users: bool,
    password_admins_only: bool,
}

fn check(form: &Form) -> Result<Checked, AppError> {
    let mut fields = FieldErrors::new();
    let issuer = form.issuer_url.trim().trim_end_matches('/').to_string();
    if !issuer.is_empty()
        && let Err(e) = check_issuer(&issuer)
    {
        fields.set("issuer_url", e);
    }
    let client_id = form.client_id.trim().to_string();
    if client_id.chars().count() > 255 || has_control(&client_id) {
        fields.set(
            "client_id",
            "The client id is at most 255 characters of text.",
        );
    } else if !issuer.is_empty() && client_id.is_empty() {
        fields.set("client_id", "Enter the client id the provider gave Cairn.");
    }
    if form.client_secret.chars().count() > 1000 || has_control(&form.client_secret) {
        fields.set(
            "client_secret",
            "The client secret is at most 1000 characters, without control characters.",
        );
    }
    let label = form.label.split_whitespace().collect::<Vec<_>>().join(" ");
    if label.chars().count() > 60 {
        fields.set("label", "The button's label is at most 60 characters.");
    }
    let domains = parse_domains(&form.allowed_domains, &mut fields);
    let create_users = form.create_users.is_some();
    if create_users && domains.is_empty() && !fields.contains_key("allowed_domains") {
        fields.set(
            "allowed_domains",
            "List the email domains whose people get an account, like example.com.",
        );
    }
    let role = match Role::parse(&form.default_role) {
        Some(Role::Admin) => {
            fields.set(
                "default_role",
                "New accounts cannot be admins; promote someone in Users instead.",
            );
            Role::Rep
        }
        Some(r) => r,
        None if form.default_role.trim().is_empty() => Role::Rep,
        None => {
            fields.set("default_role", "Pick manager, rep or viewer.");
            Role::Rep
        }
    };
    let password_admins_only = form.password_admins_only.is_some();
    if password_admins_only && issuer.is_empty() {
        fields.set(
            "password_admins_only",
            "Set up a provider first: without one, only admins could sign in.",
        );
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(Checked {
        issuer,
        client_id,
        label,
        domains,
        role,
        create_users,
        password_admins_only,
    })
}

/// An issuer is an https URL without query or fragment; plain http only on this machine
/// (a provider under test).
fn check_issuer(issuer: &str) -> Result<(), String> {
    let url = url::Url::parse(issuer)
        .map_err(|e| format!("'{issuer}' is not a URL like https://login.example.com ({e})."))?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err("The issuer URL must start with https://.".into()),
    }
    if url.query().is_some() || url.fragment().is_some() || issuer.len() > 500 {
        return Err("The issuer URL has no ? or # part and is at most 500 characters.".into());
    }
    Ok(())
}

/// "example.com, @Example.org\nsub.example.net" → lower-case domains, each once.
fn parse_domains(raw: &str, fields: &mut FieldErrors) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.split(|c: char| c == ',' || c.is_whitespace()) {
        let d = part.trim().trim_start_matches('@').to_lowercase();
        if d.is_empty() || out.contains(&d) {
            continue;
        }
        let labels_ok = d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !l.starts_with('-')
        });
        if !labels_ok || !d.contains('.') || d.len() > 253 {
            fields.set(
                "allowed_domains",
                format!("'{part}' is not a domain like example.com."),
            );
            return out;
        }
        out.push(d);
    }
    if out.len() > MAX_DOMAINS {
        fields.set("allowed_domains", format!("At most {MAX_DOMAINS} domains."));
    }
    out
}

/// Saves the form (admins). A new issuer is checked by reading its discovery document,
/// so a typo is caught here rather than at someone's sign-in.
pub async fn save(db: &Db, actor: &Actor, form: &Form) -> Result<(), AppError> {
    actor.require(crate::domain::Action::OrgSettings)?;
    let c = check(form)?;
    let before = load(&db.read).await?;
    let issuer_changed = before.provider.as_ref().map(|p| p.issuer.as_str()) != Some(&c.issuer);
    if !c.issuer.is_empty() && issuer_changed {
        super::flow::discover(&c.issuer)
            .await
            .map_err(|e| AppError::field("issuer_url", e))?;
    }
    let secret = (!form.client_secret.is_empty()).then(|| form.client_secret.clone());
    let tx = db.begin_write().await?;
    let before_json = shown_json(&shown(&tx).await?);
    put(&tx, ISSUER, &c.issuer).await?;
    put(&tx, CLIENT_ID, &c.client_id).await?;
    put(&tx, LABEL, &c.label).await?;
    if let Some(s) = &secret {
        settings::set(&tx, CLIENT_SECRET, s).await?;
    } else if form.clear_secret.is_some() {
        settings::delete(&tx, CLIENT_SECRET).await?;
    }
    put(&tx, CREATE_USERS, flag(c.create_users)).await?;
    put(&tx, DOMAINS, &c.domains.join(",")).await?;
    put(&tx, DEFAULT_ROLE, c.role.as_str()).await?;
    put(&tx, PASSWORD_ADMINS_ONLY, flag(c.password_admins_only)).await?;
    let after_json = shown_json(&shown(&tx).await?);
    // The secret itself never enters the log, only that it changed.
    let details = serde_json::json!({
        "secret_changed": secret.is_some() || form.clear_secret.is_some(),
        "changes": audit::diff(&before_json, &after_json),
    });
    audit::record(
        &tx,
        Some(actor),
        "set_sign_in_settings",
        "settings",
        0,
        Some(details),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "" }
}

/// The settings as the audit log compares them: never the secret (nor its hint).
fn shown_json(s: &Shown) -> serde_json::Value {
    serde_json::json!({
        "issuer_url": s.issuer_url,
        "client_id": s.client_id,
        "label": s.label,
        "create_users": s.create_users,
        "allowed_domains": s.allowed_domains,
        "default_role": s.default_role,
        "password_admins_only": s.password_admins_only,
    })
}

async fn put(conn: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), AppError> {
    if value.is_empty() {
        settings::delete(conn, key).await
    } else {
        settings::set(conn, key, value).await
    }
}
