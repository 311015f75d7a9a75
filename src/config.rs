//! Every setting, read once at start from `CAIRN_*` variables and flags, and validated
//! before anything else happens, so a bad value stops the process with one clear line.
use std::net::SocketAddr;

use clap::Args;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/cairn.db";

#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Database URL: `sqlite://path/to/file.db` or `postgres://user:pass@host/db`.
    #[arg(long, env = "CAIRN_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// Address and port to listen on.
    #[arg(
        long,
        env = "CAIRN_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,
    /// Public URL of this server, e.g. `https://crm.example.com`; https makes cookies Secure.
    #[arg(long, env = "CAIRN_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// Secret for cookie encryption (at least 32 characters). Generated and kept in the
    /// database when unset.
    #[arg(long, env = "CAIRN_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Log filter, e.g. `info` or `cairn=debug,info`.
    #[arg(long, env = "CAIRN_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Trust `X-Forwarded-For` for the client address (only behind a reverse proxy).
    #[arg(
        long,
        env = "CAIRN_BEHIND_PROXY",
        default_value_t = false,
        global = true
    )]
    pub behind_proxy: bool,
    /// Background jobs this process runs at once (0: it runs none, only serves pages).
    #[arg(long, env = "CAIRN_JOB_WORKERS", default_value = "4", global = true)]
    pub job_workers: String,
    /// SMTP server for outgoing email, e.g. `smtp://user:password@mail.example.com:587`
    /// (STARTTLS), `smtps://…:465`, or `smtp://127.0.0.1:25?tls=none`; overrides
    /// Settings → Email.
    #[arg(long, env = "CAIRN_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From of outgoing email, e.g. `Acme CRM <crm@acme.example>`; overrides
    /// Settings → Email.
    #[arg(long, env = "CAIRN_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// Let outbound webhooks reach loopback, private, link-local and metadata addresses
    /// (`true` for a receiver on the LAN; refused by default against SSRF).
    #[arg(
        long,
        env = "CAIRN_WEBHOOKS_ALLOW_PRIVATE",
        default_value = "false",
        global = true
    )]
    pub webhooks_allow_private: String,
    /// The signing secret of the Stripe webhook endpoint (`whsec_…`), checked on every
    /// `POST /webhooks/stripe`; the secrets of Settings → Integrations → Stripe are
    /// accepted as well (two may be active during a rotation).
    #[arg(
        long,
        env = "CAIRN_STRIPE_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub stripe_webhook_secret: Option<String>,
    /// A bearer token that lets a Prometheus scraper read `GET /metrics` (at least 16
    /// characters); a token made under Settings → Monitoring is accepted as well.
    #[arg(
        long,
        env = "CAIRN_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// A second address that serves `GET /metrics` alone, without a token (e.g.
    /// `127.0.0.1:9464`, reachable only from the machine or a private network).
    #[arg(long, env = "CAIRN_METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,
    /// Send traces over OTLP/HTTP (JSON) to this collector, e.g. `http://127.0.0.1:4318`
    /// (spans go to `<endpoint>/v1/traces`). Off when unset.
    #[arg(long, env = "CAIRN_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
    /// Log lines as text, or `json` for one JSON object per line.
    #[arg(long, env = "CAIRN_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub base_url: String,
    pub secure_cookies: bool,
    pub secret_key: Option<String>,
    pub log: String,
    pub behind_proxy: bool,
    pub job_workers: usize,
    /// Email settings from the environment (each overrides Settings → Email).
    pub mail: crate::mail::Env,
    /// `CAIRN_WEBHOOKS_ALLOW_PRIVATE`: webhooks may reach private addresses.
    pub webhooks_allow_private: bool,
    /// `CAIRN_STRIPE_WEBHOOK_SECRET`, when set (never logged: `Debug` hides it).
    pub stripe_secret: Option<Secret>,
    /// `CAIRN_METRICS_TOKEN`, when set.
    pub metrics_token: Option<Secret>,
    /// `CAIRN_METRICS_BIND`: where `/metrics` is served without a token.
    pub metrics_bind: Option<SocketAddr>,
    /// `CAIRN_LOG_FORMAT=json`.
    pub log_json: bool,
    /// `CAIRN_OTLP_ENDPOINT`: where traces go (none: no traces).
    pub otlp_endpoint: Option<String>,
}

/// A secret kept in the configuration, shown by `Debug` as `***` so a logged `Config`
/// never holds it.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A setting that cannot be used, named so the operator knows what to fix.
#[derive(Debug)]
pub struct ConfigError {
    pub setting: &'static str,
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid {}: {}", self.setting, self.reason)
    }
}

fn bad(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        reason: reason.into(),
    }
}

