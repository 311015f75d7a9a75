//! The record pages contacts and companies share: the list's data and filter echo, CSV
//! export, bulk actions with their confirmation, and merging. What a record type shows
//! differently is its `Listed` implementation (in its own page module), its field table
//! (`records::fields!` in its domain module: the export's columns, the merge table) and
//! its templates.
use std::collections::HashMap;

use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::records::merge::Mergeable;
use crate::domain::records::{self, Kind, Params, SortKey, Writes};
use crate::domain::{Action, Page, users, views};
use crate::error::AppError;
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::{SetFilters, custom_filters, see_other};

mod bulk;
mod export;
mod merge;
mod pages;

pub use bulk::{BulkForm, bulk};
pub use export::export;
pub use merge::{MergeItem, MergeParams, MergeRow, MergeText, merge, merge_page};
pub use pages::{
    Around, FormParts, Pages, Rendered, confirm_delete, create, index, live, owner_field, show,
};
pub(crate) use pages::{named, record_form, record_pages};

/// How a record type's pages read its list and show its records.
#[allow(async_fn_in_trait)]
pub trait Listed: Mergeable + Clone {
    type Params: Params;
    /// The list's own filters as set (`sort` among them), in the order links carry them.
    fn named(params: &Self::Params) -> Vec<(&'static str, Option<String>)>;
    /// How the record is named in messages and headings.
    fn name(&self) -> String;
    /// What a bulk delete's flash and confirmation add ("" for nothing).
    const DELETE_NOTE: &'static str;
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
    /// Whether the list shows billing columns (none but contacts have them).
    async fn billing_shown(_state: &AppState) -> Result<bool, AppError> {
        Ok(false)
    }
    /// Whether the list shows a score column (contacts, while a lead model scores).
    async fn score_shown(_state: &AppState) -> Result<bool, AppError> {
        Ok(false)
    }
}

/// A record form's custom field values, which `Edited::read_form` reads apart from the
/// form's fixed fields.
pub trait FormCustom {
    fn custom_mut(&mut self) -> &mut std::collections::BTreeMap<String, serde_json::Value>;
}

/// How a record type's pages edit it: its form, read from a post and shown again.
#[allow(async_fn_in_trait)]
pub trait Edited: Listed + Writes {
    type Form: serde::de::DeserializeOwned + FormCustom;
    /// The posted form: the fixed fields, then the custom ones (`cf.<key>`).
    async fn read_form(
        state: &AppState,
        pairs: &[(String, String)],
    ) -> Result<Self::Form, AppError> {
        let mut form: Self::Form = crate::web::pages::custom::fixed(pairs)?;
        *form.custom_mut() =
            crate::web::pages::custom::from_pairs(state, Self::KIND.entity, pairs).await?;
        Ok(form)
    }
    fn form_of(&self) -> Self::Form;
    /// The form page, with `error`'s messages when a save was refused.
    async fn form_page(
        state: &AppState,
        user: &CurrentUser,
        id: Option<i64>,
        form: Self::Form,
        error: Option<AppError>,
    ) -> Result<HttpResponse, AppError>;
    /// The form's values as the domain takes them.
    fn input(form: &Self::Form) -> Result<<Self as Writes>::Input, AppError>;
    /// Saves the form's values on record `id`, or as a new record.
    async fn save(
        state: &AppState,
        user: &CurrentUser,
        id: Option<i64>,
        form: &Self::Form,
    ) -> Result<Self, AppError> {
        let input = Self::input(form)?;
        match id {
            None => Self::create(&state.db, &user.actor, &input).await,
            Some(id) => Self::update(&state.db, &user.actor, id, input.into()).await,
        }
    }
}

pub async fn edit<R: Edited>(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::WriteRecords)?;
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
    let result = R::save(&state, &user, Some(id), &form).await;
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

/// An optional text as a form or a table shows it ("" for none).
pub fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
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
    /// Whether the list has its billing columns (contacts, once Stripe named one:
    /// `Listed::billing_shown`), decided for the workspace rather than the page.
    pub billed: bool,
    /// Whether the list has its score column (`Listed::score_shown`).
    pub scored: bool,
}

impl<R: records::Record> ListData<R> {
    /// The query of the next page: keyset paging after this page's last record, so that
    /// walking a long list costs the same on every page.
    pub fn next_query(&self) -> String {
        let next = self.f.page_query(self.page.page + 1);
        match self.page.items.last() {
            Some(last) => format!("{next}&after={}", last.id()),
            None => next,
        }
    }
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
    let tags: Vec<String> = page
        .items
        .iter()
        .flat_map(records::Record::tags)
        .cloned()
        .collect();
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
        billed: R::billing_shown(state).await?,
        scored: R::score_shown(state).await?,
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
