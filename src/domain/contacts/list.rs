//! The contact list's parameters: the struct that parses them is the one the OpenAPI
//! document describes. The list itself is `records`'.
use sea_orm::DbBackend;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, Query};

use super::{KIND, SOURCES};
use crate::domain::access::Visible;
use crate::domain::records::filters::{self, Shape};
use crate::domain::records::{self, OwnFilters};
use crate::domain::schema::Source;
use crate::domain::{FieldErrorsExt, check_one_of, check_text, clean, normalise};
use crate::error::FieldErrors;

records::list_params! {
    /// What a contact list asks for; raw strings as they arrive, validated by `validate`.
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
        /// Stripe subscription status (active, past_due, canceled, trialing, …).
        #[param(max_length = 32)]
        pub subscription: Option<String>,
        /// Monthly recurring revenue from Stripe of at least this, in minor units.
        #[param(value_type = Option<i64>)]
        pub mrr_min: Option<String>,
        /// A lead score of at least this (0–100): leads scored by the lead model.
        #[param(value_type = Option<i32>, minimum = 0, maximum = 100)]
        pub min_score: Option<String>,
    }
    /// Comma-separated tag names: contacts carrying all of them (the first ten count). An
    /// unknown tag is a 422.
    tags,
    /// newest (default), oldest, name or name_desc.
    sort: ContactSort,
}

/// The filters only contacts have.
#[derive(Debug, Clone, Default)]
pub struct ContactFilters {
    pub terms: Vec<String>,
    pub source: Option<String>,
    /// Normalised part of a company name.
    pub company: Option<String>,
    pub company_id: Option<i64>,
    /// Stripe billing (`contact_billing`): the subscription's status, a least MRR.
    pub subscription: Option<String>,
    pub mrr_min: Option<i64>,
    /// A least lead score, 0–100 (`contact_scores`).
    pub min_score: Option<i32>,
}

impl ListParams {
    /// The contact's own filters, checked (`validate` gathers the messages); `q` cleaned.
    fn own(&self, q: Option<&str>, fields: &mut FieldErrors) -> ContactFilters {
        let source = clean(self.source.as_deref());
        check_one_of(fields, "source", "source", source.as_deref(), &SOURCES);
        let company_id = match clean(self.company_id.as_deref()) {
            None => None,
            Some(c) => c.parse::<i64>().map(Some).unwrap_or_else(|_| {
                fields.set("company_id", "company_id must be a company id.");
                None
            }),
        };
        check_text(fields, "company", self.company.as_deref().unwrap_or(""));
        let subscription = clean(self.subscription.as_deref());
        if subscription.as_ref().is_some_and(|s| s.len() > 32) {
            fields.set(
                "subscription",
                "subscription is a status of at most 32 characters.",
            );
        }
        let mrr_min = match clean(self.mrr_min.as_deref()) {
            None => None,
            Some(m) => match m.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    fields.set(
                        "mrr_min",
                        "mrr_min is a whole number of minor units, 0 or more.",
                    );
                    None
                }
            },
        };
        let min_score = match clean(self.min_score.as_deref()) {
            None => None,
            Some(m) => match m.parse::<i32>() {
                Ok(n) if (0..=100).contains(&n) => Some(n),
                _ => {
                    fields.set("min_score", "min_score is a whole number from 0 to 100.");
                    None
                }
            },
        };
        ContactFilters {
            min_score,
            terms: q
                .unwrap_or("")
                .split_whitespace()
                .take(5)
                .map(str::to_string)
                .collect(),
            source,
            company: clean(self.company.as_deref()).map(|c| normalise(&c)),
            company_id,
            subscription,
            mrr_min,
        }
    }
}

impl OwnFilters for ContactFilters {
    fn is_set(&self) -> bool {
        !self.terms.is_empty()
            || self.source.is_some()
            || self.company.is_some()
            || self.company_id.is_some()
            || self.subscription.is_some()
            || self.mrr_min.is_some()
            || self.min_score.is_some()
    }

    /// Words, a company's name, Stripe billing and the lead score (a lookup per
    /// contact) sit in no index in the list's order.
    fn scattered(&self) -> bool {
        !self.terms.is_empty()
            || self.company.is_some()
            || self.subscription.is_some()
            || self.mrr_min.is_some()
            || self.min_score.is_some()
    }

