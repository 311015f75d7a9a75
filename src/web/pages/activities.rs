//! The activity panel on deal, contact and company pages: log a note, call, meeting,
//! email or payment, read the timeline newest first, load older entries, edit one in
//! place (its earlier versions a click away), delete one.
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::web::filters;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::Actor;
use crate::domain::activities::{
    self, Activity, ActivityInput, ActivityPatch, KINDS, ListParams, ListQuery, Revision, Subject,
};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, csrf_token, set_flash};
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, Refusal, ok, render, see_other};

/// Entries per batch of the timeline.
const BATCH: u64 = 20;

/// The panel as a record's page shows it; also the answer to an htmx log or delete.
#[derive(Template)]
#[template(path = "activities/_panel.html")]
pub struct Panel {
    field: &'static str,
    subject_id: i64,
    csrf: String,
    can_write: bool,
    kinds: &'static [(&'static str, &'static str)],
    // The first batch, as `_items.html` (included by the panel) names it.
    activities: Vec<Activity>,
    actor: Actor,
    total: u64,
    next: Option<String>,
    on_deals: bool,
}

/// One batch of entries and the button that loads the next.
#[derive(Template)]
#[template(path = "activities/_items.html")]
pub struct Items {
    activities: Vec<Activity>,
    actor: Actor,
    csrf: String,
    total: u64,
    next: Option<String>,
    /// Entries from the record's deals name their deal.
    on_deals: bool,
}

fn field_of(subject: Subject) -> (&'static str, i64) {
    match subject {
        Subject::Deal(id) => ("deal_id", id),
        Subject::Contact(id) => ("contact_id", id),
        Subject::Company(id) => ("company_id", id),
    }
}

fn page_of(subject: Subject) -> String {
    match subject {
        Subject::Deal(id) => format!("/deals/{id}"),
        Subject::Contact(id) => format!("/contacts/{id}"),
        Subject::Company(id) => format!("/companies/{id}"),
    }
}

async fn items(state: &AppState, user: &CurrentUser, q: &ListQuery) -> Result<Items, AppError> {
    // One more than the batch says whether there is anything older.
    let ask = ListQuery { peek: true, ..*q };
    let mut p = activities::list(&state.db, &user.actor, &ask).await?;
    let more = p.items.len() as u64 > q.per_page;
    p.items.truncate(q.per_page as usize);
    let (field, id) = field_of(q.subject);
    // The next batch starts after this one's last entry.
    let next = more.then(|| p.items.last()).flatten().map(|last| {
        format!(
            "/activities?{field}={id}&before={}{}",
            crate::web::errors::url_encode(&last.cursor()),
            if q.with_deals { "&with_deals=true" } else { "" }
        )
    });
    Ok(Items {
        activities: p.items,
        actor: user.actor.clone(),
        csrf: csrf_token(&user.session),
        total: p.total,
        next,
        on_deals: q.with_deals,
    })
}

/// The panel for a record's page.
pub async fn panel(
    state: &AppState,
    user: &CurrentUser,
    subject: Subject,
) -> Result<Panel, AppError> {
    let (field, subject_id) = field_of(subject);
    let q = ListQuery {
        subject,
        page: 1,
        per_page: BATCH,
        before: None,
        peek: false,
        // A contact's or company's page also shows what was logged on its deals.
        with_deals: !matches!(subject, Subject::Deal(_)),
    };
    let first = items(state, user, &q).await?;
    Ok(Panel {
        field,
        subject_id,
        csrf: first.csrf,
        can_write: user.actor.can_write(),
        kinds: KINDS,
        activities: first.activities,
        actor: first.actor,
        total: first.total,
        next: first.next,
        on_deals: first.on_deals,
    })
}

/// Older entries, asked for by the timeline's "Show older" button.
pub async fn older(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let p: ListParams = crate::web::forms::parse_query(req.query_string())?;
    ok(&items(&state, &user, &p.validate(BATCH)?).await?)
}

#[derive(Deserialize, Default)]
pub struct LogForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
    /// Filled in UTC by static/app.js from the local date-time input; empty means now.
    #[serde(default)]
    occurred_at: String,
    deal_id: Option<i64>,
    contact_id: Option<i64>,
    company_id: Option<i64>,
}

pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    Form(form): Form<LogForm>,
) -> Result<HttpResponse, AppError> {
    let input = ActivityInput {
        kind: form.kind,
        body: form.body,
        occurred_at: Some(form.occurred_at),
        deal_id: form.deal_id,
        contact_id: form.contact_id,
        company_id: form.company_id,
    };
    let a = activities::create(&state.db, &user.actor, &input).await?;
    let subject = subject_of(&a);
    if hx.fragment {
        return ok(&panel(&state, &user, subject).await?);
    }
    set_flash(&user.session, format!("{} logged.", a.kind_label()));
    Ok(see_other(&format!("{}#activity", page_of(subject))))
}

