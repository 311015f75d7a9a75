//! Helpers for the read modules that keep raw SQL (`deals::reads`, `search`,
//! `records::reads`), each of which says why: a placeholder-writing string builder, the
//! JSON aggregate that hands a page across as one value, and LIKE escaping. Writes never
//! use this module; they go through sea-orm.
use sea_orm::{DatabaseBackend, FromQueryResult, Statement, Value};
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

    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
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
