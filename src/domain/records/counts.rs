//! How many records a filtered list matches, counted only as far as the list needs: the
//! links of each of its tags from their index (the fewest drive the count), then the
//! matches up to one past the exact limit (beyond it the total is estimated, `estimate`).
use sea_orm::DbBackend;
use sea_orm::sea_query::{Asterisk, Condition, Expr, ExprTrait, Query, SelectStatement, UnionType};

use super::ListQuery;
use super::filters::{self, Shape};
use super::reads::{ids, sub, tags_as};

/// A count's one row.
#[derive(sea_orm::FromQueryResult)]
pub struct Count {
    pub n: i64,
}

/// `SELECT n`: how many records match `q`, counted up to one past the exact limit
/// (beyond it the total is estimated, `sample`). With tags alone, from the links of the
/// one at `driver` (the fewest links), each linked record probed for the other tags:
/// `t.id IN (the tag's links)` would have SQLite list every link of the tag before
/// counting the first, and PostgreSQL turns an `EXISTS` into a join it may hash, reading
/// every record; a scalar subquery stays one probe per link in both. With other filters
/// copied on the links (`on_links`), from the links of that tag matching them, read
/// from their index alone, each probed for the other tags. With another filter not
/// copied, the engine picks its way into `IN (the driving tag's links)`, or, with the
/// tags `tested` (`tags_tested`), into the other filter's index, each record probed for
/// them.
pub fn bounded_count(
    backend: DbBackend,
    q: &ListQuery,
    driver: usize,
    tested: bool,
) -> SelectStatement {
    let kind = q.kind;
    let limit = super::EXACT_COUNT + 1;
    let copies = on_links(q);
    let matches = match (q.tags.get(driver), copies) {
        (Some(tag), Some(copies)) => {
            let mut read = links(q, tag);
            read.cond_where(copies);
            for (i, other) in q.tags.iter().enumerate() {
                if i != driver {
                    read.and_where(also_tagged(q, other));
                }
            }
            read.limit(limit).to_owned()
        }
        (Some(tag), None) if tags_alone(q) => {
            let others = tags_as(q, None, Some(driver));
            let record = Query::select()
                .column(("t", "id"))
                .from_as(kind.table, "t")
                .cond_where(
                    filters::condition_as(backend, q, Shape::Test, &others)
                        .add(Expr::col(("t", "id")).equals(("ct", kind.tag_column))),
                )
                .to_owned();
            links(q, tag)
                .and_where(sub(record).is_not_null())
                .limit(limit)
                .to_owned()
        }
        _ => {
            let drive = (!tested).then_some(driver);
            let tags = tags_as(q, drive, None);
            self::ids(kind, filters::condition_as(backend, q, Shape::Drive, &tags))
                .limit(limit)
                .to_owned()
        }
    };
    count_of(matches)
}

/// Rows `(i, n)`: for each of the list's tags (`i` from 0) its links, counted up to the
/// exact limit and `TRASH_SLACK` past it (past that, beside other filters, how many is
/// estimated: `records::estimate::tag_size`), and (`i` = -1) the records in the trash, up to
/// one past `TRASH_SLACK`; from their indexes alone. The tag with the fewest links is
/// the one to count from; and for a list filtered by one tag and nothing else, links
/// outnumbering the trash by more than the limit mean more live records carry the tag
/// than it (a trashed record keeps its links), so the list need not probe each record
/// to know (`many_by_links`): at a million contacts 0.3 ms against 5.
pub fn tag_links(q: &ListQuery) -> SelectStatement {
    let trashed = Query::select()
        .column("id")
        .from(q.kind.table)
        .and_where(Expr::col("deleted_at").is_not_null())
        .limit(TRASH_SLACK + 1)
        .to_owned();
    let mut all = numbered(-1, trashed);
    // And (`i` = -2) the live records, from their trigger-kept counter (`reads_links`).
    all.union(
        UnionType::All,
        Query::select()
            .expr_as(Expr::cust("CAST(-2 AS BIGINT)"), "i")
            .expr_as(Expr::col("n"), "n")
            .from("record_counts")
            .and_where(Expr::col("name").eq(q.kind.table))
            .to_owned(),
    );
    let limit = super::EXACT_COUNT + 1 + TRASH_SLACK;
    for (i, tag) in q.tags.iter().enumerate() {
        let links = links(q, tag).limit(limit).to_owned();
        all.union(UnionType::All, numbered(i as i64, links));
    }
    all
}

