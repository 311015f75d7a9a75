//! The SMTP server as configured (`CAIRN_SMTP_URL` or Settings → Email), and sending one
//! message through it with lettre.
//!
//! URL forms: `smtp://host[:587]` (STARTTLS required), `smtp://host?tls=opportunistic`
//! (STARTTLS when offered), `smtp://host[:25]?tls=none` (plain, for a local relay),
//! `smtps://host[:465]` (TLS from the first byte). `user:password@` logs in; `timeout=S`
//! (1–120 seconds, default 10) bounds each exchange with the server; `ca=/path/ca.pem`
//! also trusts the certificates in that PEM file (a company's own certificate authority),
//! beside the public roots.
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::Instrument;

pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS, and refuse to go on without it.
    StartTls,
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// TLS from the first byte (`smtps://`).
    Wrapper,
    /// No encryption: only for a server on the same machine or network.
    None,
}

/// A parsed SMTP URL. The password is private and left out of `Debug` and `shown()`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub security: Security,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    password: Option<String>,
    pub timeout: Duration,
    /// A PEM file of extra certificate authorities to trust.
    pub ca: Option<String>,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpUrl({})", self.shown())
    }
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl SmtpUrl {
    /// Reads an SMTP URL; the error never repeats the password.
    pub fn parse(raw: &str) -> Result<SmtpUrl, String> {
        let raw = raw.trim();
        let u = url::Url::parse(raw).map_err(|e| {
            format!(
                "'{}' is not a URL like smtp://user:password@mail.example.com:587 ({e})",
                crate::config::redact_url(raw)
            )
        })?;
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| "the SMTP URL has no host".to_string())?
            .trim_matches(['[', ']'])
            .to_string();
        let mut tls = None;
        let mut timeout = DEFAULT_TIMEOUT_SECS;
        let mut ca = None;
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "tls" => tls = Some(v.into_owned()),
                "ca" => {
                    read_ca(&v)?;
                    ca = Some(v.into_owned());
                }
                "timeout" => {
                    timeout = v
                        .parse::<u64>()
                        .ok()
                        .filter(|t| (1..=120).contains(t))
                        .ok_or_else(|| "timeout is a number of seconds from 1 to 120".to_string())?
                }
                other => {
                    return Err(format!(
                        "unknown SMTP URL option '{other}' (known: tls, timeout, ca)"
                    ));
                }
            }
        }
        let (security, default_port) = match (u.scheme(), tls.as_deref()) {
            ("smtps", None | Some("required")) => (Security::Wrapper, 465),
            ("smtp", None | Some("required" | "starttls")) => (Security::StartTls, 587),
            ("smtp", Some("opportunistic")) => (Security::Opportunistic, 587),
            ("smtp", Some("none")) => (Security::None, 25),
            ("smtp" | "smtps", Some(t)) => {
                return Err(format!(
                    "tls={t} is not one of required, opportunistic, none"
                ));
            }
            (s, _) => return Err(format!("scheme '{s}' is not smtp or smtps")),
        };
        let user = (!u.username().is_empty()).then(|| decode(u.username()));
        Ok(SmtpUrl {
            security,
            host,
            port: u.port().unwrap_or(default_port),
            user,
            password: u.password().map(decode),
            timeout: Duration::from_secs(timeout),
            ca,
        })
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// This URL with `password` instead of the one it had (None: none).
    pub fn with_password(mut self, password: Option<String>) -> SmtpUrl {
        self.password = password.filter(|p| !p.is_empty());
        self
    }

    pub fn take_password(&mut self) -> Option<String> {
        self.password.take()
    }

    /// The URL as it may be shown and stored: everything but the password.
    pub fn shown(&self) -> String {
        let scheme = if self.security == Security::Wrapper {
            "smtps"
        } else {
            "smtp"
        };
        let user = self
            .user
            .as_ref()
            .map(|u| {
                format!(
                    "{}@",
                    url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>()
                )
            })
            .unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let mut query = Vec::new();
        match self.security {
            Security::Opportunistic => query.push("tls=opportunistic".to_string()),
            Security::None => query.push("tls=none".to_string()),
            Security::StartTls | Security::Wrapper => {}
        }
        if self.timeout.as_secs() != DEFAULT_TIMEOUT_SECS {
            query.push(format!("timeout={}", self.timeout.as_secs()));
        }
        if let Some(ca) = &self.ca {
            let path = url::form_urlencoded::byte_serialize(ca.as_bytes()).collect::<String>();
            query.push(format!("ca={path}"));
        }
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        format!("{scheme}://{user}{host}:{}{query}", self.port)
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let params = || {
            let mut b = TlsParameters::builder(self.host.clone());
            if let Some(path) = &self.ca {
                b = b.add_root_certificate(read_ca(path)?);
            }
            b.build().map_err(|e| e.to_string())
        };
        let tls = match self.security {
            Security::StartTls => Tls::Required(params()?),
            Security::Opportunistic => Tls::Opportunistic(params()?),
            Security::Wrapper => Tls::Wrapper(params()?),
            Security::None => Tls::None,
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
            .port(self.port)
            .tls(tls)
            .timeout(Some(self.timeout));
        if let Some(user) = &self.user {
            b = b.credentials(Credentials::new(
                user.clone(),
                self.password.clone().unwrap_or_default(),
            ));
        }
        Ok(b.build())
    }
}

