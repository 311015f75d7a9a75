//! The `import.run` job: applies a queued import. Resumable: a run that finds its
//! import still `running` (the process died part-way) first reverts what that run wrote,
//! then starts over, so a restart never leaves half an import or doubles one.
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::Deserialize;

use super::store::{find, rows_of, workspace_of};
use super::{Options, Report};
use crate::domain::{Actor, Db, Role, now};
use crate::entities::{import, user};
use crate::error::AppError;
use crate::jobs::{Ctx, JobError, Registry};

pub const RUN: &str = "import.run";

pub fn register(r: &mut Registry) {
    r.register(RUN, run_job);
}

#[derive(Deserialize)]
struct RunImport {
    import_id: i64,
}

async fn run_job(ctx: Ctx, p: RunImport) -> Result<(), JobError> {
    run(&ctx.db, p.import_id).await?;
    Ok(())
}

/// The user who created the import, as the actor its records are written by.
async fn creator(db: &Db, imp: &import::Model) -> Result<Actor, AppError> {
    let u = match imp.created_by {
        Some(id) => user::Entity::find_by_id(id).one(&db.read).await?,
        None => None,
    }
    .ok_or_else(|| AppError::BadRequest("The user who made this import is gone.".into()))?;
    Ok(Actor {
        id: u.id,
        name: u.name,
        email: u.email,
        role: Role::parse(&u.role).unwrap_or(Role::Viewer),
        ip: None,
    })
}

async fn set_status(db: &Db, imp: import::Model, status: &str) -> Result<import::Model, AppError> {
    let mut am: import::ActiveModel = imp.into();
    am.status = Set(status.into());
    am.updated_at = Set(now());
    Ok(am.update(&db.write).await?)
}

/// Runs import `id` to its end: done (with its integrity report), or failed with why.
/// A finished or undone import is left as it is.
pub async fn run(db: &Db, id: i64) -> Result<Report, AppError> {
    let imp = find(db, id).await?;
    if matches!(imp.status.as_str(), "done" | "undone") {
        return Ok(imp
            .report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default());
    }
    if imp.status == "running" {
        super::undo::revert(db, id, false).await?;
    }
    let imp = set_status(db, imp, "running").await?;
    let outcome = async {
        let actor = creator(db, &imp).await?;
        let options: Options = serde_json::from_str(&imp.options)
            .map_err(|e| AppError::Internal(format!("stored import: {e}")))?;
        let (specs, rows, errors) = rows_of(db, &imp).await?;
        let ws = workspace_of(&imp)?;
        super::apply(
            db,
            &actor,
            id,
            (&specs, ws.as_ref()),
            rows,
            errors,
            &options,
        )
        .await
    }
    .await;
    let imp = find(db, id).await?;
    let mut am: import::ActiveModel = imp.into();
    am.updated_at = Set(now());
    am.finished_at = Set(Some(now()));
    let report = match outcome {
        Err(e) => {
            am.status = Set("failed".into());
            am.error = Set(Some(e.to_string()));
            // No report of this run: an earlier dry run's would read as its outcome, and
            // a failed import with a report is one its rows stopped before writing, which
            // may be changed and run again (`store::changeable`); this one may have
            // written, and been reverted.
            am.report = Set(None);
            am.update(&db.write).await?;
            return Err(e);
        }
        Ok(r) => r,
    };
    let text = |e: serde_json::Error| AppError::Internal(e.to_string());
    am.counts = Set(serde_json::to_string(&report.counts()).map_err(text)?);
    am.report = Set(Some(serde_json::to_string(&report.kept()).map_err(text)?));
    if report.written {
        let integrity = super::integrity::check(&db.read, id, &report).await?;
        am.integrity = Set(Some(serde_json::to_string(&integrity).map_err(text)?));
        am.status = Set("done".into());
    } else {
        am.status = Set("failed".into());
        am.error = Set(Some(format!(
            "{} rows could not be imported, so nothing was written (choose \"import the valid rows\" to take the others).",
            report.failed()
        )));
    }
    am.update(&db.write).await?;
    Ok(report)
}
