//! Companies become records of their own: domain, industry, size, website, phone,
//! address and owner, plus a trigger-kept count like contacts.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Domain,
    Industry,
    SizeBand,
    Website,
    Phone,
    Address,
    OwnerId,
    CreatedAt,
}

const SQLITE_COUNTS: &[&str] = &[
    "INSERT INTO record_counts (name, n) SELECT 'companies', COUNT(*) FROM companies",
    "CREATE TRIGGER companies_count_insert AFTER INSERT ON companies BEGIN \
       UPDATE record_counts SET n = n + 1 WHERE name = 'companies'; END",
    "CREATE TRIGGER companies_count_delete AFTER DELETE ON companies BEGIN \
       UPDATE record_counts SET n = n - 1 WHERE name = 'companies'; END",
];

const POSTGRES_COUNTS: &[&str] = &[
    "INSERT INTO record_counts (name, n) SELECT 'companies', COUNT(*) FROM companies",
    "CREATE FUNCTION companies_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
       UPDATE record_counts SET n = n + (SELECT COUNT(*) FROM new_rows) WHERE name = 'companies'; \
       RETURN NULL; END $$",
    "CREATE FUNCTION companies_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
       UPDATE record_counts SET n = n - (SELECT COUNT(*) FROM old_rows) WHERE name = 'companies'; \
       RETURN NULL; END $$",
    "CREATE TRIGGER companies_count_insert AFTER INSERT ON companies REFERENCING NEW TABLE AS new_rows \
       FOR EACH STATEMENT EXECUTE FUNCTION companies_count_insert()",
    "CREATE TRIGGER companies_count_delete AFTER DELETE ON companies REFERENCING OLD TABLE AS old_rows \
       FOR EACH STATEMENT EXECUTE FUNCTION companies_count_delete()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for col in [
            string_len_null(Companies::Domain, 253),
            string_len_null(Companies::Industry, 40),
            string_len_null(Companies::SizeBand, 16),
            string_len_null(Companies::Website, 300),
            string_len_null(Companies::Phone, 30),
            string_len_null(Companies::Address, 500),
            big_integer_null(Companies::OwnerId),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(Companies::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_companies_domain")
                .table(Companies::Table)
                .col(Companies::Domain)
                .unique()
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_companies_industry", Companies::Industry),
            ("idx_companies_size", Companies::SizeBand),
            ("idx_companies_owner", Companies::OwnerId),
            ("idx_companies_created", Companies::CreatedAt),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Companies::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        let statements = match m.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_COUNTS,
            _ => SQLITE_COUNTS,
        };
        for sql in statements {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match m.get_database_backend() {
            DatabaseBackend::Postgres => &[
                "DROP TRIGGER companies_count_insert ON companies",
                "DROP TRIGGER companies_count_delete ON companies",
                "DROP FUNCTION companies_count_insert()",
                "DROP FUNCTION companies_count_delete()",
            ],
            _ => &[
                "DROP TRIGGER companies_count_insert",
                "DROP TRIGGER companies_count_delete",
            ],
        };
        for sql in statements {
            m.get_connection().execute_unprepared(sql).await?;
        }
        m.get_connection()
            .execute_unprepared("DELETE FROM record_counts WHERE name = 'companies'")
            .await?;
        Ok(())
    }
}
