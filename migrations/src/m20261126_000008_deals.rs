//! Deals in pipelines of stages, with the history of every stage change. A new install
//! gets one pipeline, Sales, with the usual stages.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pipelines {
    Table,
    Id,
    Name,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PipelineStages {
    Table,
    Id,
    PipelineId,
    Name,
    Position,
    Probability,
    Kind,
}

#[derive(DeriveIden)]
enum Deals {
    Table,
    Id,
    Title,
    PipelineId,
    StageId,
    Position,
    AmountMinor,
    Currency,
    CompanyId,
    OwnerId,
    ExpectedClose,
    Probability,
    Source,
    ClosedAt,
    LostReason,
    Version,
    StageEnteredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DealContacts {
    Table,
    DealId,
    ContactId,
}

#[derive(DeriveIden)]
enum DealStageChanges {
    Table,
    Id,
    DealId,
    FromStageId,
    ToStageId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn idx(name: &str, table: impl IntoIden + 'static, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Pipelines::Table)
                .col(big_pk_auto(Pipelines::Id))
                .col(string_len(Pipelines::Name, 80))
                .col(integer(Pipelines::Position).default(0))
                .col(timestamp_with_time_zone(Pipelines::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PipelineStages::Table)
                .col(big_pk_auto(PipelineStages::Id))
                .col(big_integer(PipelineStages::PipelineId))
                .col(string_len(PipelineStages::Name, 80))
                .col(integer(PipelineStages::Position).default(0))
                .col(integer(PipelineStages::Probability).default(0))
                .col(string_len(PipelineStages::Kind, 8).default("open"))
                .foreign_key(
                    ForeignKey::create()
                        .from(PipelineStages::Table, PipelineStages::PipelineId)
                        .to(Pipelines::Table, Pipelines::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "idx_stages_pipeline",
            PipelineStages::Table,
            &["pipeline_id", "position"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(Deals::Table)
                .col(big_pk_auto(Deals::Id))
                .col(string_len(Deals::Title, 200))
                .col(big_integer(Deals::PipelineId))
                .col(big_integer(Deals::StageId))
                .col(big_integer(Deals::Position).default(0))
                .col(big_integer(Deals::AmountMinor).default(0))
                .col(string_len(Deals::Currency, 3))
                .col(big_integer_null(Deals::CompanyId))
                .col(big_integer(Deals::OwnerId))
                .col(date_null(Deals::ExpectedClose))
                .col(integer_null(Deals::Probability))
                .col(string_len(Deals::Source, 16).default("organic"))
                .col(timestamp_with_time_zone_null(Deals::ClosedAt))
                .col(string_len_null(Deals::LostReason, 500))
                .col(integer(Deals::Version).default(1))
                .col(timestamp_with_time_zone(Deals::StageEnteredAt))
                .col(timestamp_with_time_zone(Deals::CreatedAt))
                .col(timestamp_with_time_zone(Deals::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Deals::Table, Deals::PipelineId)
                        .to(Pipelines::Table, Pipelines::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Deals::Table, Deals::StageId)
                        .to(PipelineStages::Table, PipelineStages::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Deals::Table, Deals::CompanyId)
                        .to(Companies::Table, Companies::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Deals::Table, Deals::OwnerId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        // The board reads a stage's cards in order; counts and sums go by stage too.
        m.create_index(idx(
            "idx_deals_stage",
            Deals::Table,
            &["stage_id", "position", "amount_minor", "currency"],
        ))
        .await?;
        m.create_index(idx("idx_deals_company", Deals::Table, &["company_id"]))
            .await?;
        m.create_index(idx("idx_deals_owner", Deals::Table, &["owner_id"]))
            .await?;
        m.create_index(idx("idx_deals_close", Deals::Table, &["expected_close"]))
            .await?;
        m.create_table(
            Table::create()
                .table(DealContacts::Table)
                .col(big_integer(DealContacts::DealId))
                .col(big_integer(DealContacts::ContactId))
                .primary_key(
                    Index::create()
                        .col(DealContacts::DealId)
                        .col(DealContacts::ContactId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(DealContacts::Table, DealContacts::DealId)
                        .to(Deals::Table, Deals::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(DealContacts::Table, DealContacts::ContactId)
                        .to(Contacts::Table, Contacts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "idx_deal_contacts_contact",
            DealContacts::Table,
            &["contact_id", "deal_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(DealStageChanges::Table)
                .col(big_pk_auto(DealStageChanges::Id))
                .col(big_integer(DealStageChanges::DealId))
                .col(big_integer_null(DealStageChanges::FromStageId))
                .col(big_integer(DealStageChanges::ToStageId))
                .col(big_integer_null(DealStageChanges::UserId))
                .col(timestamp_with_time_zone(DealStageChanges::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(DealStageChanges::Table, DealStageChanges::DealId)
                        .to(Deals::Table, Deals::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "idx_stage_changes_deal",
            DealStageChanges::Table,
            &["deal_id", "id"],
        ))
        .await?;

        // Global search finds deals by title, like contacts and companies.
        let search: &[&str] = match m.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                &["CREATE INDEX idx_deals_search ON deals USING gin ((lower(title)) gin_trgm_ops)"]
            }
            _ => &[
                "CREATE VIRTUAL TABLE deals_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')",
                "CREATE TRIGGER deals_search_insert AFTER INSERT ON deals BEGIN \
                 INSERT INTO deals_fts (rowid, title, body) VALUES (NEW.id, NEW.title, ''); END",
                "CREATE TRIGGER deals_search_update AFTER UPDATE OF title ON deals BEGIN \
                 DELETE FROM deals_fts WHERE rowid = OLD.id; \
                 INSERT INTO deals_fts (rowid, title, body) VALUES (NEW.id, NEW.title, ''); END",
                "CREATE TRIGGER deals_search_delete AFTER DELETE ON deals BEGIN \
                 DELETE FROM deals_fts WHERE rowid = OLD.id; END",
            ],
        };
        for sql in search {
            m.get_connection().execute_unprepared(sql).await?;
        }

        // The default pipeline. Timestamps as text work on both engines' parsers.
        let db = m.get_connection();
        let now = "2026-01-01 00:00:00+00:00";
        db.execute_unprepared(&format!(
            "INSERT INTO pipelines (name, position, created_at) VALUES ('Sales', 0, '{now}')"
        ))
        .await?;
        for (i, (name, probability, kind)) in [
            ("Lead", 10, "open"),
            ("Qualified", 25, "open"),
            ("Proposal", 50, "open"),
            ("Negotiation", 75, "open"),
            ("Won", 100, "won"),
            ("Lost", 0, "lost"),
        ]
        .into_iter()
        .enumerate()
        {
            db.execute_unprepared(&format!(
                "INSERT INTO pipeline_stages (pipeline_id, name, position, probability, kind) \
                 SELECT id, '{name}', {i}, {probability}, '{kind}' FROM pipelines WHERE name = 'Sales'"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP TABLE deals_fts")
                .await?;
        }
        for t in [
            "deal_stage_changes",
            "deal_contacts",
            "deals",
            "pipeline_stages",
            "pipelines",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
