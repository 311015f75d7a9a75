//! The record pages contacts and companies share: the list's data and filter echo, CSV
//! export, bulk actions with their confirmation, and merging. What a record type shows
//! differently is its `Listed` implementation (in its own page module) and its templates.
use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::records::merge::Mergeable;
use crate::domain::records::{self, Kind, Params, SortKey};
use crate::domain::{Page, bulk, custom_fields, users, views};
use crate::error::AppError;
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::{Form, RawForm};
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, SetFilters, custom, custom_filters, ok, see_other};

/// How a record type's pages read its list and show its records.
#[allow(async_fn_in_trait)]
pub trait Listed: Mergeable + Clone {
    type Params: Params;
    /// The list's own filters as set (`sort` among them), in the order links carry them.
    fn named(params: &Self::Params) -> Vec<(&'static str, Option<String>)>;
    /// How the record is named in messages and headings.
    fn name(&self) -> String;
    /// Its tag names, for the list's coloured chips.
    fn tags(&self) -> &[String];
    const CSV_HEADER: &'static [&'static str];
    fn csv(&self) -> Vec<String>;
    /// What a bulk delete's flash and confirmation add ("" for nothing).
    const DELETE_NOTE: &'static str;
    /// The merge table: field, label, this record's value, the other's.
    fn merge_rows(&self, other: &Self) -> Vec<MergeRow>;
    /// The merge page's words for this record type.
    const MERGE_TEXT: MergeText;
    /// A look-alike's line in the merge page's list, after its name.
    fn hint(&self) -> String;
    /// Records that look like this one, for the merge page.
    async fn look_alikes(
        state: &AppState,
        user: &CurrentUser,
        c: &Self,
    ) -> Result<Vec<Self>, AppError>;
    /// The records a name typed on the merge page means (a chosen suggestion, a name,
    /// an email or a domain); several when it is ambiguous.
    async fn called(
        state: &AppState,
        user: &CurrentUser,
        text: &str,
    ) -> Result<Vec<Self>, AppError>;
}

/// How a record type's pages edit it: its form, read from a post and shown again.
#[allow(async_fn_in_trait)]
pub trait Edited: Listed {
    type Form;
    async fn read_form(
        state: &AppState,
        pairs: &[(String, String)],
    ) -> Result<Self::Form, AppError>;
    fn form_of(&self) -> Self::Form;
    /// The form page, with `error`'s messages when a save was refused.
    async fn form_page(
        state: &AppState,
        user: &CurrentUser,
        id: Option<i64>,
        form: Self::Form,
        error: Option<AppError>,
    ) -> Result<HttpResponse, AppError>;
    /// Saves the form's values on record `id`.
    async fn save(
        state: &AppState,
        user: &CurrentUser,
        id: i64,
        form: &Self::Form,
    ) -> Result<Self, AppError>;
}

pub async fn edit<R: Edited>(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.actor.require_write()?;
    let c: R = records::get(&state.db, &user.actor, *id).await?;
    R::form_page(&state, &user, Some(c.id()), c.form_of(), None).await
}

pub async fn update<R: Edited>(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = R::read_form(&state, &pairs).await?;
    let id = id.into_inner();
    let result = R::save(&state, &user, id, &form).await;
    saved(&state, &user, Some(id), form, result, "saved").await
}

/// After a create or an update: to the record with a flash, or the form again with
/// what was refused.
pub async fn saved<R: Edited>(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    form: R::Form,
    result: Result<R, AppError>,
    done: &str,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(c) => {
            set_flash(&user.session, format!("{} was {done}.", c.name()));
            Ok(see_other(&format!("/{}/{}", R::KIND.table, c.id())))
        }
        Err(e) => R::form_page(state, user, id, form, Some(e)).await,
    }
}

/// The list's filters as the user set them, echoed back into the form and the links.
#[derive(Default, Clone)]
pub struct Filters {
    named: Vec<(&'static str, String)>,
    /// `cf.<key>` filters, kept across pages, bulk actions and saved views.
    custom: Vec<(String, String)>,
}

impl Filters {
    pub fn of<R: Listed>(p: &R::Params) -> Filters {
        Filters {
            named: R::named(p)
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
            custom: custom_filters(p.custom()),
        }
    }

