//! Email: every message is a row in the outbox and a job (`email.send`) that renders it
//! from askama templates (an HTML and a plain-text part, with the organisation's name) and
//! hands it to the SMTP server; without a server it is held in the outbox for admins.
//!
//! - `smtp`: the server's URL and sending one message (lettre).
//! - `settings`: which server and From apply (the environment wins over Settings → Email).
//! - `content`: what a message says, and its templates.
//! - `outbox`: enqueue (in the caller's transaction), read, and a message's fate.
//! - `job`: the `email.send` handler; `test`: the synchronous "send me a test email".
//! - `prefs` and `notify`: which notifications each user wants, and sending one.
pub mod content;
pub mod job;
pub mod notify;
pub mod outbox;
pub mod prefs;
pub mod settings;
pub mod smtp;
pub mod test;

use lettre::message::Mailbox;

pub use content::Content;
pub use notify::{Notification, notify};
pub use settings::Effective;
pub use smtp::SmtpUrl;

/// Email settings from the environment (`CAIRN_SMTP_URL`, `CAIRN_MAIL_FROM`), and the
/// public URL that links in emails start with.
#[derive(Clone, Debug)]
pub struct Env {
    pub smtp: Option<SmtpUrl>,
    pub from: Option<Mailbox>,
    pub base_url: String,
}

impl Default for Env {
    fn default() -> Env {
        Env {
            smtp: None,
            from: None,
            base_url: "http://localhost".into(),
        }
    }
}

impl Env {
    /// Checks the variables; an error names the variable and never shows a password.
    pub fn from_settings(
        smtp_url: Option<&str>,
        from: Option<&str>,
        base_url: &str,
    ) -> Result<Env, (&'static str, String)> {
        let smtp = match smtp_url.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(SmtpUrl::parse(raw).map_err(|e| ("CAIRN_SMTP_URL", e))?),
        };
        let from = match from.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(settings::parse_from(raw).map_err(|e| ("CAIRN_MAIL_FROM", e))?),
        };
        Ok(Env {
            smtp,
            from,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }
}
