//! The `email.send` job: renders an outbox message, then sends it, holds it (no SMTP
//! server configured) or fails (the queue retries it with backoff; the error shows in
//! Settings → Jobs and on the message).
use std::sync::Arc;

use serde::Deserialize;

use super::content::{Frame, Letter};
use super::outbox::{self, State};
use super::smtp::{self, Outgoing};
use super::{Env, settings};
use crate::jobs::{Ctx, JobError, Registry};

pub const SEND: &str = "email.send";

#[derive(Deserialize)]
struct Send {
    outbox_id: i64,
}

/// Adds `email.send`, which takes the SMTP server and From from `env` first.
pub fn register(r: &mut Registry, env: Arc<Env>) {
    r.register(SEND, move |ctx: Ctx, p: Send| {
        let env = env.clone();
        async move { send(ctx, p, &env).await }
    });
}

async fn send(ctx: Ctx, p: Send, env: &Env) -> Result<(), JobError> {
    let db = &ctx.db;
    let m = outbox::get(&db.read, p.outbox_id).await?;
    // Sent already (by an earlier run whose outcome was not written): not again.
    if m.state == State::Sent.as_str() {
        return Ok(());
    }
    let cfg = settings::effective(&db.read, env).await?;
    let letter: Letter = serde_json::from_str(&m.content)
        .map_err(|e| JobError::Permanent(format!("the email's content cannot be read: {e}")))?;
    // A message with a link's secret (an invitation, a password reset) is rendered anew
    // for each try, and the outbox keeps its bodies without the secret.
    let redacted = letter.content.redacted();
    let (html, text) = match (&m.html_body, &m.text_body, &redacted) {
        (Some(h), Some(t), None) => (h.clone(), t.clone()),
        _ => {
            let frame = Frame {
                org: &cfg.org_name,
                base_url: &env.base_url,
                to_name: &letter.to_name,
            };
            let (h, t) = letter.content.render(&frame)?;
            let (kept_h, kept_t) = match &redacted {
                Some(r) => r.render(&frame)?,
                None => (h.clone(), t.clone()),
            };
            outbox::store_bodies(&db.write, m.id, &kept_h, &kept_t).await?;
            (h, t)
        }
    };
    let Some(server) = &cfg.smtp else {
        outbox::record(&db.write, m.id, Ok(None)).await?;
        tracing::debug!(
            email = m.id,
            "no SMTP server: the email is held in the outbox"
        );
        return Ok(());
    };
    let out = Outgoing {
        from: &cfg.from,
        to: &m.to_email,
        subject: &m.subject,
        html: &html,
        text: &text,
    };
    match smtp::send(server, &out).await {
        Ok(reply) => {
            // Sent: a link's secret is in the recipient's mailbox and, from the same
            // commit on, nowhere here.
            let tx = db.begin_write().await?;
            outbox::record(&tx, m.id, Ok(Some(&reply))).await?;
            if let Some(content) = redacted {
                let kept = Letter {
                    to_name: letter.to_name.clone(),
                    content,
                };
                outbox::replace_content(&tx, m.id, &kept).await?;
            }
            tx.commit().await?;
            tracing::info!(email = m.id, job = ctx.job_id, "email sent");
            Ok(())
        }
        Err(error) => {
            outbox::record(&db.write, m.id, Err(&error)).await?;
            Err(JobError::Retry(error))
        }
    }
}
