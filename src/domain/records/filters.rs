//! A list's filters as one sea-query condition on the records aliased `t`: lists, counts,
//! exports and bulk actions all select through it, so they cannot disagree.
use sea_orm::DbBackend;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, JoinType, LikeExpr, Query};

use super::ListQuery;
use crate::domain::access::Visible;

/// How a filter on linked rows (a tag, a company's name) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `t.id IN (the linked rows' ids)`: an engine may start from the links and sort what
    /// it finds, which reads every match (SQLite lists every tagged record first).
    Drive,
    /// A correlated `EXISTS`: one index probe per record, for walking the sort's index
    /// and stopping at a page, which reads few rows when many records match.
    Test,
}

/// Everything `q` filters on. Trashed records are never in a list: the term comes first
/// and matches the list indexes' own `WHERE deleted_at IS NULL`, so they stay usable.
pub fn condition(backend: DbBackend, q: &ListQuery) -> Condition {
    let tags: Vec<(&str, Shape)> = q.tags.iter().map(|t| (t.as_str(), Shape::Drive)).collect();
    condition_as(backend, q, Shape::Drive, &tags)
}

/// `condition` with the company filter written as `shape` and the tags as `tags` says,
/// each with its own shape; a tag left out of `tags` is not filtered on (the bounded
/// count starts from one tag's links and tests the rest).
pub fn condition_as(
    backend: DbBackend,
    q: &ListQuery,
    shape: Shape,
    tags: &[(&str, Shape)],
) -> Condition {
    let mut all = Condition::all()
        .add(live("t"))
        .add_option(q.visible.on("t"))
        .add(q.own.condition(backend, q.visible, shape));
    if let Some(o) = q.owner {
        all = all.add(Expr::col(("t", "owner_id")).eq(o));
    }
    for (key, value) in &q.custom {
        all = all.add(custom(backend, key, value));
    }
    for (tag, shape) in tags {
        all = all.add(tagged(q, tag, *shape));
    }
    all
}

/// `<alias>.deleted_at IS NULL`: the record is not in the trash.
pub fn live(alias: &'static str) -> Expr {
    Expr::col((alias, "deleted_at")).is_null()
}

/// `t.<column> = value`.
pub fn eq(column: &'static str, value: impl Into<sea_orm::Value>) -> Expr {
    Expr::col(("t", column)).eq(value.into())
}

/// `LIKE '%term%'`, the term's own wildcards escaped.
pub fn contains(term: &str) -> LikeExpr {
    LikeExpr::new(crate::domain::sql::like_contains(term)).escape('\\')
}

/// Records carrying the tag whose normalised name is `tag`. Tested, its id is written
/// in when the list has read it (`tag_id`). Driving, the tag is found by name as the
/// statement runs: PostgreSQL then plans for the average tag and reads the links and
/// sorts them; told the tag's id (and the page's 25 rows), it walked the sort's index
/// probing each contact for a tag on one in a thousand (60 000 probes, 50 ms at a
/// million contacts, where reading its 1 000 links took 15).
pub fn tagged(q: &ListQuery, tag: &str, shape: Shape) -> Expr {
    let kind = q.kind;
    match shape {
        Shape::Test => Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from_as(kind.tag_table, "ct")
                .and_where(Expr::col(("ct", kind.tag_column)).equals(("t", "id")))
                .and_where(Expr::col(("ct", "tag_id")).eq(tag_id(q, tag)))
                .to_owned(),
        ),
        Shape::Drive => driven(q, tag, None),
    }
}

/// `t.id IN (the links of tag `tag` matching `links`, a condition on them aliased
/// `ct`)`, the tag found by name (see `tagged`).
pub fn driven(q: &ListQuery, tag: &str, links: Option<Condition>) -> Expr {
    let kind = q.kind;
    let mut read = Query::select();
    if let Some(links) = links {
        read.cond_where(links);
    }
    Expr::col(("t", "id")).in_subquery(
        read.column(("ct", kind.tag_column))
            .from_as(kind.tag_table, "ct")
            .join_as(
                JoinType::InnerJoin,
                "tags",
                "g",
                Expr::col(("g", "id")).equals(("ct", "tag_id")),
            )
            .and_where(Expr::col(("g", "name_norm")).eq(tag))
            .to_owned(),
    )
}

/// The id of the tag whose normalised name is `tag`: written in when the list has read
/// it (`ListQuery::tag_ids`: an id we read, not user text), else a subquery both engines
/// run once per statement.
pub fn tag_id(q: &ListQuery, tag: &str) -> Expr {
    if let Some(id) = q.tag_ids.get(tag) {
        return Expr::cust(id.to_string());
    }
    Expr::SubQuery(
        None,
        Box::new(
            Query::select()
                .column("id")
                .from("tags")
                .and_where(Expr::col("name_norm").eq(tag))
                .to_owned()
                .into(),
        ),
    )
}

/// `<alias>.company_id` (a record's, or a link's copy of it) names a company `visible`
/// sees whose normalised name contains `term`: a rep's own record linked (by a manager)
/// to another rep's company is not found by that company's name, which would spell the
/// name out a letter at a time.
pub fn company_named(alias: &'static str, term: &str, visible: Visible, shape: Shape) -> Expr {
    let mut companies = Query::select()
        .from_as("companies", "co")
        .and_where(Expr::col(("co", "name_norm")).like(contains(term)))
        .and_where(live("co"))
        .to_owned();
    if let Some(mine) = visible.owned(("co", "owner_id")) {
        companies.and_where(mine);
    }
    match shape {
        Shape::Drive => {
            companies.column(("co", "id"));
            Expr::col((alias, "company_id")).in_subquery(companies)
        }
        Shape::Test => {
            companies
                .expr(Expr::val(1))
                .and_where(Expr::col(("co", "id")).equals((alias, "company_id")));
            Expr::exists(companies)
        }
    }
}

/// A custom field filter `cf.<key>=value`: the value equals the field's (as text), or is
/// one of a multi-select's. JSON paths are each engine's own syntax; this is the one
/// place that spells both.
fn custom(backend: DbBackend, key: &str, value: &str) -> Expr {
    let (key, value) = (key.to_string(), value.to_string());
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            "((t.custom::jsonb ->> $1) = $2 OR (t.custom::jsonb -> $3) @> to_jsonb($4::text))",
            [key.clone(), value.clone(), key, value],
        ),
        _ => {
            let path = format!("$.\"{key}\"");
            Expr::cust_with_values(
                "(CAST(json_extract(t.custom, ?) AS TEXT) = ? OR EXISTS \
                 (SELECT 1 FROM json_each(t.custom, ?) WHERE json_each.value = ?))",
                [path.clone(), value.clone(), path, value],
            )
        }
    }
}
