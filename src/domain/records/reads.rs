//! The record reads that return a page as one JSON value: a list page, one record, an
//! export chunk. One statement returns one row, the total and the items, because sqlx
//! hands SQLite rows across a thread one at a time: a 25-row page as 25 rows costs several
//! times what the query itself does, as one value it costs one. The statements are
//! sea-query's; only the JSON object's fields are SQL text (`Expr::cust`), because
//! sea-query has no JSON object or aggregate builder. The few dialect differences (the
//! JSON functions' names) are in `json_list` and `json_value`, once.
use sea_orm::DbBackend;
use sea_orm::sea_query::{
    Asterisk, Condition, Expr, ExprTrait, JoinType, Order, Query, SelectStatement,
};

use super::counts::{self, Links, bounded_count, count_of, tags_alone};
use super::filters::{self, Shape};
use super::{Kind, ListQuery, SortKey};
use crate::domain::access::Visible;
use crate::domain::sql::json_array;

/// `SELECT (total) AS total, (the page as a JSON array) AS items`; with `kept`, a kept
/// estimate (`estimate::kept_far_past`), the total is that, written in: nothing counted.
pub fn page(backend: DbBackend, q: &ListQuery, kept: Option<u64>) -> SelectStatement {
    let total = if let Some(n) = kept {
        Expr::cust(format!("CAST({n} AS BIGINT)"))
    } else if q.is_filtered() {
        sub(bounded_count(backend, q, 0, false))
    } else {
        // A trigger-kept counter: the plain list costs the same at a million records.
        sub(Query::select()
            .column("n")
            .from("record_counts")
            .and_where(Expr::col("name").eq(q.kind.table))
            .to_owned())
    };
    page_with(backend, q, filters::condition(backend, q), total)
}

/// How the page of a list whose total is counted first reads its matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageShape {
    /// Past the exact limit the records are many: walking the sort's index testing each
    /// (`Shape::Test`) fills a page after a few rows.
    Walk,
    /// Up to it they are few: read from the filter's index and sorted, which reads no
    /// more than that; only the tag at the driver (the one with the fewest links) is
    /// read whole, the others tested, as SQLite would list every link of each tag first.
    Drive,
    /// Few, but the driving tag has many links and another filter has an index of its
    /// own (`tags_tested`): that filter finds them and each is tested for the tags.
    Tested,
    /// So few beside the table, with tags alone, that walking the sort's index would
    /// pass far more records than the driving tag has links (`reads_links`): its links
    /// are read whole, by its id, and sorted.
    Read,
}

/// The page of a list whose `total` (`counts::bounded_count`) is already known, read as `shape`
/// says.
pub fn page_counted(
    backend: DbBackend,
    q: &ListQuery,
    shape: PageShape,
    total: u64,
    links: &Links,
) -> SelectStatement {
    let condition = match shape {
        PageShape::Walk => filters::condition_as(backend, q, Shape::Test, &tags_as(q, None, None)),
        PageShape::Tested => {
            filters::condition_as(backend, q, Shape::Drive, &tags_as(q, None, None))
        }
        PageShape::Drive => match (q.tags.get(links.driver), counts::on_links(q)) {
            // Only the links matching the other filters' copies: the matches, not every
            // link of the tag.
            (Some(tag), Some(copies)) => {
                let others = tags_as(q, None, Some(links.driver));
                filters::condition_as(backend, q, Shape::Drive, &others).add(filters::driven(
                    q,
                    tag,
                    Some(copies),
                ))
            }
            _ => {
                let tags = tags_as(q, Some(links.driver), None);
                filters::condition_as(backend, q, Shape::Drive, &tags)
            }
        },
        PageShape::Read => {
            let others = tags_as(q, None, Some(links.driver));
            let condition = filters::condition_as(backend, q, Shape::Test, &others);
            match q.tags.get(links.driver) {
                // A LIMIT (past any count) keeps PostgreSQL from folding the links into
                // a walk of the sort's index (it planned one for `rare` at 10 000
                // contacts: 10 000 probes, 5–10 ms, for 10 links).
                Some(tag) => {
                    let read = counts::links(q, tag).limit(i64::MAX as u64).to_owned();
                    condition.add(Expr::col(("t", "id")).in_subquery(read))
                }
                None => condition,
            }
        }
    };
    let total = Expr::cust(format!("CAST({total} AS BIGINT)"));
    page_with(backend, q, condition, total)
}

