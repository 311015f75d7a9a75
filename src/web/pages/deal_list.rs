//! The deal table (`/deals/list`): the board's filters plus status, sortable columns,
//! totals of every match and pages of 50.
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::web::filters;
use std::sync::Arc;

use crate::app::AppState;
use crate::domain::deals::{self, DealTable, ListParams};
use crate::domain::users;
use crate::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, list_query, ok};

/// The filters as set, for links.
pub struct ListFilters {
    pipeline: String,
    owner: String,
    close_month: String,
    min_amount: String,
    max_amount: String,
    company: String,
    min_score: String,
    status: String,
    sort: &'static str,
    desc: bool,
}

impl ListFilters {
    fn pairs(&self) -> Vec<(&'static str, &String)> {
        vec![
            ("pipeline", &self.pipeline),
            ("owner", &self.owner),
            ("close_month", &self.close_month),
            ("min_amount", &self.min_amount),
            ("max_amount", &self.max_amount),
            ("company", &self.company),
            ("min_score", &self.min_score),
            ("status", &self.status),
        ]
    }

    /// This list sorted by `key`; the current sort key flips its direction.
    fn sort_link(&self, key: &str) -> String {
        let dir = if key == self.sort && !self.desc {
            "desc"
        } else {
            "asc"
        };
        let base = list_query(&self.pairs(), 1);
        let sep = if base.is_empty() { "" } else { "&" };
        format!("/deals/list?{base}{sep}sort={key}&dir={dir}")
    }

    /// `aria-sort` for a column header.
    fn aria_sort(&self, key: &str) -> &'static str {
        match (key == self.sort, self.desc) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        }
    }

    fn page_link(&self, page: u64) -> String {
        let dir = if self.desc { "desc" } else { "asc" };
        let base = list_query(&self.pairs(), page);
        let sep = if base.is_empty() { "" } else { "&" };
        format!("/deals/list?{base}{sep}sort={}&dir={dir}", self.sort)
    }
}

#[derive(Template)]
#[template(path = "deals/list.html")]
struct ListPage {
    l: Layout,
    f: ListFilters,
    t: Arc<DealTable>,
    owners: Vec<users::Person>,
    months: Vec<crate::web::pages::deals::Month>,
    /// The company filter as its input shows it ("Acme (#12)").
    company_label: String,
}

#[derive(Template)]
#[template(path = "deals/list.html", block = "table")]
struct ListFragment {
    f: ListFilters,
    t: Arc<DealTable>,
}

pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
) -> Result<HttpResponse, AppError> {
    let mut p: ListParams = crate::web::forms::parse_query(req.query_string())?;
    crate::domain::pick::company_filter(&state.db, &user.actor, &mut p.company).await?;
    // The page shows pages of 50; its links do not carry another size.
    let q = ListParams {
        per_page: None,
        ..p.clone()
    }
    .validate()?;
    let t = deals::list(&state.db, &user.actor, &q).await?;
    let s = |v: Option<String>| v.unwrap_or_default();
    let f = ListFilters {
        pipeline: s(p.pipeline),
        owner: s(p.owner),
        close_month: s(p.close_month),
        min_amount: s(p.min_amount),
        max_amount: s(p.max_amount),
        company: s(p.company),
        min_score: s(p.min_score),
        status: q.status.clone().unwrap_or_default(),
        sort: q.sort,
        desc: q.desc,
    };
    if hx.fragment {
        return ok(&ListFragment { f, t });
    }
    ok(&ListPage {
        l: Layout::for_user(&user, "deals"),
        company_label: crate::web::pages::deals::company_label(&state, &user, &f.company).await?,
        months: crate::web::pages::deals::close_months(
            &f.close_month,
            chrono::Utc::now().date_naive(),
        ),
        f,
        t,
        owners: users::list_active(&state.db).await?,
    })
}
