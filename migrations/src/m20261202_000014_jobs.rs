//! The durable job queue: work done in the background (email, webhooks, imports, the
//! nightly clean-up), kept in the database so it survives restarts and is shared by every
//! `cairn serve` process on one database.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    State,
    Attempts,
    MaxAttempts,
    RunAfter,
    LockedBy,
    LastError,
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(big_pk_auto(Jobs::Id))
                .col(string_len(Jobs::Kind, 64))
                .col(text(Jobs::Payload))
                .col(string_len(Jobs::State, 16))
                .col(integer(Jobs::Attempts).default(0))
                .col(integer(Jobs::MaxAttempts))
                .col(timestamp_with_time_zone_null(Jobs::RunAfter))
                .col(string_len_null(Jobs::LockedBy, 64))
                .col(text_null(Jobs::LastError))
                .col(string_len_null(Jobs::IdempotencyKey, 200))
                .col(timestamp_with_time_zone(Jobs::CreatedAt))
                .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                .to_owned(),
        )
        .await?;
        // The claim: the due jobs in order. Done and dead jobs have no run_after, so they
        // are not in the range the claim scans however many accumulate.
        m.create_index(
            Index::create()
                .name("idx_jobs_due")
                .table(Jobs::Table)
                .col(Jobs::RunAfter)
                .col(Jobs::Id)
                .to_owned(),
        )
        .await?;
        // No index on state: every claim and every finished job would update it, and the
        // lists that filter by state are an admin's, read now and then.
        // One job per kind and key; jobs without a key (NULL) never collide.
        m.create_index(
            Index::create()
                .name("uq_jobs_kind_key")
                .table(Jobs::Table)
                .col(Jobs::Kind)
                .col(Jobs::IdempotencyKey)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}
