//! Stripe events are kept for a while, not forever (Settings → Integrations → Stripe:
//! `stripe.retention_days`, default 90): a job deletes the processed and ignored ones
//! older than that. What idempotency needs of a pruned event stays behind in
//! `stripe_pruned_events`, a row of a few dozen bytes where the event held its whole body:
//! its id, so a redelivery of it is known as a repeat and applied nothing, and for a
//! `charge.refunded` the charge and the refunds it had counted (`amount_refunded`), which
//! a later refund of the same charge subtracts. The index on `received_at` lets the job
//! find the oldest events without reading the table.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StripePrunedEvents {
    Table,
    EventId,
    ChargeId,
    Refunded,
    PrunedAt,
}

#[derive(DeriveIden)]
enum StripeEvents {
    Table,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StripePrunedEvents::Table)
                .col(string_len(StripePrunedEvents::EventId, 255).primary_key())
                .col(string_len_null(StripePrunedEvents::ChargeId, 255))
                .col(big_integer_null(StripePrunedEvents::Refunded))
                .col(timestamp_with_time_zone(StripePrunedEvents::PrunedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_stripe_pruned_charge")
                .table(StripePrunedEvents::Table)
                .col(StripePrunedEvents::ChargeId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_stripe_events_received")
                .table(StripeEvents::Table)
                .col(StripeEvents::ReceivedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_stripe_events_received")
                .table(StripeEvents::Table)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(StripePrunedEvents::Table).to_owned())
            .await
    }
}
