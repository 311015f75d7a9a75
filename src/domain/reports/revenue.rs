//! Revenue per month (in the organisation's zone, whole months) and per currency, from
//! the billing ledger the Stripe apply path writes (`billing_entries`, `mrr_changes`):
//!
//! - **Payments, refunds, net**: the ledger's payments and refunds whose time (the
//!   invoice's payment, the refund event's creation) falls in the month; net = payments −
//!   refunds. The same split per contact source. Never added across currencies.
//! - **MRR at the end of each month**: per currency, the sum over subscriptions of each
//!   one's latest change at or before the month's end (its last instant), counted when its
//!   status is active, trialing or past_due, as 0 when canceled (or any other status).
//! - **Contacts in the trash count**: money received stays received, whatever became of
//!   the contact since; a contact purged from the trash leaves its rows without a contact
//!   (its source shows as none; only those who see every record see them).
//! - **Filters**: the range, owner and source are the contact's (owner and source now);
//!   a rep limited to their own records sees their contacts' only. The pipeline filter
//!   does not apply (payments belong to contacts, not deals): it is ignored.
//!
//! Two grouped queries. Entries: one range of `idx_billing_entries_time`, grouped by
//! month, currency, kind and source (the contact by its key). MRR: the changes before
//! the range's end in the order of `idx_mrr_changes_subscription`, each turned into the
//! change it made to its currency's total (its counted value less its predecessor's,
//! by a window over the subscription), summed per month; the running totals are the
//! month ends.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{
    Alias, CaseStatement, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement,
    UnionType, WindowStatement,
};
use sea_orm::{DatabaseBackend, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Filters, Week, week_of};
use crate::domain::{Action, Actor, Db, access, sql};
use crate::error::AppError;

/// The statuses whose MRR counts.
pub const COUNTED: [&str; 3] = ["active", "trialing", "past_due"];

/// Money in and out, in minor units of one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Flow {
    pub payments: i64,
    pub refunds: i64,
    /// payments − refunds.
    pub net: i64,
}

impl Flow {
    fn add(&mut self, kind: &str, amount: i64) {
        if kind == "refund" {
            self.refunds = self.refunds.saturating_add(amount);
        } else {
            self.payments = self.payments.saturating_add(amount);
        }
        self.net = self.payments.saturating_sub(self.refunds);
    }

    fn plus(&mut self, o: &Flow) {
        self.payments = self.payments.saturating_add(o.payments);
        self.refunds = self.refunds.saturating_add(o.refunds);
        self.net = self.payments.saturating_sub(self.refunds);
    }
}

/// One month of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RevenueMonth {
    /// The month's first day.
    pub month: NaiveDate,
    #[serde(flatten)]
    pub flow: Flow,
    /// MRR at the month's end (minor units).
    pub mrr_minor: i64,
}

/// One source's months in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SourceRevenue {
    /// The contact's source ("" for a contact purged since).
    pub source: String,
    /// Every month of the range, in order.
    pub months: Vec<SourceMonth>,
    pub total: Flow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SourceMonth {
    pub month: NaiveDate,
    #[serde(flatten)]
    pub flow: Flow,
}

/// Everything in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrencyRevenue {
    /// ISO 4217, upper case.
    pub currency: String,
    /// Every month of the range, in order.
    pub months: Vec<RevenueMonth>,
    pub total: Flow,
    /// Sources with money in this currency in the range, by name.
    pub by_source: Vec<SourceRevenue>,
}

/// The report: whole months from `from` (a first of the month) to `to` (a last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Revenue {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
    /// One per currency with money or MRR, by code.
    pub currencies: Vec<CurrencyRevenue>,
}

#[derive(FromQueryResult)]
struct EntryRow {
    w: i64,
    currency: String,
    kind: String,
    source: Option<String>,
    total: i64,
}

#[derive(FromQueryResult)]
struct MrrRow {
    w: i64,
    currency: Option<String>,
    delta: i64,
}

/// The revenue report `actor` may see for `f`.
pub async fn revenue(db: &Db, actor: &Actor, f: &Filters) -> Result<Revenue, AppError> {
    actor.require(Action::ReadRecords)?;
    let spans = super::win_rate::months(f);
    let (entries, deltas) = match f.owner_for(access::visible(db, actor).await?) {
        Some(owner) => {
            let backend = db.backend();
            let e = sql::build(backend, &entries(f, owner, &spans));
            let m = sql::build(backend, &mrr(f, owner, &spans));
            tokio::try_join!(
                EntryRow::find_by_statement(e).all(&db.read),
                MrrRow::find_by_statement(m).all(&db.read),
            )?
        }
        // A rep asking for another owner's records sees none.
        None => (Vec::new(), Vec::new()),
    };
    Ok(assemble(f, &spans, entries, deltas))
}

