//! A list's filters as one sea-query condition on the records aliased `t`: lists, counts,
//! exports and bulk actions all select through it, so they cannot disagree.
use sea_orm::DbBackend;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, JoinType, LikeExpr, Query};

use super::{Kind, ListQuery};
use crate::domain::access::Visible;

/// Everything `q` filters on. Trashed records are never in a list: the term comes first
/// and matches the list indexes' own `WHERE deleted_at IS NULL`, so they stay usable.
pub fn condition(backend: DbBackend, q: &ListQuery) -> Condition {
    let mut all = Condition::all()
        .add(live("t"))
        .add_option(q.visible.on("t"))
        .add(q.own.condition(backend, q.visible));
    if let Some(o) = q.owner {
        all = all.add(Expr::col(("t", "owner_id")).eq(o));
    }
    for (key, value) in &q.custom {
        all = all.add(custom(backend, key, value));
    }
    for tag in &q.tags {
        all = all.add(tagged(q.kind, tag));
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

/// Records carrying the tag whose normalised name is `tag`.
fn tagged(kind: &Kind, tag: &str) -> Expr {
    Expr::col(("t", "id")).in_subquery(
        Query::select()
            .column(("ct", kind.tag_column))
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

/// `t.company_id` names a company `visible` sees whose normalised name contains `term`:
/// a rep's own record linked (by a manager) to another rep's company is not found by
/// that company's name, which would spell the name out a letter at a time.
pub fn company_named(term: &str, visible: Visible) -> Expr {
    let mut companies = Query::select()
        .column("id")
        .from("companies")
        .and_where(Expr::col("name_norm").like(contains(term)))
        .and_where(Expr::col("deleted_at").is_null())
        .to_owned();
    if let Some(mine) = visible.owned("owner_id") {
        companies.and_where(mine);
    }
    Expr::col(("t", "company_id")).in_subquery(companies)
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
