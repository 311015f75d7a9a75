//! The company list's parameters: the struct that parses them is the one the OpenAPI
//! document describes. The list itself is `records`'.
use std::collections::BTreeMap;

use sea_orm::DbBackend;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{INDUSTRIES, KIND, SIZE_BANDS, industry_keys};
use crate::domain::records::{self, ListQuery, OwnFilters, filters};
use crate::domain::schema::{CompanySort, Industry, SizeBand};
use crate::domain::{FieldErrorsExt, clean, normalise};
use crate::error::{AppError, FieldErrors};

/// What a company list asks for, as it arrives; `validate` checks it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Part of the name or domain, any case.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// software, fintech, healthcare, ecommerce, manufacturing, education, media,
    /// consulting, logistics, energy, nonprofit or other.
    #[param(value_type = Option<Industry>)]
    pub industry: Option<String>,
    /// 1-10, 11-50, 51-200, 201-1000, 1001-5000 or 5001+.
    #[param(value_type = Option<SizeBand>)]
    pub size: Option<String>,
    /// Owner's user id.
    #[param(value_type = Option<i64>)]
    pub owner: Option<String>,
    /// Comma-separated tag names: companies carrying all of them (the first ten count). An
    /// unknown tag is a 422.
    pub tags: Option<String>,
    /// name (default), name_desc, newest or oldest.
    #[param(value_type = Option<CompanySort>)]
    pub sort: Option<String>,
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
    /// Custom field filters, one `cf.<key>=value` per field (`cf.plan=pro`): the value
    /// equals the field's, or is one of a multi-select's. An unknown key is a 422.
    #[serde(rename = "cf", default, deserialize_with = "records::not_read")]
    #[param(value_type = Option<Object>)]
    pub custom: BTreeMap<String, String>,
}

/// The filters only companies have.
#[derive(Debug, Clone, Default)]
pub struct CompanyFilters {
    /// Normalised.
    pub q: Option<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
}

records::list_params!(ListParams);

impl ListParams {
    pub fn validate(&self, default_per_page: u64) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let common = self.common().check(&KIND, default_per_page, &mut fields);
        let industry = clean(self.industry.as_deref()).map(|i| i.to_lowercase());
        if let Some(i) = &industry
            && !INDUSTRIES.iter().any(|(k, _)| k == i)
        {
            fields.set(
                "industry",
                format!("industry must be one of: {}.", industry_keys()),
            );
        }
        let size = clean(self.size.as_deref());
        if let Some(s) = &size
            && !SIZE_BANDS.contains(&s.as_str())
        {
            fields.set(
                "size",
                format!("size must be one of: {}.", SIZE_BANDS.join(", ")),
            );
        }
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        let own = CompanyFilters {
            q: common.q.as_deref().map(normalise),
            industry,
            size,
        };
        Ok(common.query(&KIND, own))
    }
}

impl OwnFilters for CompanyFilters {
    fn is_set(&self) -> bool {
        self.q.is_some() || self.industry.is_some() || self.size.is_some()
    }

    fn condition(&self, _backend: DbBackend) -> Condition {
        let mut all = Condition::all();
        if let Some(i) = &self.industry {
            all = all.add(filters::eq("industry", i.clone()));
        }
        if let Some(s) = &self.size {
            all = all.add(filters::eq("size_band", s.clone()));
        }
        if let Some(term) = &self.q {
            all = all.add(
                Condition::any()
                    .add(Expr::col(("t", "name_norm")).like(filters::contains(term)))
                    .add(Expr::col(("t", "domain")).like(filters::contains(term))),
            );
        }
        all
    }
}
