//! The deal table: the board's filters plus a status, a sort and a page, with totals.

use super::*;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::Db;
use crate::domain::{Actor, FieldErrorsExt, clean};
use crate::error::{AppError, FieldErrors};

crate::domain::params::paged_params! {
    /// The deal table's query as it arrives (page and API alike): the board's filters, a
    /// status, a sort and a page; the OpenAPI document describes this struct.
    #[derive(Debug, Clone, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ListParams {
        /// Pipeline id; default the first
        #[param(value_type = Option<i64>)]
        pub pipeline: Option<String>,
        /// Owner's user id
        #[param(value_type = Option<i64>)]
        pub owner: Option<String>,
        /// Expected close in this month, YYYY-MM
        #[param(pattern = "^([0-9]{4}-(0[1-9]|1[0-2]))?$")]
        pub close_month: Option<String>,
        /// At least this amount, in whole currency units (0 to 100 000 000 000; beyond counts as the bound)
        #[param(value_type = Option<i64>)]
        pub min_amount: Option<String>,
        /// At most this amount, in whole currency units (0 to 100 000 000 000; beyond counts as the bound)
        #[param(value_type = Option<i64>)]
        pub max_amount: Option<String>,
        /// The company: its id, a suggestion as the board shows it (`Acme (#12)`), or its exact name (any case); a name of no company is a 422
        pub company: Option<String>,
        /// At least this deal score (0 to 100): only deals a model has scored
        #[param(value_type = Option<i32>, minimum = 0, maximum = 100)]
        pub min_score: Option<String>,
        /// open, won or lost
        #[param(value_type = Option<crate::domain::schema::DealStatus>)]
        pub status: Option<String>,
        /// title, stage, amount, owner, company, close, score, updated (default) or created
        #[param(value_type = Option<crate::domain::schema::DealSort>)]
        pub sort: Option<String>,
        /// asc or desc
        #[param(value_type = Option<crate::domain::schema::SortDirection>)]
        pub dir: Option<String>,
    }
}

impl ListParams {
    pub fn board(&self) -> BoardParams {
        BoardParams {
            pipeline: self.pipeline.clone(),
            owner: self.owner.clone(),
            close_month: self.close_month.clone(),
            min_amount: self.min_amount.clone(),
            max_amount: self.max_amount.clone(),
            company: self.company.clone(),
            min_score: self.min_score.clone(),
        }
    }

    pub fn validate(&self) -> Result<ListQuery, AppError> {
        ListQuery::new(
            self.board().validate()?,
            self.status.as_deref(),
            self.sort.as_deref(),
            self.dir.as_deref(),
            self.page.as_deref(),
        )?
        .per_page(self.per_page.as_deref())
    }
}

/// Sort keys and their columns; `stage` is the board's order (stage, then the card's
/// place in its column). `company` is the company's name as the asker sees it
/// (`reads::table_page` puts another rep's company under its label). `score` reads each
/// matching deal's score by its key (no index orders deals by it; the page is cached).
pub(super) const LIST_SORTS: [(&str, &[&str]); 9] = [
    ("title", &["lower(d.title)"]),
    ("stage", &["s.position", "d.position"]),
    ("amount", &["d.amount_minor"]),
    ("owner", &["lower(u.name)"]),
    ("company", &["lower(co.name)"]),
    ("close", &["d.expected_close"]),
    (
        "score",
        &["(SELECT ds.probability FROM deal_scores ds WHERE ds.deal_id = d.id)"],
    ),
    ("updated", &["d.updated_at"]),
    ("created", &["d.created_at"]),
];

/// Rows per page of the deal table (the API may ask for 1 to 100).
pub const LIST_PAGE: i64 = 50;

/// The deal table: the board's filters plus a status, a sort and a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListQuery {
    pub filters: BoardQuery,
    /// open, won or lost; none for every deal.
    pub status: Option<String>,
    pub sort: &'static str,
    pub desc: bool,
    pub page: u64,
    pub per_page: i64,
}

