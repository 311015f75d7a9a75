//! Reports (issue 15): each contact's first interaction, kept on the contact, so the
//! weekly funnel's "interacted" is a column of the contacts it counts rather than a
//! search of every contact's activities and tasks (a year's cohort is a million contacts:
//! a million probes into each table, seconds on either database).
//!
//! `contacts.first_interaction_at` is the earliest of the contact's activities'
//! `occurred_at` and its done tasks' `done_at` that are at or after its `created_at`
//! (NULL: none). The funnel's rule "an interaction at or after its creation and before the
//! report's end" is then exactly `first_interaction_at < end`.
//!
//! Triggers keep it in the writer's own transaction, whatever makes the change (the
//! activity and task pages and API, the Stripe job's timeline, a merge relinking
//! activities and tasks, a record purged with its activities by cascade, an import): an
//! earlier interaction lowers it; removing, moving or re-dating the one it holds, or
//! undoing its task, computes it again from that contact's rows. Most writes change
//! nothing (a new note is later than the contact's first interaction), so the contact
//! row is rarely written. On PostgreSQL each trigger first locks the contact's row, so
//! two transactions changing one contact's interactions at once apply one after the
//! other, each computing from what the other committed (SQLite has one writer anyway);
//! activities inserted in bulk are handled per statement (the Stripe job writes a group's
//! payments in one INSERT, `cairn seed` thousands).
//!
//! The index on (created_at, first_interaction_at) of live contacts answers the funnel's
//! created and interacted counts in one read of the range.
use sea_orm_migration::SchemaManagerConnection;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The first interaction of the contact row `contacts` (the UPDATE's target), computed
/// from its rows: the same SQL on both databases.
const RECOMPUTE: &str = "(SELECT min(x.t) FROM ( \
     SELECT min(a.occurred_at) AS t FROM activities a \
      WHERE a.contact_id = contacts.id AND a.occurred_at >= contacts.created_at \
     UNION ALL \
     SELECT min(k.done_at) AS t FROM tasks k \
      WHERE k.contact_id = contacts.id AND k.done AND k.done_at >= contacts.created_at) x)";

/// Every contact's, in one statement (the backfill).
const BACKFILL: &str = "UPDATE contacts SET first_interaction_at = f.t FROM ( \
     SELECT c.id, min(x.t) AS t FROM contacts c JOIN ( \
       SELECT contact_id, occurred_at AS t FROM activities WHERE contact_id IS NOT NULL \
       UNION ALL \
       SELECT contact_id, done_at AS t FROM tasks \
        WHERE contact_id IS NOT NULL AND done AND done_at IS NOT NULL \
     ) x ON x.contact_id = c.id AND x.t >= c.created_at GROUP BY c.id) f \
   WHERE contacts.id = f.id";

const INDEX: &str = "idx_contacts_created_interaction";

/// SQLite's search trigger rewrote a contact's FTS entry on any update of the row; it now
/// fires only when a searched column (or the trash state that hides it) changes, so a
/// first interaction written on the contact does not rewrite its search entry (that made
/// a seeded year's 5 000 000 activities take ten times as long).
const SEARCH_TRIGGER: &str = "contacts_search_update";
const SEARCH_ANY: &str = "AFTER UPDATE ON contacts";
const SEARCH_OF: &str =
    "AFTER UPDATE OF first_name, last_name, email, phone, title, deleted_at ON contacts";

/// Replaces the search trigger with itself firing on `from` changed to `to`.
async fn search_trigger(
    db: &SchemaManagerConnection<'_>,
    from: &str,
    to: &str,
) -> Result<(), DbErr> {
    let q = format!(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = '{SEARCH_TRIGGER}'"
    );
    let Some(row) = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, q))
        .await?
    else {
        return Ok(());
    };
    let sql: String = row.try_get("", "sql")?;
    if !sql.contains(from) {
        return Ok(());
    }
    db.execute_unprepared(&format!("DROP TRIGGER {SEARCH_TRIGGER}"))
        .await?;
    db.execute_unprepared(&sql.replacen(from, to, 1)).await?;
    Ok(())
}

/// `contact` (an expression) interacted at `at`: lowers its first interaction.
fn lower(contact: &str, at: &str) -> String {
    format!(
        "UPDATE contacts SET first_interaction_at = {at} WHERE id = {contact} \
         AND {at} >= created_at AND (first_interaction_at IS NULL OR first_interaction_at > {at})"
    )
}

/// `contact` lost an interaction at `at`: computed again when it was the first.
fn again(contact: &str, at: &str) -> String {
    format!(
        "UPDATE contacts SET first_interaction_at = {RECOMPUTE} \
         WHERE id = {contact} AND first_interaction_at = {at}"
    )
}