    fn links(&self) -> bool {
        self.company.is_some()
    }

    /// A source, a company's id (000035, 000037) and a company's name (its companies'
    /// contacts, 000037's company index) each have one; words and billing none.
    fn indexed(&self) -> bool {
        self.is_set()
            && self.terms.is_empty()
            && self.subscription.is_none()
            && self.mrr_min.is_none()
            && self.min_score.is_none()
    }

    /// A source, a company's id and a company's name (its companies' ids) are copied
    /// on each tag link (000055); words and billing are not.
    fn on_links(&self, visible: Visible) -> Option<Condition> {
        if !self.terms.is_empty()
            || self.subscription.is_some()
            || self.mrr_min.is_some()
            || self.min_score.is_some()
        {
            return None;
        }
        let mut all = Condition::all();
        if let Some(s) = &self.source {
            all = all.add(Expr::col(("ct", "source")).eq(s.clone()));
        }
        if let Some(c) = self.company_id {
            all = all.add(Expr::col(("ct", "company_id")).eq(c));
        }
        if let Some(c) = &self.company {
            all = all.add(filters::company_named("ct", c, visible, Shape::Drive));
        }
        Some(all)
    }

    fn condition(&self, backend: DbBackend, visible: Visible, shape: Shape) -> Condition {
        let mut all = Condition::all();
        if let Some(s) = &self.source {
            all = all.add(filters::eq("source", s.clone()));
        }
        if let Some(c) = self.company_id {
            all = all.add(filters::eq("company_id", c));
        }
        if let Some(c) = &self.company {
            all = all.add(filters::company_named("t", c, visible, shape));
        }
        if self.subscription.is_some() || self.mrr_min.is_some() {
            all = all.add(billing(self.subscription.clone(), self.mrr_min));
        }
        if let Some(min) = self.min_score {
            all = all.add(scored_at_least(min));
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
                    .add(filters::company_named("t", &norm, visible, Shape::Drive)),
            );
        }
        all
    }
}

/// Contacts whose Stripe billing (`contact_billing`, keyed by the contact's id) has the
/// subscription status and at least the MRR asked for.
fn billing(status: Option<String>, mrr_min: Option<i64>) -> Expr {
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from_as("contact_billing", "b")
        .and_where(Expr::col(("b", "id")).equals(("t", "id")));
    if let Some(s) = status {
        q.and_where(Expr::col(("b", "subscription_status")).eq(s));
    }
    if let Some(m) = mrr_min {
        q.and_where(Expr::col(("b", "mrr_minor")).gte(m));
    }
    Expr::exists(q.to_owned())
}

/// Leads whose stored score (`contact_scores`, keyed by the contact's id) rounds to at
/// least `min` percent, as the list shows it.
fn scored_at_least(min: i32) -> Expr {
    let q = Query::select()
        .expr(Expr::val(1))
        .from_as("contact_scores", "cs")
        .and_where(Expr::col(("cs", "id")).equals(("t", "id")))
        .and_where(Expr::col(("cs", "probability")).gte((f64::from(min) - 0.5) / 100.0))
        .to_owned();
    Expr::exists(q)
}

#[cfg(test)]
mod tests {
    use super::ListParams;

    /// Which contact lists PostgreSQL plans per value (counts bound) and which keep one
    /// plan per connection (counts written in): see `ListQuery::plans_per_value`.
    #[test]
    fn only_filters_without_an_index_in_the_lists_order_are_planned_per_value() {
        let cases = [
            ("", false),
            ("source=paid", false),
            ("source=paid&sort=name_desc", false),
            ("company_id=3", false),
            ("company=acme", true),
            ("q=ann", true),
            ("source=paid&company=acme", true),
            ("tags=vip", true),
            ("cf.tier=gold", true),
            ("subscription=active", true),
        ];
        for (query, per_value) in cases {
            let planned = ListParams::from_query(query)
                .and_then(|p| p.validate(25))
                .map(|q| q.plans_per_value())
                .map_err(|e| format!("{e:?}"));
            assert_eq!(planned, Ok(per_value), "list ?{query}");
        }
    }
}
