//! A contact list filtered and sorted by name at scale (issue 11's bench case (s),
//! `?source=event&sort=name_desc`): no index held a source's contacts in name order, so
//! SQLite 3.51 took every contact of the source from the source index, read each row for
//! its name and sorted them all (45 ms a page at 100 000 contacts: about 10 000 rows).
//! With the page cache at 2 MiB per connection those row reads were no longer cached and
//! the case fell from ~620 to ~316 req/s. A source has few values, each a large share of
//! the list, so it gets its own name index (the other filter columns carried, as on the
//! other list indexes), and the page is that index's first 25 entries.
//!
//! A company filter keeps a few dozen contacts per company, so sorting them is cheap when
//! the sort keys are in the index: the company index now carries the names (and the id
//! after the time, as the owner index got in `audit_and_owner_indexes`), so "contacts of
//! companies named like acme, by name" sorts from the index alone (20 ms to 3 at 100 000
//! contacts) and by time needs no sort at all. The owner filter walks the name index
//! (an owner has a large share too), and a tag's contacts are a list of ids to sort.
//! Same number of indexes as before plus one: one more insert per new contact.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SOURCE_NAME: &str = "idx_contacts_source_name";
const COMPANY: &str = "idx_contacts_company_created";

/// (key, carried columns) of the company index before and after.
const COMPANY_BEFORE: (&str, &str) = ("company_id, created_at, source, owner_id", "");
const COMPANY_AFTER: (&str, &str) = (
    "company_id, created_at, id",
    "source, owner_id, last_name, first_name",
);
const SOURCE_NAME_COLUMNS: (&str, &str) =
    ("source, last_name, first_name, id", "owner_id, company_id");

/// A live-rows list index as the `trash` migration writes them: the carried columns and
/// `deleted_at` in INCLUDE on PostgreSQL, at the key's end on SQLite (which counts a
/// partial index as covering only when it holds `deleted_at`).
fn create(pg: bool, name: &str, (key, carried): (&str, &str)) -> String {
    let carried = if carried.is_empty() {
        "deleted_at".to_string()
    } else {
        format!("{carried}, deleted_at")
    };
    if pg {
        format!(
            "CREATE INDEX {name} ON contacts ({key}) INCLUDE ({carried}) WHERE deleted_at IS NULL"
        )
    } else {
        format!("CREATE INDEX {name} ON contacts ({key}, {carried}) WHERE deleted_at IS NULL")
    }
}

async fn run(m: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    let db = m.get_connection();
    for sql in statements {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        run(
            m,
            vec![
                create(pg, SOURCE_NAME, SOURCE_NAME_COLUMNS),
                format!("DROP INDEX {COMPANY}"),
                create(pg, COMPANY, COMPANY_AFTER),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        run(
            m,
            vec![
                format!("DROP INDEX {SOURCE_NAME}"),
                format!("DROP INDEX {COMPANY}"),
                create(pg, COMPANY, COMPANY_BEFORE),
            ],
        )
        .await
    }
}
