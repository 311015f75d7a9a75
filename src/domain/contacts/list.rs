//! The contact list's parameters: the struct that parses them is the one the OpenAPI
//! document describes. The list itself is `records`'.
use std::collections::BTreeMap;

use sea_orm::DbBackend;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{KIND, SOURCES};
use crate::domain::records::{self, ListQuery, OwnFilters, filters};
use crate::domain::schema::{ContactSort, Source};
use crate::domain::{FieldErrorsExt, check_text, clean, normalise};
use crate::error::{AppError, FieldErrors};

/// What a contact list asks for; raw strings as they arrive, validated by `validate`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words to find in first name, last name, email or company (the first five count).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// organic, referral, paid, event, import, stripe or other.
    #[param(value_type = Option<Source>)]
    pub source: Option<String>,
    /// Part of the company's name, any case.
    pub company: Option<String>,
    /// The company's id.
    #[param(value_type = Option<i64>)]
    pub company_id: Option<String>,
    /// Owner's user id.
    #[param(value_type = Option<i64>)]
    pub owner: Option<String>,
    /// Comma-separated tag names: contacts carrying all of them (the first ten count). An
    /// unknown tag is a 422.
    pub tags: Option<String>,
    /// newest (default), oldest, name or name_desc.
    #[param(value_type = Option<ContactSort>)]
    pub sort: Option<String>,
    /// Custom field filters, one `cf.<key>=value` per field (`cf.plan=pro`): the value
    /// equals the field's, or is one of a multi-select's. An unknown key is a 422.
    #[serde(rename = "cf", default, deserialize_with = "records::not_read")]
    #[param(value_type = Option<Object>)]
    pub custom: BTreeMap<String, String>,
    /// 1 or more (default 1).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// 1 to 100 (default 25).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// Keyset paging: the id of the last record of the previous page. The page starts
    /// right after that record in the list's order (`page` then only numbers it), so a
    /// deep page costs what the first does; an id no record has gives an empty page.
    #[param(value_type = Option<i64>)]
    pub after: Option<String>,
}

/// The filters only contacts have.
#[derive(Debug, Clone, Default)]
pub struct ContactFilters {
    pub terms: Vec<String>,
    pub source: Option<String>,
    /// Normalised part of a company name.
    pub company: Option<String>,
    pub company_id: Option<i64>,
}

records::list_params!(ListParams);

impl ListParams {
    /// Unknown or out-of-range values are a 422 naming the parameter, never an empty list.
    pub fn validate(&self, default_per_page: u64) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let common = self.common().check(&KIND, default_per_page, &mut fields);
        let source = clean(self.source.as_deref());
        if let Some(s) = &source
            && !SOURCES.contains(&s.as_str())
        {
            fields.set(
                "source",
                format!("source must be one of: {}.", SOURCES.join(", ")),
            );
        }
        let company_id = match clean(self.company_id.as_deref()) {
            None => None,
            Some(c) => c.parse::<i64>().map(Some).unwrap_or_else(|_| {
                fields.set("company_id", "company_id must be a company id.");
                None
            }),
        };
        check_text(
            &mut fields,
            "company",
            self.company.as_deref().unwrap_or(""),
        );
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        let own = ContactFilters {
            terms: common
                .q
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .take(5)
                .map(str::to_string)
                .collect(),
            source,
            company: clean(self.company.as_deref()).map(|c| normalise(&c)),
            company_id,
        };
        Ok(common.query(&KIND, own))
    }
}

impl OwnFilters for ContactFilters {
    fn is_set(&self) -> bool {
        !self.terms.is_empty()
            || self.source.is_some()
            || self.company.is_some()
            || self.company_id.is_some()
    }

    fn condition(&self, backend: DbBackend) -> Condition {
        let mut all = Condition::all();
        if let Some(s) = &self.source {
            all = all.add(filters::eq("source", s.clone()));
        }
        if let Some(c) = self.company_id {
            all = all.add(filters::eq("company_id", c));
        }
        if let Some(c) = &self.company {
            all = all.add(filters::company_named(c));
        }
        // Every word must match the first name, last name, email or company. The stored
        // `*_norm` columns were lowered by Rust (all of Unicode); `lower()` in SQLite lowers
        // ASCII only, so the name comparison lowers the word the same way the engine does.
        for word in &self.terms {
            let name = match backend {
                DbBackend::Sqlite => word.to_ascii_lowercase(),
                _ => word.to_lowercase(),
            };
            let norm = word.to_lowercase();
            let lower = |column: &'static str| Func::lower(Expr::col(("t", column)));
            all = all.add(
                Condition::any()
                    .add(lower("first_name").like(filters::contains(&name)))
                    .add(lower("last_name").like(filters::contains(&name)))
                    .add(Expr::col(("t", "email_norm")).like(filters::contains(&norm)))
                    .add(filters::company_named(&norm)),
            );
        }
        all
    }
}
