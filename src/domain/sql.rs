//! Helpers for the read modules that keep raw SQL (`deals::reads`, `search`,
//! `records::reads`), each of which says why: a placeholder-writing string builder, the
//! JSON aggregate that hands a page across as one value, and LIKE escaping. Writes never
//! use this module, but for `build` on the job queue's claim: an update sea-orm builds,
//! whose LIMIT count PostgreSQL needs written in like the lists'.
use std::collections::HashMap;

use sea_orm::sea_query::Values;
use sea_orm::{DatabaseBackend, FromQueryResult, Statement, StatementBuilder, Value};
use serde::de::DeserializeOwned;

use crate::domain::Page;
use crate::error::AppError;

pub struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DatabaseBackend) -> Sql {
        Sql {
            backend,
            text: String::with_capacity(256),
            values: Vec::new(),
        }
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.values.len().to_string());
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// A LIMIT or OFFSET count: written into the text on PostgreSQL (see `build`), bound
    /// on SQLite, which plans a statement once when it prepares it.
    pub fn count(&mut self, n: i64) -> &mut Sql {
        match self.backend {
            DatabaseBackend::Postgres => self.push(&n.to_string()),
            _ => self.bind(n),
        }
    }

    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// A sea-query statement for `backend`, with its LIMIT and OFFSET counts written into the
/// text on PostgreSQL. Bound, they make every execution a fresh plan: PostgreSQL's plan
/// kept for a prepared statement cannot know the count, assumes a tenth of the table,
/// costs far more than a plan for the given count, and so is never used; planning the
/// contact list's page took 0.5 ms, longer than running it (0.3 ms). Written in, the
/// kept plan is as good and each connection plans the statement once. (sea-query binds
/// every count and cannot write one in, hence this rewrite of its text.)
pub fn build<S: StatementBuilder>(backend: DatabaseBackend, statement: &S) -> Statement {
    let mut built = backend.build(statement);
    if backend == DatabaseBackend::Postgres
        && let Some(Values(values)) = built.values.take()
    {
        let (sql, values) = counts_written_in(&built.sql, values);
        built.sql = sql;
        built.values = Some(Values(values));
    }
    built
}

/// `sql` (with `$n` placeholders) with every `LIMIT $n` and `OFFSET $n` whose value is a
/// whole number written as that number, and the other placeholders renumbered.
fn counts_written_in(sql: &str, values: Vec<Value>) -> (String, Vec<Value>) {
    let mut counts: HashMap<usize, i64> = HashMap::new();
    for keyword in [" LIMIT $", " OFFSET $"] {
        for (at, _) in sql.match_indices(keyword) {
            let n = placeholder(&sql[at + keyword.len()..]).0;
            if let Some(count) = n.checked_sub(1).and_then(|i| values.get(i)).and_then(whole) {
                counts.insert(n, count);
            }
        }
    }
    if counts.is_empty() {
        return (sql.to_string(), values);
    }
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let (n, len) = placeholder(&rest[at + 1..]);
        match counts.get(&n) {
            Some(count) => out.push_str(&count.to_string()),
            None if len == 0 => out.push('$'),
            None => {
                let before = counts.keys().filter(|k| **k < n).count();
                out.push('$');
                out.push_str(&(n - before).to_string());
            }
        }
        rest = &rest[at + 1 + len..];
    }
    out.push_str(rest);
    let values = values
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !counts.contains_key(&(i + 1)))
        .map(|(_, v)| v)
        .collect();
    (out, values)
}

/// The number a placeholder's text starts with (0 when none) and how many digits it has.
fn placeholder(text: &str) -> (usize, usize) {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    (text[..len].parse().unwrap_or(0), len)
}

