//! My tasks' index ranges read as one JSON value each: sqlx hands SQLite rows across a
//! thread one at a time, and a board is up to ~300 rows in six ranges (measured with
//! 10 000 tasks, release build: ~16 ms a page row by row). The statement is the
//! builder's own (`mod::bare` with its filters); raw SQL only wraps it in the
//! aggregate of `domain::sql::json_array`.
//!
//! The ranges carry the tasks' own columns only; `name` then looks up the names of the
//! assignees and records of a whole board at once (the assignees from the cached active
//! users, each kind of record in one query by primary key), rather than four joins in
//! every range and five more strings per row through the JSON.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    QueryTrait, Select, Statement,
};

use super::{Row, Task};
use crate::domain::sql::json_array;
use crate::domain::{Db, users};
use crate::entities::{company, contact, deal, task, user};
use crate::error::AppError;

/// The columns `mod::bare` names, as the JSON object's keys.
const FIELDS: &[&str] = &[
    "id",
    "title",
    "notes",
    "due_at",
    "due_date",
    "priority",
    "assignee_id",
    "created_by",
    "contact_id",
    "company_id",
    "deal_id",
    "done",
    "done_at",
    "version",
    "created_at",
    "updated_at",
];

#[derive(FromQueryResult)]
struct Items {
    items: String,
}

/// The tasks `q` (`mod::bare` filtered) selects, in no particular order (callers sort),
/// without names (see `name`).
pub(super) async fn rows(
    conn: &impl ConnectionTrait,
    q: Select<task::Entity>,
) -> Result<Vec<Task>, AppError> {
    let backend = conn.get_database_backend();
    let inner = q.build(backend);
    let columns: Vec<String> = FIELDS.iter().map(|f| format!("s.{f}")).collect();
    let fields: Vec<(&str, &str)> = FIELDS
        .iter()
        .zip(&columns)
        .map(|(k, c)| (*k, c.as_str()))
        .collect();
    let sql = format!(
        "SELECT {} AS items FROM ({}) s",
        json_array(backend, &fields, ""),
        inner.sql
    );
    let stmt =
        Statement::from_sql_and_values(backend, sql, inner.values.map(|v| v.0).unwrap_or_default());
    let Some(found) = Items::find_by_statement(stmt).one(conn).await? else {
        return Ok(Vec::new());
    };
    let rows: Vec<Row> = serde_json::from_str(&found.items)
        .map_err(|e| AppError::Internal(format!("task JSON: {e}")))?;
    Ok(rows.into_iter().map(Task::from).collect())
}

/// A flag as either engine's JSON gives it: true/false, or SQLite's 1/0. A visitor of
/// its own: an untagged enum buffers the value and builds an error for each miss (3% of
/// a My tasks request).
pub(super) fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("true, false, 1 or 0")
        }
        fn visit_bool<E>(self, b: bool) -> Result<bool, E> {
            Ok(b)
        }
        fn visit_i64<E>(self, n: i64) -> Result<bool, E> {
            Ok(n != 0)
        }
        fn visit_u64<E>(self, n: u64) -> Result<bool, E> {
            Ok(n != 0)
        }
    }
    d.deserialize_any(Flag)
}

/// An instant as both engines write one into JSON (`2026-12-02T11:00:00.123456+00:00`,
/// UTC), read by position: chrono's general parser was a tenth of a My tasks request.
/// Anything else (another offset, another shape) goes to chrono as before.
fn parse_instant(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    fn fast(s: &str) -> Option<DateTime<Utc>> {
        let b = s.as_bytes();
        let num = |from: usize, to: usize| -> Option<u32> {
            b.get(from..to)?.iter().try_fold(0u32, |n, c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        let shape = b.len() >= 19
            && (b[4], b[7], b[13], b[16]) == (b'-', b'-', b':', b':')
            && matches!(b[10], b'T' | b' ');
        if !shape {
            return None;
        }
        let date =
            NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(5, 7)?, num(8, 10)?)?;
        let mut end = 19;
        let mut nanos = 0;
        if b.get(19) == Some(&b'.') {
            end = 20 + b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
            let digits = u32::try_from(end - 20)
                .ok()
                .filter(|d| (1..=9).contains(d))?;
            nanos = num(20, end)? * 10u32.pow(9 - digits);
        }
        if !matches!(&s[end..], "+00:00" | "Z") {
            return None;
        }
        let time = date.and_hms_nano_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, nanos)?;
        Some(time.and_utc())
    }
    match fast(s) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

pub(super) fn instant<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
    parse_instant(&s).map_err(serde::de::Error::custom)
}

