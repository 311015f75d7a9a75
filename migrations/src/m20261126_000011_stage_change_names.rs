//! A removed stage keeps its name in the deals' histories: the name is copied onto the
//! stage changes that point at it just before it goes (found by index).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DealStageChanges {
    Table,
    FromStageName,
    ToStageName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds only one at a time.
        for col in [
            DealStageChanges::FromStageName,
            DealStageChanges::ToStageName,
        ] {
            m.alter_table(
                Table::alter()
                    .table(DealStageChanges::Table)
                    .add_column(string_len_null(col, 80))
                    .to_owned(),
            )
            .await?;
        }
        // Finding a stage's history rows when it is removed.
        for (name, col) in [
            ("idx_stage_changes_from", "from_stage_id"),
            ("idx_stage_changes_to", "to_stage_id"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(DealStageChanges::Table)
                    .col(Alias::new(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_stage_changes_from", "idx_stage_changes_to"] {
            m.drop_index(Index::drop().name(name).to_owned()).await?;
        }
        for col in [
            DealStageChanges::FromStageName,
            DealStageChanges::ToStageName,
        ] {
            m.alter_table(
                Table::alter()
                    .table(DealStageChanges::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
