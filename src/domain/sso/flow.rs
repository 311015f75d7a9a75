//! The OpenID Connect authorization code flow with PKCE (the `openidconnect` crate does
//! the protocol). `begin` reads the provider's discovery document and gives the URL to
//! send the browser to, with what the browser must keep until it comes back (`Pending`:
//! state, nonce, PKCE verifier). `finish` redeems the code and checks the ID token.
//!
//! The code is redeemed with the provider and client the sign-in began with (the code
//! belongs to them); the ID token must then be valid for the provider configured now:
//! its issuer, its audience (the client id), its signature by that provider's keys and
//! the nonce. A provider changed by an admin while someone was signing in therefore
//! refuses that sign-in instead of letting an old client's token in.
use std::sync::OnceLock;
use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::reqwest;
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::config::Provider;
use crate::error::AppError;

/// How long a browser may stay at the provider before its sign-in is refused.
pub const PENDING_MINUTES: i64 = 10;

/// What the browser keeps (in its encrypted session cookie) while at the provider.
#[derive(Clone, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub issuer: String,
    pub client_id: String,
    /// The page to go to after signing in (a path on this site).
    pub next: Option<String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// Who the provider says signed in, once its ID token passed every check.
#[derive(Clone, Debug)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Why a sign-in coming back from the provider is refused. `reason` is what the audit
/// log records; the person is told less (`message`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    WrongIssuer(String),
    WrongAudience(String),
    WrongNonce,
    /// Expired, badly signed, or otherwise not a valid ID token.
    InvalidToken(String),
    /// The provider could not be reached or answered with an error.
    Provider(String),
}

impl Failure {
    pub fn reason(&self) -> &'static str {
        match self {
            Failure::WrongIssuer(_) => "wrong issuer",
            Failure::WrongAudience(_) => "wrong audience",
            Failure::WrongNonce => "wrong nonce",
            Failure::InvalidToken(_) => "invalid token",
            Failure::Provider(_) => "provider error",
        }
    }

    /// What went wrong in detail, for the audit row (never a secret: claim values the
    /// provider sent and error codes).
    pub fn detail(&self) -> String {
        match self {
            Failure::WrongIssuer(d)
            | Failure::WrongAudience(d)
            | Failure::InvalidToken(d)
            | Failure::Provider(d) => d.clone(),
            Failure::WrongNonce => String::new(),
        }
    }
}

/// One HTTP client for every provider request: it follows no redirect (a provider's
/// answer that redirects could otherwise make Cairn fetch any URL) and gives up after
/// 10 seconds.
fn http() -> Result<&'static reqwest::Client, AppError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    let built = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| AppError::Internal(format!("HTTP client: {e}")))?;
    Ok(CLIENT.get_or_init(|| built))
}

/// The provider's discovery document and keys; the error says why not, for a person.
pub async fn discover(issuer: &str) -> Result<CoreProviderMetadata, String> {
    let url = IssuerUrl::new(issuer.to_string()).map_err(|e| format!("'{issuer}': {e}"))?;
    let http = http().map_err(|e| e.to_string())?;
    CoreProviderMetadata::discover_async(url, http)
        .await
        .map_err(|e| {
            let mut why = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                why = format!("{why}: {c}");
                cause = c.source();
            }
            format!("Could not read the provider's discovery document at {issuer}/.well-known/openid-configuration ({why}).")
        })
}

fn secret(provider: &Provider) -> Option<ClientSecret> {
    provider.client_secret.clone().map(ClientSecret::new)
}

fn redirect_url(redirect: &str) -> Result<RedirectUrl, AppError> {
    RedirectUrl::new(redirect.to_string())
        .map_err(|e| AppError::Internal(format!("redirect URL {redirect}: {e}")))
}

/// Where to send the browser, and what it must keep until it comes back to `redirect`.
pub async fn begin(
    provider: &Provider,
    redirect: &str,
    next: Option<String>,
) -> Result<(String, Pending), AppError> {
    let meta = discover(&provider.issuer)
        .await
        .map_err(AppError::Unavailable)?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(provider.client_id.clone()),
        secret(provider),
    )
    .set_redirect_uri(redirect_url(redirect)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        issuer: provider.issuer.clone(),
        client_id: provider.client_id.clone(),
        next,
        started_at: crate::domain::now(),
    };
    Ok((url.to_string(), pending))
}

/// Redeems `code` and checks the ID token against `now` (the provider configured now).
/// The state was checked by the caller.
pub async fn finish(
    now: &Provider,
    pending: &Pending,
    code: &str,
    redirect: &str,
) -> Result<Result<Identity, Failure>, AppError> {
    let http = http()?;
    let meta = match discover(&pending.issuer).await {
        Ok(m) => m,
        Err(e) => return Ok(Err(Failure::Provider(e))),
    };
    let began = Provider {
        issuer: pending.issuer.clone(),
        client_id: pending.client_id.clone(),
        ..now.clone()
    };
    let client = CoreClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(began.client_id.clone()),
        secret(&began),
    )
    .set_redirect_uri(redirect_url(redirect)?);
    let request = match client.exchange_code(AuthorizationCode::new(code.to_string())) {
        Ok(r) => r,
        Err(e) => return Ok(Err(Failure::Provider(e.to_string()))),
    };
    let token = match request
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(http)
        .await
    {
        Ok(t) => t,
        Err(e) => return Ok(Err(Failure::Provider(token_error(&e)))),
    };
    let Some(id_token) = token.id_token() else {
        return Ok(Err(Failure::InvalidToken(
            "the token response has no ID token".into(),
        )));
    };
    let meta_now = if now.issuer == pending.issuer {
        meta
    } else {
        match discover(&now.issuer).await {
            Ok(m) => m,
            Err(e) => return Ok(Err(Failure::Provider(e))),
        }
    };
    let client_now = CoreClient::from_provider_metadata(
        meta_now,
        ClientId::new(now.client_id.clone()),
        secret(now),
    );
    let verifier = client_now.id_token_verifier();
    let claims = match id_token.claims(&verifier, &Nonce::new(pending.nonce.clone())) {
        Ok(c) => c,
        Err(e) => return Ok(Err(failure(e))),
    };
    Ok(Ok(Identity {
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
    }))
}

fn failure(e: ClaimsVerificationError) -> Failure {
    match e {
        ClaimsVerificationError::InvalidIssuer(d) => Failure::WrongIssuer(d),
        ClaimsVerificationError::InvalidAudience(d) => Failure::WrongAudience(d),
        ClaimsVerificationError::InvalidNonce(_) => Failure::WrongNonce,
        other => Failure::InvalidToken(other.to_string()),
    }
}

/// The token endpoint's refusal in a line: its OAuth error code when it sent one.
fn token_error<RE: std::error::Error + 'static>(
    e: &openidconnect::RequestTokenError<
        RE,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> String {
    match e {
        openidconnect::RequestTokenError::ServerResponse(r) => {
            format!("the token endpoint refused the code: {}", r.error())
        }
        other => format!("the token request failed: {other}"),
    }
}