impl ListQuery {
    /// Another page size (the API's `per_page`): 1 to 100.
    pub fn per_page(mut self, per_page: Option<&str>) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let (_, n) = crate::domain::paging(
            &None,
            &per_page.map(str::to_string),
            self.per_page as u64,
            &mut fields,
        );
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        self.per_page = n as i64;
        Ok(self)
    }

    pub fn new(
        filters: BoardQuery,
        status: Option<&str>,
        sort: Option<&str>,
        dir: Option<&str>,
        page: Option<&str>,
    ) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let status = match clean(status) {
            None => None,
            Some(s) if ["open", "won", "lost"].contains(&s.as_str()) => Some(s),
            Some(_) => {
                fields.set("status", "Status is open, won or lost.");
                None
            }
        };
        let sort = match clean(sort) {
            None => "updated",
            Some(s) => match LIST_SORTS.iter().find(|(k, _)| *k == s) {
                Some((k, _)) => k,
                None => {
                    fields.set(
                        "sort",
                        "Sort by title, stage, amount, owner, company, close, score, updated or created.",
                    );
                    "updated"
                }
            },
        };
        let desc = match clean(dir).as_deref() {
            None => ["updated", "created", "amount", "score"].contains(&sort),
            Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                fields.set("dir", "Direction is asc or desc.");
                false
            }
        };
        let (page, _) = crate::domain::paging(
            &page.map(str::to_string),
            &None,
            LIST_PAGE as u64,
            &mut fields,
        );
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        Ok(ListQuery {
            filters,
            status,
            sort,
            desc,
            page,
            per_page: LIST_PAGE,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DealTable {
    pub pipeline: Pipeline,
    pub pipelines: Vec<Pipeline>,
    pub total: i64,
    /// Sum of the matching deals' amounts per currency, in minor units.
    pub sums: BTreeMap<String, i64>,
    pub items: Vec<Deal>,
    pub page: u64,
    pub per_page: i64,
}

impl DealTable {
    pub fn sum_text(&self) -> String {
        sums_text(&self.sums)
    }
    pub fn pages(&self) -> u64 {
        ((self.total.max(0) as u64).div_ceil(self.per_page.max(1) as u64)).max(1)
    }
}

/// A page of the deal table. Like the board, a built page is kept until the change
/// counter moves (its totals cover every matching deal, which is the costly part).
pub async fn list(db: &Db, actor: &Actor, q: &ListQuery) -> Result<Arc<DealTable>, AppError> {
    let q = &ListQuery {
        filters: q.filters.scoped(db, actor).await?,
        ..q.clone()
    };
    let Some(counter) = board_counter(db).await? else {
        return Ok(Arc::new(build_list(db, actor, q).await?));
    };
    db.deal_list_cache
        .get_or_build(q.clone(), counter, || build_list(db, actor, q))
        .await
}

/// One page of a pipeline's deals as a table, with the count and sums of every match.
/// Two statements whatever the number of deals.
pub(super) async fn build_list(
    db: &Db,
    _actor: &Actor,
    q: &ListQuery,
) -> Result<DealTable, AppError> {
    let all = pipelines(&db.read).await?;
    let pipeline = pick_pipeline(&all, q.filters.pipeline)?;
    // The status picks stages: the filter becomes a set of index ranges.
    let stage_ids: Vec<i64> = pipeline
        .stages
        .iter()
        .filter(|s| q.status.as_ref().is_none_or(|k| *k == s.kind))
        .map(|s| s.id)
        .collect();
    let totals = reads::table_totals(db, q, &stage_ids).await?;
    let items = reads::table_page(db, q, &stage_ids).await?;
    Ok(DealTable {
        pipeline,
        pipelines: all,
        total: totals.iter().map(|t| t.n).sum(),
        sums: totals.into_iter().map(|t| (t.currency, t.total)).collect(),
        items,
        page: q.page,
        per_page: q.per_page,
    })
}
