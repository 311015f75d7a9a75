//! The company list's parameters: the struct that parses them is the one the OpenAPI
//! document describes. The list itself is `records`'.
use sea_orm::DbBackend;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};

use super::validate::industry_keys;
use super::{KIND, SIZE_BANDS};
use crate::domain::access::Visible;
use crate::domain::records::filters::{self, Shape};
use crate::domain::records::{self, OwnFilters};
use crate::domain::schema::{Industry, SizeBand};
use crate::domain::{check_one_of, clean, normalise};
use crate::error::FieldErrors;

records::list_params! {
    /// What a company list asks for, as it arrives; `validate` checks it.
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
    }
    /// Comma-separated tag names: companies carrying all of them (the first ten count). An
    /// unknown tag is a 422.
    tags,
    /// name (default), name_desc, newest or oldest.
    sort: CompanySort,
}

/// The filters only companies have.
#[derive(Debug, Clone, Default)]
pub struct CompanyFilters {
    /// Normalised.
    pub q: Option<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
}

impl ListParams {
    /// The company's own filters, checked (`validate` gathers the messages); `q` cleaned.
    fn own(&self, q: Option<&str>, fields: &mut FieldErrors) -> CompanyFilters {
        let industry = clean(self.industry.as_deref()).map(|i| i.to_lowercase());
        let keys = industry_keys();
        check_one_of(fields, "industry", "industry", industry.as_deref(), &keys);
        let size = clean(self.size.as_deref());
        check_one_of(fields, "size", "size", size.as_deref(), &SIZE_BANDS);
        CompanyFilters {
            q: q.map(normalise),
            industry,
            size,
        }
    }
}

impl OwnFilters for CompanyFilters {
    fn is_set(&self) -> bool {
        self.q.is_some() || self.industry.is_some() || self.size.is_some()
    }

    /// Always: industry, size and the owner (a rep's own records) are indexed alone or in
    /// time order, not in name order (the default), so a plan for "25" could walk every
    /// company by name to find a rare industry's; company lists keep their counts bound.
    fn scattered(&self) -> bool {
        true
    }

    fn condition(&self, _backend: DbBackend, _visible: Visible, _shape: Shape) -> Condition {
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
