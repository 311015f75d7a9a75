//! Settings → Jobs (admins only): the background jobs that are queued, running, failed or
//! dead, newest first, with their errors and a Retry button (one row swapped by htmx).
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::{Page, now, paging};
use crate::entities::job;
use crate::error::{AppError, FieldErrors};
use crate::jobs::State;
use crate::jobs::admin::{self, Show};
use crate::web::auth::{Can, csrf_token, gate, set_flash};
use crate::web::filters;
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, list_query, ok, see_other};

const PER_PAGE: u64 = 50;
/// The first characters of an error, shown in the row; the rest opens below.
const ERROR_HEAD: usize = 120;

/// A job as a row shows it.
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// "runs" (queued or failed) or "lease ends" (running), with `when`.
    pub when_label: &'static str,
    pub when: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub error_head: Option<String>,
    /// The whole error when it is longer than its head.
    pub error_rest: Option<String>,
    pub retryable: bool,
}

impl From<job::Model> for JobView {
    fn from(j: job::Model) -> JobView {
        let state = State::parse(&j.state);
        let error = j.last_error.unwrap_or_default();
        let head: String = error.chars().take(ERROR_HEAD).collect();
        JobView {
            id: j.id,
            kind: j.kind,
            when_label: match state {
                Some(State::Running) => "lease ends",
                _ => "runs",
            },
            when: j.run_after,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            created_at: j.created_at,
            error_rest: (head.len() < error.len()).then(|| error.clone()),
            error_head: (!head.is_empty()).then_some(head),
            retryable: matches!(state, Some(State::Failed | State::Dead)),
        }
    }
}

#[derive(Template)]
#[template(path = "settings/jobs.html")]
struct JobsPage {
    l: Layout,
    csrf: String,
    show: &'static str,
    counts: Vec<(&'static str, u64)>,
    open: u64,
    page: Page<JobView>,
}

impl JobsPage {
    fn dead(&self) -> u64 {
        self.counts
            .iter()
            .find(|(s, _)| *s == State::Dead.as_str())
            .map_or(0, |(_, n)| *n)
    }

    fn page_link(&self, n: u64) -> String {
        let show = self.show.to_string();
        format!("/settings/jobs?{}", list_query(&[("state", &show)], n))
    }
}

/// One row, the answer to an htmx Retry.
#[derive(Template)]
#[template(path = "settings/_job_row.html")]
struct JobRow {
    j: JobView,
    csrf: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    page: Option<String>,
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::Jobs>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let mut fields = FieldErrors::new();
    let (page, _) = paging(&q.page, &None, PER_PAGE, &mut fields);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let show = Show::parse(q.state.as_deref())?;
    let found = admin::list(&state.db.read, show, page, PER_PAGE).await?;
    let counts: Vec<(&'static str, u64)> = admin::counts(&state.db.read)
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str(), n))
        .collect();
    let open = counts
        .iter()
        .filter(|(s, _)| *s != State::Done.as_str())
        .map(|(_, n)| n)
        .sum();
    ok(&JobsPage {
        l: Layout::for_user(&user, "settings"),
        csrf: csrf_token(&user.session),
        show: show.as_str(),
        counts,
        open,
        page: Page {
            total: found.total,
            total_is_estimate: false,
            page: found.page,
            per_page: found.per_page,
            items: found.items.into_iter().map(JobView::from).collect(),
        },
    })
}

pub async fn retry(
    state: web::Data<AppState>,
    user: Can<gate::Jobs>,
    id: web::Path<i64>,
    htmx: Htmx,
) -> Result<HttpResponse, AppError> {
    let job = admin::retry(&state.db, Some(&user.actor), *id, now()).await?;
    if htmx.fragment {
        return ok(&JobRow {
            j: job.into(),
            csrf: csrf_token(&user.session),
        });
    }
    set_flash(&user.session, format!("Job {} is queued again.", job.id));
    Ok(see_other("/settings/jobs"))
}

pub async fn retry_dead(
    state: web::Data<AppState>,
    user: Can<gate::Jobs>,
) -> Result<HttpResponse, AppError> {
    let n = admin::retry_dead(&state.db, Some(&user.actor), now()).await?;
    let plural = if n == 1 { "" } else { "s" };
    set_flash(&user.session, format!("{n} dead job{plural} queued again."));
    Ok(see_other("/settings/jobs"))
}
