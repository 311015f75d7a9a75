//! The billing ledger (issue 15, the revenue report): every payment and refund applied
//! from Stripe (`billing_entries`) and every subscription change applied (`mrr_changes`),
//! with amounts, so revenue per month and MRR over time can be summed; before this,
//! payments only became timeline text and running totals on `contact_billing`.
//!
//! Both are written by the Stripe apply path, a statement a table per group of events
//! (`domain::stripe::ledger`). A contact purged from the trash keeps its ledger rows with
//! no contact (money received stays received).
//!
//! Indexes are the report's reads: entries by time carrying what it groups and sums;
//! changes by subscription and time (the order of its window) carrying the rest.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BillingEntries {
    Table,
    Id,
    ContactId,
    Kind,
    AmountMinor,
    Currency,
    OccurredAt,
    StripeEventId,
    InvoiceId,
    ChargeId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MrrChanges {
    Table,
    Id,
    ContactId,
    SubscriptionId,
    MrrMinor,
    Currency,
    Status,
    EffectiveAt,
    StripeEventId,
    CreatedAt,
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
                .table(BillingEntries::Table)
                .col(big_pk_auto(BillingEntries::Id))
                .col(big_integer_null(BillingEntries::ContactId))
                .col(string_len(BillingEntries::Kind, 16))
                .col(big_integer(BillingEntries::AmountMinor))
                .col(string_len(BillingEntries::Currency, 3))
                .col(timestamp_with_time_zone(BillingEntries::OccurredAt))
                .col(string_len_uniq(BillingEntries::StripeEventId, 255))
                .col(string_len_null(BillingEntries::InvoiceId, 255))
                .col(string_len_null(BillingEntries::ChargeId, 255))
                .col(timestamp_with_time_zone(BillingEntries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(BillingEntries::Table, BillingEntries::ContactId)
                        .to(Contacts::Table, Contacts::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MrrChanges::Table)
                .col(big_pk_auto(MrrChanges::Id))
                .col(big_integer_null(MrrChanges::ContactId))
                .col(string_len(MrrChanges::SubscriptionId, 255))
                .col(big_integer(MrrChanges::MrrMinor))
                .col(string_len_null(MrrChanges::Currency, 3))
                .col(string_len(MrrChanges::Status, 32))
                .col(timestamp_with_time_zone(MrrChanges::EffectiveAt))
                .col(string_len_uniq(MrrChanges::StripeEventId, 255))
                .col(timestamp_with_time_zone(MrrChanges::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(MrrChanges::Table, MrrChanges::ContactId)
                        .to(Contacts::Table, Contacts::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let db = m.get_connection();
        let index = |name: &str, table: &str, key: &str, carried: &str| {
            if pg {
                format!("CREATE INDEX {name} ON {table} ({key}) INCLUDE ({carried})")
            } else {
                // SQLite has no INCLUDE: the columns go at the key's end.
                format!("CREATE INDEX {name} ON {table} ({key}, {carried})")
            }
        };
        for sql in [
            index(
                "idx_billing_entries_time",
                "billing_entries",
                "occurred_at",
                "currency, kind, amount_minor, contact_id",
            ),
            "CREATE INDEX idx_billing_entries_contact ON billing_entries (contact_id)".into(),
            index(
                "idx_mrr_changes_subscription",
                "mrr_changes",
                "subscription_id, effective_at, id",
                "mrr_minor, currency, status, contact_id",
            ),
            "CREATE INDEX idx_mrr_changes_contact ON mrr_changes (contact_id)".into(),
        ] {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MrrChanges::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(BillingEntries::Table).to_owned())
            .await
    }
}
