//! Each lead's score (a contact without a won deal; issue 17): the chance it gets a won
//! deal within the horizon, the model's version, and the factors that explain it,
//! written by the scoring job. Keyed by the contact's id, as `contact_billing` is, so
//! the contact list joins it as it joins billing. A contact's row goes with the contact.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContactScores {
    Table,
    Id,
    ModelVersion,
    Probability,
    Factors,
    ScoredAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ContactScores as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(big_integer(S::Id).primary_key())
                .col(integer(S::ModelVersion))
                .col(double(S::Probability))
                .col(text(S::Factors))
                .col(timestamp_with_time_zone(S::ScoredAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::Id)
                        .to(Contacts::Table, Contacts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ContactScores::Table).to_owned())
            .await
    }
}
