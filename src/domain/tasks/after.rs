//! Where "Show more" continues an open group of My tasks: after the last task shown, in
//! the group's order (soonest first; a day's date-only tasks before its timed ones; the
//! tasks with no due last). A keyset, not an offset, so the thousandth overdue task costs
//! what the first did.
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition};

use super::Task;
use super::due;
use crate::entities::task;

/// The last task shown, by the side of the group it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Timed(DateTime<Utc>, i64),
    Dated(NaiveDate, i64),
    Undated(i64),
}

impl After {
    pub fn of(t: &Task) -> After {
        match (t.due_at, t.due_date) {
            (Some(at), _) => After::Timed(at, t.id),
            (None, Some(d)) => After::Dated(d, t.id),
            (None, None) => After::Undated(t.id),
        }
    }

    /// The form a link carries: `t<RFC 3339>_<id>`, `d<date>_<id>` or `u_<id>`.
    pub fn token(self) -> String {
        match self {
            After::Timed(at, id) => format!(
                "t{}_{id}",
                at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
            After::Dated(d, id) => format!("d{d}_{id}"),
            After::Undated(id) => format!("u_{id}"),
        }
    }

    /// A token as `token` makes it; None for anything else (a link edited by hand).
    pub fn parse(s: &str) -> Option<After> {
        let (head, id) = s.rsplit_once('_')?;
        let id = id.parse().ok()?;
        let kind = head.get(..1)?;
        let rest = head.get(1..)?;
        match kind {
            "t" => Some(After::Timed(
                DateTime::parse_from_rfc3339(rest).ok()?.with_timezone(&Utc),
                id,
            )),
            "d" => Some(After::Dated(rest.parse().ok()?, id)),
            "u" if rest.is_empty() => Some(After::Undated(id)),
            _ => None,
        }
    }

    /// What follows on the timed side (`due_at` order); None when nothing can.
    pub(super) fn timed(self, tz: Tz) -> Option<Condition> {
        let at = task::Column::DueAt;
        Some(match self {
            After::Timed(k, id) => Condition::all().add(
                Expr::tuple([
                    Expr::col((task::Entity, at)),
                    Expr::col((task::Entity, task::Column::Id)),
                ])
                .gt(Expr::tuple([Expr::val(k), Expr::val(id)])),
            ),
            // A day's timed tasks follow its date-only ones.
            After::Dated(d, _) => Condition::all().add(at.gte(due::day_start(tz, d))),
            After::Undated(_) => return None,
        })
    }

    /// What follows on the date-only side (`due_date` order); None when nothing can.
    pub(super) fn dated(self, tz: Tz) -> Option<Condition> {
        let date = task::Column::DueDate;
        Some(match self {
            After::Dated(d, id) => Condition::all().add(
                Expr::tuple([
                    Expr::col((task::Entity, date)),
                    Expr::col((task::Entity, task::Column::Id)),
                ])
                .gt(Expr::tuple([Expr::val(d), Expr::val(id)])),
            ),
            // Date-only tasks of the timed task's own local day came before it.
            After::Timed(k, _) => Condition::all().add(date.gt(k.with_timezone(&tz).date_naive())),
            After::Undated(_) => return None,
        })
    }

    /// What follows among the tasks with no due (by id).
    pub(super) fn undated(self) -> Condition {
        match self {
            After::Undated(id) => Condition::all().add(task::Column::Id.gt(id)),
            _ => Condition::all(),
        }
    }
}