fn sqlite() -> Vec<String> {
    let t = |name: &str, event: &str, when: &str, body: Vec<String>| {
        format!(
            "CREATE TRIGGER {name} AFTER {event} WHEN {when} BEGIN {}; END",
            body.join("; ")
        )
    };
    vec![
        t(
            "first_interaction_activity_insert",
            "INSERT ON activities",
            "NEW.contact_id IS NOT NULL",
            vec![lower("NEW.contact_id", "NEW.occurred_at")],
        ),
        t(
            "first_interaction_activity_update",
            "UPDATE OF contact_id, occurred_at ON activities",
            "OLD.contact_id IS NOT NEW.contact_id OR OLD.occurred_at IS NOT NEW.occurred_at",
            vec![
                again("OLD.contact_id", "OLD.occurred_at"),
                lower("NEW.contact_id", "NEW.occurred_at"),
            ],
        ),
        t(
            "first_interaction_activity_delete",
            "DELETE ON activities",
            "OLD.contact_id IS NOT NULL",
            vec![again("OLD.contact_id", "OLD.occurred_at")],
        ),
        t(
            "first_interaction_task_insert",
            "INSERT ON tasks",
            "NEW.contact_id IS NOT NULL AND NEW.done AND NEW.done_at IS NOT NULL",
            vec![lower("NEW.contact_id", "NEW.done_at")],
        ),
        t(
            "first_interaction_task_update",
            "UPDATE OF contact_id, done, done_at ON tasks",
            "OLD.contact_id IS NOT NEW.contact_id OR OLD.done IS NOT NEW.done \
             OR OLD.done_at IS NOT NEW.done_at",
            vec![
                format!("{} AND OLD.done", again("OLD.contact_id", "OLD.done_at")),
                format!("{} AND NEW.done", lower("NEW.contact_id", "NEW.done_at")),
            ],
        ),
        t(
            "first_interaction_task_delete",
            "DELETE ON tasks",
            "OLD.contact_id IS NOT NULL AND OLD.done",
            vec![again("OLD.contact_id", "OLD.done_at")],
        ),
        t(
            "first_interaction_contact_created",
            "UPDATE OF created_at ON contacts",
            "OLD.created_at IS NOT NEW.created_at",
            vec![format!(
                "UPDATE contacts SET first_interaction_at = {RECOMPUTE} WHERE id = NEW.id"
            )],
        ),
    ]
}

