//! Each open deal's score from the model that scores now (issue 17): its win
//! probability, the model's version, and the factors that explain it, written by the
//! scoring job and read by the deal page. A deal's row goes with the deal.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DealScores {
    Table,
    DealId,
    ModelVersion,
    Probability,
    Factors,
    ScoredAt,
}

#[derive(DeriveIden)]
enum Deals {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use DealScores as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(big_integer(S::DealId).primary_key())
                .col(integer(S::ModelVersion))
                .col(double(S::Probability))
                .col(text(S::Factors))
                .col(timestamp_with_time_zone(S::ScoredAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::DealId)
                        .to(Deals::Table, Deals::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DealScores::Table).to_owned())
            .await
    }
}
