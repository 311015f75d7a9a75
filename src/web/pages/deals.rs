//! The deal board (`/deals`) and a deal's page; the form that adds and edits deals is
//! `deal_form.rs`. Cards move by drag and drop (static/board.js) or with each card's
//! keyboard-friendly stage picker; both post to the same move, which re-renders the board
//! from the server's state.
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::domain::trash;
use crate::web::filters;
use serde::Deserialize;
use std::sync::Arc;

use crate::app::AppState;
use crate::domain::activities::Subject;
use crate::domain::deals::{self, Board, BoardParams, Card, Deal, Move, Stage, StageChange};
use crate::domain::{companies, pick, users};
use crate::error::AppError;
use crate::web::auth::{CurrentUser, csrf_token, set_flash};
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::activities::{self, Panel};
use crate::web::pages::{Layout, list_query, ok, see_other};

/// The board's filters as set, for links and refreshes.
#[derive(Default)]
pub struct Filters {
    pipeline: String,
    owner: String,
    close_month: String,
    min_amount: String,
    max_amount: String,
    company: String,
    min_score: String,
}

impl Filters {
    fn from(p: &BoardParams) -> Filters {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Filters {
            pipeline: s(&p.pipeline),
            owner: s(&p.owner),
            close_month: s(&p.close_month),
            min_amount: s(&p.min_amount),
            max_amount: s(&p.max_amount),
            company: s(&p.company),
            min_score: s(&p.min_score),
        }
    }

    fn query(&self) -> String {
        list_query(
            &[
                ("pipeline", &self.pipeline),
                ("owner", &self.owner),
                ("close_month", &self.close_month),
                ("min_amount", &self.min_amount),
                ("max_amount", &self.max_amount),
                ("company", &self.company),
                ("min_score", &self.min_score),
            ],
            1,
        )
    }

    /// The deal list of `pipeline`'s won or lost deals (`kind`) under the same filters: a
    /// closed column's link to the deals older than the board shows.
    fn closed_list(&self, pipeline: &i64, kind: &str) -> String {
        let (pipeline, kind) = (pipeline.to_string(), kind.to_string());
        let query = list_query(
            &[
                ("pipeline", &pipeline),
                ("status", &kind),
                ("owner", &self.owner),
                ("close_month", &self.close_month),
                ("min_amount", &self.min_amount),
                ("max_amount", &self.max_amount),
                ("company", &self.company),
                ("min_score", &self.min_score),
            ],
            1,
        );
        format!("/deals/list?{query}")
    }
}

/// A month the "Closes in" filter offers: its value (`2026-12`) and its name ("Dec 2026").
pub struct Month {
    pub value: String,
    pub label: String,
}

/// The months the board's and the list's "Closes in" filter offers: six back (deals that
/// slipped) to a year ahead, plus `selected` when it is outside them. A `<select>` rather
/// than `<input type=month>`, which Chromium shows empty as "--------- ----".
pub fn close_months(selected: &str, today: chrono::NaiveDate) -> Vec<Month> {
    use chrono::{Datelike, Months, NaiveDate};
    let first = today.with_day(1).unwrap_or(today);
    let month = |d: NaiveDate| Month {
        value: d.format("%Y-%m").to_string(),
        label: d.format("%b %Y").to_string(),
    };
    let mut months: Vec<Month> = (0..19u32)
        .filter_map(|i| {
            first
                .checked_sub_months(Months::new(6))?
                .checked_add_months(Months::new(i))
        })
        .map(month)
        .collect();
    let chosen = NaiveDate::parse_from_str(&format!("{}-01", selected.trim()), "%Y-%m-%d");
    if let Ok(d) = chosen
        && !months.iter().any(|m| m.value == selected.trim())
    {
        let at = months.partition_point(|m| m.value.as_str() < selected.trim());
        months.insert(at, month(d));
    }
    months
}

