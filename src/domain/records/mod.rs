//! What contacts and companies share: the list (filters, sort, paging), the export, bulk
//! actions, tag links and merging, written once. What differs per record type is declared
//! in one place: a `Kind` (tables, JSON fields, joins, sort keys, names), the `Record`
//! trait (entities and columns) and its field table (`fields!`: the overlay of a patch,
//! the merge's choices and rows, the export's columns). A third record type declares
//! those and gets the rest.
pub mod bulk;
mod common;
mod counts;
mod declare;
mod estimate;
pub mod fields;
pub mod filters;
pub mod merge;
mod query;
pub mod reads;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};
use serde::de::DeserializeOwned;

pub use common::{NEWEST, OLDEST, Overlay, Shared, SharedPatch, Writes, updated};
pub(crate) use common::{record_struct, writes};
pub use counts::Counted;
pub(crate) use declare::{list_params, owned_input, record};
pub use estimate::{ESTIMATE_TTL, Estimated};
pub(crate) use fields::fields;
pub use fields::{Cell, Field, Fields};
pub use query::{Checked, Common, ListQuery, OwnFilters, Params, not_read, params_from_query};

use crate::domain::access::{self, Visible};
use crate::domain::sql::{self, PageRow};
use crate::domain::{Actor, Db, FieldErrorsExt, Page, normalise};
use crate::error::{AppError, FieldErrors};

/// A table joined to the record (aliased `c`) for the list's JSON fields.
#[derive(Debug)]
pub struct Join {
    pub table: &'static str,
    pub alias: &'static str,
    /// The record's column that holds the joined row's id.
    pub from: &'static str,
    /// LEFT JOIN when the link may be missing.
    pub optional: bool,
}

/// One way to sort a list: its key in the query string, its label, and the columns (the
/// id always follows, so pages never overlap).
#[derive(Debug)]
pub struct SortKey {
    pub key: &'static str,
    pub label: &'static str,
    pub columns: &'static [&'static str],
    pub desc: bool,
}

/// Everything about a record type that is data rather than code.
#[derive(Debug)]
pub struct Kind {
    /// Singular, lower case: the audit log's entity, the custom fields' scope.
    pub entity: &'static str,
    /// The table, which is also the URL segment, the list's name and its counter.
    pub table: &'static str,
    /// "Contact": what a 404 names.
    pub title: &'static str,
    /// The plural noun ("companies") for counts.
    pub plural: &'static str,
    /// Its tag links: the typed handle for writes, the table and column for reads.
    pub tagged: crate::domain::tags::Tagged,
    pub tag_table: &'static str,
    pub tag_column: &'static str,
    /// Whether its tag links carry copies of the record's owner and trash state (and of
    /// the columns its own filters copy, `OwnFilters::on_links`), kept by triggers
    /// (contacts: migration 000055): a tag beside those filters is then counted from
    /// the links alone (`counts::on_links`).
    pub link_copies: bool,
    /// The list's JSON object: (key, SQL on the record `c` and its joins); `json:<column>`
    /// is a column holding JSON text, given as JSON; `one:<field>` is read for a single
    /// record only, not for lists.
    pub fields: &'static [(&'static str, &'static str)],
    pub joins: &'static [Join],
    /// The sorts a list offers; the first is the default.
    pub sorts: &'static [SortKey],
}

impl Kind {
    /// "1 contact", "3 companies".
    pub fn count(&self, n: &u64) -> String {
        if *n == 1 {
            format!("1 {}", self.entity)
        } else {
            format!("{n} {}", self.plural)
        }
    }

    pub fn sort(&self, key: &str) -> Option<&'static SortKey> {
        // `sorts` is 'static, so the key found is too.
        let sorts: &'static [SortKey] = self.sorts;
        sorts.iter().find(|s| s.key == key)
    }

    fn default_sort(&self) -> &'static SortKey {
        let sorts: &'static [SortKey] = self.sorts;
        &sorts[0]
    }
}

