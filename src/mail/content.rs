//! What a message says: its kind and the facts it is rendered from (kept as JSON in the
//! outbox), its subject, and its two bodies from the askama templates in templates/email/
//! (`.html` escaped, `.txt` not).
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A task as a reminder or digest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLine {
    pub id: i64,
    pub title: String,
    /// When it is due, written in the recipient's time zone by the caller.
    pub due: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Content {
    /// Settings → Email's "send me a test email".
    Test { requested_by: String },
    DealAssigned {
        deal_id: i64,
        title: String,
        by: String,
    },
    TaskAssigned {
        task_id: i64,
        title: String,
        by: String,
        due: Option<String>,
    },
    TaskDue {
        task_id: i64,
        title: String,
        due: String,
    },
    Digest {
        date: String,
        overdue: Vec<TaskLine>,
        today: Vec<TaskLine>,
    },
    /// A web form's submission, to the owner of the contact it made or updated.
    FormSubmitted {
        form: String,
        contact_id: i64,
        contact_name: String,
        created: bool,
    },
    /// An invitation to join; `token` is the link's secret (see `redacted`), `expires` the
    /// day it stops working, as written in the email.
    Invite {
        invited_by: String,
        role: String,
        token: String,
        expires: String,
    },
    /// A password reset link, valid `minutes`.
    PasswordReset { token: String, minutes: i64 },
    /// An outbound webhook endpoint was disabled after failing for a day.
    WebhookDisabled {
        endpoint_id: i64,
        url: String,
        reason: String,
    },
}

/// What a link's secret becomes once the message no longer needs it.
pub const REDACTED: &str = "redacted";

/// A message as the outbox keeps it: its content and whom it greets.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Letter {
    pub to_name: String,
    #[serde(flatten)]
    pub content: Content,
}

/// What every template gets besides its facts.
pub struct Frame<'a> {
    pub org: &'a str,
    pub base_url: &'a str,
    pub to_name: &'a str,
}

macro_rules! pair {
    ($html:ident, $text:ident, $hpath:literal, $tpath:literal) => {
        #[derive(Template)]
        #[template(path = $hpath)]
        struct $html<'a> {
            f: &'a Frame<'a>,
            c: &'a Content,
        }
        #[derive(Template)]
        #[template(path = $tpath)]
        struct $text<'a> {
            f: &'a Frame<'a>,
            c: &'a Content,
        }
    };
}

pair!(TestHtml, TestText, "email/test.html", "email/test.txt");
pair!(
    DealHtml,
    DealText,
    "email/deal_assigned.html",
    "email/deal_assigned.txt"
);
pair!(
    TaskHtml,
    TaskText,
    "email/task_assigned.html",
    "email/task_assigned.txt"
);
pair!(
    DueHtml,
    DueText,
    "email/task_due.html",
    "email/task_due.txt"
);
pair!(
    DigestHtml,
    DigestText,
    "email/digest.html",
    "email/digest.txt"
);
pair!(
    FormHtml,
    FormText,
    "email/form_submitted.html",
    "email/form_submitted.txt"
);
pair!(
    InviteHtml,
    InviteText,
    "email/invite.html",
    "email/invite.txt"
);
pair!(
    HookHtml,
    HookText,
    "email/webhook_disabled.html",
    "email/webhook_disabled.txt"
);
pair!(
    ResetHtml,
    ResetText,
    "email/password_reset.html",
    "email/password_reset.txt"
);

fn both(html: impl Template, text: impl Template) -> Result<(String, String), AppError> {
    let fail = |e: askama::Error| AppError::Internal(format!("email template: {e}"));
    Ok((html.render().map_err(fail)?, text.render().map_err(fail)?))
}

impl Content {
    pub fn subject(&self, org: &str) -> String {
        let what = match self {
            Content::Test { .. } => "Test email".to_string(),
            Content::DealAssigned { title, .. } => format!("Deal assigned to you: {title}"),
            Content::TaskAssigned { title, .. } => format!("Task assigned to you: {title}"),
            Content::TaskDue { title, .. } => format!("Task due: {title}"),
            Content::Digest { overdue, today, .. } => format!(
                "Your tasks: {} overdue, {} due today",
                overdue.len(),
                today.len()
            ),
            Content::Invite { invited_by, .. } => {
                format!("{invited_by} invited you to {org}'s Cairn")
            }
            Content::PasswordReset { .. } => "Reset your password".to_string(),
            Content::WebhookDisabled { url, .. } => format!("Webhook disabled: {url}"),
            Content::FormSubmitted {
                form, contact_name, ..
            } => format!("{form}: {contact_name}"),
        };
        let line = format!("[{org}] {what}");
        // One line, of a length every server takes.
        line.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(250)
            .collect()
    }

    /// The HTML and the plain-text body.
    pub fn render(&self, f: &Frame<'_>) -> Result<(String, String), AppError> {
        let c = self;
        match self {
            Content::Test { .. } => both(TestHtml { f, c }, TestText { f, c }),
            Content::DealAssigned { .. } => both(DealHtml { f, c }, DealText { f, c }),
            Content::TaskAssigned { .. } => both(TaskHtml { f, c }, TaskText { f, c }),
            Content::TaskDue { .. } => both(DueHtml { f, c }, DueText { f, c }),
            Content::Digest { .. } => both(DigestHtml { f, c }, DigestText { f, c }),
            Content::Invite { .. } => both(InviteHtml { f, c }, InviteText { f, c }),
            Content::PasswordReset { .. } => both(ResetHtml { f, c }, ResetText { f, c }),
            Content::WebhookDisabled { .. } => both(HookHtml { f, c }, HookText { f, c }),
            Content::FormSubmitted { .. } => both(FormHtml { f, c }, FormText { f, c }),
        }
    }

    /// The same message with its link's secret replaced, for what the outbox keeps: an
    /// admin reading Settings → Email must not be able to accept someone's invitation or
    /// reset their password. None when the message carries no secret.
    pub fn redacted(&self) -> Option<Content> {
        let mut c = self.clone();
        match &mut c {
            Content::Invite { token, .. } | Content::PasswordReset { token, .. } => {
                *token = REDACTED.to_string();
                Some(c)
            }
            _ => None,
        }
    }
}