pub(super) fn maybe_instant<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let s: Option<std::borrow::Cow<'de, str>> = serde::Deserialize::deserialize(d)?;
    s.map(|s| parse_instant(&s).map_err(serde::de::Error::custom))
        .transpose()
}

/// The distinct ids `of` gives for `tasks`.
fn ids(groups: &[&mut Vec<Task>], of: fn(&Task) -> Option<i64>) -> Vec<i64> {
    let set: HashSet<i64> = groups
        .iter()
        .flat_map(|g| g.iter())
        .filter_map(of)
        .collect();
    set.into_iter().collect()
}

/// Fills in the assignee's and the record's names of every task in `groups`: what the
/// joins of `mod::select` give, for a board's few dozen tasks in at most four lookups.
pub(super) async fn name(db: &Db, groups: &mut [&mut Vec<Task>]) -> Result<(), AppError> {
    let mut people: HashMap<i64, String> = users::list_active(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let gone: Vec<i64> = ids(groups, |t| Some(t.assignee_id))
        .into_iter()
        .filter(|id| !people.contains_key(id))
        .collect();
    if !gone.is_empty() {
        // Deactivated assignees, who are not among the active users.
        let rows: Vec<(i64, String)> = user::Entity::find()
            .select_only()
            .columns([user::Column::Id, user::Column::Name])
            .filter(user::Column::Id.is_in(gone))
            .into_tuple()
            .all(&db.read)
            .await?;
        people.extend(rows);
    }
    let contacts = names3(db, ids(groups, |t| t.contact_id)).await?;
    let companies = names2::<company::Entity>(
        db,
        company::Column::Id,
        company::Column::Name,
        ids(groups, |t| t.company_id),
    )
    .await?;
    let deals = names2::<deal::Entity>(
        db,
        deal::Column::Id,
        deal::Column::Title,
        ids(groups, |t| t.deal_id),
    )
    .await?;
    for t in groups.iter_mut().flat_map(|g| g.iter_mut()) {
        t.assignee_name = people.get(&t.assignee_id).cloned().unwrap_or_default();
        t.contact_name = t.contact_id.and_then(|id| contacts.get(&id).cloned());
        t.company_name = t.company_id.and_then(|id| companies.get(&id).cloned());
        t.deal_title = t.deal_id.and_then(|id| deals.get(&id).cloned());
    }
    Ok(())
}

/// Contacts' full names by id.
async fn names3(db: &Db, ids: Vec<i64>) -> Result<HashMap<i64, String>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String)> = contact::Entity::find()
        .select_only()
        .columns([
            contact::Column::Id,
            contact::Column::FirstName,
            contact::Column::LastName,
        ])
        .filter(contact::Column::Id.is_in(ids))
        .into_tuple()
        .all(&db.read)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, first, last)| (id, format!("{first} {last}").trim().to_string()))
        .collect())
}

/// One name column of the rows of `E` by id (companies' names, deals' titles).
async fn names2<E: EntityTrait>(
    db: &Db,
    id: E::Column,
    name: E::Column,
    ids: Vec<i64>,
) -> Result<HashMap<i64, String>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = E::find()
        .select_only()
        .column(id)
        .column(name)
        .filter(id.is_in(ids))
        .into_tuple()
        .all(&db.read)
        .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::parse_instant;

    #[test]
    fn instants_read_by_position_match_chrono() {
        for s in [
            "2026-12-02T11:11:35.189199+00:00",
            "2026-12-02 11:11:35+00:00",
            "2026-12-02T11:11:35.1Z",
            "2024-02-29T23:59:59.999999999+00:00",
            "2026-12-02T11:11:35.5+05:30",
        ] {
            let chrono = s
                .parse::<chrono::DateTime<chrono::FixedOffset>>()
                .map(|t| t.to_utc());
            assert_eq!(parse_instant(s).ok(), chrono.ok(), "{s}");
        }
        for bad in [
            "2026-13-02T11:11:35+00:00",
            "2026-12-02T11:11:35",
            "2026-12-02",
            "x",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad} is refused");
        }
    }
}
