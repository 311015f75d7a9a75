//! Reading the audit log: filters (who, what, which type of record and which record,
//! when) and keyset pages, newest first. The order is (created_at, id), the tail of every
//! audit index (see the `audit` and `audit_and_owner_indexes` migrations), and every
//! combination of who, what and which type of record has an index of its own, so each
//! filter reads one short index range from a cursor however deep the page (the page's
//! ids from the index alone, then their rows: see `list`), and no page counts the whole
//! log.
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, ExprTrait, FromQueryResult, JoinType, Order, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::tasks::due;
use crate::domain::{Db, FieldErrorsExt, check_text, clean};
use crate::entities::{audit_log, user};
use crate::error::{AppError, FieldErrors};

pub const PER_PAGE: u64 = 50;

/// The actions the product records, offered by the page's filter (any other text is
/// accepted too: a filter on an action nobody did finds nothing).
pub const ACTIONS: &[&str] = &[
    "create",
    "update",
    "delete",
    "restore",
    "purge",
    "merge",
    "move",
    "import",
    "export",
    "rename",
    "reorder",
    "set_currency",
    "bulk_change_owner",
    "bulk_delete",
    "bulk_tag",
    "bulk_untag",
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "two_factor_failed",
    "enable_two_factor",
    "disable_two_factor",
    "reset_two_factor",
    "use_recovery_code",
    "change_role",
    "change_password",
    "activate",
    "deactivate",
    "revoke",
    "complete",
    "reopen",
    "retry",
    "retry_dead",
    "enable",
    "disable",
    "redeliver",
    "export_personal_data",
    "erase",
    "train",
];

/// The kinds of record the log names, offered by the page's filter.
pub const ENTITIES: &[&str] = &[
    "contact",
    "company",
    "deal",
    "activity",
    "task",
    "tag",
    "custom_field",
    "form",
    "pipeline",
    "stage",
    "saved_view",
    "user",
    "api_token",
    "settings",
    "job",
    "audit_log",
    "webhook_endpoint",
    "webhook_delivery",
    "workspace",
    "scoring_model",
    "metrics_token",
];

/// A list request as it arrives (query string), every value still text; the OpenAPI
/// document describes this struct.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// Entries by this user
    #[param(value_type = Option<i64>)]
    pub actor_id: Option<String>,
    /// Entries of this action (create, update, sign_in, …)
    pub action: Option<String>,
    /// Entries about this type of record (contact, deal, user, …)
    pub entity: Option<String>,
    /// Entries about this record (with `entity`)
    #[param(value_type = Option<i64>)]
    pub entity_id: Option<String>,
    /// At or after this time or date
    pub from: Option<String>,
    /// Before this time, or up to and including this date
    pub to: Option<String>,
    /// The page older than this cursor (a page's `older`)
    pub before: Option<String>,
    /// The page newer than this cursor (a page's `newer`)
    pub after: Option<String>,
    /// 1 to 100, default 50
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// Where a page starts: just older or just newer than an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    Before(DateTime<Utc>, i64),
    After(DateTime<Utc>, i64),
}

/// A checked list request.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub cursor: Option<Cursor>,
    pub per_page: u64,
}

/// An entry's place in the order, as page links carry it: `<microseconds>_<id>`.
pub fn cursor_of(at: DateTime<Utc>, id: i64) -> String {
    format!("{}_{id}", at.timestamp_micros())
}

fn parse_cursor(s: &str) -> Option<(DateTime<Utc>, i64)> {
    let (micros, id) = s.trim().split_once('_')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

/// A date (the start of that day in `tz`, or of the day after for an `end`) or a time.
fn parse_when(
    s: &str,
    field: &str,
    tz: Tz,
    end: bool,
    fields: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.len() == 10 {
        let date = due::parse_date(s, field, fields)?;
        let date = if end { date + Duration::days(1) } else { date };
        return Some(due::day_start(tz, date));
    }
    due::parse_instant(s, field, fields)
}

impl Params {
    /// Checks every value; dates are days in `tz`. Problems are field messages (422).
    pub fn validate(&self, tz: Tz) -> Result<Filter, AppError> {
        let mut fields = FieldErrors::new();
        let mut id = |name: &str, v: &Option<String>| match clean(v.as_deref()) {
            None => None,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    fields.set(name, format!("{name} must be a whole number."));
                    None
                }
            },
        };
        let actor_id = id("actor_id", &self.actor_id);
        let entity_id = id("entity_id", &self.entity_id);
        let mut text = |name: &str, v: &Option<String>| {
            let s = clean(v.as_deref())?;
            if s.chars().count() > 32 {
                fields.set(name, format!("{name} is at most 32 characters."));
                return None;
            }
            check_text(&mut fields, name, &s).then_some(s)
        };
        let action = text("action", &self.action);
        let entity = text("entity", &self.entity);
        if entity_id.is_some() && entity.is_none() {
            fields.set("entity", "Say which type of record the id is of.");
        }
        let from = clean(self.from.as_deref())
            .and_then(|s| parse_when(&s, "from", tz, false, &mut fields));
        let to =
            clean(self.to.as_deref()).and_then(|s| parse_when(&s, "to", tz, true, &mut fields));
        let mut cursor = None;
        for (name, v, make) in [
            ("before", &self.before, Cursor::Before as fn(_, _) -> Cursor),
            ("after", &self.after, Cursor::After as fn(_, _) -> Cursor),
        ] {
            if let Some(s) = clean(v.as_deref()) {
                match parse_cursor(&s) {
                    Some((at, id)) => cursor = Some(make(at, id)),
                    None => fields.set(name, format!("{name} is not a page cursor of this log.")),
                }
            }
        }
        let (_, per_page) = crate::domain::paging(&None, &self.per_page, PER_PAGE, &mut fields);
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        Ok(Filter {
            actor_id,
            action,
            entity,
            entity_id,
            from,
            to,
            cursor,
            per_page,
        })
    }
}