/// The certificate authority in the PEM file at `path` (read when the URL is read, so a
/// wrong path is refused when saved, and again for each connection, so a renewed file
/// is used without a restart).
fn read_ca(path: &str) -> Result<Certificate, String> {
    let pem = std::fs::read(path).map_err(|e| format!("ca: cannot read {path}: {e}"))?;
    Certificate::from_pem(&pem).map_err(|e| format!("ca: {path} is not a PEM certificate: {e}"))
}

/// One message to send: both bodies, already rendered.
pub struct Outgoing<'a> {
    pub from: &'a Mailbox,
    pub to: &'a str,
    pub subject: &'a str,
    pub html: &'a str,
    pub text: &'a str,
}

/// Sends `m` through `smtp`; gives the server's answer (e.g. "250 OK queued as 1234"), or
/// why it was not sent. Bounded: each exchange by the URL's timeout, the whole by three.
/// Connects, greets, sets up TLS and signs in as sending would, sending nothing
/// (`cairn doctor`).
pub async fn reachable(smtp: &SmtpUrl) -> Result<(), String> {
    let transport = smtp.transport()?;
    let where_to = format!("{}:{}", smtp.host, smtp.port);
    match tokio::time::timeout(smtp.timeout * 2, transport.test_connection()).await {
        Err(_) => Err(format!(
            "the SMTP server at {where_to} did not answer in time"
        )),
        Ok(Err(e)) => Err(format!("SMTP server at {where_to}: {e}")),
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(format!(
            "the SMTP server at {where_to} refused the connection test"
        )),
    }
}

pub async fn send(smtp: &SmtpUrl, m: &Outgoing<'_>) -> Result<String, String> {
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| format!("the recipient '{}' is not an email address: {e}", m.to))?;
    let message = Message::builder()
        .from(m.from.clone())
        .to(to)
        .subject(m.subject)
        .multipart(MultiPart::alternative_plain_html(
            m.text.to_string(),
            m.html.to_string(),
        ))
        .map_err(|e| format!("the message cannot be built: {e}"))?;
    let transport = smtp.transport()?;
    let whole = smtp.timeout * 3;
    let where_to = format!("{}:{}", smtp.host, smtp.port);
    let span = crate::traces::span(|| tracing::info_span!("smtp.send", server = %where_to));
    let sent = tokio::time::timeout(whole, transport.send(message))
        .instrument(span)
        .await;
    crate::telemetry::email(matches!(sent, Ok(Ok(_))));
    match sent {
        Err(_) => Err(format!(
            "the SMTP server at {where_to} did not finish within {} s",
            whole.as_secs()
        )),
        Ok(Err(e)) => Err(format!("SMTP server at {where_to}: {e}")),
        Ok(Ok(r)) => Ok(format!(
            "{} {}",
            r.code(),
            r.message().collect::<Vec<_>>().join(" ")
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_read_as_documented() {
        let s = SmtpUrl::parse("smtp://me%40x.com:p%2Bw@mail.example.com").unwrap();
        assert_eq!(s.security, Security::StartTls);
        assert_eq!(s.port, 587);
        assert_eq!(s.user.as_deref(), Some("me@x.com"));
        assert_eq!(s.password.as_deref(), Some("p+w"));
        assert_eq!(s.shown(), "smtp://me%40x.com@mail.example.com:587");
        let p = SmtpUrl::parse("smtp://127.0.0.1:2525?tls=none&timeout=3").unwrap();
        assert_eq!(
            (p.security, p.port, p.timeout.as_secs()),
            (Security::None, 2525, 3)
        );
        assert_eq!(SmtpUrl::parse(&p.shown()).unwrap(), p);
        assert_eq!(SmtpUrl::parse("smtps://h").unwrap().port, 465);
        let e = SmtpUrl::parse("ftp://u:hunter2@h").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let e = SmtpUrl::parse("smtp://u:hunter2@h?tls=maybe").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(
            !format!("{:?}", SmtpUrl::parse("smtp://u:hunter2@h").unwrap()).contains("hunter2")
        );
    }
}
