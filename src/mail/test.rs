//! Settings → Email's "send me a test email": sent at once (bounded by the SMTP URL's
//! timeout), so the admin sees the server's answer or its error on the page.
use super::content::{Content, Frame, Letter};
use super::outbox::{self, NewEmail};
use super::smtp::{self, Outgoing};
use super::{Env, settings};
use crate::domain::{Action, Actor, Db, random_bytes};
use crate::error::AppError;

pub struct Outcome {
    pub to: String,
    /// The server's answer, or why nothing was sent.
    pub result: Result<String, String>,
}

pub async fn send(db: &Db, env: &Env, actor: &Actor) -> Result<Outcome, AppError> {
    actor.require(Action::EmailSettings)?;
    let cfg = settings::effective(&db.read, env).await?;
    let to = actor.email.clone();
    let Some(server) = &cfg.smtp else {
        return Ok(Outcome {
            to,
            result: Err("No SMTP server is configured (CAIRN_SMTP_URL or the form above): nothing was sent.".into()),
        });
    };
    let letter = Letter {
        to_name: actor.name.clone(),
        content: Content::Test {
            requested_by: actor.name.clone(),
        },
    };
    let frame = Frame {
        org: &cfg.org_name,
        base_url: &env.base_url,
        to_name: &actor.name,
    };
    let (html, text) = letter.content.render(&frame)?;
    let subject = letter.content.subject(&cfg.org_name);
    let out = Outgoing {
        from: &cfg.from,
        to: &to,
        subject: &subject,
        html: &html,
        text: &text,
    };
    let result = smtp::send(server, &out).await;
    // A sent one is in the outbox like any other email; a refused one went nowhere and
    // its error is on the admin's screen (the outbox's failed ones are those retried).
    if let Ok(reply) = &result {
        let email = NewEmail {
            user_id: Some(actor.id),
            to: to.clone(),
            subject,
            letter,
            key: format!("test-{}", hex::encode(random_bytes::<8>()?)),
        };
        outbox::log_sent(&db.write, &email, (&html, &text), reply).await?;
    }
    Ok(Outcome { to, result })
}
