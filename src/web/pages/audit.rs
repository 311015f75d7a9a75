//! Settings → Audit log (admins only): who did what to which record, from where, newest
//! first, with filters (who, what, which record, when) and keyset pages swapped by htmx;
//! and how long the log keeps its rows.
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use crate::app::AppState;
use crate::domain::audit::log::{self, Event, LogPage, Params};
use crate::domain::audit::retention;
use crate::domain::users;
use crate::error::AppError;
use crate::web::auth::{Can, csrf_token, gate, set_flash};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, list_query, ok, see_other};

/// The longest value a change shows before it is cut.
const VALUE_CHARS: usize = 120;

/// One changed field as a row shows it.
pub struct Change {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// One entry as a row shows it.
pub struct Row {
    pub at: chrono::DateTime<chrono::Utc>,
    pub who: String,
    pub action: String,
    pub record: String,
    /// The record's page, for the types that have one.
    pub link: Option<String>,
    pub ip: String,
    pub changes: Vec<Change>,
    /// The rest of the detail, as compact JSON.
    pub other: Option<String>,
}

fn shown(v: &Value) -> String {
    let text = match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > VALUE_CHARS {
        let head: String = text.chars().take(VALUE_CHARS).collect();
        format!("{head}…")
    } else {
        text
    }
}

impl From<Event> for Row {
    fn from(e: Event) -> Row {
        let mut changes = Vec::new();
        let mut other = None;
        if let Some(Value::Object(mut detail)) = e.detail {
            if let Some(Value::Object(c)) = detail.remove("changes") {
                changes = c
                    .into_iter()
                    .map(|(field, v)| Change {
                        field,
                        old: shown(&v["old"]),
                        new: shown(&v["new"]),
                    })
                    .collect();
            }
            if !detail.is_empty() {
                other = Some(shown(&Value::Object(detail)));
            }
        } else if let Some(d) = e.detail {
            other = Some(shown(&d));
        }
        let link = match e.entity.as_str() {
            "contact" => Some(format!("/contacts/{}", e.entity_id)),
            "company" => Some(format!("/companies/{}", e.entity_id)),
            "deal" => Some(format!("/deals/{}", e.entity_id)),
            _ => None,
        };
        Row {
            at: e.created_at,
            who: e.actor_name.unwrap_or_else(|| match e.actor_id {
                Some(id) => format!("user #{id}"),
                None => "system".into(),
            }),
            action: e.action,
            record: if e.entity_id == 0 {
                e.entity
            } else {
                format!("{} #{}", e.entity, e.entity_id)
            },
            link,
            ip: e.ip.unwrap_or_default(),
            changes,
            other,
        }
    }
}

/// The filters as the form shows them again.
#[derive(Default)]
pub struct Shown {
    pub actor_id: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub from: String,
    pub to: String,
}

impl Shown {
    fn of(p: &Params) -> Shown {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Shown {
            actor_id: s(&p.actor_id),
            action: s(&p.action),
            entity: s(&p.entity),
            entity_id: s(&p.entity_id),
            from: s(&p.from),
            to: s(&p.to),
        }
    }

    /// The page's address with these filters and a cursor (`before` or `after`).
    fn link(&self, cursor: (&str, &String)) -> String {
        let mut pairs = vec![
            ("actor_id", &self.actor_id),
            ("action", &self.action),
            ("entity", &self.entity),
            ("entity_id", &self.entity_id),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs.push(cursor);
        format!("/settings/audit?{}", list_query(&pairs, 1))
    }
}

#[derive(Template)]
#[template(path = "settings/audit.html")]
struct AuditPage {
    l: Layout,
    csrf: String,
    f: Shown,
    rows: Vec<Row>,
    older: Option<String>,
    newer: Option<String>,
    people: Vec<users::Person>,
    actions: &'static [&'static str],
    entities: &'static [&'static str],
    retention_days: i64,
}

/// The results alone, for an htmx filter change or page link.
#[derive(Template)]
#[template(path = "settings/audit.html", block = "results")]
struct Results {
    f: Shown,
    rows: Vec<Row>,
    older: Option<String>,
    newer: Option<String>,
}

macro_rules! pager_links {
    ($t:ty) => {
        impl $t {
            fn older_link(&self) -> Option<String> {
                self.older.as_ref().map(|c| self.f.link(("before", c)))
            }
            fn newer_link(&self) -> Option<String> {
                self.newer.as_ref().map(|c| self.f.link(("after", c)))
            }
        }
    };
}
pager_links!(AuditPage);
pager_links!(Results);

pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Can<gate::AuditLog>,
    hx: Htmx,
) -> Result<HttpResponse, AppError> {
    let p: Params = crate::web::forms::parse_query(req.query_string())?;
    // The page's links never carry another size.
    let filter = Params {
        per_page: None,
        ..p.clone()
    }
    .validate(user.tz)?;
    let LogPage {
        items,
        older,
        newer,
    } = log::list(&state.db, &user.actor, &filter).await?;
    let rows = items.into_iter().map(Row::from).collect();
    let f = Shown::of(&p);
    if hx.fragment {
        return ok(&Results {
            f,
            rows,
            older,
            newer,
        });
    }
    ok(&AuditPage {
        l: Layout::for_user(&user, "settings"),
        csrf: csrf_token(&user.session),
        f,
        rows,
        older,
        newer,
        people: users::list_all(&state.db).await?,
        actions: log::ACTIONS,
        entities: log::ENTITIES,
        retention_days: retention::days(&state.db.read).await?,
    })
}

#[derive(Deserialize)]
pub struct RetentionForm {
    #[serde(default)]
    retention_days: String,
}

pub async fn set_retention(
    state: web::Data<AppState>,
    user: Can<gate::AuditLog>,
    Form(form): Form<RetentionForm>,
) -> Result<HttpResponse, AppError> {
    let days = retention::set_days(&state.db, &user.actor, &form.retention_days).await?;
    let plural = if days == 1 { "" } else { "s" };
    set_flash(
        &user.session,
        format!("The audit log keeps entries for {days} day{plural}."),
    );
    Ok(see_other("/settings/audit"))
}