/// A record type: its `Kind` and the sea-orm entities and columns its writes use.
pub trait Record: DeserializeOwned + Send + 'static {
    const KIND: &'static Kind;
    type Entity: EntityTrait;
    type TagLink: EntityTrait;
    const ID: <Self::Entity as EntityTrait>::Column;
    const OWNER: <Self::Entity as EntityTrait>::Column;
    const UPDATED_AT: <Self::Entity as EntityTrait>::Column;
    const DELETED_AT: <Self::Entity as EntityTrait>::Column;
    const DELETED_BY: <Self::Entity as EntityTrait>::Column;
    /// The tag link's column naming the record, and the one naming the tag.
    const LINK_RECORD: <Self::TagLink as EntityTrait>::Column;
    const LINK_TAG: <Self::TagLink as EntityTrait>::Column;

    fn id(&self) -> i64;
    /// Its tag names, alphabetical.
    fn tags(&self) -> &[String];
    /// Its custom field values, by key.
    fn custom(&self) -> &BTreeMap<String, serde_json::Value>;
}

/// `q` as `actor` may run it: limited to the records they may see (`access`).
pub async fn scoped(db: &Db, actor: &Actor, q: &ListQuery) -> Result<ListQuery, AppError> {
    let visible = access::visible(db, actor).await?;
    Ok(ListQuery {
        visible,
        ..q.clone()
    })
}

/// One page of records and the total, in one statement that returns one row (see
/// `reads`).
pub async fn list<R: Record>(db: &Db, actor: &Actor, q: &ListQuery) -> Result<Page<R>, AppError> {
    let q = &scoped(db, actor, q).await?;
    let (row, estimate) = list_row(db, q).await?;
    let mut page: Page<R> = row.into_page(q.page, q.per_page)?;
    page.total_is_estimate = estimate;
    Ok(page)
}

/// The page as the database built it: the total (and whether it is an estimate) and the
/// items as JSON text. The API sends that text on as it is, saving a parse and a
/// re-serialisation per request.
pub async fn list_json(
    db: &Db,
    actor: &Actor,
    q: &ListQuery,
) -> Result<(u64, bool, String), AppError> {
    let q = &scoped(db, actor, q).await?;
    let (row, estimate) = list_row(db, q).await?;
    Ok((row.total.max(0) as u64, estimate, row.items))
}

/// A filtered list counts at most this many matches exactly; beyond it the total is an
/// estimate (`Page::total_is_estimate`, "about" on pages): counting reads one index entry
/// per match, a quarter of a second for a million, where this many cost half a
/// millisecond. An unfiltered list's total is always exact (a trigger-kept counter).
pub const EXACT_COUNT: u64 = 10_000;

async fn list_row(db: &Db, q: &ListQuery) -> Result<(PageRow, bool), AppError> {
    check_filters(db, q).await?;
    let backend = db.backend();
    let (mut row, many) = match q.filters_links() {
        true => counted_page(db, q).await?,
        false => {
            if let Some(row) = estimated_page(db, q).await? {
                return Ok((row, true));
            }
            let row = page_row(db, build(backend, q, &reads::page(backend, q, None))).await?;
            let many = q.is_filtered() && row.total.max(0) as u64 > EXACT_COUNT;
            (row, many)
        }
    };
    if !many {
        return Ok((row, false));
    }
    row.total = estimate::estimate(db, q).await? as i64;
    Ok((row, true))
}

/// The page with the estimate kept for its filters as its total, counting nothing
/// (`estimate::kept_far_past`), when there is one and the page is full. A short page
/// says most of the matches went since the estimate was made: the list is then counted.
async fn estimated_page(db: &Db, q: &ListQuery) -> Result<Option<PageRow>, AppError> {
    let Some(total) = estimate::kept_far_past(db, q) else {
        return Ok(None);
    };
    let backend = db.backend();
    let row = page_row(db, build(backend, q, &reads::page(backend, q, Some(total)))).await?;
    let shown = serde_json::from_str::<Vec<serde::de::IgnoredAny>>(&row.items)
        .map_err(|e| AppError::Internal(format!("a list page's items: {e}")))?
        .len();
    Ok((shown as u64 >= q.per_page).then_some(row))
}