/// One currency's sums: per month, per source and month, and the MRR changes per
/// bucket (0 before the range, i + 1 month i).
struct Sums {
    flows: Vec<Flow>,
    sources: BTreeMap<String, Vec<Flow>>,
    deltas: Vec<i64>,
}

/// The rows put in their currencies and months (every month shown, zeros included).
fn assemble(f: &Filters, spans: &[Week], entries: Vec<EntryRow>, deltas: Vec<MrrRow>) -> Revenue {
    let n = spans.len();
    let mut by_cur: BTreeMap<String, Sums> = BTreeMap::new();
    let blank = || Sums {
        flows: vec![Flow::default(); n],
        sources: BTreeMap::new(),
        deltas: vec![0i64; n + 1],
    };
    for r in entries {
        let Some(i) = usize::try_from(r.w).ok().filter(|i| *i < n) else {
            continue;
        };
        let c = by_cur.entry(r.currency).or_insert_with(blank);
        c.flows[i].add(&r.kind, r.total);
        let source = c
            .sources
            .entry(r.source.unwrap_or_default())
            .or_insert_with(|| vec![Flow::default(); n]);
        source[i].add(&r.kind, r.total);
    }
    // Bucket 0 is everything before the range; bucket i + 1 is month i.
    for r in deltas {
        let (Some(cur), Ok(b)) = (r.currency, usize::try_from(r.w)) else {
            continue;
        };
        if b <= n {
            let c = by_cur.entry(cur).or_insert_with(blank);
            c.deltas[b] = c.deltas[b].saturating_add(r.delta);
        }
    }
    let currencies = by_cur
        .into_iter()
        .map(
            |(
                currency,
                Sums {
                    flows,
                    sources,
                    deltas,
                },
            )| {
                let mut running = deltas[0];
                let mut total = Flow::default();
                let months = spans
                    .iter()
                    .zip(flows)
                    .zip(deltas.into_iter().skip(1))
                    .map(|((s, flow), d)| {
                        running = running.saturating_add(d);
                        total.plus(&flow);
                        RevenueMonth {
                            month: s.monday,
                            flow,
                            mrr_minor: running,
                        }
                    })
                    .collect();
                let by_source = sources
                    .into_iter()
                    .map(|(source, flows)| {
                        let mut total = Flow::default();
                        let months = spans
                            .iter()
                            .zip(flows)
                            .map(|(s, flow)| {
                                total.plus(&flow);
                                SourceMonth {
                                    month: s.monday,
                                    flow,
                                }
                            })
                            .collect();
                        SourceRevenue {
                            source,
                            months,
                            total,
                        }
                    })
                    .collect();
                CurrencyRevenue {
                    currency,
                    months,
                    total,
                    by_source,
                }
            },
        )
        .collect();
    let from = spans.first().map_or(f.from, |s| s.monday);
    let to = spans.last().map_or(f.to, |s| {
        s.end.with_timezone(&f.tz).date_naive() - chrono::Duration::days(1)
    });
    Revenue {
        from,
        to,
        time_zone: f.tz.name().to_string(),
        currencies,
    }
}

/// The contact's owner and source filters, on the contact aliased `c`.
fn narrow(q: &mut SelectStatement, f: &Filters, owner: Option<i64>) {
    if let Some(o) = owner {
        q.and_where(Expr::col(("c", "owner_id")).eq(o));
    }
    if let Some(s) = &f.source {
        q.and_where(Expr::col(("c", "source")).eq(s.as_str()));
    }
}

/// Payments and refunds in the months, per month, currency, kind and source.
fn entries(f: &Filters, owner: Option<i64>, spans: &[Week]) -> SelectStatement {
    let at = || Expr::col(("e", "occurred_at"));
    let mut q = Query::select();
    q.expr_as(week_of(at(), spans), "w")
        .column(("e", "currency"))
        .column(("e", "kind"))
        .column(("c", "source"))
        .expr_as(
            Expr::col(("e", "amount_minor")).sum().cast_as("BIGINT"),
            "total",
        )
        .from_as("billing_entries", "e")
        .join_as(
            JoinType::LeftJoin,
            "contacts",
            "c",
            Expr::col(("c", "id")).equals(("e", "contact_id")),
        );
    if let (Some(first), Some(last)) = (spans.first(), spans.last()) {
        q.and_where(at().gte(first.start))
            .and_where(at().lt(last.end));
    }
    narrow(&mut q, f, owner);
    q.group_by_col("w")
        .group_by_col(("e", "currency"))
        .group_by_col(("e", "kind"))
        .group_by_col(("c", "source"));
    q
}