#[derive(Template)]
#[template(path = "deals/board.html")]
struct BoardPage {
    l: Layout,
    f: Filters,
    b: Arc<Board>,
    owners: Vec<users::Person>,
    months: Vec<Month>,
    /// The company filter as its input shows it ("Acme (#12)").
    company_label: String,
    csrf: String,
    can_write: bool,
}

#[derive(Template)]
#[template(path = "deals/board.html", block = "board")]
struct BoardFragment {
    f: Filters,
    b: Arc<Board>,
    csrf: String,
    can_write: bool,
}

fn params_of(query: &str) -> Result<BoardParams, AppError> {
    crate::web::forms::parse_query(query)
}

async fn board_response(
    state: &AppState,
    user: &CurrentUser,
    params: BoardParams,
    fragment: bool,
) -> Result<HttpResponse, AppError> {
    let b = deals::board(&state.db, &user.actor, &params.validate()?).await?;
    let f = Filters::from(&params);
    let csrf = csrf_token(&user.session);
    let can_write = user.actor.can_write();
    if fragment {
        return ok(&BoardFragment {
            f,
            b,
            csrf,
            can_write,
        });
    }
    let company_label = company_label(state, user, &f.company).await?;
    ok(&BoardPage {
        l: Layout::for_user(user, "deals"),
        months: close_months(&f.close_month, chrono::Utc::now().date_naive()),
        f,
        b,
        owners: users::list_active(&state.db).await?,
        company_label,
        csrf,
        can_write,
    })
}

/// The company filter as its input shows it: a company's id (a link from its page, or a
/// name the filter looked up) as "Acme (#12)".
pub async fn company_label(
    state: &AppState,
    user: &CurrentUser,
    company: &str,
) -> Result<String, AppError> {
    Ok(match company.trim().parse::<i64>() {
        Ok(id) => match companies::get(&state.db, &user.actor, id).await {
            Ok(c) => format!("{} (#{})", c.name, c.id),
            Err(AppError::NotFound(_)) => company.to_string(),
            Err(e) => return Err(e),
        },
        Err(_) => company.to_string(),
    })
}

pub async fn board(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
) -> Result<HttpResponse, AppError> {
    let mut params = params_of(req.query_string())?;
    pick::company_filter(&state.db, &user.actor, &mut params.company).await?;
    board_response(&state, &user, params, hx.fragment).await
}

#[derive(Template)]
#[template(path = "deals/_column.html")]
struct ColumnMore {
    cards: Vec<Card>,
    can_write: bool,
    /// The URL of the next batch, when there is one.
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Offset {
    offset: Option<i64>,
}

/// More cards of one column, asked for as the column scrolls.
pub async fn column(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    stage: web::Path<i64>,
    o: web::Query<Offset>,
) -> Result<HttpResponse, AppError> {
    let params = params_of(req.query_string())?;
    let q = params.validate()?;
    let offset = o.offset.unwrap_or(0).max(0);
    let cards = deals::column_cards(&state.db, &user.actor, *stage, offset, &q).await?;
    let next = (cards.len() as i64 == deals::COLUMN_PAGE).then(|| {
        format!(
            "/deals/column/{}?offset={}&{}",
            *stage,
            offset + deals::COLUMN_PAGE,
            Filters::from(&params).query()
        )
    });
    ok(&ColumnMore {
        cards,
        can_write: user.actor.can_write(),
        next,
    })
}

#[derive(Deserialize)]
pub struct MoveForm {
    stage_id: i64,
    position: Option<String>,
    /// The card the board dropped this one after.
    after_id: Option<String>,
    version: i32,
    lost_reason: Option<String>,
}

/// A move from the board (drag or the card's picker) or the deal page.
pub async fn move_deal(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    id: web::Path<i64>,
    Form(form): Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    let m = Move {
        stage_id: form.stage_id,
        position: form.position.as_deref().and_then(|p| p.trim().parse().ok()),
        after_id: form.after_id.as_deref().and_then(|p| p.trim().parse().ok()),
        version: form.version,
        lost_reason: form.lost_reason,
    };
    let deal = match deals::move_deal(&state.db, &user.actor, *id, &m).await {
        Ok(d) => d,
        // From the deal page's form: back to the deal, with why, where the form is.
        Err(e @ (AppError::Validation { .. } | AppError::Conflict { .. })) if !hx.fragment => {
            set_flash(&user.session, format!("Not moved: {e}"));
            // The picker comes back as the user left it.
            let reason = m.lost_reason.as_deref().unwrap_or_default();
            return Ok(see_other(&format!(
                "/deals/{}?move_to={}&reason={}#move",
                *id,
                m.stage_id,
                crate::web::errors::url_encode(reason)
            )));
        }
        Err(e) => return Err(e),
    };
    if hx.fragment {
        // Re-render the board as the user filtered it.
        let current = req
            .headers()
            .get("HX-Current-URL")
            .and_then(|v| v.to_str().ok())
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| u.path() == "/deals")
            .and_then(|u| u.query().map(str::to_string))
            .unwrap_or_default();
        return board_response(&state, &user, params_of(&current)?, true).await;
    }
    set_flash(
        &user.session,
        format!("{} moved to {}.", deal.title, deal.stage),
    );
    Ok(see_other(&format!("/deals/{}", deal.id)))
}