/// A bound count's value, when it is a whole number.
fn whole(value: &Value) -> Option<i64> {
    match value {
        Value::BigUnsigned(Some(n)) => i64::try_from(*n).ok(),
        Value::BigInt(Some(n)) => Some(*n),
        Value::Unsigned(Some(n)) => Some(i64::from(*n)),
        Value::Int(Some(n)) => Some(i64::from(*n)),
        _ => None,
    }
}

/// `%term%` for LIKE, with the wildcard characters of the term itself escaped (`\`).
pub fn like_contains(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The aggregate that turns a list's rows into one JSON array, in `order`: sqlx hands
/// SQLite rows across a thread one at a time, so a page as one value costs one hand-off.
/// `fields` are (JSON key, SQL expression) pairs.
pub fn json_array(backend: DatabaseBackend, fields: &[(&str, &str)], order: &str) -> String {
    let object = fields
        .iter()
        .map(|(k, v)| format!("'{k}', {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    match backend {
        DatabaseBackend::Postgres => {
            format!("COALESCE(json_agg(json_build_object({object}){order}), '[]'::json)::text")
        }
        _ => format!("json_group_array(json_object({object}){order})"),
    }
}

/// Rows to skip for `page` (1-based) of `per_page`.
pub fn offset(page: u64, per_page: u64) -> i64 {
    (page - 1).saturating_mul(per_page).min(i64::MAX as u64) as i64
}

/// The one row a list statement returns: the total and the page as a JSON array.
#[derive(FromQueryResult)]
pub struct PageRow {
    pub total: i64,
    pub items: String,
}

impl PageRow {
    pub fn into_page<T: DeserializeOwned>(
        self,
        page: u64,
        per_page: u64,
    ) -> Result<Page<T>, AppError> {
        let items = serde_json::from_str(&self.items)
            .map_err(|e| AppError::Internal(format!("list JSON: {e}")))?;
        Ok(Page {
            total: self.total.max(0) as u64,
            total_is_estimate: false,
            page,
            per_page,
            items,
        })
    }
}

/// `column` (a UTC timestamp) as whole milliseconds since 1970. Each engine has its own
/// date arithmetic and neither understands the other's: this one expression differs,
/// the statements around it are the same builders.
pub fn epoch_ms(backend: DatabaseBackend, column: &str) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::Expr;
    match backend {
        DatabaseBackend::Postgres => Expr::cust(format!(
            "CAST(ROUND(EXTRACT(EPOCH FROM {column}) * 1000) AS BIGINT)"
        )),
        _ => Expr::cust(format!(
            "CAST(ROUND((julianday({column}) - 2440587.5) * 86400000) AS INTEGER)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_written_in_and_later_placeholders_renumbered() {
        let sql = "SELECT (SELECT n FROM c WHERE name = $1), x FROM (SELECT id FROM t \
                   WHERE a = $2 LIMIT $3 OFFSET $4) p WHERE b = $5 AND d = $10 LIMIT $11";
        let mut values: Vec<Value> = vec![
            "contacts".into(),
            7i64.into(),
            25u64.into(),
            50u64.into(),
            "x".into(),
        ];
        values.extend((6..=10).map(|i| Value::from(i as i64)));
        values.push(Value::from(1u64));
        let (out, left) = counts_written_in(sql, values);
        assert_eq!(
            out,
            "SELECT (SELECT n FROM c WHERE name = $1), x FROM (SELECT id FROM t \
             WHERE a = $2 LIMIT 25 OFFSET 50) p WHERE b = $3 AND d = $8 LIMIT 1"
        );
        assert_eq!(left.len(), 8, "three counts left the values: {left:?}");
        assert_eq!(left[2], Value::from("x"));
    }

    #[test]
    fn a_statement_without_counts_is_left_alone() {
        let sql = "SELECT $1 || '$' FROM t WHERE id = $2";
        let values: Vec<Value> = vec!["a".into(), 3i64.into()];
        let (out, left) = counts_written_in(sql, values.clone());
        assert_eq!(out, sql);
        assert_eq!(left, values);
    }
}
