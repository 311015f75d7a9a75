//! The browser is back from the provider: the answer is checked (state, then the code and
//! the ID token, see `flow`), the identity is matched to a Cairn user by its verified
//! email (or an account is made, when the rules allow), and a session starts, the same
//! server-side session a password sign-in gets. Every outcome is one audit row with the
//! client's address: `sign_in` (via sso) or `sign_in_failed` with the reason. A refusal
//! changes nothing else.
use serde_json::{Value, json};

use super::config::{self, Rules};
use super::flow::{self, Identity, PENDING_MINUTES, Pending};
use crate::domain::two_factor::pending::{self, AfterPassword};
use crate::domain::{Db, audit, constant_time_eq, now, sessions, users};
use crate::error::AppError;

/// What the provider's redirect brought back (its query string).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Answer {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// A finished sign-in: the session's secret for the cookie, and where to go.
#[derive(Debug)]
pub struct SignedIn {
    pub user_id: i64,
    pub secret: String,
    pub next: Option<String>,
    /// The account was made by this sign-in.
    pub created: bool,
}

/// What a verified identity leads to. The provider stands in for the password only: a
/// user with two-factor on (or without it while the organisation requires it) still
/// gives a code, as after a password, so the rule holds whichever way they come in.
#[derive(Debug)]
pub enum Admitted {
    SignedIn(SignedIn),
    /// The pending sign-in's secret, for the browser's cookie (see `two_factor::pending`).
    SecondStep {
        secret: String,
    },
}

/// Finishes the sign-in `pending` began (None: this browser began none, or it was used);
/// `redirect` is the callback URL the flow sent the provider (the code is redeemed with
/// it). A refusal is recorded and comes back as the error to show: 401 when the answer could
/// not be trusted, 403 when it could but this person may not come in.
pub async fn complete(
    db: &Db,
    client: &sessions::Client,
    pending: Option<Pending>,
    answer: &Answer,
    redirect: &str,
) -> Result<Admitted, AppError> {
    let refuse = |reason: &'static str, detail: Value, shown: AppError| {
        refused(db, &client.ip, None, reason, detail, shown)
    };
    let Some(pending) = pending else {
        return Err(refuse("no sign-in started", json!({}), start_again()).await);
    };
    let sent = answer.state.as_deref().unwrap_or("");
    if !constant_time_eq(sent.as_bytes(), pending.state.as_bytes()) {
        return Err(refuse("wrong state", json!({}), start_again()).await);
    }
    if now() - pending.started_at > chrono::Duration::minutes(PENDING_MINUTES) {
        return Err(refuse("expired", json!({}), start_again()).await);
    }
    if let Some(e) = &answer.error {
        let e: String = e.chars().take(100).collect();
        let shown =
            AppError::Unauthorized(format!("The identity provider did not sign you in ({e})."));
        return Err(refuse("provider error", json!({"detail": e}), shown).await);
    }
    let sso = config::load(&db.read).await?;
    let Some(provider) = sso.provider else {
        let shown = AppError::Forbidden("Single sign-on is turned off.".into());
        return Err(refuse("single sign-on off", json!({}), shown).await);
    };
    let code = answer.code.as_deref().unwrap_or("");
    let identity = match flow::finish(&provider, &pending, code, redirect).await? {
        Ok(i) => i,
        Err(f) => {
            let shown = AppError::Unauthorized(
                "The identity provider's answer could not be verified, so you are not signed in. Try again, or ask an admin to check Settings → Sign-in."
                    .into(),
            );
            return Err(refuse(f.reason(), json!({"detail": f.detail()}), shown).await);
        }
    };
    admit(db, client, &sso.rules, &identity, pending.next).await
}

fn start_again() -> AppError {
    AppError::Unauthorized(
        "This sign-in was not started in this browser, or took too long. Start again with the button below."
            .into(),
    )
}