#[derive(Template)]
#[template(path = "deals/show.html")]
struct ShowPage {
    l: Layout,
    d: Deal,
    stages: Vec<Stage>,
    history: Vec<StageChange>,
    activity: Panel,
    tasks: crate::web::pages::tasks::Panel,
    /// The stage the picker shows: the deal's, or the one a refused move tried.
    picked: i64,
    reason: String,
    /// The deal fields admins defined, and the deal's values (`_custom_values.html`).
    defs: Vec<crate::domain::custom_fields::Field>,
    values: std::collections::BTreeMap<String, serde_json::Value>,
    /// The open deal's score and why, when a model scores deals.
    score: Option<crate::domain::scoring::scores::Score>,
}

/// A refused move's stage and reason, to put back in the deal page's picker.
#[derive(Deserialize, Default)]
pub struct Retry {
    move_to: Option<i64>,
    reason: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    retry: web::Query<Retry>,
) -> Result<HttpResponse, AppError> {
    let d = match deals::get(&state.db, &user.actor, *id).await {
        Ok(d) => d,
        Err(e) => return super::trash::or_notice(&state, &user, trash::Bin::Deal, *id, e).await,
    };
    let stages = deals::pipelines(&state.db.read)
        .await?
        .into_iter()
        .find(|p| p.id == d.pipeline_id)
        .map(|p| p.stages)
        .unwrap_or_default();
    let history = deals::stage_changes(&state.db, &user.actor, d.id).await?;
    let activity = activities::panel(&state, &user, Subject::Deal(d.id)).await?;
    let tasks = crate::web::pages::tasks::panel(&state, &user, Subject::Deal(d.id)).await?;
    let retry = retry.into_inner();
    let score = crate::domain::scoring::scores::for_deal(&state.db, &user.actor, d.id).await?;
    ok(&ShowPage {
        score,
        l: Layout::for_user(&user, "deals"),
        defs: crate::domain::custom_fields::defs(&state.db, "deal").await?,
        values: d.custom_fields.clone(),
        picked: retry.move_to.unwrap_or(d.stage_id),
        reason: retry.reason.unwrap_or_default(),
        d,
        stages,
        history,
        activity,
        tasks,
    })
}

/// Deletes a deal from its page (the button asks first), then back to the board.
pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let d = deals::get(&state.db, &user.actor, *id).await?;
    deals::delete(&state.db, &user.actor, d.id).await?;
    set_flash(
        &user.session,
        format!("{} was deleted. {}", d.title, trash::RESTORE_NOTE),
    );
    Ok(see_other("/deals"))
}
