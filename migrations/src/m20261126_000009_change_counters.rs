//! Change counters kept by triggers. A process caches what it built from a set of tables
//! (the deal board, the deal table) under the counter it read first; any write to those
//! tables, from any process sharing the database, bumps the counter in the writer's own
//! transaction and so retires the cached copy as the write becomes visible.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a board card or deal-table row shows comes from these: (table, trigger name,
/// event, the change that matters). Only the names of companies, users and contacts
/// show, so other edits of those (and the counters kept on companies) leave it alone;
/// a deleted contact is seen through its `deal_contacts` rows, which cascade.
const WATCHED: &[(&str, &str, &str, &str)] = &[
    ("deals", "insert", "INSERT", ""),
    ("deals", "update", "UPDATE", ""),
    ("deals", "delete", "DELETE", ""),
    ("pipelines", "insert", "INSERT", ""),
    ("pipelines", "update", "UPDATE", ""),
    ("pipelines", "delete", "DELETE", ""),
    ("pipeline_stages", "insert", "INSERT", ""),
    ("pipeline_stages", "update", "UPDATE", ""),
    ("pipeline_stages", "delete", "DELETE", ""),
    ("deal_contacts", "insert", "INSERT", ""),
    ("deal_contacts", "delete", "DELETE", ""),
    (
        "companies",
        "rename",
        "UPDATE OF name",
        "OLD.name IS DISTINCT FROM NEW.name",
    ),
    (
        "users",
        "rename",
        "UPDATE OF name",
        "OLD.name IS DISTINCT FROM NEW.name",
    ),
    (
        "contacts",
        "rename",
        "UPDATE OF first_name, last_name",
        "OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name",
    ),
];

fn up_statements(backend: DatabaseBackend) -> Vec<String> {
    let mut out = vec![
        "CREATE TABLE change_counters (name VARCHAR(32) NOT NULL PRIMARY KEY, n BIGINT NOT NULL)"
            .to_string(),
        "INSERT INTO change_counters (name, n) VALUES ('board', 0)".to_string(),
    ];
    match backend {
        DatabaseBackend::Postgres => {
            // Deferred to commit, and once per transaction: the counter row is locked
            // only for the moment of the commit, after every other lock the transaction
            // takes, so writers never wait on it while holding a deal row (no deadlock).
            // A renamed contact counts only when it is on a deal (nested: other tables'
            // rows have no `id` to look at, and PL/pgSQL does not short-circuit AND).
            out.push(
                "CREATE FUNCTION board_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF TG_TABLE_NAME = 'contacts' THEN \
                   IF NOT EXISTS (SELECT 1 FROM deal_contacts WHERE contact_id = NEW.id) THEN RETURN NULL; END IF; \
                 END IF; \
                 IF current_setting('cairn.board_bumped', true) IS DISTINCT FROM txid_current()::text THEN \
                   UPDATE change_counters SET n = n + 1 WHERE name = 'board'; \
                   PERFORM set_config('cairn.board_bumped', txid_current()::text, true); \
                 END IF; \
                 RETURN NULL; END $$"
                    .to_string(),
            );
            for (table, what, event, when) in WATCHED {
                let when = if when.is_empty() {
                    String::new()
                } else {
                    format!(" WHEN ({when})")
                };
                out.push(format!(
                    "CREATE CONSTRAINT TRIGGER board_changed_{table}_{what} AFTER {event} ON {table} \
                     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{when} EXECUTE FUNCTION board_changed()"
                ));
            }
        }
        _ => {
            // One writer at a time: a plain row trigger in the same transaction.
            for (table, what, event, when) in WATCHED {
                let mut when = when.replace("IS DISTINCT FROM", "IS NOT");
                if *table == "contacts" {
                    when = format!(
                        "({when}) AND EXISTS (SELECT 1 FROM deal_contacts WHERE contact_id = NEW.id)"
                    );
                }
                let when = if when.is_empty() {
                    String::new()
                } else {
                    format!(" WHEN {when}")
                };
                out.push(format!(
                    "CREATE TRIGGER board_changed_{table}_{what} AFTER {event} ON {table}{when} BEGIN \
                     UPDATE change_counters SET n = n + 1 WHERE name = 'board'; END"
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
        for (table, what, _, _) in WATCHED {
            statements.push(if pg {
                format!("DROP TRIGGER board_changed_{table}_{what} ON {table}")
            } else {
                format!("DROP TRIGGER board_changed_{table}_{what}")
            });
        }
        if pg {
            statements.push("DROP FUNCTION board_changed()".to_string());
        }
        statements.push("DROP TABLE change_counters".to_string());
        for sql in statements {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