/// One entry as the page and the API show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// Who did it; none for the system (jobs, the command line) or an unknown sign-in.
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    /// The client's address, when a request did it.
    pub ip: Option<String>,
    pub action: String,
    /// The type of record.
    pub entity: String,
    pub entity_id: i64,
    /// What else was recorded; an update has `changes`: `{"field": {"old", "new"}}`.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

#[derive(FromQueryResult)]
struct Row {
    id: i64,
    created_at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    ip: Option<String>,
    action: String,
    entity: String,
    entity_id: i64,
    detail: Option<String>,
}

impl From<Row> for Event {
    fn from(r: Row) -> Event {
        Event {
            id: r.id,
            created_at: r.created_at,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            ip: r.ip,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            detail: r
                .detail
                .map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
        }
    }
}

/// A page of entries, newest first, with the cursors of the pages either side (none where
/// there is nothing more that way).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogPage {
    pub items: Vec<Event>,
    /// Pass as `before` for the next, older page.
    pub older: Option<String>,
    /// Pass as `after` for the previous, newer page.
    pub newer: Option<String>,
}

/// What `f` keeps: its filters and the cursor's side.
fn kept(f: &Filter) -> Condition {
    let col = |c: audit_log::Column| Expr::col((audit_log::Entity, c));
    let key = || {
        Expr::tuple([
            col(audit_log::Column::CreatedAt),
            col(audit_log::Column::Id),
        ])
    };
    let mut c = Condition::all();
    if let Some(id) = f.actor_id {
        c = c.add(audit_log::Column::ActorId.eq(id));
    }
    if let Some(a) = &f.action {
        c = c.add(audit_log::Column::Action.eq(a.as_str()));
    }
    if let Some(e) = &f.entity {
        c = c.add(audit_log::Column::Entity.eq(e.as_str()));
    }
    if let Some(id) = f.entity_id {
        c = c.add(audit_log::Column::EntityId.eq(id));
    }
    if let Some(t) = f.from {
        c = c.add(audit_log::Column::CreatedAt.gte(t));
    }
    if let Some(t) = f.to {
        c = c.add(audit_log::Column::CreatedAt.lt(t));
    }
    match f.cursor {
        Some(Cursor::After(at, id)) => c.add(key().gt(Expr::tuple([Expr::val(at), Expr::val(id)]))),
        Some(Cursor::Before(at, id)) => {
            c.add(key().lt(Expr::tuple([Expr::val(at), Expr::val(id)])))
        }
        None => c,
    }
}

/// The page `f` asks for. Admins only.
///
/// In two steps: the page's ids, then their rows. The ids alone are in every filter's own
/// index (its columns, then created_at and id), so step one reads that index and nothing
/// else. Asked for whole rows in one step, PostgreSQL walked the time index instead and
/// read each row to test the filter: cheaper by its estimate, as the time index follows
/// the table's order, but the estimate takes a filter's rows to be spread evenly over
/// time. "action=import" a page deep, with every import in the log's first two months,
/// read 340 000 rows (100 ms at a million rows) to find 51.
pub async fn list(db: &Db, actor: &crate::domain::Actor, f: &Filter) -> Result<LogPage, AppError> {
    actor.require(crate::domain::Action::AuditLog)?;
    let order = match f.cursor {
        Some(Cursor::After(..)) => Order::Asc,
        _ => Order::Desc,
    };
    let ids = Query::select()
        .column((audit_log::Entity, audit_log::Column::Id))
        .from(audit_log::Entity)
        .cond_where(kept(f))
        .order_by(
            (audit_log::Entity, audit_log::Column::CreatedAt),
            order.clone(),
        )
        .order_by((audit_log::Entity, audit_log::Column::Id), order.clone())
        .limit(f.per_page + 1)
        .to_owned();
    let rows = audit_log::Entity::find()
        .select_only()
        .columns([
            audit_log::Column::Id,
            audit_log::Column::CreatedAt,
            audit_log::Column::ActorId,
            audit_log::Column::Ip,
            audit_log::Column::Action,
            audit_log::Column::Entity,
            audit_log::Column::EntityId,
            audit_log::Column::Detail,
        ])
        .column_as(user::Column::Name, "actor_name")
        .join(JoinType::LeftJoin, audit_log::Relation::Actor.def())
        .filter(audit_log::Column::Id.in_subquery(ids))
        .order_by(audit_log::Column::CreatedAt, order.clone())
        .order_by(audit_log::Column::Id, order)
        .into_model::<Row>()
        .all(&db.read)
        .await?;
    let more = rows.len() as u64 > f.per_page;
    let mut items: Vec<Event> = rows
        .into_iter()
        .take(f.per_page as usize)
        .map(Event::from)
        .collect();
    let newest_first = !matches!(f.cursor, Some(Cursor::After(..)));
    if !newest_first {
        items.reverse();
    }
    let first = items.first().map(|e| cursor_of(e.created_at, e.id));
    let last = items.last().map(|e| cursor_of(e.created_at, e.id));
    // Coming from a neighbouring page means that page is still there; the far side has
    // more only when the query found a row past the page.
    let (older, newer) = match f.cursor {
        None => (last.filter(|_| more), None),
        Some(Cursor::Before(..)) => (last.filter(|_| more), first),
        Some(Cursor::After(..)) => (last, first.filter(|_| more)),
    };
    Ok(LogPage {
        items,
        older,
        newer,
    })
}
