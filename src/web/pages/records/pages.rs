//! The record pages' handlers and parts written once: the list, adding, the delete
//! confirmation, what a record's page shows beside its fields, and what its form shows
//! beside its inputs. A record type's module keeps only its templates and what differs.
use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Chip, Edited, ListData, chips, list_data, owners, saved, tag_names};
use crate::app::AppState;
use crate::domain::activities::Subject;
use crate::domain::records::Kind;
use crate::domain::{Action, trash, users};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::CurrentUser;
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, Refusal, activities, custom, tasks};

/// What a record type's own templates render, and what its pages need to know of it.
#[allow(async_fn_in_trait)]
pub trait Rendered: Edited + Pages {
    /// The bin its trash notices and delete refusals name.
    const BIN: trash::Bin;
    /// Its owner, whom the delete rule asks about.
    fn owner(&self) -> Option<i64>;
    /// What its activity and task panels hang on.
    fn subject(&self) -> Subject;
    /// The record's page, with what it shows beside its fields (`around`).
    async fn show_page(
        state: &AppState,
        user: &CurrentUser,
        c: Self,
        around: Around,
    ) -> Result<HttpResponse, AppError>;
}

/// A record type's list page, its htmx fragment and its delete confirmation (declared
/// with `record_pages!`).
pub trait Pages: Sized {
    /// The list page, or (without a layout) the htmx fragment of its results.
    fn list_page(l: Option<Layout>, d: ListData<Self>) -> Result<HttpResponse, AppError>;
    /// The delete confirmation.
    fn delete_page(l: Layout, c: Self) -> Result<HttpResponse, AppError>;
}

/// Declares `$record`'s list page (template `$index`, whose block `results` is the htmx
/// fragment) and delete confirmation (template `$delete`) as its `Pages`. The list page
/// has the layout `l` and the list's data `d`, then any `extra` fields its template shows
/// (`name: type = value`); the delete page has `l`, the record's `kind` and the record `c`.
macro_rules! record_pages {
    ($record:ident, $index:literal, $delete:literal $(, $extra:ident: $ty:ty = $value:expr)* $(,)?) => {
        #[derive(askama::Template)]
        #[template(path = $index)]
        struct IndexPage {
            l: crate::web::pages::Layout,
            d: crate::web::pages::records::ListData<$record>,
            $($extra: $ty,)*
        }

        #[derive(askama::Template)]
        #[template(path = $index, block = "results")]
        struct Results {
            d: crate::web::pages::records::ListData<$record>,
        }

        #[derive(askama::Template)]
        #[template(path = $delete)]
        struct DeletePage {
            l: crate::web::pages::Layout,
            kind: &'static crate::domain::records::Kind,
            c: $record,
        }

        impl crate::web::pages::records::Pages for $record {
            fn list_page(
                l: Option<crate::web::pages::Layout>,
                d: crate::web::pages::records::ListData<$record>,
            ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
                match l {
                    Some(l) => crate::web::pages::ok(&IndexPage { l, d, $($extra: $value,)* }),
                    None => crate::web::pages::ok(&Results { d }),
                }
            }

            fn delete_page(
                l: crate::web::pages::Layout,
                c: $record,
            ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
                let kind = <$record as crate::domain::records::Record>::KIND;
                crate::web::pages::ok(&DeletePage { l, kind, c })
            }
        }
    };
}

pub(crate) use record_pages;

/// `/<records>/{id}`: the record's page, or the notice that it is in the trash or gone.
pub async fn show<R: Rendered>(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let c: R = match live(&state, &user, *id).await? {
        Ok(c) => c,
        Err(notice) => return Ok(notice),
    };
    let around = Around::load(&state, &user, &c).await?;
    R::show_page(&state, &user, c, around).await
}

pub async fn index<R: Rendered>(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
) -> Result<HttpResponse, AppError> {
    let d = match list_data::<R>(&req, &state, &user, &hx).await? {
        Ok(d) => d,
        Err(redirect) => return Ok(redirect),
    };
    let l = (!hx.fragment).then(|| Layout::for_user(&user, R::KIND.table));
    R::list_page(l, d)
}

pub async fn create<R: Edited>(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = R::read_form(&state, &pairs).await?;
    let result = R::save(&state, &user, None, &form).await;
    saved(&state, &user, None, form, result, "added").await
}

