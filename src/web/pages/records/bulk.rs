//! Bulk actions on a record list: the form, the confirmation with its count, the run.

use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Filters, Listed};
use crate::app::AppState;
use crate::domain::records::{Kind, Params};
use crate::domain::{bulk, users};
use crate::error::AppError;
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::RawForm;
use crate::web::pages::{Layout, ok, see_other};

/// The list's bulk form: the action, the chosen rows or "all matching", and the filters.
#[derive(Deserialize, Default)]
pub struct BulkForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    owner_id: String,
    /// "selected" or "all".
    #[serde(default)]
    scope: String,
    /// "1" when "Select all N matching" is ticked: the same as `scope=all`.
    #[serde(default)]
    all_matching: String,
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    tag: String,
    /// The count shown on the confirmation: the action is refused if it has changed.
    expected: Option<u64>,
}

#[derive(Template)]
#[template(path = "records/bulk.html")]
struct BulkPage {
    l: Layout,
    kind: &'static Kind,
    form: BulkForm,
    f: Filters,
    count: u64,
    owner_name: String,
    delete_note: &'static str,
}

/// Step one shows what will happen to how many records; step two (`confirm=1`) does it.
pub async fn bulk<R: Listed>(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    raw: RawForm,
) -> Result<HttpResponse, AppError> {
    user.actor.require(crate::domain::Action::WriteRecords)?;
    let kind = R::KIND;
    let mut form: BulkForm = raw.parse()?;
    // The filters go through the list's own parser, custom fields and all.
    let params = R::Params::from_query(&raw.0)?;
    let action = bulk::Action::parse(&form.action)
        .ok_or_else(|| AppError::field("action", "Choose what to do."))?;
    if form.all_matching == "1" {
        form.scope = "all".into();
    }
    let f = Filters::of::<R>(&params);
    let back = format!("/{}?{}", kind.table, f.page_query(1));
    if form.scope != "all" && form.ids.is_empty() && form.confirm != "1" {
        let htmx = req.headers().contains_key("HX-Request");
        return Ok(nothing_ticked(kind, &user, htmx, &back));
    }
    // The server selects by the filters as sent, never by a list the page built: what
    // "all matching" covers is decided here, under the actor's own permissions.
    let selection = if form.scope == "all" {
        bulk::Selection::Filter(params.validate(25)?)
    } else {
        bulk::Selection::Ids(form.ids.clone())
    };
    let owner_id = form.owner_id.parse::<i64>().ok();
    if form.confirm != "1" {
        let count = bulk::count::<R>(&state.db, &user.actor, &selection).await?;
        let owner_name = match (action, owner_id) {
            (bulk::Action::ChangeOwner, Some(id)) => users::person(&state.db.read, id).await?.name,
            (bulk::Action::ChangeOwner, None) => {
                return Err(AppError::field("owner_id", "Choose the new owner."));
            }
            _ => String::new(),
        };
        return ok(&BulkPage {
            l: Layout::for_user(&user, kind.table),
            kind,
            f,
            form,
            count,
            owner_name,
            delete_note: R::DELETE_NOTE,
        });
    }
    let request = bulk::Request {
        selection: &selection,
        action,
        owner_id,
        tag: Some(&form.tag),
        expected: form.expected,
    };
    let n = bulk::apply::<R>(&state.db, &user.actor, request).await?;
    let what = match action {
        bulk::Action::Delete if R::DELETE_NOTE.is_empty() => "deleted".to_string(),
        bulk::Action::Delete => format!("deleted ({})", R::DELETE_NOTE),
        bulk::Action::ChangeOwner => "given a new owner".into(),
        bulk::Action::Tag => "tagged".into(),
        bulk::Action::Untag => "untagged".into(),
    };
    let were = if n == 1 { "was" } else { "were" };
    let mut flash = format!("{} {were} {what}.", kind.count(&n));
    if action == bulk::Action::Delete {
        flash.push_str(" A manager can restore them from the trash for 30 days.");
    }
    set_flash(&user.session, flash);
    Ok(see_other(&back))
}

/// "Apply to selected" with nothing ticked changes nothing and says so where the person
/// is: beside the button for htmx (the page, its filters and typing stay), or on the list
/// with its filters for a plain post.
fn nothing_ticked(kind: &Kind, user: &CurrentUser, htmx: bool, back: &str) -> HttpResponse {
    let message = format!(
        "Nothing was changed: first tick the {} to change (the box in the list's header row ticks the whole page).",
        kind.plural
    );
    if !htmx {
        set_flash(&user.session, message);
        return see_other(back);
    }
    HttpResponse::UnprocessableEntity()
        .insert_header(("HX-Retarget", "#bulk-message"))
        .insert_header(("HX-Reswap", "innerHTML"))
        .insert_header(("HX-Push-Url", "false"))
        .content_type("text/html; charset=utf-8")
        .body(message)
}
