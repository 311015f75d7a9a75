//! Stripe in (issue 14): the events Stripe sends, kept raw, and what a contact's billing
//! looks like after them.
//!
//! - `stripe_events`: one row per Stripe event id (unique: a repeated delivery changes
//!   nothing), stored with its raw body before the webhook answers 200 and processed by
//!   the job queue; `created` is the event's own time, which orders out-of-order events.
//!   `object_id` is the event's `data.object.id` (a charge's refunds are counted against
//!   what earlier events of the same charge took).
//! - `contact_billing`: a contact's Stripe side, one row per contact that has one, its
//!   `id` being the contact's id. A table of its own rather than columns on `contacts`:
//!   most contacts never pay through Stripe, and `contacts` is the hot table whose rows
//!   every list reads and whose covering indexes (000035, 000037) carry its columns; the
//!   list machinery (`records::Join`) joins a table on `alias.id = c.<column>`, so keyed by
//!   the contact's id the billing columns join as list columns (`b.mrr_minor`) and filter
//!   as `EXISTS` conditions with no new kind of join; and the contact writers (the batch
//!   insert, the merge, the CSV) stay as they are. `subscription_at` and `customer_at` are
//!   the `created` times of the last applied subscription and customer events, so an older
//!   event arriving late does not overwrite newer state.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StripeEvents {
    Table,
    Id,
    EventId,
    Kind,
    ObjectId,
    Created,
    Body,
    Status,
    Error,
    Attempts,
    ReceivedAt,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum ContactBilling {
    Table,
    Id,
    StripeCustomerId,
    LastPaymentAt,
    LastPaymentMinor,
    LastPaymentCurrency,
    LtvMinor,
    LtvCurrency,
    SubscriptionId,
    SubscriptionPlan,
    SubscriptionStatus,
    MrrMinor,
    MrrCurrency,
    SubscriptionAt,
    CustomerAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StripeEvents::Table)
                .col(big_pk_auto(StripeEvents::Id))
                .col(string_len_uniq(StripeEvents::EventId, 255))
                .col(string_len(StripeEvents::Kind, 100))
                .col(string_len_null(StripeEvents::ObjectId, 255))
                .col(timestamp_with_time_zone(StripeEvents::Created))
                .col(text(StripeEvents::Body))
                .col(string_len(StripeEvents::Status, 16))
                .col(text_null(StripeEvents::Error))
                .col(integer(StripeEvents::Attempts).default(0))
                .col(timestamp_with_time_zone(StripeEvents::ReceivedAt))
                .col(timestamp_with_time_zone_null(StripeEvents::ProcessedAt))
                .to_owned(),
        )
        .await?;
        // The settings page lists newest first, all or by status.
        m.create_index(
            Index::create()
                .name("idx_stripe_events_status")
                .table(StripeEvents::Table)
                .col(StripeEvents::Status)
                .col(StripeEvents::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_stripe_events_object")
                .table(StripeEvents::Table)
                .col(StripeEvents::ObjectId)
                .col(StripeEvents::Kind)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ContactBilling::Table)
                .col(big_integer(ContactBilling::Id).primary_key())
                .col(string_len_null(ContactBilling::StripeCustomerId, 255).unique_key())
                .col(timestamp_with_time_zone_null(ContactBilling::LastPaymentAt))
                .col(big_integer_null(ContactBilling::LastPaymentMinor))
                .col(string_len_null(ContactBilling::LastPaymentCurrency, 3))
                .col(big_integer(ContactBilling::LtvMinor).default(0))
                .col(string_len_null(ContactBilling::LtvCurrency, 3))
                .col(string_len_null(ContactBilling::SubscriptionId, 255))
                .col(string_len_null(ContactBilling::SubscriptionPlan, 255))
                .col(string_len_null(ContactBilling::SubscriptionStatus, 32))
                .col(big_integer_null(ContactBilling::MrrMinor))
                .col(string_len_null(ContactBilling::MrrCurrency, 3))
                .col(timestamp_with_time_zone_null(
                    ContactBilling::SubscriptionAt,
                ))
                .col(timestamp_with_time_zone_null(ContactBilling::CustomerAt))
                .col(timestamp_with_time_zone(ContactBilling::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ContactBilling::Table, ContactBilling::Id)
                        .to(Contacts::Table, Contacts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The list's filters: by subscription status, and MRR ranges.
        m.create_index(
            Index::create()
                .name("idx_contact_billing_status")
                .table(ContactBilling::Table)
                .col(ContactBilling::SubscriptionStatus)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_contact_billing_mrr")
                .table(ContactBilling::Table)
                .col(ContactBilling::MrrMinor)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ContactBilling::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(StripeEvents::Table).to_owned())
            .await
    }
}