pub async fn confirm_delete<R: Rendered>(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::WriteRecords)?;
    let c: R = crate::domain::records::get(&state.db, &user.actor, *id).await?;
    if !trash::may_delete(&user.actor, c.owner()) {
        return Err(trash::forbidden(&user.actor, R::BIN));
    }
    R::delete_page(Layout::for_user(&user, R::KIND.table), c)
}

/// The record `id`, or the page saying it is in the trash (or gone) when it is not live.
pub async fn live<R: Rendered>(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<Result<R, HttpResponse>, AppError> {
    match crate::domain::records::get(&state.db, &user.actor, id).await {
        Ok(c) => Ok(Ok(c)),
        Err(e) => crate::web::pages::trash::or_notice(state, user, R::BIN, id, e)
            .await
            .map(Err),
    }
}

/// What a record's page shows beside its own fields.
pub struct Around {
    pub activity: activities::Panel,
    pub tasks: tasks::Panel,
    pub tags: Vec<Chip>,
    /// The custom fields defined for its type, and its values.
    pub defs: Vec<crate::domain::custom_fields::Field>,
    pub values: BTreeMap<String, serde_json::Value>,
}

impl Around {
    pub async fn load<R: Rendered>(
        state: &AppState,
        user: &CurrentUser,
        c: &R,
    ) -> Result<Around, AppError> {
        Ok(Around {
            activity: activities::panel(state, user, c.subject()).await?,
            tasks: tasks::panel(state, user, c.subject()).await?,
            tags: chips(state, c.tags()).await?,
            defs: crate::domain::custom_fields::defs(&state.db, R::KIND.entity).await?,
            values: c.custom().clone(),
        })
    }
}

/// What a record's form shows beside its own inputs: what a refused save said, the
/// owners and tag names to choose from, and its custom fields' inputs.
pub struct FormParts {
    pub status: StatusCode,
    pub message: Option<String>,
    pub errors: FieldErrors,
    pub owners: Vec<users::Person>,
    pub tag_names: Vec<String>,
    pub cf: custom::Inputs,
    pub form_kind: &'static Kind,
}

impl FormParts {
    pub async fn load<R: Edited>(
        state: &AppState,
        owner_id: &str,
        custom: BTreeMap<String, serde_json::Value>,
        error: Option<AppError>,
    ) -> Result<FormParts, AppError> {
        let Refusal {
            status,
            message,
            fields: errors,
        } = Refusal::of(error)?;
        let cf = custom::Inputs::load(state, R::KIND.entity, custom, &errors).await?;
        Ok(FormParts {
            status,
            message,
            owners: owners(state, owner_id).await?,
            tag_names: tag_names(state).await?,
            cf,
            errors,
            form_kind: R::KIND,
        })
    }

    /// A conflict named `field`: the form then links the record that holds the value.
    pub fn conflict_on(&self, field: &str) -> bool {
        self.status == StatusCode::CONFLICT && self.errors.contains_key(field)
    }
}

/// A form's owner as chosen from the list ("" for the default).
pub fn owner_field(owner_id: &str) -> Result<Option<i64>, AppError> {
    match owner_id.trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::field("owner_id", "Choose an owner from the list.")),
    }
}

/// Declares a record form: its fixed fields as posted (all text, absent ones empty), and
/// the custom field values that `Edited::read_form` reads apart from them.
macro_rules! record_form {
    ($(#[$m:meta])* pub struct $form:ident { $($body:tt)* }) => {
        $(#[$m])*
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        pub struct $form {
            $($body)*
            /// Custom field values, read from the `cf.<key>` inputs by `read_form`.
            #[serde(skip)]
            custom: std::collections::BTreeMap<String, serde_json::Value>,
        }

        impl crate::web::pages::records::FormCustom for $form {
            fn custom_mut(&mut self) -> &mut std::collections::BTreeMap<String, serde_json::Value> {
                &mut self.custom
            }
        }
    };
}
pub(crate) use record_form;

/// `Listed::named` where each filter is the list parameter of the same name.
macro_rules! named {
    ($params:ident: $($field:ident),+) => {
        vec![$((stringify!($field), $params.$field.clone())),+]
    };
}
pub(crate) use named;