fn subject_of(a: &Activity) -> Subject {
    match (a.deal_id, a.contact_id, a.company_id) {
        (Some(id), _, _) => Subject::Deal(id),
        (_, Some(id), _) => Subject::Contact(id),
        (_, _, Some(id)) => Subject::Company(id),
        _ => Subject::Deal(0),
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let a = activities::delete(&state.db, &user.actor, *id).await?;
    let subject = subject_of(&a);
    if hx.fragment {
        return ok(&panel(&state, &user, subject).await?);
    }
    set_flash(&user.session, format!("{} deleted.", a.kind_label()));
    Ok(see_other(&format!("{}#activity", page_of(subject))))
}

/// One timeline entry, as the timeline shows it (after an edit, or its Cancel).
#[derive(Template)]
#[template(path = "activities/_one.html")]
struct One {
    a: Activity,
    actor: Actor,
    csrf: String,
    on_deals: bool,
}

/// An entry's edit form, swapped in for the entry.
#[derive(Template)]
#[template(path = "activities/_edit.html")]
struct EditForm {
    a: Activity,
    csrf: String,
    version: String,
    kind: String,
    body: String,
    on_deals: bool,
    kinds: &'static [(&'static str, &'static str)],
    errors: FieldErrors,
    message: Option<String>,
    /// The entry on its record's page, for Cancel without htmx.
    back: String,
}

/// The edit form as a page of its own, for a browser without htmx.
#[derive(Template)]
#[template(path = "activities/edit.html")]
struct EditPage {
    l: Layout,
    form: EditForm,
}

#[derive(Template)]
#[template(path = "activities/history.html")]
struct HistoryPage {
    l: Layout,
    a: Activity,
    revisions: Vec<Revision>,
    back: String,
}

/// The earlier versions alone, shown under the entry.
#[derive(Template)]
#[template(path = "activities/history.html", block = "revisions")]
struct HistoryList {
    revisions: Vec<Revision>,
}

/// Whether an entry on a contact's or company's timeline came from one of its deals (it
/// then names the deal).
#[derive(Deserialize, Default)]
pub struct Context {
    #[serde(default)]
    on_deals: bool,
}

fn back_to(a: &Activity) -> String {
    format!("{}#activity-{}", page_of(subject_of(a)), a.id)
}

/// An entry alone: what the edit form's Cancel swaps back in.
pub async fn one(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    id: web::Path<i64>,
    q: web::Query<Context>,
) -> Result<HttpResponse, AppError> {
    let a = activities::get(&state.db, &user.actor, *id).await?;
    if !hx.fragment {
        return Ok(see_other(&back_to(&a)));
    }
    ok(&One {
        a,
        actor: user.actor.clone(),
        csrf: csrf_token(&user.session),
        on_deals: q.on_deals,
    })
}

fn edit_form(user: &CurrentUser, a: Activity, on_deals: bool) -> EditForm {
    EditForm {
        csrf: csrf_token(&user.session),
        version: a.version.to_string(),
        kind: a.kind.clone(),
        body: a.body.clone(),
        on_deals,
        kinds: KINDS,
        errors: FieldErrors::new(),
        message: None,
        back: back_to(&a),
        a,
    }
}

/// The form, in place of the entry (htmx) or as a page.
fn show_form(
    user: &CurrentUser,
    hx: Htmx,
    form: EditForm,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    if hx.fragment {
        return render(&form, status);
    }
    render(
        &EditPage {
            l: Layout::for_user(user, section_of(&form.a)),
            form,
        },
        status,
    )
}

fn section_of(a: &Activity) -> &'static str {
    match subject_of(a) {
        Subject::Deal(_) => "deals",
        Subject::Contact(_) => "contacts",
        Subject::Company(_) => "companies",
    }
}

pub async fn edit(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    id: web::Path<i64>,
    q: web::Query<Context>,
) -> Result<HttpResponse, AppError> {
    let a = activities::get(&state.db, &user.actor, *id).await?;
    if !a.editable_by(&user.actor) {
        return Err(AppError::Forbidden(
            "Only its author, a manager or an admin can edit an activity.".into(),
        ));
    }
    let form = edit_form(&user, a, q.on_deals);
    show_form(&user, hx, form, StatusCode::OK)
}

#[derive(Deserialize, Default)]
pub struct EditFields {
    /// The version the form was opened at.
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    on_deals: bool,
}

/// Saves an edit: the entry again (htmx) or back to the record's page. A refused edit
/// shows the form again with what was typed; after a colleague's edit, it starts from
/// their version, so saving again replaces it knowingly.
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    id: web::Path<i64>,
    Form(form): Form<EditFields>,
) -> Result<HttpResponse, AppError> {
    let patch = ActivityPatch {
        version: Some(form.version.trim().parse().map_err(|_| {
            AppError::field("version", "The form lost its version; reload the page.")
        })?),
        kind: Some(form.kind.clone()),
        body: Some(form.body.clone()),
        occurred_at: None,
    };
    let error = match activities::update(&state.db, &user.actor, *id, patch).await {
        Ok(a) if hx.fragment => {
            return ok(&One {
                a,
                actor: user.actor.clone(),
                csrf: csrf_token(&user.session),
                on_deals: form.on_deals,
            });
        }
        Ok(a) => {
            set_flash(&user.session, format!("{} saved.", a.kind_label()));
            return Ok(see_other(&back_to(&a)));
        }
        Err(e) => e,
    };
    let Refusal {
        status,
        mut message,
        fields,
    } = Refusal::of(Some(error))?;
    let now = activities::get(&state.db, &user.actor, *id).await?;
    let mut shown = edit_form(&user, now, form.on_deals);
    if status == StatusCode::CONFLICT {
        message = message.map(|m| {
            format!(
                "{m} Their text is: “{}”. Yours is still below; save again to replace theirs.",
                shown.body
            )
        });
    } else {
        shown.version = form.version;
    }
    shown.kind = form.kind;
    shown.body = form.body;
    shown.errors = fields;
    shown.message = message;
    show_form(&user, hx, shown, status)
}

/// An entry's earlier versions: under the entry (htmx) or as a page.
pub async fn history(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (a, revisions) = activities::revisions(&state.db, &user.actor, *id).await?;
    if hx.fragment {
        return ok(&HistoryList { revisions });
    }
    ok(&HistoryPage {
        l: Layout::for_user(&user, section_of(&a)),
        back: back_to(&a),
        a,
        revisions,
    })
}
