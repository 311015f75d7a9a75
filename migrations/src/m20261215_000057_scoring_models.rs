//! Scoring models (issue 17): each training run of a deal or lead score keeps its model
//! (the encoding of its features, their weights) and what it scored on the hold-out,
//! whether it was switched in or not, so models are versioned and one can be rolled
//! back to. At most one model of a kind is `active`.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScoringModels {
    Table,
    Id,
    Kind,
    Version,
    Status,
    TrainedAt,
    Won,
    Lost,
    Holdout,
    Metrics,
    Model,
    Message,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ScoringModels as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(big_pk_auto(S::Id))
                .col(string_len(S::Kind, 16))
                .col(integer(S::Version))
                .col(string_len(S::Status, 16))
                .col(timestamp_with_time_zone(S::TrainedAt))
                .col(integer(S::Won))
                .col(integer(S::Lost))
                .col(integer(S::Holdout))
                .col(text(S::Metrics))
                .col(text(S::Model))
                .col(text_null(S::Message))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_scoring_models_version")
                .table(S::Table)
                .col(S::Kind)
                .col(S::Version)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ScoringModels::Table).to_owned())
            .await
    }
}