    /// The value of filter `name` as typed ("" when unset).
    pub fn get(&self, name: &str) -> &str {
        self.named
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The same filters with `name` set to `value`.
    fn with(&self, name: &'static str, value: &str) -> Filters {
        let mut f = self.clone();
        match f.named.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value.to_string(),
            None => f.named.push((name, value.to_string())),
        }
        f
    }

    fn set(&self) -> SetFilters<'_> {
        let named: Vec<(&str, &String)> = self.named.iter().map(|(k, v)| (*k, v)).collect();
        SetFilters::new(&named, &self.custom)
    }

    /// The query string for page `n` of the same list.
    pub fn page_query(&self, n: u64) -> String {
        self.set().page_query(n)
    }

    /// The filters that are set, as hidden form fields carry them.
    pub fn hidden(&self) -> Vec<(&str, &str)> {
        self.set().hidden()
    }

    pub fn any(&self) -> bool {
        self.set().any()
    }
}

/// What a list page and its htmx fragment show.
pub struct ListData<R> {
    pub kind: &'static Kind,
    pub views: Vec<views::View>,
    pub list_name: &'static str,
    pub current_query: String,
    pub f: Filters,
    pub page: Page<R>,
    /// The order the page is in.
    pub sort: &'static SortKey,
    /// The colour of each tag the page shows, by name.
    pub tag_colors: HashMap<String, String>,
    pub owners: Vec<users::Person>,
    pub can_write: bool,
    pub csrf: String,
}

impl<R> ListData<R> {
    /// The query a column header links to. `key` is the sort its first click asks for;
    /// on the column the list is sorted by, the click turns the order round instead.
    pub fn sort_query(&self, key: &str) -> String {
        let next = match self.kind.sort(key) {
            Some(s) if s.columns == self.sort.columns => self
                .kind
                .sorts
                .iter()
                .find(|o| o.columns == s.columns && o.desc != self.sort.desc)
                .map_or(key, |o| o.key),
            _ => key,
        };
        self.f.with("sort", next).page_query(1)
    }

    /// `aria-sort` for the column header whose first click sorts by `key`.
    pub fn aria_sort(&self, key: &str) -> &'static str {
        match self.kind.sort(key) {
            Some(s) if s.columns == self.sort.columns && self.sort.desc => "descending",
            Some(s) if s.columns == self.sort.columns => "ascending",
            _ => "none",
        }
    }

    /// The colour class of tag `name` ("" when unknown: the plain chip).
    pub fn tag_class(&self, name: &str) -> String {
        self.tag_colors
            .get(name)
            .map(|c| format!("tag-{c}"))
            .unwrap_or_default()
    }
}

/// The list's data, or the redirect to the user's default view on a bare visit.
pub async fn list_data<R: Listed>(
    req: &actix_web::HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    hx: &Htmx,
) -> Result<Result<ListData<R>, HttpResponse>, AppError> {
    let kind = R::KIND;
    let params = R::Params::from_query(req.query_string())?;
    // One read of the user's views serves the default-view redirect and the views bar.
    let saved = if hx.fragment {
        Vec::new()
    } else {
        views::for_list(&state.db, &user.actor, kind.table).await?
    };
    if req.query_string().is_empty()
        && let Some(v) = saved.iter().find(|v| v.is_default && !v.query.is_empty())
    {
        return Ok(Err(see_other(&format!("/{}?{}", kind.table, v.query))));
    }
    let query = params.validate(25)?;
    let page = records::list(&state.db, &user.actor, &query).await?;
    let tags: Vec<String> = page.items.iter().flat_map(Listed::tags).cloned().collect();
    let tag_colors = records::tag_colors(&state.db, tags).await?;
    let f = Filters::of::<R>(&params);
    Ok(Ok(ListData {
        kind,
        views: saved,
        list_name: kind.table,
        current_query: f.page_query(1),
        f,
        page,
        sort: query.sort,
        tag_colors,
        owners: users::list_active(&state.db).await?,
        can_write: user.actor.can_write(),
        csrf: crate::web::auth::csrf_token(&user.session),
    }))
}