/// What each subscription change did to its currency's MRR, summed per bucket and
/// currency: bucket 0 before the range, bucket i + 1 in month i.
fn mrr(f: &Filters, owner: Option<i64>, spans: &[Week]) -> SelectStatement {
    let counted = || -> Expr {
        CaseStatement::new()
            .case(
                Expr::col(("x", "status")).is_in(COUNTED),
                Expr::col(("x", "mrr_minor")),
            )
            .finally(0)
            .into()
    };
    let window = || {
        WindowStatement::partition_by(("x", "subscription_id"))
            .order_by(("x", "effective_at"), Order::Asc)
            .order_by(("x", "id"), Order::Asc)
            .to_owned()
    };
    let lag = |e: Expr| Func::cust("LAG").arg(e);
    let mut inner = Query::select();
    inner
        .expr_as(Expr::col(("x", "effective_at")), "at")
        .expr_as(Expr::col(("x", "currency")), "cur")
        .expr_as(counted(), "v")
        .expr_window_as(lag(Expr::col(("x", "currency"))), window(), "pcur")
        .expr_window_as(lag(counted()), window(), "pv")
        .from_as("mrr_changes", "x");
    if owner.is_some() || f.source.is_some() {
        inner.join_as(
            JoinType::InnerJoin,
            "contacts",
            "c",
            Expr::col(("c", "id")).equals(("x", "contact_id")),
        );
        narrow(&mut inner, f, owner);
    }
    if let Some(last) = spans.last() {
        inner.and_where(Expr::col(("x", "effective_at")).lt(last.end));
    }
    // Each change counted twice: as its own value in its currency (k = 0), and as its
    // predecessor's value taken off in the predecessor's currency (k = 1).
    let two = Query::select()
        .expr_as(Expr::val(0), "k")
        .union(
            UnionType::All,
            Query::select().expr_as(Expr::val(1), "k").to_owned(),
        )
        .to_owned();
    let first = || Expr::col(("k", "k")).eq(0);
    let currency: Expr = CaseStatement::new()
        .case(first(), Expr::col(("d", "cur")))
        .finally(Expr::col(("d", "pcur")))
        .into();
    let delta: Expr = CaseStatement::new()
        .case(first(), Expr::col(("d", "v")))
        .finally(Expr::val(0).sub(Func::coalesce([Expr::col(("d", "pv")), Expr::val(0)])))
        .into();
    // Bucket 0 before the first month: its start is never compared (see `week_of`).
    let mut buckets = Vec::with_capacity(spans.len() + 1);
    if let Some(first) = spans.first() {
        buckets.push(*first);
    }
    buckets.extend_from_slice(spans);
    let mut q = Query::select();
    q.expr_as(week_of(Expr::col(("d", "at")), &buckets), "w")
        .expr_as(currency, "currency")
        .expr_as(delta.sum().cast_as("BIGINT"), "delta")
        .from_subquery(inner, Alias::new("d"))
        .join_subquery(
            JoinType::InnerJoin,
            two,
            Alias::new("k"),
            Expr::val(1).eq(1),
        )
        .group_by_col("w")
        .group_by_col("currency");
    q
}

/// The statements the report runs for `f` (as an admin sees it), for EXPLAIN.
pub fn statements(f: &Filters, backend: DatabaseBackend) -> Vec<sea_orm::Statement> {
    let spans = super::win_rate::months(f);
    vec![
        sql::build(backend, &entries(f, f.owner, &spans)),
        sql::build(backend, &mrr(f, f.owner, &spans)),
    ]
}

impl super::report::Report for Revenue {
    const SLUG: &'static str = "revenue";

    async fn run(db: &Db, actor: &Actor, f: &Filters) -> Result<Revenue, AppError> {
        revenue(db, actor, f).await
    }

    fn range(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }

    fn csv(&self) -> String {
        super::revenue_text::revenue_csv(self)
    }

    fn table(&self) -> String {
        super::revenue_text::revenue_table(self)
    }
}