/// How the page of a list with `n` matches (counted, `many` past the exact limit) is
/// read. With the tags tested (`Links::tested`), a filter on linked rows (a company's
/// name) is read from its own index and its matches sorted; the others have an index in
/// each of the list's orders, walked in order to the page's end, testing each record:
/// as many entries as the page's end times the other filters' matches per match, if
/// the matches are spread evenly. That walk is taken when, with room for the matches to
/// bunch, it reads fewer entries than the driving tag has links.
pub fn page_shape(q: &ListQuery, links: &Links, n: u64) -> PageShape {
    if n > super::EXACT_COUNT {
        return PageShape::Walk;
    }
    if !links.tested {
        return match reads_links(q, links, n) {
            true => PageShape::Read,
            false => PageShape::Drive,
        };
    }
    let end = Ord::max(q.page, 1).saturating_mul(q.per_page) as u128;
    let walk = 4 * end * Ord::max(links.others, 0) as u128;
    // Driven by the tag, the page reads its links, or only the matches when the other
    // filters are copied on them (`Links::copied`).
    let driven = match links.copied {
        true => n as i64,
        false => links.links,
    };
    let read = Ord::max(driven, 0) as u128 * Ord::max(n, 1) as u128;
    // A scattered filter copied on the links (a company's name) reads its n matches
    // from the links' index, where tested it read every record it matches (`tags=vip&
    // company=acme` at 1 M on SQLite: 4 019 links against about 40 000 contacts, 118 ms).
    match (q.own.scattered(), links.copied) {
        (true, true) => PageShape::Drive,
        (true, false) => PageShape::Tested,
        _ if walk <= read => PageShape::Tested,
        _ => PageShape::Drive,
    }
}

/// Whether the page of a list filtered by tags alone, `n` matches, reads its driving
/// tag's links whole rather than letting the engine choose: a walk of the sort's index
/// passes about `live / n` records per match to the page's end, reading the links costs
/// `n` record reads and a sort, some four times a walked entry each. PostgreSQL,
/// planning the page for the average tag (`filters::tagged`), walked for `rare` (10
/// links at 10 000 contacts, 1 000 at a million: 5–10 ms and 25–40) where reading took
/// 0.1 and 7; `vip` at 10 000 (1 000 links), walking 250 entries, took 0.2 against 2–3.
fn reads_links(q: &ListQuery, links: &Links, n: u64) -> bool {
    let end = Ord::max(q.page, 1).saturating_mul(q.per_page) as u128;
    let live = Ord::max(links.live, 0) as u128;
    tags_alone(q) && n > 0 && 4 * (n as u128) * (n as u128) < end * live
}

/// Whether a list filtered by tags might test them on each record its other filters
/// find, rather than read the links of one: when the tag with the fewest links still
/// has more than the exact limit and every other filter has an index of its own (an
/// owner, `OwnFilters::indexed`). It does when those filters match fewer records than
/// `others_limit` (`others_count` to the exact limit, estimated past it:
/// `records::others_size`): each of their index entries costs a probe of the
/// tag's links, each link a read of its record, about twice that. Tag `vip` (100 000
/// links) and source `paid` (99 000) at a million contacts: the count read every link
/// (SQLite 90–170 ms, PostgreSQL 70) where the source's entries took 35–50 and 50; with
/// a company's name (40 000), 18–30 and 33 against 140–210 and 92. Owner 2 (500 000):
/// the links, 30–45 ms against 40–100.
pub fn tags_tested(q: &ListQuery, links: &Links) -> bool {
    !q.tags.is_empty()
        && !tags_alone(q)
        && q.custom.is_empty()
        && (!q.own.is_set() || q.own.indexed())
        && links.links > super::EXACT_COUNT as i64
}

/// See `tags_tested`.
pub fn others_limit(links: &Links) -> u64 {
    2 * Ord::max(links.links, 0) as u64
}

/// `SELECT n`: how many records the list's filters other than its tags match, up to
/// `limit`, from their indexes alone.
pub fn others_count(backend: DbBackend, q: &ListQuery, limit: u64) -> SelectStatement {
    let mut matches = self::ids(q.kind, filters::condition_as(backend, q, Shape::Drive, &[]));
    count_of(matches.limit(limit).to_owned())
}

fn page_with(
    backend: DbBackend,
    q: &ListQuery,
    condition: Condition,
    total: Expr,
) -> SelectStatement {
    let kind = q.kind;
    let mut ids = Query::select();
    ids.column(("t", "id"))
        .from_as(kind.table, "t")
        .cond_where(condition);
    for column in q.sort.columns.iter().chain(&["id"]) {
        ids.order_by(("t", *column), order(q.sort));
    }
    ids.limit(q.per_page);
    match q.after {
        Some(after) => {
            ids.and_where(seek(backend, q, after));
        }
        None => {
            ids.offset(q.page.saturating_sub(1).saturating_mul(q.per_page));
        }
    }
    Query::select()
        .expr_as(total, "total")
        .expr_as(
            sub(items(
                backend,
                kind,
                Some(ids),
                &order_text(q.sort),
                q.visible,
            )),
            "items",
        )
        .to_owned()
}