/// A list statement with its filter values bound (planned for them on PostgreSQL) or
/// written in, as `ListQuery::plans_per_value` says.
fn build(
    backend: sea_orm::DbBackend,
    q: &ListQuery,
    page: &sea_orm::sea_query::SelectStatement,
) -> sea_orm::Statement {
    match q.plans_per_value() {
        true => backend.build(page),
        false => sql::build(backend, page),
    }
}

/// A list filtered on linked records (`ListQuery::filters_links`): the bounded count
/// first, then the page in the shape that count calls for (`reads::page_counted`), and
/// whether the count passed the exact limit. One statement could not choose: an engine
/// plans it before it knows how many records the filter matches.
async fn counted_page(db: &Db, q: &ListQuery) -> Result<(PageRow, bool), AppError> {
    let backend = db.backend();
    let q = &with_tag_ids(db, q).await?;
    let Counted { links, n } = *counted(db, q).await?;
    let many = n > EXACT_COUNT;
    if !many && past_the_end(q, n) {
        // Nothing to read: a plan made for the filter's average would still look.
        let items = "[]".to_string();
        return Ok((
            PageRow {
                total: n as i64,
                items,
            },
            false,
        ));
    }
    let shape = reads::page_shape(q, &links, n);
    let page = reads::page_counted(backend, q, shape, n, &links);
    // Walking the sort's index, PostgreSQL must know the page is 25 rows to walk it
    // (`sql::build` writes the counts in); reading the matches, bound counts as above.
    let page = match shape {
        reads::PageShape::Drive => backend.build(&page),
        _ => sql::build(backend, &page),
    };
    Ok((page_row(db, page).await?, many))
}

/// How many records `q` (its tags' ids read) matches, counted to one past the exact
/// limit, and what its tags' links say: the statements that choose the page's shape.
/// Identical lists asked at the same moment share one count (`Db::link_counts`), and
/// each takes a count begun after it asked: exact counts are not kept, so a list read
/// after a write counts that write.
async fn counted(db: &Db, q: &ListQuery) -> Result<Arc<Counted>, AppError> {
    let asked = crate::domain::cache::tick();
    db.link_counts
        .shared_since(Estimated::of(q), asked, || async {
            let backend = db.backend();
            let mut links = match q.tags.is_empty() {
                true => counts::Links::default(),
                false => {
                    let links = sql::build(backend, &counts::tag_links(q));
                    let rows = counts::TagLinks::find_by_statement(links)
                        .all(&db.read)
                        .await?;
                    counts::by_links(q, &rows)
                }
            };
            if reads::tags_tested(q, &links) {
                links.links = estimate::tag_size(db, q, links.driver).await?;
                let limit = reads::others_limit(&links);
                let others = estimate::others_size(db, q, limit).await?;
                links.tested = others < limit as i64;
                links.others = others;
            }
            let n = match links.many {
                true => EXACT_COUNT + 1,
                false => {
                    let count = counts::bounded_count(backend, q, links.driver, links.tested);
                    counts::Count::find_by_statement(sql::build(backend, &count))
                        .one(&db.read)
                        .await?
                        .map_or(0, |c| c.n.max(0) as u64)
                }
            };
            Ok(Counted { links, n })
        })
        .await
}

/// Whether the page of a list with `n` matches (an exact count) starts past them: none
/// to read. With `after` the page's place is not known until the record is read.
fn past_the_end(q: &ListQuery, n: u64) -> bool {
    let offset = q.page.saturating_sub(1).saturating_mul(q.per_page);
    n == 0 || (q.after.is_none() && offset >= n)
}

