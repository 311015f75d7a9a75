//! Merging two records: picking the other by name, the field-by-field table, the merge.

use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Listed;
use crate::app::AppState;
use crate::domain::Action;
use crate::domain::records::{self, Kind};
use crate::error::AppError;
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{Layout, see_other};

/// One row of the merge table: field, label, this record's value, the other's.
pub type MergeRow = (&'static str, &'static str, String, String);

#[derive(Deserialize)]
pub struct MergeParams {
    with: Option<String>,
}

/// What the merge page says about a record type.
pub struct MergeText {
    /// What moves besides the links ("its tags").
    pub moves: &'static str,
    /// The heading over the look-alikes.
    pub question: &'static str,
    /// When there are none.
    pub none_found: &'static str,
    /// What the "other record" field takes.
    pub placeholder: &'static str,
}

/// A record as the merge page lists it.
pub struct MergeItem {
    pub id: i64,
    pub name: String,
    pub hint: String,
}

impl MergeItem {
    fn of<R: Listed>(r: &R) -> MergeItem {
        MergeItem {
            id: r.id(),
            name: r.name(),
            hint: r.hint(),
        }
    }
}

#[derive(Template)]
#[template(path = "records/merge.html")]
struct MergePage {
    l: Layout,
    kind: &'static Kind,
    text: MergeText,
    c: MergeItem,
    other: Option<MergeItem>,
    rows: Vec<MergeRow>,
    candidates: Vec<MergeItem>,
    /// The other record as typed, kept in the field when it named none or several.
    typed: String,
    /// Why the typed text picked no record, in plain words.
    problem: Option<String>,
}

/// The merge page: pick the other record (by name, with suggestions, or from the
/// look-alikes), then field by field what survives.
pub async fn merge_page<R: Listed>(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    params: web::Query<MergeParams>,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::WriteRecords)?;
    let c: R = records::get(&state.db, &user.actor, *id).await?;
    let typed = params.with.as_deref().map(str::trim).unwrap_or("");
    merge_view(&state, &user, c, typed, None).await
}

/// The merge page for `c` with the other record as `typed`. Text that names no record,
/// several, or `c` itself, and a merge that was `refused`, show the page again with the
/// reason in plain words in it (422), never a bare error page.
async fn merge_view<R: Listed>(
    state: &AppState,
    user: &CurrentUser,
    c: R,
    typed: &str,
    refused: Option<String>,
) -> Result<HttpResponse, AppError> {
    let (other, mut candidates, mut problem) = if typed.is_empty() {
        (None, Vec::new(), None)
    } else {
        pick_other(state, user, &c, typed).await?
    };
    // Text that named nothing still leaves the look-alikes to pick from.
    if other.is_none() && candidates.is_empty() {
        candidates = R::look_alikes(state, user, &c).await?;
    }
    if refused.is_some() {
        problem = refused;
    }
    let status = match problem {
        Some(_) => actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        None => actix_web::http::StatusCode::OK,
    };
    crate::web::pages::render(
        &MergePage {
            l: Layout::for_user(user, R::KIND.table),
            kind: R::KIND,
            text: R::MERGE_TEXT,
            rows: other.as_ref().map(|o| c.merge_rows(o)).unwrap_or_default(),
            c: MergeItem::of(&c),
            other: other.as_ref().map(MergeItem::of),
            candidates: candidates.iter().map(MergeItem::of).collect(),
            typed: if other.is_some() {
                String::new()
            } else {
                typed.to_string()
            },
            problem,
        },
        status,
    )
}

/// The other record `typed` names: a number (the look-alike links send the id) or what
/// `Listed::called` finds. None with the candidates and a message when it is not one
/// other record.
async fn pick_other<R: Listed>(
    state: &AppState,
    user: &CurrentUser,
    c: &R,
    typed: &str,
) -> Result<(Option<R>, Vec<R>, Option<String>), AppError> {
    let entity = R::KIND.entity;
    let found: Vec<R> = match typed.parse::<i64>() {
        Ok(id) => match records::get(&state.db, &user.actor, id).await {
            Ok(r) => vec![r],
            Err(AppError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e),
        },
        Err(_) => R::called(state, user, typed).await?,
    };
    let was_self = found.iter().any(|r| r.id() == c.id());
    let mut others: Vec<R> = found.into_iter().filter(|r| r.id() != c.id()).collect();
    let problem = match others.len() {
        1 => return Ok((others.pop(), Vec::new(), None)),
        0 if was_self => format!(
            "That is this {entity}: a {entity} cannot be merged with itself. Pick the other one."
        ),
        0 => format!(
            "No {entity} matches “{typed}”. Type a few letters of the name and pick from the suggestions."
        ),
        _ => format!(
            "Several {} match “{typed}”: pick one below.",
            R::KIND.plural
        ),
    };
    Ok((None, others, Some(problem)))
}

pub async fn merge<R: Listed>(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let other = pairs
        .iter()
        .find(|(k, _)| k == "with")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let fields = R::merge_keys();
    let take: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| v == "take" && fields.contains(&k.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    let result = match other {
        Some(other) => records::merge::merge(&state.db, &user.actor, *id, other, &take).await,
        None => Err(AppError::field(
            "with",
            format!("Choose the {} to merge.", R::KIND.entity),
        )),
    };
    let refused = match result {
        Ok(merged) => {
            let merged: R = merged;
            set_flash(
                &user.session,
                format!("Merged into {}; the other record is gone.", merged.name()),
            );
            return Ok(see_other(&format!("/{}/{}", R::KIND.table, merged.id())));
        }
        Err(AppError::NotFound(gone)) => gone,
        Err(e) => {
            let refusal = crate::web::pages::Refusal::of(Some(e))?;
            let said: Vec<String> = refusal.fields.into_values().collect();
            match said.is_empty() {
                true => refusal.message.unwrap_or_default(),
                false => said.join(" "),
            }
        }
    };
    // Refused (a value that no longer passes, the other record gone): the page again.
    let c: R = records::get(&state.db, &user.actor, *id).await?;
    let typed = other.map(|o| o.to_string()).unwrap_or_default();
    merge_view(&state, &user, c, &typed, Some(refused)).await
}