/// The list's tags, each tested (`Shape::Test`) but the one at `drive` (`Drive`), and
/// without the one at `skip`.
pub(super) fn tags_as(
    q: &ListQuery,
    drive: Option<usize>,
    skip: Option<usize>,
) -> Vec<(&str, Shape)> {
    q.tags
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .map(|(i, t)| match Some(i) == drive {
            true => (t.as_str(), Shape::Drive),
            false => (t.as_str(), Shape::Test),
        })
        .collect()
}

/// The records after record `after` in the list's order: a row-value comparison of the
/// sort columns and the id against that record's, which both engines answer as a range
/// of the sort's index (OFFSET would read every row it skips). Raw text because
/// sea-query has no row-value comparison with a subquery.
fn seek(backend: DbBackend, q: &ListQuery, after: i64) -> Expr {
    let columns: Vec<&str> = q.sort.columns.iter().chain(&["id"]).copied().collect();
    let ours = columns
        .iter()
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let theirs = columns.join(", ");
    let op = if q.sort.desc { "<" } else { ">" };
    let placeholder = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    Expr::cust_with_values(
        format!(
            "({ours}) {op} (SELECT {theirs} FROM {table} WHERE id = {placeholder})",
            table = q.kind.table
        ),
        [after],
    )
}

/// The one record `id`, as a one-item page.
pub fn one(backend: DbBackend, kind: &Kind, id: i64, visible: Visible) -> SelectStatement {
    let mut items = items(backend, kind, None, "", visible);
    items
        .and_where(Expr::col(("c", "id")).eq(id))
        .and_where(filters::live("c"));
    if let Some(mine) = visible.on("c") {
        items.and_where(mine);
    }
    Query::select()
        .expr_as(Expr::cust("CAST(1 AS BIGINT)"), "total")
        .expr_as(sub(items), "items")
        .to_owned()
}

/// The next `limit` records matching the list's filters with an id above `after`.
pub fn export(backend: DbBackend, q: &ListQuery, after: i64, limit: u64) -> SelectStatement {
    let mut ids = Query::select();
    ids.column(("t", "id"))
        .from_as(q.kind.table, "t")
        .cond_where(filters::condition(backend, q).add(Expr::col(("t", "id")).gt(after)))
        .order_by(("t", "id"), Order::Asc)
        .limit(limit);
    Query::select()
        .expr_as(Expr::cust("CAST(0 AS BIGINT)"), "total")
        .expr_as(
            sub(items(
                backend,
                q.kind,
                Some(ids),
                " ORDER BY c.id",
                q.visible,
            )),
            "items",
        )
        .to_owned()
}

/// `SELECT COUNT(*) AS n FROM <table> t WHERE <condition>`.
pub fn count(kind: &Kind, condition: Condition) -> SelectStatement {
    Query::select()
        .expr_as(Expr::col(Asterisk).count(), "n")
        .from_as(kind.table, "t")
        .cond_where(condition)
        .to_owned()
}

/// The ids of the records aliased `t` matching `condition`.
pub fn ids(kind: &Kind, condition: Condition) -> SelectStatement {
    Query::select()
        .column(("t", "id"))
        .from_as(kind.table, "t")
        .cond_where(condition)
        .to_owned()
}

pub(super) fn sub(select: SelectStatement) -> Expr {
    Expr::SubQuery(None, Box::new(select.into()))
}

fn order(sort: &SortKey) -> Order {
    if sort.desc { Order::Desc } else { Order::Asc }
}

/// The sort inside the JSON aggregate, on the record aliased `c`.
fn order_text(sort: &SortKey) -> String {
    let dir = if sort.desc { "DESC" } else { "ASC" };
    let columns: Vec<String> = sort
        .columns
        .iter()
        .chain(&["id"])
        .map(|c| format!("c.{c} {dir}"))
        .collect();
    format!(" ORDER BY {}", columns.join(", "))
}

