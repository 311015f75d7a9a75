//! A change counter for My tasks (see the `change_counters` migration): each process
//! keeps the boards it built under the `tasks` counter, and any write to what a board
//! shows bumps it in the writer's own transaction, whichever process made it.
//!
//! A board shows tasks' own columns (trashing a record flags its tasks, purging deletes
//! them: both are task writes) and the names of assignees and of the records tasks are
//! about; a record's rename counts only when a task is about it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, trigger name, event, the change that matters, the task column naming it).
const WATCHED: &[(&str, &str, &str, &str, &str)] = &[
    ("tasks", "insert", "INSERT", "", ""),
    ("tasks", "update", "UPDATE", "", ""),
    ("tasks", "delete", "DELETE", "", ""),
    (
        "users",
        "rename",
        "UPDATE OF name",
        "OLD.name IS DISTINCT FROM NEW.name",
        "",
    ),
    (
        "contacts",
        "rename",
        "UPDATE OF first_name, last_name",
        "OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name",
        "contact_id",
    ),
    (
        "companies",
        "rename",
        "UPDATE OF name",
        "OLD.name IS DISTINCT FROM NEW.name",
        "company_id",
    ),
    (
        "deals",
        "rename",
        "UPDATE OF title",
        "OLD.title IS DISTINCT FROM NEW.title",
        "deal_id",
    ),
];

fn up_statements(backend: DatabaseBackend) -> Vec<String> {
    let mut out = vec!["INSERT INTO change_counters (name, n) VALUES ('tasks', 0)".to_string()];
    match backend {
        DatabaseBackend::Postgres => {
            // As `board_changed`: deferred to commit and once per transaction, so the
            // counter row is locked only at commit. A trigger's WHEN cannot hold a
            // subquery: whether a task is about the renamed record is asked here.
            let mut about = String::new();
            for (table, _, _, _, column) in WATCHED.iter().filter(|w| !w.4.is_empty()) {
                about.push_str(&format!(
                    "IF TG_TABLE_NAME = '{table}' THEN \
                       IF NOT EXISTS (SELECT 1 FROM tasks WHERE {column} = NEW.id) THEN RETURN NULL; END IF; \
                     END IF; "
                ));
            }
            out.push(format!(
                "CREATE FUNCTION tasks_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 {about}\
                 IF current_setting('cairn.tasks_bumped', true) IS DISTINCT FROM txid_current()::text THEN \
                   UPDATE change_counters SET n = n + 1 WHERE name = 'tasks'; \
                   PERFORM set_config('cairn.tasks_bumped', txid_current()::text, true); \
                 END IF; \
                 RETURN NULL; END $$"
            ));
            for (table, what, event, when, _) in WATCHED {
                let when = if when.is_empty() {
                    String::new()
                } else {
                    format!(" WHEN ({when})")
                };
                out.push(format!(
                    "CREATE CONSTRAINT TRIGGER tasks_changed_{table}_{what} AFTER {event} ON {table} \
                     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{when} EXECUTE FUNCTION tasks_changed()"
                ));
            }
        }
        _ => {
            // One writer at a time: a plain row trigger in the same transaction.
            for (table, what, event, when, column) in WATCHED {
                let mut when = when.replace("IS DISTINCT FROM", "IS NOT");
                if !column.is_empty() {
                    when = format!(
                        "({when}) AND EXISTS (SELECT 1 FROM tasks WHERE {column} = NEW.id)"
                    );
                }
                let when = if when.is_empty() {
                    String::new()
                } else {
                    format!(" WHEN {when}")
                };
                out.push(format!(
                    "CREATE TRIGGER tasks_changed_{table}_{what} AFTER {event} ON {table}{when} BEGIN \
                     UPDATE change_counters SET n = n + 1 WHERE name = 'tasks'; END"
                ));
            }
        }
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for sql in up_statements(m.get_database_backend()) {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let mut statements = Vec::new();
        for (table, what, _, _, _) in WATCHED {
            statements.push(if pg {
                format!("DROP TRIGGER tasks_changed_{table}_{what} ON {table}")
            } else {
                format!("DROP TRIGGER tasks_changed_{table}_{what}")
            });
        }
        if pg {
            statements.push("DROP FUNCTION tasks_changed()".to_string());
        }
        statements.push("DELETE FROM change_counters WHERE name = 'tasks'".to_string());
        for sql in statements {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
