//! The trash: deleting a contact, company or deal stamps `deleted_at` and `deleted_by`
//! instead of removing the row, so a manager can restore it (with its tags, custom
//! values, activities and links) until a job purges it 30 days later.
//!
//! Every read skips trashed rows, so the indexes the lists and the board walk become
//! partial (`WHERE deleted_at IS NULL`): same columns, same plans, and a trashed row
//! costs them nothing. The trash page and the purge job read `idx_*_trashed`.
//! The trigger-kept counters (record counts, search entries, the board's change counter)
//! treat trashing as a delete and restoring as an insert.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 3] = ["contacts", "companies", "deals"];

/// (name, table, key columns, PostgreSQL INCLUDE columns): the list and board indexes,
/// recreated partial. SQLite has no INCLUDE, so those columns end its key, as before.
const LIST_INDEXES: &[(&str, &str, &str, &str)] = &[
    ("idx_contacts_created", "contacts", "created_at, id", ""),
    (
        "idx_contacts_company_created",
        "contacts",
        "company_id, created_at, source, owner_id",
        "",
    ),
    (
        "idx_contacts_owner_created",
        "contacts",
        "owner_id, created_at, source, company_id",
        "",
    ),
    (
        "idx_contacts_source_created",
        "contacts",
        "source, created_at, owner_id, company_id",
        "",
    ),
    (
        "idx_contacts_name",
        "contacts",
        "last_name, first_name, id",
        "",
    ),
    // The id joins the key: `deleted_at` would otherwise come between the time and the
    // row id, and the list's (created_at, id) order would need a sort.
    ("idx_companies_created", "companies", "created_at, id", ""),
    ("idx_companies_owner", "companies", "owner_id", ""),
    ("idx_companies_industry", "companies", "industry", ""),
    ("idx_companies_size", "companies", "size_band", ""),
    (
        "idx_deals_board",
        "deals",
        "stage_id, position, id",
        "amount_minor, currency, probability, owner_id, company_id, expected_close",
    ),
    (
        "idx_deals_closed",
        "deals",
        "stage_id, stage_entered_at, id",
        "amount_minor, currency, owner_id, company_id, expected_close",
    ),
];

/// The index as it was (`partial` false), or partial on live rows with `deleted_at` carried
/// too: SQLite counts a partial index as covering only when it holds the columns of the
/// query's `deleted_at IS NULL` term, and without that the lists would read every row.
/// New partial indexes: the company list sorted by name walked the unique name index,
/// which cannot say whether a row is trashed.
const NEW_INDEXES: &[(&str, &str, &str, &str)] =
    &[("idx_companies_name_live", "companies", "name_norm, id", "")];

fn create_index(
    pg: bool,
    partial: bool,
    (name, table, key, include): (&str, &str, &str, &str),
) -> String {
    let include = match (partial, include.is_empty()) {
        (false, _) => include.to_string(),
        (true, true) => "deleted_at".to_string(),
        (true, false) => format!("{include}, deleted_at"),
    };
    let mut sql = if include.is_empty() {
        format!("CREATE INDEX {name} ON {table} ({key})")
    } else if pg {
        format!("CREATE INDEX {name} ON {table} ({key}) INCLUDE ({include})")
    } else {
        format!("CREATE INDEX {name} ON {table} ({key}, {include})")
    };
    if partial {
        sql.push_str(" WHERE deleted_at IS NULL");
    }
    sql
}

/// The record counts: a trashed row no longer counts, a restored one counts again, and
/// purging a trashed row changes nothing (it was already taken off).
fn counts(pg: bool) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["contacts", "companies"] {
        if pg {
            out.push(format!("DROP TRIGGER {table}_count_delete ON {table}"));
            out.push(format!(
                "CREATE OR REPLACE FUNCTION {table}_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 UPDATE record_counts SET n = n - (SELECT COUNT(*) FROM old_rows WHERE deleted_at IS NULL) \
                 WHERE name = '{table}'; RETURN NULL; END $$"
            ));
            out.push(format!(
                "CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows \
                 FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_delete()"
            ));
            out.push(format!(
                "CREATE FUNCTION {table}_count_trash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 UPDATE record_counts SET n = n \
                 + (SELECT COUNT(*) FROM new_rows WHERE deleted_at IS NULL) \
                 - (SELECT COUNT(*) FROM old_rows WHERE deleted_at IS NULL) \
                 WHERE name = '{table}'; RETURN NULL; END $$"
            ));
            out.push(format!(
                "CREATE TRIGGER {table}_count_trash AFTER UPDATE ON {table} \
                 REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows \
                 FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_trash()"
            ));
        } else {
            out.push(format!("DROP TRIGGER {table}_count_delete"));
            out.push(format!(
                "CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} WHEN OLD.deleted_at IS NULL BEGIN \
                 UPDATE record_counts SET n = n - 1 WHERE name = '{table}'; END"
            ));
            out.push(format!(
                "CREATE TRIGGER {table}_count_trash AFTER UPDATE OF deleted_at ON {table} \
                 WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL BEGIN \
                 UPDATE record_counts SET n = n - 1 WHERE name = '{table}'; END"
            ));
            out.push(format!(
                "CREATE TRIGGER {table}_count_restore AFTER UPDATE OF deleted_at ON {table} \
                 WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL BEGIN \
                 UPDATE record_counts SET n = n + 1 WHERE name = '{table}'; END"
            ));
        }
    }
    out
}

