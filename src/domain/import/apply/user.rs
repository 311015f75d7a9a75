//! Users file rows (Cairn's `users.csv`, Salesforce's `User.csv`, a generic users file):
//! each is the Cairn user with its email, else the one user of its name; a row with an
//! email no user has becomes a new user, deactivated and without a password
//! (`users::create_imported_in`), so the records the files give them keep their owner.
//! A real run creates them while planning, as it does new custom fields: the rows after
//! them are checked against users that exist. A dry run only says who it would create.

use super::Outcome;
use super::cells::Cells;
use super::plan::{Ctx, Plan, reasons_of};
use crate::domain::import::{MappedRow, ObjectKind, System};
use crate::domain::users::{self, NewUser};
use crate::domain::{Role, normalise};
use crate::error::AppError;

/// A row's full name: its name, else its first and last names.
fn name_of(c: &Cells) -> Option<String> {
    c.field("name").map(str::to_string).or_else(|| {
        match (c.field("first_name"), c.field("last_name")) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (f, l) => f.or(l).map(str::to_string),
        }
    })
}

/// The role a new user gets, and why when it is not the file's: rep (who may own
/// records, which is what an import makes users for); with Cairn's own export, the
/// file's role, except admin (see `users::create_imported_in`).
fn role_of(system: System, c: &Cells) -> (Role, Option<String>) {
    let file = c.field("role").and_then(Role::parse);
    match (system, file) {
        (System::Cairn, Some(Role::Admin)) => (
            Role::Rep,
            Some("An admin in the file: created as a rep (an admin gives the admin role in Settings → Users).".into()),
        ),
        (System::Cairn, Some(role)) => (role, None),
        _ => (Role::Rep, None),
    }
}

/// Plans a chunk of user rows; in a real run (`!dry`) creates the new users, in one
/// transaction for the chunk.
pub(super) async fn plan(
    ctx: &mut Ctx<'_>,
    plan: &mut Plan,
    chunk: &[MappedRow],
    dry: bool,
) -> Result<(), AppError> {
    let kind = ObjectKind::User;
    let tx = if dry {
        None
    } else {
        Some(ctx.db.begin_write().await?)
    };
    for row in chunk {
        let c = Cells(row);
        let name = name_of(&c);
        let email = c.field("email");
        let source = c.source_id().map(|s| ctx.key(s));
        if let Some(id) = ctx.owners.by_person(email, name.as_deref()) {
            if let Some(s) = &source {
                ctx.owners.learn(s.clone(), id);
                plan.users.push((s.clone(), id));
            }
            let why = if ctx.owners.created(id) {
                "The same user as an earlier row of this import."
            } else {
                "Matched an existing user."
            };
            let known = Some(id).filter(|id| *id > 0);
            let why = vec![why.to_string()];
            ctx.report(&mut plan.report, row, kind, Outcome::Skipped, known, why);
            continue;
        }
        let Some(email) = email else {
            let why = vec![
                "No Cairn user has this name, and without an email no user is created.".to_string(),
            ];
            ctx.report(&mut plan.report, row, kind, Outcome::Skipped, None, why);
            continue;
        };
        let (role, note) = role_of(ctx.options.system, &c);
        let input = NewUser {
            email: email.to_string(),
            name: name.unwrap_or_else(|| email.to_string()),
            password: String::new(),
            role: role.as_str().to_string(),
        };
        let mut reasons = Vec::new();
        if let Err(e) = users::check_imported(&input) {
            reasons_of(e, &mut reasons)?;
            ctx.report(&mut plan.report, row, kind, Outcome::Failed, None, reasons);
            continue;
        }
        let id = match &tx {
            Some(tx) => {
                let u = users::create_imported_in(tx, ctx.actor, &input).await?;
                plan.new_users.push((source.clone(), u.id));
                u.id
            }
            // A stand-in below zero: rows owned by them resolve to someone new.
            None => -(plan.report.rows.len() as i64) - 1,
        };
        ctx.owners
            .add_created(id, &normalise(&input.email), &input.name);
        if let Some(s) = source {
            ctx.owners.learn(s, id);
        }
        reasons.push(format!(
            "A new {} user, deactivated until an admin activates or invites them.",
            role.as_str()
        ));
        reasons.extend(note);
        let known = Some(id).filter(|id| *id > 0);
        ctx.report(
            &mut plan.report,
            row,
            kind,
            Outcome::Created,
            known,
            reasons,
        );
    }
    if let Some(tx) = tx {
        tx.commit().await?;
        ctx.db.auth_cache.forget();
    }
    Ok(())
}