/// `q` with its tags' ids (`ListQuery::tag_ids`), read in one indexed lookup.
async fn with_tag_ids(db: &Db, q: &ListQuery) -> Result<ListQuery, AppError> {
    if q.tags.is_empty() {
        return Ok(q.clone());
    }
    let ids = crate::entities::tag::Entity::find()
        .filter(crate::entities::tag::Column::NameNorm.is_in(q.tags.clone()))
        .all(&db.read)
        .await?
        .into_iter()
        .map(|t| (t.name_norm, t.id))
        .collect();
    Ok(ListQuery {
        tag_ids: Arc::new(ids),
        ..q.clone()
    })
}

async fn page_row(db: &Db, page: sea_orm::Statement) -> Result<PageRow, AppError> {
    PageRow::find_by_statement(page)
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the list query returned no row".into()))
}

/// One record as pages and the API show it, on `conn` (a transaction sees its own writes).
pub async fn get_in<R: Record>(conn: &impl ConnectionTrait, id: i64) -> Result<R, AppError> {
    get_visible_in(conn, id, Visible::All).await
}

/// One record if `visible` sees it; "not found" otherwise, as for a record that is gone.
async fn get_visible_in<R: Record>(
    conn: &impl ConnectionTrait,
    id: i64,
    visible: Visible,
) -> Result<R, AppError> {
    let backend = conn.get_database_backend();
    let page: Page<R> = PageRow::find_by_statement(sql::build(
        backend,
        &reads::one(backend, R::KIND, id, visible),
    ))
    .one(conn)
    .await?
    .ok_or_else(|| AppError::not_found(R::KIND.title))?
    .into_page(1, 1)?;
    page.items
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found(R::KIND.title))
}

/// One record, if `actor` may see it (`access`): "not found" otherwise.
pub async fn get<R: Record>(db: &Db, actor: &Actor, id: i64) -> Result<R, AppError> {
    let visible = access::visible(db, actor).await?;
    get_visible_in(&db.read, id, visible).await
}