/// PostgreSQL: plpgsql functions, each locking the contacts it changes first.
fn postgres() -> Vec<String> {
    let lock =
        |ids: &str| format!("PERFORM 1 FROM contacts WHERE id IN ({ids}) ORDER BY id FOR UPDATE");
    let func = |name: &str, body: Vec<String>| {
        format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {}; RETURN NULL; END $$",
            body.join("; ")
        )
    };
    // Rows inserted in bulk: one lock statement and one update per INSERT.
    let inserted = |at: &str, cond: &str| {
        vec![
            lock(&format!(
                "SELECT r.contact_id FROM new_rows r WHERE r.contact_id IS NOT NULL{cond}"
            )),
            format!(
                "UPDATE contacts SET first_interaction_at = n.t FROM ( \
                   SELECT r.contact_id, min(r.{at}) AS t FROM new_rows r \
                   JOIN contacts c ON c.id = r.contact_id \
                   WHERE r.{at} >= c.created_at{cond} GROUP BY r.contact_id) n \
                 WHERE contacts.id = n.contact_id AND (contacts.first_interaction_at IS NULL \
                   OR contacts.first_interaction_at > n.t)"
            ),
        ]
    };
    // One row changed or deleted: its old contact computed again, its new one lowered.
    let changed = |at: &str, old_cond: &str, new_cond: &str| {
        vec![
            lock("OLD.contact_id, NEW.contact_id"),
            format!(
                "IF {old_cond} THEN {}; END IF",
                again("OLD.contact_id", &format!("OLD.{at}"))
            ),
            format!(
                "IF {new_cond} THEN {}; END IF",
                lower("NEW.contact_id", &format!("NEW.{at}"))
            ),
        ]
    };
    let deleted = |at: &str, cond: &str| {
        vec![
            lock("OLD.contact_id"),
            format!(
                "IF {cond} THEN {}; END IF",
                again("OLD.contact_id", &format!("OLD.{at}"))
            ),
        ]
    };
    vec![
        func(
            "first_interaction_activities_inserted",
            inserted("occurred_at", ""),
        ),
        func(
            "first_interaction_activity_changed",
            changed(
                "occurred_at",
                "OLD.contact_id IS NOT NULL",
                "NEW.contact_id IS NOT NULL",
            ),
        ),
        func(
            "first_interaction_activity_deleted",
            deleted("occurred_at", "OLD.contact_id IS NOT NULL"),
        ),
        func(
            "first_interaction_tasks_inserted",
            inserted("done_at", " AND r.done AND r.done_at IS NOT NULL"),
        ),
        func(
            "first_interaction_task_changed",
            changed(
                "done_at",
                "OLD.done",
                "NEW.done AND NEW.done_at IS NOT NULL",
            ),
        ),
        func(
            "first_interaction_task_deleted",
            deleted("done_at", "OLD.done"),
        ),
        func(
            "first_interaction_contact_created",
            vec![format!(
                "UPDATE contacts SET first_interaction_at = {RECOMPUTE} WHERE id = NEW.id"
            )],
        ),
        "CREATE TRIGGER first_interaction_activity_insert AFTER INSERT ON activities \
         REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION first_interaction_activities_inserted()"
            .into(),
        "CREATE TRIGGER first_interaction_activity_update AFTER UPDATE OF contact_id, occurred_at \
         ON activities FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id \
         OR OLD.occurred_at IS DISTINCT FROM NEW.occurred_at) \
         EXECUTE FUNCTION first_interaction_activity_changed()"
            .into(),
        "CREATE TRIGGER first_interaction_activity_delete AFTER DELETE ON activities \
         FOR EACH ROW WHEN (OLD.contact_id IS NOT NULL) \
         EXECUTE FUNCTION first_interaction_activity_deleted()"
            .into(),
        "CREATE TRIGGER first_interaction_task_insert AFTER INSERT ON tasks \
         REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION first_interaction_tasks_inserted()"
            .into(),
        "CREATE TRIGGER first_interaction_task_update AFTER UPDATE OF contact_id, done, done_at \
         ON tasks FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id \
         OR OLD.done IS DISTINCT FROM NEW.done OR OLD.done_at IS DISTINCT FROM NEW.done_at) \
         EXECUTE FUNCTION first_interaction_task_changed()"
            .into(),
        "CREATE TRIGGER first_interaction_task_delete AFTER DELETE ON tasks \
         FOR EACH ROW WHEN (OLD.contact_id IS NOT NULL AND OLD.done) \
         EXECUTE FUNCTION first_interaction_task_deleted()"
            .into(),
        "CREATE TRIGGER first_interaction_contact_created AFTER UPDATE OF created_at ON contacts \
         FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at) \
         EXECUTE FUNCTION first_interaction_contact_created()"
            .into(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let column = if pg {
            "timestamptz"
        } else {
            "timestamp_with_timezone_text"
        };
        db.execute_unprepared(&format!(
            "ALTER TABLE contacts ADD COLUMN first_interaction_at {column} NULL"
        ))
        .await?;
        db.execute_unprepared(BACKFILL).await?;
        let triggers = if pg { postgres() } else { sqlite() };
        for sql in triggers {
            db.execute_unprepared(&sql).await?;
        }
        if !pg {
            search_trigger(db, SEARCH_ANY, SEARCH_OF).await?;
        }
        let index = if pg {
            format!(
                "CREATE INDEX {INDEX} ON contacts (created_at) INCLUDE (first_interaction_at) \
                 WHERE deleted_at IS NULL"
            )
        } else {
            format!(
                "CREATE INDEX {INDEX} ON contacts (created_at, first_interaction_at) \
                 WHERE deleted_at IS NULL"
            )
        };
        db.execute_unprepared(&index).await?;
        if !pg {
            db.execute_unprepared(&format!("ANALYZE {INDEX}")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let names = [
            ("activity_insert", "activities", "activities_inserted"),
            ("activity_update", "activities", "activity_changed"),
            ("activity_delete", "activities", "activity_deleted"),
            ("task_insert", "tasks", "tasks_inserted"),
            ("task_update", "tasks", "task_changed"),
            ("task_delete", "tasks", "task_deleted"),
            ("contact_created", "contacts", "contact_created"),
        ];
        for (trigger, table, func) in names {
            if pg {
                db.execute_unprepared(&format!(
                    "DROP TRIGGER first_interaction_{trigger} ON {table}"
                ))
                .await?;
                db.execute_unprepared(&format!("DROP FUNCTION first_interaction_{func}()"))
                    .await?;
            } else {
                db.execute_unprepared(&format!("DROP TRIGGER first_interaction_{trigger}"))
                    .await?;
            }
        }
        db.execute_unprepared(&format!("DROP INDEX {INDEX}"))
            .await?;
        db.execute_unprepared("ALTER TABLE contacts DROP COLUMN first_interaction_at")
            .await?;
        Ok(())
    }
}