/// The records as a JSON array: those `ids` selects (joined back by id, so the page's ids
/// come from the indexes alone), or, with none, the record table filtered by the caller.
fn items(
    backend: DbBackend,
    kind: &Kind,
    ids: Option<SelectStatement>,
    order: &str,
    visible: Visible,
) -> SelectStatement {
    // A single record's read (no page of ids) has the fields only it shows.
    let one = ids.is_none();
    let mut fields: Vec<(&str, String)> = kind
        .fields
        .iter()
        .filter_map(|(k, v)| match v.strip_prefix("one:") {
            Some(v) => one.then_some((k, v)),
            None => Some((k, *v)),
        })
        .map(|(k, v)| match v.strip_prefix("json:") {
            Some(column) => (*k, json_value(backend, column)),
            None => (*k, linked_name(&linked_count(v, visible), visible)),
        })
        .collect();
    fields.push(("tags", tags(backend, kind)));
    fields.push(("custom_fields", json_value(backend, "c.custom")));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut select = Query::select();
    select.expr(Expr::cust(json_array(backend, &pairs, order)));
    match ids {
        Some(ids) => {
            select.from_subquery(ids, "page").join_as(
                JoinType::InnerJoin,
                kind.table,
                "c",
                Expr::col(("c", "id")).equals(("page", "id")),
            );
        }
        None => {
            select.from_as(kind.table, "c");
        }
    }
    for j in kind.joins {
        let how = if j.optional {
            JoinType::LeftJoin
        } else {
            JoinType::InnerJoin
        };
        let mut on = Condition::all().add(Expr::col((j.alias, "id")).equals(("c", j.from)));
        // A trashed company is no record's company while it is in the trash.
        if crate::domain::trash::TABLES.contains(&j.table) {
            on = on.add(filters::live(j.alias));
        }
        select.join_as(how, j.table, j.alias, on);
    }
    select
}

/// A linked company's name (a contact's `company`, `co.name` by convention) is shown
/// only to one who sees the company (`access`); others read it as another rep's.
fn linked_name(field: &str, visible: Visible) -> String {
    match field {
        "co.name" => visible.name_sql("co", field, crate::domain::access::OTHERS_COMPANY),
        _ => field.to_string(),
    }
}

/// A field counting linked records (a company's `contact_count`: by convention a
/// subquery over the linked table aliased `x`, ending `x.deleted_at IS NULL)`) counts
/// only those the asker may see (`access`). The owner is an id we read, not user text,
/// so it is written into the statement like the board's stage ids.
fn linked_count(field: &str, visible: Visible) -> String {
    match visible.owner() {
        Some(owner) if field.starts_with("(SELECT COUNT(*) FROM ") => field.replace(
            "x.deleted_at IS NULL)",
            &format!("x.deleted_at IS NULL AND x.owner_id = {owner})"),
        ),
        _ => field.to_string(),
    }
}

/// The record's tag names, alphabetical, as a JSON array. Most records have no tags: a
/// quick probe skips the aggregate for them.
fn tags(backend: DbBackend, kind: &Kind) -> String {
    let (table, column) = (kind.tag_table, kind.tag_column);
    let list = json_list(backend, "g.name ORDER BY g.name_norm");
    let (wrap, empty) = match backend {
        DbBackend::Postgres => ("", "'[]'::json"),
        _ => ("json", "json_array()"),
    };
    format!(
        "CASE WHEN EXISTS (SELECT 1 FROM {table} ct WHERE ct.{column} = c.id) THEN \
         {wrap}((SELECT {list} FROM {table} ct JOIN tags g ON g.id = ct.tag_id \
         WHERE ct.{column} = c.id)) ELSE {empty} END"
    )
}

/// The JSON array aggregate of `value` (with its `ORDER BY`).
fn json_list(backend: DbBackend, value: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("json_agg({value})"),
        _ => format!("json_group_array({value})"),
    }
}

/// A text column holding a JSON object, as JSON (deals' custom values use it too).
pub fn json_value(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("{column}::json"),
        _ => format!("CASE WHEN {column} = '{{}}' THEN json_object() ELSE json({column}) END"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Links, PageShape, page_shape};
    use crate::domain::contacts::ListParams;

    /// A tag alone on few records beside the table has its links read; on many, the
    /// engine drives (under the exact limit) or walks (past it); beside another filter,
    /// the links are never read whole this way.
    #[test]
    fn a_tag_alone_on_few_records_reads_its_links() {
        let shape = |query: &str, n: u64| {
            let links = Links {
                links: n as i64,
                live: 10_000,
                ..Links::default()
            };
            ListParams::from_query(query)
                .and_then(|p| p.validate(25))
                .map(|q| page_shape(&q, &links, n))
                .map_err(|e| format!("?{query}: {e:?}"))
        };
        assert_eq!(shape("tags=rare", 10), Ok(PageShape::Read), "10 of 10 000");
        assert_eq!(
            shape("tags=vip", 1000),
            Ok(PageShape::Drive),
            "1 000 of 10 000"
        );
        assert_eq!(
            shape("tags=vip", 20_000),
            Ok(PageShape::Walk),
            "past the limit"
        );
        assert_eq!(
            shape("tags=rare&source=paid", 10),
            Ok(PageShape::Drive),
            "not alone"
        );
        assert_eq!(
            shape("tags=rare", 0),
            Ok(PageShape::Drive),
            "none: no page read"
        );
    }
}