impl Settings {
    /// The settings checked, each refusal naming its setting. Long on purpose: one short
    /// check per setting, so every setting's rule is read in one place.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let url = self.database_url.trim();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(bad(
                "CAIRN_DATABASE_URL",
                format!(
                    "'{}' must start with sqlite: or postgres://",
                    redact_url(url)
                ),
            ));
        }
        let bind: SocketAddr = self.bind.trim().parse().map_err(|_| {
            bad(
                "CAIRN_BIND",
                format!("'{}' is not an address like 127.0.0.1:8080", self.bind),
            )
        })?;
        let (base_url, secure_cookies) = match &self.base_url {
            None => (format!("http://{bind}"), false),
            Some(raw) => {
                let parsed = url::Url::parse(raw.trim())
                    .map_err(|e| bad("CAIRN_BASE_URL", format!("'{raw}' is not a URL ({e})")))?;
                match parsed.scheme() {
                    "http" | "https" => {}
                    other => {
                        return Err(bad(
                            "CAIRN_BASE_URL",
                            format!("scheme '{other}' is not http or https"),
                        ));
                    }
                }
                if parsed.host_str().is_none() {
                    return Err(bad("CAIRN_BASE_URL", format!("'{raw}' has no host")));
                }
                (
                    raw.trim().trim_end_matches('/').to_string(),
                    parsed.scheme() == "https",
                )
            }
        };
        if let Some(key) = &self.secret_key
            && key.len() < 32
        {
            return Err(bad(
                "CAIRN_SECRET_KEY",
                "must be at least 32 characters long",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(bad(
                "CAIRN_LOG",
                format!(
                    "'{}' is not a log filter like info or cairn=debug",
                    self.log
                ),
            ));
        }
        let job_workers = match self.job_workers.trim().parse::<usize>() {
            Ok(n) if n <= 64 => n,
            _ => {
                return Err(bad(
                    "CAIRN_JOB_WORKERS",
                    format!("'{}' is not a number from 0 to 64", self.job_workers),
                ));
            }
        };
        let webhooks_allow_private = match self.webhooks_allow_private.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" | "" => false,
            other => {
                return Err(bad(
                    "CAIRN_WEBHOOKS_ALLOW_PRIVATE",
                    format!("'{other}' is not true or false"),
                ));
            }
        };
        let metrics_token = match self.metrics_token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.len() < 16 || t.len() > 200 || t.chars().any(char::is_whitespace) => {
                return Err(bad(
                    "CAIRN_METRICS_TOKEN",
                    "must be 16 to 200 characters without spaces",
                ));
            }
            Some(t) => Some(Secret(t.to_string())),
        };
        let metrics_bind = match self.metrics_bind.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(raw.parse::<SocketAddr>().map_err(|_| {
                bad(
                    "CAIRN_METRICS_BIND",
                    format!("'{raw}' is not an address like 127.0.0.1:9464"),
                )
            })?),
        };
        if metrics_bind == Some(bind) {
            return Err(bad(
                "CAIRN_METRICS_BIND",
                "must differ from CAIRN_BIND (the pages' address needs a token for /metrics)",
            ));
        }
        let otlp_endpoint = match self.otlp_endpoint.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                    Some(raw.trim_end_matches('/').to_string())
                }
                _ => {
                    return Err(bad(
                        "CAIRN_OTLP_ENDPOINT",
                        format!("'{raw}' is not an http(s) URL like http://127.0.0.1:4318"),
                    ));
                }
            },
        };
        let log_json = match self.log_format.trim() {
            "json" => true,
            "text" | "" => false,
            other => {
                return Err(bad(
                    "CAIRN_LOG_FORMAT",
                    format!("'{other}' is not text or json"),
                ));
            }
        };
        let mail = crate::mail::Env::from_settings(
            self.smtp_url.as_deref(),
            self.mail_from.as_deref(),
            &base_url,
        )
        .map_err(|(setting, reason)| bad(setting, reason))?;
        Ok(Config {
            mail,
            database_url: url.to_string(),
            bind,
            base_url,
            secure_cookies,
            secret_key: self.secret_key.clone(),
            log: self.log.clone(),
            behind_proxy: self.behind_proxy,
            job_workers,
            webhooks_allow_private,
            stripe_secret: self
                .stripe_webhook_secret
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Secret(s.to_string())),
            metrics_token,
            metrics_bind,
            log_json,
            otlp_endpoint,
        })
    }
}

/// Hides the password of a database URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Settings for tests and tools: defaults everywhere but the database.
    pub fn for_database(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_string(),
            bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            base_url: "http://localhost".to_string(),
            secure_cookies: false,
            secret_key: None,
            log: "warn".into(),
            behind_proxy: false,
            job_workers: crate::jobs::worker::DEFAULT_WORKERS,
            mail: crate::mail::Env::default(),
            webhooks_allow_private: false,
            stripe_secret: None,
            metrics_token: None,
            metrics_bind: None,
            log_json: false,
            otlp_endpoint: None,
        }
    }
}
