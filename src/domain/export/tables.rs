//! The CSV files of the export: each a header and then its rows, read in keyset-paged
//! chunks (`CHUNK` rows after the last key written) and written into the ZIP chunk by
//! chunk. The record tables with tags and custom fields are in `records`; the users, deal
//! links, activities and tasks are here.
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};

use super::out::Zip;
use super::workspace::Workspace;
use super::{CHUNK, records};
use crate::domain::csv;
use crate::entities::{activity, company, contact, deal, deal_contact, task, user};
use crate::error::AppError;

/// One chunk's CSV rows, how many, and where the next chunk starts (None: this was the
/// last).
pub struct Page<K> {
    pub csv: String,
    pub rows: u64,
    pub next: Option<K>,
}

impl<K> Page<K> {
    /// A page of `rows` rows, the last of them at `last`: a full chunk may have more after.
    pub fn new(csv: String, rows: usize, last: Option<K>) -> Page<K> {
        let rows = rows as u64;
        let next = if rows >= CHUNK { last } else { None };
        Page { csv, rows, next }
    }
}

/// A CSV file of the export.
pub trait Table {
    /// The keyset position: the key of the last row written.
    type Key: Copy + Default;
    const FILE: &'static str;
    fn header(&self) -> Vec<String>;
    async fn page(
        &self,
        conn: &impl ConnectionTrait,
        after: Self::Key,
    ) -> Result<Page<Self::Key>, AppError>;
}

/// Writes every table in `FILES`' order; answers the row count of each file.
pub async fn write_all(
    conn: &impl ConnectionTrait,
    info: &Workspace,
    zip: &mut Zip<'_>,
) -> Result<std::collections::BTreeMap<String, u64>, AppError> {
    let mut counts = std::collections::BTreeMap::new();
    let mut count = |file: &str, n: u64| counts.insert(file.to_string(), n);
    count(Users::FILE, write(conn, zip, &Users).await?);
    let companies = records::Companies::new(info);
    count(
        records::Companies::FILE,
        write(conn, zip, &companies).await?,
    );
    let contacts = records::Contacts::new(info);
    count(records::Contacts::FILE, write(conn, zip, &contacts).await?);
    let deals = records::Deals::new(info);
    count(records::Deals::FILE, write(conn, zip, &deals).await?);
    count(DealContacts::FILE, write(conn, zip, &DealContacts).await?);
    count(Activities::FILE, write(conn, zip, &Activities).await?);
    count(Tasks::FILE, write(conn, zip, &Tasks).await?);
    Ok(counts)
}

async fn write<T: Table>(
    conn: &impl ConnectionTrait,
    zip: &mut Zip<'_>,
    table: &T,
) -> Result<u64, AppError> {
    zip.file(T::FILE)?;
    let mut head = String::new();
    csv::row(&mut head, table.header().iter().map(String::as_str));
    zip.write(head.as_bytes()).await?;
    let (mut after, mut rows) = (T::Key::default(), 0);
    loop {
        let page = table.page(conn, after).await?;
        rows += page.rows;
        zip.write(page.csv.as_bytes()).await?;
        match page.next {
            Some(next) => after = next,
            None => return Ok(rows),
        }
    }
}

/// The header as written: its names, then a `custom.<key>` column per custom field.
pub fn header(own: &[&str], custom: &[super::workspace::FieldDef]) -> Vec<String> {
    own.iter()
        .map(|h| h.to_string())
        .chain(custom.iter().map(|f| format!("custom.{}", f.key)))
        .collect()
}

/// Times as the API writes them: RFC 3339, UTC, fractions of a second only when there are.
pub fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub fn opt_time(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(time).unwrap_or_default()
}