/// The owners a record's form offers (`users::owner_choices`), kept as the form typed it.
pub async fn owners(state: &AppState, owner_id: &str) -> Result<Vec<users::Person>, AppError> {
    users::owner_choices(&state.db, owner_id.parse().ok()).await
}

/// Every tag's name, for a form's suggestions.
pub async fn tag_names(state: &AppState) -> Result<Vec<String>, AppError> {
    Ok(crate::domain::tags::list(&state.db)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect())
}

/// `/<records>/export.csv` with the list's filters: every matching record, streamed.
pub async fn export<R: Listed>(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let query = R::Params::from_query(req.query_string())?.validate(25)?;
    // Refused now, while an error can still be a status: once streaming starts it can't.
    records::check_filters(&state.db, &query).await?;
    // The definitions as the download starts: one header for every chunk.
    let defs = std::sync::Arc::new(custom_fields::defs(&state.db, R::KIND.entity).await?);
    let header = export_header(R::CSV_HEADER, &defs);
    let (db, actor) = (state.db.clone(), user.actor.clone());
    let next = move |after| {
        let (db, actor, query) = (db.clone(), actor.clone(), query.clone());
        async move { records::export_chunk::<R>(&db, &actor, &query, after).await }
    };
    // Each chunk's records come with their tags and custom values (one statement per
    // chunk, see `records::reads`), so these columns cost no query of their own.
    let write = move |out: &mut String, r: &R| {
        let mut values = r.csv();
        values.push(Listed::tags(r).join("; "));
        values.extend(defs.iter().map(|d| export_value(r.custom(), &d.key)));
        crate::web::csv::row(out, values.iter().map(String::as_str));
    };
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let body = crate::web::csv::stream(&header, records::EXPORT_CHUNK, next, write, R::id);
    Ok(crate::web::csv::download(R::KIND.table, body))
}

/// A custom value as the record's page shows it (dates ISO, Yes/No, choices by label),
/// with several choices joined like the tags column.
fn export_value(
    values: &std::collections::BTreeMap<String, serde_json::Value>,
    key: &str,
) -> String {
    match values.get(key) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        _ => custom::display(values, key),
    }
}

/// The export's columns: the record's own, its tags, then one per custom field in the
/// order settings list them, headed by the label users know it by. A label that repeats a
/// column already there is marked, so every header names one column.
fn export_header(own: &[&str], defs: &[custom_fields::Field]) -> Vec<String> {
    let mut header: Vec<String> = own.iter().map(|h| h.to_string()).collect();
    header.push("tags".into());
    for d in defs {
        let label = if header.iter().any(|h| h.eq_ignore_ascii_case(&d.label)) {
            format!("{} (custom field)", d.label)
        } else {
            d.label.clone()
        };
        header.push(label);
    }
    header
}

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
    user.actor.require_write()?;
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
    set_flash(&user.session, format!("{} {were} {what}.", kind.count(&n)));
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
    user.actor.require_write()?;
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
    let take: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| v == "take" && R::FIELDS.contains(&k.as_str()))
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

/// A tag as a record page shows it: its name and its colour's class.
pub struct Chip {
    pub name: String,
    pub class: String,
}

/// The record's tags as chips, coloured as in Settings → Tags (one query).
pub async fn chips(state: &AppState, names: &[String]) -> Result<Vec<Chip>, AppError> {
    let colors = crate::domain::records::tag_colors(&state.db, names.to_vec()).await?;
    Ok(names
        .iter()
        .map(|name| Chip {
            class: colors
                .get(name)
                .map(|c| format!("tag-{c}"))
                .unwrap_or_default(),
            name: name.clone(),
        })
        .collect())
}
