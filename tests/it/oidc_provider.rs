//! The real OpenID Connect provider the single sign-on tests sign in with
//! (tests/oidc/provider.py: `oidc-provider-mock` from PyPI), and a browser's part of a
//! sign-in: following Cairn to the provider, choosing who signs in there, and coming
//! back. `scripts/test` installs the provider into `target/python`, starts it and sets
//! `CAIRN_TEST_OIDC` (host:port); without it the tests start it themselves and fail,
//! loudly, when they cannot.
use std::sync::OnceLock;

use cairn::domain::sso::config::{self, Form};
use cairn::domain::{Actor, Db};
use openidconnect::reqwest;
use serde_json::Value;

use crate::support::{Client, Response, TestService};

pub(crate) struct Provider {
    /// http://127.0.0.1:PORT, the issuer.
    pub issuer: String,
    pub port: u16,
    _server: Option<std::process::Child>,
}

static PROVIDER: OnceLock<Provider> = OnceLock::new();

pub(crate) fn provider() -> &'static Provider {
    PROVIDER.get_or_init(|| match std::env::var("CAIRN_TEST_OIDC") {
        Ok(addr) => Provider {
            issuer: format!("http://{addr}"),
            port: addr.rsplit(':').next().unwrap().parse().unwrap(),
            _server: None,
        },
        Err(_) => start(),
    })
}

fn start() -> Provider {
    let port = crate::cli::free_port();
    let child = crate::python_server::start(
        "oidc/provider.py",
        &["127.0.0.1", &port.to_string()],
        "it needs oidc-provider-mock: `python3 -m pip install --target target/python \
         oidc-provider-mock==0.3.4`, or run scripts/test, or set CAIRN_TEST_OIDC",
    );
    Provider {
        issuer: format!("http://127.0.0.1:{port}"),
        port,
        _server: Some(child),
    }
}

/// A subject no other test uses (the provider is shared by every test of the run).
pub(crate) fn unique_subject(who: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{who}-{}-{n}", std::process::id())
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Tells the provider who `sub` is: the claims its ID token will carry.
pub(crate) async fn set_user(sub: &str, claims: Value) {
    let res = http()
        .put(format!("{}/users/{sub}", provider().issuer))
        .header("content-type", "application/json")
        .body(claims.to_string())
        .send()
        .await
        .expect("reach the test provider");
    assert_eq!(
        res.status(),
        204,
        "the provider refused user {sub}: {claims}"
    );
}

/// Signs `sub` in at the provider's authorization `url` (what Cairn redirected to), as
/// its form does; gives the path and query the provider sends the browser back to.
pub(crate) async fn authorize(url: &str, sub: &str) -> String {
    answer(url, &[("sub", sub)]).await
}

/// Presses the provider's Deny button at the authorization `url`; gives the path and
/// query the provider sends the browser back to.
pub(crate) async fn deny(url: &str) -> String {
    answer(url, &[("action", "deny")]).await
}

async fn answer(url: &str, form: &[(&str, &str)]) -> String {
    let res = http()
        .post(url)
        .form(form)
        .send()
        .await
        .expect("reach the test provider");
    assert_eq!(
        res.status(),
        302,
        "the provider did not answer {form:?} at {url} with a redirect: {}",
        res.text().await.unwrap_or_default()
    );
    let back = res.headers()["location"].to_str().unwrap().to_string();
    // Tests run Cairn with the base URL http://localhost.
    back.strip_prefix("http://localhost")
        .unwrap_or_else(|| panic!("the provider sent the browser elsewhere: {back}"))
        .to_string()
}

/// The browser's trip: `/login/sso` sends it to the provider, whose URL `tamper` may
/// change (a forged request); `sub` signs in there; the answer of Cairn's callback.
pub(crate) async fn sign_in_via<S: TestService>(
    c: &mut Client<S>,
    sub: &str,
    tamper: impl FnOnce(String) -> String,
) -> Response {
    let back = go_to_provider(c, sub, tamper).await;
    c.get(&back).await
}

/// The first half of the trip: from Cairn to the provider and back to the callback's
/// address (not yet followed).
pub(crate) async fn go_to_provider<S: TestService>(
    c: &mut Client<S>,
    sub: &str,
    tamper: impl FnOnce(String) -> String,
) -> String {
    let res = c.get("/login/sso").await;
    assert_eq!(res.status, 303, "/login/sso: {}", res.text());
    let to = res.location();
    assert!(
        to.starts_with(&format!("{}/oauth2/authorize?", provider().issuer)),
        "Cairn did not send the browser to the provider: {to}"
    );
    authorize(&tamper(to), sub).await
}

/// Settings → Sign-in as `admin` saves it: the test provider, client id `cairn`.
pub(crate) async fn configure(db: &Db, admin: &Actor, change: impl FnOnce(&mut Form)) {
    let mut form = Form {
        issuer_url: provider().issuer.clone(),
        client_id: "cairn".into(),
        client_secret: "a client secret for the tests".into(),
        label: "Test IdP".into(),
        default_role: "rep".into(),
        ..Default::default()
    };
    change(&mut form);
    config::save(db, admin, &form)
        .await
        .unwrap_or_else(|e| panic!("save the sign-in settings: {e:?}"));
}