/// The list's filters other than its tags as a condition on its tag links (aliased
/// `ct`), when the links carry a copy of every column those filters look at
/// (`Kind::link_copies`, `OwnFilters::on_links`): the matches of a tag and a source are
/// then one range of the links' (tag, source) index, counted without reading either
/// set whole (`tags=vip&source=paid` at a million contacts: 9 909 of 100 000 links and
/// 99 000 paid contacts). None for tags alone, whose count reads the links already.
pub(super) fn on_links(q: &ListQuery) -> Option<Condition> {
    if !q.kind.link_copies || q.tags.is_empty() || tags_alone(q) || !q.custom.is_empty() {
        return None;
    }
    let mut all = Condition::all()
        .add(filters::live("ct"))
        .add_option(q.visible.owned(("ct", "owner_id")))
        .add_option(q.owner.map(|o| Expr::col(("ct", "owner_id")).eq(o)));
    if q.own.is_set() {
        all = all.add(q.own.on_links(q.visible)?);
    }
    Some(all)
}

/// The record of the link `ct` carries tag `tag` too: one probe of the links' key.
fn also_tagged(q: &ListQuery, tag: &str) -> Expr {
    let column = q.kind.tag_column;
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(q.kind.tag_table, "o")
            .and_where(Expr::col(("o", column)).equals(("ct", column)))
            .and_where(Expr::col(("o", "tag_id")).eq(filters::tag_id(q, tag)))
            .to_owned(),
    )
}

/// Whether the list filters on tags and nothing else (the trash aside).
pub(super) fn tags_alone(q: &ListQuery) -> bool {
    !q.own.is_set() && q.visible.is_all() && q.owner.is_none() && q.custom.is_empty()
}

/// `SELECT i, COUNT(*) AS n FROM (rows)`; `i` is our index, written in.
fn numbered(i: i64, rows: SelectStatement) -> SelectStatement {
    Query::select()
        .expr_as(Expr::cust(format!("CAST({i} AS BIGINT)")), "i")
        .expr_as(Expr::col(Asterisk).count(), "n")
        .from_subquery(rows, "m")
        .to_owned()
}

/// Trashed records the tag links allow for: with more in the trash, the list probes its
/// records to count (`tag_links`).
const TRASH_SLACK: u64 = super::EXACT_COUNT / 10;

/// A row of `tag_links`.
#[derive(sea_orm::FromQueryResult)]
pub struct TagLinks {
    pub i: i64,
    pub n: i64,
}

/// What `tag_links` says about a list's tags.
#[derive(Debug, Default, Clone, Copy)]
pub struct Links {
    /// The index of the tag with the fewest links, and how many it has (as far as
    /// `tag_links` counts).
    pub driver: usize,
    pub links: i64,
    /// Whether those links show that more live records than the exact limit match a
    /// list filtered by that tag alone.
    pub many: bool,
    /// Whether the tags are tested on what the other filters find (`tags_tested`), and
    /// how many records those match (counted to the exact limit, estimated past it).
    pub tested: bool,
    pub others: i64,
    /// How many live records of the kind there are.
    pub live: i64,
    /// Whether the other filters are copied on the links (`on_links`): the count read
    /// only the matching links, and a page driven by the tag reads only those.
    pub copied: bool,
}

/// A list's count as `records::counted` took it: its tags' links and how many records
/// match, up to one past the exact limit.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub links: Links,
    pub n: u64,
}

pub fn by_links(q: &ListQuery, rows: &[TagLinks]) -> Links {
    let trashed = rows.iter().find(|r| r.i == -1).map_or(i64::MAX, |r| r.n);
    let live = rows.iter().find(|r| r.i == -2).map_or(0, |r| r.n);
    let fewest = rows.iter().filter(|r| r.i >= 0).min_by_key(|r| r.n);
    let driver = fewest.map_or(0, |r| r.i as usize);
    let alone = q.tags.len() == 1 && tags_alone(q);
    let links = fewest.map_or(0, |r| r.n);
    let many =
        alone && trashed <= TRASH_SLACK as i64 && links - trashed > super::EXACT_COUNT as i64;
    Links {
        driver,
        links,
        many,
        tested: false,
        others: 0,
        live,
        copied: on_links(q).is_some(),
    }
}

/// The links of the tag whose normalised name is `tag` to records of `q`'s kind (`ct`).
pub(super) fn links(q: &ListQuery, tag: &str) -> SelectStatement {
    Query::select()
        .column(("ct", q.kind.tag_column))
        .from_as(q.kind.tag_table, "ct")
        .and_where(Expr::col(("ct", "tag_id")).eq(filters::tag_id(q, tag)))
        .to_owned()
}

/// `SELECT COUNT(*) AS n FROM (rows)`.
pub(super) fn count_of(rows: SelectStatement) -> SelectStatement {
    Query::select()
        .expr_as(Expr::col(Asterisk).count(), "n")
        .from_subquery(rows, "m")
        .to_owned()
}