/// Matches a verified identity to a user, or makes one, and starts the session (or the
/// second step).
async fn admit(
    db: &Db,
    client: &sessions::Client,
    rules: &Rules,
    identity: &Identity,
    next: Option<String>,
) -> Result<Admitted, AppError> {
    let who = json!({"email": identity.email, "subject": identity.subject});
    let refuse = |reason: &'static str, user_id: Option<i64>, shown: AppError| {
        refused(db, &client.ip, user_id, reason, who.clone(), shown)
    };
    let Some(email) = identity.email.clone().filter(|e| !e.trim().is_empty()) else {
        let shown = AppError::Forbidden(
            "Your identity provider did not give your email address, so you cannot be matched to a Cairn account."
                .into(),
        );
        return Err(refuse("no email", None, shown).await);
    };
    if !identity.email_verified {
        let shown = AppError::Forbidden(format!(
            "Your identity provider has not verified {email}, so it cannot be matched to a Cairn account."
        ));
        return Err(refuse("unverified email", None, shown).await);
    }
    let tx = db.begin_write().await?;
    let existing = users::find_by_email(&tx, &email).await?;
    let (user, created) = match existing {
        Some(u) if !u.active => {
            drop(tx);
            let shown = AppError::Forbidden(
                "Your Cairn account is deactivated; ask an admin to reactivate it.".into(),
            );
            return Err(refuse("deactivated", Some(u.id), shown).await);
        }
        Some(u) => (u, false),
        None => {
            if let Err((reason, shown)) = may_create(rules, &email) {
                drop(tx);
                return Err(refuse(reason, None, shown).await);
            }
            let input = users::NewUser {
                name: identity
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string()),
                email: email.clone(),
                password: String::new(),
                role: rules.default_role.as_str().into(),
            };
            (users::create_external_in(&tx, &input, "sso").await?, true)
        }
    };
    if created {
        // The account exists whatever the second step brings.
        tx.commit().await?;
        db.auth_cache.forget();
    } else {
        drop(tx);
    }
    let later = next.clone().unwrap_or_default();
    if let AfterPassword::Pending { secret } = pending::after_password(db, &user, &later).await? {
        return Ok(Admitted::SecondStep { secret });
    }
    let secret = start_session(db, client, user.id, identity).await?;
    Ok(Admitted::SignedIn(SignedIn {
        user_id: user.id,
        secret,
        next,
        created,
    }))
}

/// The session of user `user_id`, signed in through SSO, and its audit row: one
/// transaction. Returns the session's secret.
async fn start_session(
    db: &Db,
    client: &sessions::Client,
    user_id: i64,
    identity: &Identity,
) -> Result<String, AppError> {
    let tx = db.begin_write().await?;
    let secret = sessions::start(&tx, user_id, client).await?;
    let ua: String = client.user_agent.chars().take(255).collect();
    audit::record_as(
        &tx,
        Some(user_id),
        Some(&client.ip),
        "sign_in",
        "user",
        user_id,
        Some(json!({"via": "sso", "subject": identity.subject, "user_agent": ua})),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Whether an unknown person with this verified email gets an account.
fn may_create(rules: &Rules, email: &str) -> Result<(), (&'static str, AppError)> {
    if !rules.create_users {
        return Err((
            "unknown user",
            AppError::Forbidden(format!(
                "No Cairn account has the email {email}. Ask an admin to invite you."
            )),
        ));
    }
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_lowercase())
        .unwrap_or_default();
    if !rules.allowed_domains.contains(&domain) {
        return Err((
            "domain not allowed",
            AppError::Forbidden(format!(
                "No Cairn account has the email {email}, and accounts are made automatically only for addresses at {}. Ask an admin to invite you.",
                rules.allowed_domains.join(", ")
            )),
        ));
    }
    Ok(())
}

/// Records a refused sign-in (by `user_id` when it is known whose it was) and gives back
/// `shown`, the error the person sees; an error writing the row wins over it.
async fn refused(
    db: &Db,
    ip: &str,
    user_id: Option<i64>,
    reason: &str,
    mut detail: Value,
    shown: AppError,
) -> AppError {
    if let Some(map) = detail.as_object_mut() {
        map.insert("via".into(), json!("sso"));
        map.insert("reason".into(), json!(reason));
    }
    let written = audit::record_as(
        &db.write,
        user_id,
        Some(ip),
        "sign_in_failed",
        "user",
        user_id.unwrap_or(0),
        Some(detail),
    )
    .await;
    match written {
        Ok(()) => shown,
        Err(e) => e,
    }
}
