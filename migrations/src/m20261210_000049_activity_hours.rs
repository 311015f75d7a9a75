//! Reports (issue 15): activities counted per author, kind and UTC hour, kept by triggers,
//! so activity per user over a year sums a few hundred thousand counters instead of
//! weighing five million activities into their weeks (3 s on SQLite at a seeded year;
//! the issue asks for 1 s).
//!
//! `activity_hours` (hour, author_id, kind, n): `n` activities of `kind` by `author_id`
//! whose `occurred_at` falls in the hour starting at `hour` (UTC, on the hour). Only
//! activities with an author (Stripe's payments have none). Hours rather than days
//! because the report's weeks start at midnight in the organisation's zone, which is on
//! a UTC hour for nearly every zone and may change; the few zones off the hour (India,
//! Nepal, …) have the hours that a week boundary splits counted from the activities
//! themselves by the report. A row whose count falls to 0 stays (it is harmless, and
//! deleting it would cost every delete a second statement).
//!
//! The triggers run in the writer's transaction, whatever makes the change (pages, API,
//! imports, `cairn seed`, a record purged with its activities by cascade, an author's
//! deletion setting `author_id` to NULL). On PostgreSQL they run once per statement over
//! its transition tables, so a bulk insert adds one grouped upsert, sorted so two writers
//! take the counter rows in one order.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "activity_hours";

/// The hour of timestamp `at`, as each engine stores a UTC timestamp (SQLite: the RFC 3339
/// text sqlx writes, so the counters compare with the report's bound instants).
fn hour(pg: bool, at: &str) -> String {
    if pg {
        format!("date_trunc('hour', {at}, 'UTC')")
    } else {
        format!("strftime('%Y-%m-%dT%H:00:00+00:00', {at})")
    }
}

fn sqlite() -> Vec<String> {
    let h = |at: &str| hour(false, at);
    let add = |row: &str| {
        format!(
            "INSERT INTO {TABLE} (hour, author_id, kind, n) \
             SELECT {}, {row}.author_id, {row}.kind, 1 WHERE {row}.author_id IS NOT NULL \
             ON CONFLICT (hour, author_id, kind) DO UPDATE SET n = n + 1",
            h(&format!("{row}.occurred_at"))
        )
    };
    let sub = |row: &str| {
        format!(
            "UPDATE {TABLE} SET n = n - 1 WHERE hour = {} AND author_id = {row}.author_id \
             AND kind = {row}.kind",
            h(&format!("{row}.occurred_at"))
        )
    };
    vec![
        format!(
            "CREATE TRIGGER activity_hours_insert AFTER INSERT ON activities \
             WHEN NEW.author_id IS NOT NULL BEGIN {}; END",
            add("NEW")
        ),
        format!(
            "CREATE TRIGGER activity_hours_update \
             AFTER UPDATE OF occurred_at, author_id, kind ON activities \
             WHEN OLD.occurred_at IS NOT NEW.occurred_at OR OLD.author_id IS NOT NEW.author_id \
               OR OLD.kind IS NOT NEW.kind \
             BEGIN {}; {}; END",
            sub("OLD"),
            add("NEW")
        ),
        format!(
            "CREATE TRIGGER activity_hours_delete AFTER DELETE ON activities \
             WHEN OLD.author_id IS NOT NULL BEGIN {}; END",
            sub("OLD")
        ),
    ]
}

fn postgres() -> Vec<String> {
    let grouped = |rows: &str| {
        format!(
            "SELECT {} AS hour, author_id, kind, count(*) AS n FROM {rows} \
             WHERE author_id IS NOT NULL GROUP BY 1, 2, 3",
            hour(true, "occurred_at")
        )
    };
    let add = format!(
        "INSERT INTO {TABLE} (hour, author_id, kind, n) \
         SELECT hour, author_id, kind, n FROM ({}) g ORDER BY 1, 2, 3 \
         ON CONFLICT (hour, author_id, kind) DO UPDATE SET n = {TABLE}.n + EXCLUDED.n",
        grouped("new_rows")
    );
    let sub = format!(
        "UPDATE {TABLE} h SET n = h.n - g.n FROM ({}) g \
         WHERE h.hour = g.hour AND h.author_id = g.author_id AND h.kind = g.kind",
        grouped("old_rows")
    );
    let func = |name: &str, body: &[&str]| {
        format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {}; \
             RETURN NULL; END $$",
            body.join("; ")
        )
    };
    vec![
        func("activity_hours_inserted", &[&add]),
        func("activity_hours_changed", &[&sub, &add]),
        func("activity_hours_deleted", &[&sub]),
        "CREATE TRIGGER activity_hours_insert AFTER INSERT ON activities \
         REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION activity_hours_inserted()"
            .to_string(),
        "CREATE TRIGGER activity_hours_update AFTER UPDATE ON activities \
         REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION activity_hours_changed()"
            .to_string(),
        "CREATE TRIGGER activity_hours_delete AFTER DELETE ON activities \
         REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION activity_hours_deleted()"
            .to_string(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let db = m.get_connection();
        let col = |name: &str| ColumnDef::new(Alias::new(name)).not_null().to_owned();
        m.create_table(
            Table::create()
                .table(Alias::new(TABLE))
                .col(col("hour").timestamp_with_time_zone())
                .col(col("author_id").big_integer())
                .col(col("kind").string())
                .col(col("n").big_integer())
                .primary_key(
                    Index::create()
                        .col(Alias::new("hour"))
                        .col(Alias::new("author_id"))
                        .col(Alias::new("kind")),
                )
                .to_owned(),
        )
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO {TABLE} (hour, author_id, kind, n) \
             SELECT {} AS h, author_id, kind, count(*) FROM activities \
             WHERE author_id IS NOT NULL GROUP BY h, author_id, kind",
            hour(pg, "occurred_at")
        ))
        .await?;
        for statement in if pg { postgres() } else { sqlite() } {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let db = m.get_connection();
        for (trigger, func) in [
            ("insert", "inserted"),
            ("update", "changed"),
            ("delete", "deleted"),
        ] {
            if pg {
                db.execute_unprepared(&format!(
                    "DROP TRIGGER activity_hours_{trigger} ON activities"
                ))
                .await?;
                db.execute_unprepared(&format!("DROP FUNCTION activity_hours_{func}()"))
                    .await?;
            } else {
                db.execute_unprepared(&format!("DROP TRIGGER activity_hours_{trigger}"))
                    .await?;
            }
        }
        db.execute_unprepared(&format!("DROP TABLE {TABLE}"))
            .await?;
        Ok(())
    }
}