/// SQLite's search entries: a trashed record leaves its FTS table, a restored one
/// returns (PostgreSQL searches the table itself, and its queries skip trashed rows).
fn sqlite_search(trash: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (table, of, title, body) in [
        (
            "contacts",
            "",
            "NEW.first_name || ' ' || NEW.last_name",
            "coalesce(NEW.email, '') || ' ' || coalesce(NEW.phone, '') || ' ' || coalesce(NEW.title, '')",
        ),
        (
            "companies",
            "",
            "NEW.name",
            "coalesce(NEW.domain, '') || ' ' || coalesce(NEW.phone, '') || ' ' || coalesce(NEW.website, '')",
        ),
        ("deals", " OF title", "NEW.title", "''"),
    ] {
        let (of, only_kept) = if trash {
            let of = if of.is_empty() {
                String::new()
            } else {
                format!("{of}, deleted_at")
            };
            (of, " WHERE NEW.deleted_at IS NULL")
        } else {
            (of.to_string(), "")
        };
        out.push(format!("DROP TRIGGER {table}_search_update"));
        out.push(format!(
            "CREATE TRIGGER {table}_search_update AFTER UPDATE{of} ON {table} BEGIN \
             DELETE FROM {table}_fts WHERE rowid = OLD.id; \
             INSERT INTO {table}_fts (rowid, title, body) SELECT NEW.id, {title}, {body}{only_kept}; END"
        ));
    }
    out
}

/// The board shows contacts' and companies' names on cards: trashing or restoring one
/// retires the cached board like a rename does (see the `change_counters` migration).
fn board(pg: bool) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["contacts", "companies"] {
        if pg {
            out.push(format!(
                "CREATE CONSTRAINT TRIGGER board_changed_{table}_trash AFTER UPDATE OF deleted_at ON {table} \
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
                 WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at) EXECUTE FUNCTION board_changed()"
            ));
        } else {
            out.push(format!(
                "CREATE TRIGGER board_changed_{table}_trash AFTER UPDATE OF deleted_at ON {table} \
                 WHEN OLD.deleted_at IS NOT NEW.deleted_at BEGIN \
                 UPDATE change_counters SET n = n + 1 WHERE name = 'board'; END"
            ));
        }
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        for table in TABLES {
            // SQLite alters one column per statement.
            for col in [
                timestamp_with_time_zone_null(Alias::new("deleted_at")),
                big_integer_null(Alias::new("deleted_by")),
            ] {
                let mut col = col;
                m.alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
            }
            // The trash page (newest first) and the purge job (oldest first) read this.
            m.get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX idx_{table}_trashed ON {table} (deleted_at) WHERE deleted_at IS NOT NULL"
                ))
                .await?;
        }
        let db = m.get_connection();
        for index in LIST_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {}", index.0))
                .await?;
            db.execute_unprepared(&create_index(pg, true, *index))
                .await?;
        }
        for index in NEW_INDEXES {
            db.execute_unprepared(&create_index(pg, true, *index))
                .await?;
        }
        let mut statements = counts(pg);
        if !pg {
            statements.extend(sqlite_search(true));
        }
        statements.extend(board(pg));
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let db = m.get_connection();
        // Trashed rows go for good: the older schema has nowhere to keep them.
        for table in TABLES {
            db.execute_unprepared(&format!("DELETE FROM {table} WHERE deleted_at IS NOT NULL"))
                .await?;
        }
        for table in ["contacts", "companies"] {
            let on = if pg {
                format!(" ON {table}")
            } else {
                String::new()
            };
            db.execute_unprepared(&format!("DROP TRIGGER board_changed_{table}_trash{on}"))
                .await?;
            db.execute_unprepared(&format!("DROP TRIGGER {table}_count_trash{on}"))
                .await?;
            db.execute_unprepared(&format!("DROP TRIGGER {table}_count_delete{on}"))
                .await?;
            if pg {
                db.execute_unprepared(&format!("DROP FUNCTION {table}_count_trash()"))
                    .await?;
                db.execute_unprepared(&format!(
                    "CREATE OR REPLACE FUNCTION {table}_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     UPDATE record_counts SET n = n - (SELECT COUNT(*) FROM old_rows) \
                     WHERE name = '{table}'; RETURN NULL; END $$"
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows \
                     FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_delete()"
                ))
                .await?;
            } else {
                db.execute_unprepared(&format!("DROP TRIGGER {table}_count_restore"))
                    .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN \
                     UPDATE record_counts SET n = n - 1 WHERE name = '{table}'; END"
                ))
                .await?;
            }
        }
        if !pg {
            for sql in sqlite_search(false) {
                db.execute_unprepared(&sql).await?;
            }
        }
        for index in LIST_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {}", index.0))
                .await?;
            db.execute_unprepared(&create_index(pg, false, *index))
                .await?;
        }
        for index in NEW_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {}", index.0))
                .await?;
        }
        for table in TABLES {
            db.execute_unprepared(&format!("DROP INDEX idx_{table}_trashed"))
                .await?;
            for col in ["deleted_at", "deleted_by"] {
                m.alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(col))
                        .to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }
}