/// Refuses, as "not found", a write to a record `actor` may not see (inside the write's
/// transaction `conn`).
pub async fn check_visible<R: Record>(
    db: &Db,
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<(), AppError> {
    match access::Table::of(R::KIND.table) {
        Some(table) => access::check(db, conn, actor, table, id, R::KIND.title).await,
        None => Ok(()),
    }
}

/// Refuses filters naming a tag or custom field that does not exist. Lists, exports
/// (before the first byte is sent) and bulk actions all go through it.
pub async fn check_filters(db: &Db, q: &ListQuery) -> Result<(), AppError> {
    crate::domain::filters::check_names(db, q.kind.entity, &q.tags, &q.custom).await
}

/// Rows per chunk of an export: memory stays flat however many records match.
pub const EXPORT_CHUNK: u64 = 1000;

/// The next chunk of an export: records matching the filters with an id above `after`,
/// in id order (keyset paging, so a deep chunk costs what the first one does).
pub async fn export_chunk<R: Record>(
    db: &Db,
    actor: &Actor,
    q: &ListQuery,
    after: i64,
) -> Result<Vec<R>, AppError> {
    let q = &scoped(db, actor, q).await?;
    let backend = db.backend();
    let stmt = reads::export(backend, q, after, EXPORT_CHUNK);
    let page: Page<R> = PageRow::find_by_statement(sql::build(backend, &stmt))
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the export query returned no row".into()))?
        .into_page(1, EXPORT_CHUNK)?;
    Ok(page.items)
}

/// The colour of each of the tags called `names` (as shown), for a list's chips: one
/// indexed read, and none for a page without tags.
pub async fn tag_colors(
    db: &Db,
    mut names: Vec<String>,
) -> Result<HashMap<String, String>, AppError> {
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let norms: Vec<String> = names.iter().map(|n| normalise(n)).collect();
    Ok(crate::entities::tag::Entity::find()
        .filter(crate::entities::tag::Column::NameNorm.is_in(norms))
        .all(&db.read)
        .await?
        .into_iter()
        .map(|t| (t.name, t.color))
        .collect())
}

/// What every record's input holds beside its own fields, checked.
pub struct Owned {
    pub owner_id: i64,
    /// The owner's name (the actor's when they own it).
    pub owner_name: String,
    /// Cleaned tag names; None leaves the tags as they are.
    pub tags: Option<Vec<String>>,
    /// The custom values to store, as a JSON object.
    pub custom: String,
}

/// The fields every record's input has beside its own: owner, tags and custom values.
pub trait OwnedInput {
    const KIND: &'static Kind;
    fn owner_id(&self) -> Option<i64>;
    fn tags(&self) -> Option<&Vec<String>>;
    fn custom_fields(&self) -> Option<&BTreeMap<String, serde_json::Value>>;
    fn set_tags(&mut self, tags: Vec<String>);
    fn set_owner_id(&mut self, owner_id: i64);
    fn set_custom_fields(&mut self, custom: BTreeMap<String, serde_json::Value>);
}

/// The last check of a record's input: its owner, tags and custom values, then the
/// refusal with every message gathered on `fields`. `owner` and `custom` are the stored
/// ones when editing: a record may keep an owner who has since been deactivated, but
/// cannot be given to one.
pub async fn check_owned(
    db: &Db,
    actor: &Actor,
    input: &impl OwnedInput,
    owner: Option<i64>,
    custom: &BTreeMap<String, serde_json::Value>,
    mut fields: FieldErrors,
) -> Result<Owned, AppError> {
    let owned = check_common(db, actor, input, owner, custom, &mut fields).await?;
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(owned)
}

async fn check_common<I: OwnedInput>(
    db: &Db,
    actor: &Actor,
    input: &I,
    current_owner: Option<i64>,
    current_custom: &BTreeMap<String, serde_json::Value>,
    fields: &mut FieldErrors,
) -> Result<Owned, AppError> {
    let (owner_id, tags, custom) = (input.owner_id(), input.tags(), input.custom_fields());
    let owner_id = owner_id.unwrap_or(actor.id);
    let mut owner_name = actor.name.clone();
    if owner_id != actor.id {
        match crate::entities::user::Entity::find_by_id(owner_id)
            .one(&db.read)
            .await?
        {
            // Viewers own nothing, as with deals; a record keeps an owner it already has.
            Some(u) if current_owner == Some(owner_id) => owner_name = u.name,
            Some(u) if u.active && crate::domain::users::may_own(&u.role) => owner_name = u.name,
            Some(u) if u.active => fields.set(
                "owner_id",
                format!("{} is a viewer; viewers cannot own records.", u.name),
            ),
            _ => fields.set("owner_id", "Owner must be an active user."),
        }
    }
    let tags = match tags {
        None => None,
        Some(raw) => match crate::domain::tags::clean_names(raw, "tags") {
            Ok(names) => Some(names),
            Err(e) => {
                fields.set("tags", e.to_string());
                None
            }
        },
    };
    let defs = crate::domain::custom_fields::defs(db, I::KIND.entity).await?;
    let custom = crate::domain::custom_fields::validate(&defs, current_custom, custom, fields);
    Ok(Owned {
        owner_id,
        owner_name,
        tags,
        // Shrunk: an import holds one per planned row, and serde's buffer starts at 128.
        custom: serde_json::to_string(&custom)
            .map(|mut s| {
                s.shrink_to_fit();
                s
            })
            .unwrap_or_else(|_| "{}".into()),
    })
}

/// Replaces the tags of record `id` with `names` (created when new), inside `tx`.
pub async fn set_tags<R: Record>(
    tx: &impl ConnectionTrait,
    id: i64,
    names: &[String],
) -> Result<(), AppError> {
    let tags = crate::domain::tags::ensure(tx, names).await?;
    crate::domain::tags::set_links(tx, R::KIND.tagged, id, &tags).await
}
