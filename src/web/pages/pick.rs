//! Live answers to forms as someone types: a picker's suggestions (a `<datalist>`'s
//! options, from `domain::pick::suggest`, the deal form's mechanism) with the contact
//! form's "creates a new company" note, and the contact form's look-alike notices.
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::contacts::merge as lookalike;
use crate::domain::deals::ContactRef;
use crate::domain::pick::{self, Suggestion};
use crate::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::pages::ok;

/// What the contact form says under its Company field about the typed company.
pub struct CompanyNote {
    /// What was typed.
    pub typed: String,
    /// The existing company saving links, with its id; none: saving creates one (the
    /// contact form) or is refused (`creates` false: the deal form links only existing ones).
    pub links: Option<(i64, String)>,
    pub creates: bool,
}

impl CompanyNote {
    /// It links another rep's company, named only as such: shown without a link.
    pub fn hidden(&self) -> bool {
        self.links
            .as_ref()
            .is_some_and(|(_, name)| name == crate::domain::access::OTHERS_COMPANY)
    }

    /// The note for `typed` (None when nothing was typed), given the company it links.
    pub fn of(typed: &str, links: Option<(i64, String)>) -> Option<CompanyNote> {
        let typed = typed.trim();
        (!typed.is_empty()).then(|| CompanyNote {
            typed: typed.to_string(),
            links,
            creates: true,
        })
    }

    /// The note from a picker's suggestions: the one marked `same` is what saving links.
    fn from_suggestions(typed: &str, suggestions: &[Suggestion]) -> Option<CompanyNote> {
        let links = suggestions.iter().find(|s| s.same).map(|s| {
            let id = pick::trailing_id(&s.value).unwrap_or_default();
            let name = s
                .value
                .rsplit_once(" (#")
                .map_or(s.value.as_str(), |(n, _)| n);
            (id, name.to_string())
        });
        CompanyNote::of(typed, links)
    }
}

#[derive(Template)]
#[template(path = "contacts/_pick_options.html")]
struct Options {
    suggestions: Vec<Suggestion>,
    /// Set when the form asked for the company note (sent out of band beside the options).
    note: Option<Option<CompanyNote>>,
}

#[derive(Deserialize)]
pub struct OptionsQuery {
    /// `company` or `contact`, when the text comes in a field named otherwise.
    kind: Option<String>,
    company: Option<String>,
    add_contact: Option<String>,
    /// The merge page's "other record" field.
    with: Option<String>,
    /// The contact form's email: with no company typed, its domain suggests one.
    email: Option<String>,
    /// "1": also send the company note; "pick": the note of a form that only links an
    /// existing company (the deal form).
    note: Option<String>,
}

/// Suggestions for a company or contact picker, as the user types.
pub async fn options(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<OptionsQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let kind = match (q.kind.as_deref(), &q.company) {
        (Some("company"), _) | (None, Some(_)) => "company",
        _ => "contact",
    };
    let typed = q.company.or(q.add_contact).or(q.with).unwrap_or_default();
    let text = match q.email.as_deref().map(str::trim) {
        Some(email) if typed.trim().is_empty() && email.contains('@') => email.to_string(),
        _ => typed.clone(),
    };
    let suggestions = pick::suggest(&state.db, &user.actor, kind, &text).await?;
    let note = matches!(q.note.as_deref(), Some("1" | "pick")).then(|| {
        CompanyNote::from_suggestions(&typed, &suggestions).map(|n| CompanyNote {
            creates: q.note.as_deref() == Some("1"),
            ..n
        })
    });
    ok(&Options { suggestions, note })
}

#[derive(Template)]
#[template(path = "contacts/_lookalikes.html")]
struct Lookalikes {
    /// What matched: "email" or "name".
    by: &'static str,
    found: Vec<ContactRef>,
}

#[derive(Deserialize)]
pub struct CheckQuery {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// The contact being edited, which is no look-alike of itself.
    except: Option<i64>,
}

/// The contact form's notice under Email (or Last name) while typing: another contact
/// with this email or this name, linked. It only informs; saving decides.
pub async fn contact_check(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<CheckQuery>,
) -> Result<HttpResponse, AppError> {
    let (by, found) = match &q.email {
        Some(email) => (
            "email",
            lookalike::with_email(&state.db, &user.actor, email, q.except)
                .await?
                .into_iter()
                .collect(),
        ),
        None => (
            "name",
            lookalike::named(
                &state.db,
                &user.actor,
                q.first_name.as_deref().unwrap_or(""),
                q.last_name.as_deref().unwrap_or(""),
                q.except,
            )
            .await?,
        ),
    };
    ok(&Lookalikes { by, found })
}

/// The htmx attributes of a contact form field checked as the user types: Email and the
/// name against other contacts (`contact_check`, not the contact being edited),
/// Company against the companies (`options`, with its note and the email's domain).
pub fn contact_field(field: &str, editing: Option<i64>) -> String {
    let except = editing
        .map(|id| format!(r#" hx-vals='{{"except": "{id}"}}'"#))
        .unwrap_or_default();
    let check = r#"hx-get="/pick/contact" hx-trigger="keyup changed delay:500ms, change" hx-sync="this:queue last""#;
    match field {
        "email" => format!(r##"{check} hx-target="#email-note"{except}"##),
        "first_name" | "last_name" => format!(
            r##"{check} hx-target="#name-note" hx-include="#f-first_name, #f-last_name"{except}"##
        ),
        "company" => concat!(
            r##"list="company-options" autocomplete="off" hx-get="/pick/options" "##,
            r##"hx-trigger="input changed delay:250ms, change, focus" hx-target="#company-options" "##,
            r##"hx-swap="innerHTML" hx-sync="this:queue last" hx-include="#f-email" hx-vals='{"note": "1", "kind": "company"}'"##
        )
        .to_string(),
        _ => String::new(),
    }
}