pub fn date(d: &Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn text(t: &Option<String>) -> String {
    t.clone().unwrap_or_default()
}

pub fn id(i: Option<i64>) -> String {
    i.map(|i| i.to_string()).unwrap_or_default()
}

/// Every user, active or not (owners and authors may have left): never a password hash.
pub struct Users;

impl Table for Users {
    type Key = i64;
    const FILE: &'static str = "users.csv";

    fn header(&self) -> Vec<String> {
        header(&["id", "email", "name", "role", "active"], &[])
    }

    async fn page(&self, conn: &impl ConnectionTrait, after: i64) -> Result<Page<i64>, AppError> {
        let rows: Vec<(i64, String, String, String, bool)> = user::Entity::find()
            .select_only()
            .columns([
                user::Column::Id,
                user::Column::Email,
                user::Column::Name,
                user::Column::Role,
                user::Column::Active,
            ])
            .filter(user::Column::Id.gt(after))
            .order_by_asc(user::Column::Id)
            .limit(CHUNK)
            .into_tuple()
            .all(conn)
            .await?;
        let mut out = String::new();
        for (id, email, name, role, active) in &rows {
            let (id, active) = (id.to_string(), active.to_string());
            csv::row(
                &mut out,
                [&id, email, name, role, &active].map(String::as_str),
            );
        }
        let last = rows.last().map(|r| r.0);
        Ok(Page::new(out, rows.len(), last))
    }
}

/// The contacts on each deal, both live.
pub struct DealContacts;

impl Table for DealContacts {
    type Key = (i64, i64);
    const FILE: &'static str = "deal_contacts.csv";

    fn header(&self) -> Vec<String> {
        header(&["deal_id", "contact_id"], &[])
    }

    async fn page(
        &self,
        conn: &impl ConnectionTrait,
        (deal, contact): (i64, i64),
    ) -> Result<Page<(i64, i64)>, AppError> {
        use deal_contact::Column::{ContactId, DealId};
        let after = Condition::any().add(DealId.gt(deal)).add(
            Condition::all()
                .add(DealId.eq(deal))
                .add(ContactId.gt(contact)),
        );
        // Joins rather than `IN (SELECT …)`: SQLite would build the whole set of live ids
        // again for every chunk.
        let rows: Vec<(i64, i64)> = deal_contact::Entity::find()
            .join(JoinType::InnerJoin, deal_contact::Relation::Deal.def())
            .join(JoinType::InnerJoin, deal_contact::Relation::Contact.def())
            .filter(after)
            .filter(deal::Column::DeletedAt.is_null())
            .filter(contact::Column::DeletedAt.is_null())
            .order_by_asc(DealId)
            .order_by_asc(ContactId)
            .limit(CHUNK)
            .all(conn)
            .await?
            .into_iter()
            .map(|l| (l.deal_id, l.contact_id))
            .collect();
        let mut out = String::new();
        for (d, c) in &rows {
            csv::row(
                &mut out,
                [d.to_string(), c.to_string()].iter().map(String::as_str),
            );
        }
        Ok(Page::new(out, rows.len(), rows.last().copied()))
    }
}

/// Activities on live records (an activity on a trashed record goes with it).
pub struct Activities;

impl Table for Activities {
    type Key = i64;
    const FILE: &'static str = "activities.csv";

    fn header(&self) -> Vec<String> {
        let own = [
            "id",
            "kind",
            "body",
            "occurred_at",
            "deal_id",
            "contact_id",
            "company_id",
            "author_id",
            "created_at",
            "edited_at",
        ];
        header(&own, &[])
    }

    async fn page(&self, conn: &impl ConnectionTrait, after: i64) -> Result<Page<i64>, AppError> {
        use activity::Relation;
        // A record not linked joins as nulls, so "its deleted_at is null" keeps the
        // activity unless a record it is on is trashed (joins, as for `DealContacts`).
        let rows = activity::Entity::find()
            .join(JoinType::LeftJoin, Relation::Deal.def())
            .join(JoinType::LeftJoin, Relation::Contact.def())
            .join(JoinType::LeftJoin, Relation::Company.def())
            .filter(activity::Column::Id.gt(after))
            .filter(deal::Column::DeletedAt.is_null())
            .filter(contact::Column::DeletedAt.is_null())
            .filter(company::Column::DeletedAt.is_null())
            .order_by_asc(activity::Column::Id)
            .limit(CHUNK)
            .all(conn)
            .await?;
        let mut out = String::new();
        for a in &rows {
            let cells = [
                a.id.to_string(),
                a.kind.clone(),
                a.body.clone(),
                time(&a.occurred_at),
                id(a.deal_id),
                id(a.contact_id),
                id(a.company_id),
                id(a.author_id),
                time(&a.created_at),
                opt_time(&a.edited_at),
            ];
            csv::row(&mut out, cells.iter().map(String::as_str));
        }
        let last = rows.last().map(|a| a.id);
        Ok(Page::new(out, rows.len(), last))
    }
}

/// Tasks, but those hidden with their trashed record.
pub struct Tasks;

impl Table for Tasks {
    type Key = i64;
    const FILE: &'static str = "tasks.csv";

    fn header(&self) -> Vec<String> {
        let own = [
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
            "created_at",
            "updated_at",
        ];
        header(&own, &[])
    }

    async fn page(&self, conn: &impl ConnectionTrait, after: i64) -> Result<Page<i64>, AppError> {
        let rows = task::Entity::find()
            .filter(task::Column::Id.gt(after))
            .filter(task::Column::RecordTrashed.eq(false))
            .order_by_asc(task::Column::Id)
            .limit(CHUNK)
            .all(conn)
            .await?;
        let mut out = String::new();
        for t in &rows {
            let cells = [
                t.id.to_string(),
                t.title.clone(),
                text(&t.notes),
                opt_time(&t.due_at),
                date(&t.due_date),
                t.priority.clone(),
                t.assignee_id.to_string(),
                id(t.created_by),
                id(t.contact_id),
                id(t.company_id),
                id(t.deal_id),
                t.done.to_string(),
                opt_time(&t.done_at),
                time(&t.created_at),
                time(&t.updated_at),
            ];
            csv::row(&mut out, cells.iter().map(String::as_str));
        }
        let last = rows.last().map(|t| t.id);
        Ok(Page::new(out, rows.len(), last))
    }
}
