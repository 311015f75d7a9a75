//! The billing ledger (issue 15, the revenue report): every payment and refund applied
//! from Stripe (`billing_entries`) and every subscription change applied (`mrr_changes`),
//! with amounts, so revenue per month and MRR over time can be summed; before this,
//! payments only became timeline text and running totals on `contact_billing`.
//!
//! Both are written by the Stripe apply path, which must stay at one statement per group
//! of events (bench case (sw)): its rows go in one `INSERT` into the view
//! `billing_ledger_in`, which puts each row in its table by `kind` (`mrr` to
//! `mrr_changes`, the others to `billing_entries`): an INSTEAD OF trigger on SQLite, a
//! DO INSTEAD rule on PostgreSQL. A contact purged from the
//! trash keeps its ledger rows with no contact (money received stays received).
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

const ENTRIES_COLS: &str = "contact_id, kind, amount_minor, currency, occurred_at, stripe_event_id, invoice_id, charge_id, created_at";
const ENTRIES_NEW: &str = "NEW.contact_id, NEW.kind, NEW.amount_minor, NEW.currency, NEW.at, \
     NEW.stripe_event_id, NEW.invoice_id, NEW.charge_id, NEW.created_at";
const CHANGES_COLS: &str = "contact_id, subscription_id, mrr_minor, currency, status, effective_at, stripe_event_id, created_at";
const CHANGES_NEW: &str = "NEW.contact_id, NEW.subscription_id, NEW.amount_minor, NEW.currency, \
     NEW.status, NEW.at, NEW.stripe_event_id, NEW.created_at";

/// The view's columns, typed (PostgreSQL needs a type for each; SQLite ignores them).
fn view_sql() -> String {
    let cols = [
        ("varchar(16)", "kind"),
        ("bigint", "contact_id"),
        ("bigint", "amount_minor"),
        ("varchar(3)", "currency"),
        ("timestamp with time zone", "at"),
        ("varchar(255)", "stripe_event_id"),
        ("varchar(255)", "invoice_id"),
        ("varchar(255)", "charge_id"),
        ("varchar(255)", "subscription_id"),
        ("varchar(32)", "status"),
        ("timestamp with time zone", "created_at"),
    ]
    .iter()
    .map(|(t, c)| format!("CAST(NULL AS {t}) AS {c}"))
    .collect::<Vec<_>>()
    .join(", ");
    format!("CREATE VIEW billing_ledger_in AS SELECT {cols} WHERE 1 = 0")
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
            view_sql(),
        ] {
            db.execute_unprepared(&sql).await?;
        }
        if pg {
            // A rule, not a trigger: the INSERT is rewritten into one INSERT … SELECT
            // per table over its rows, where a row trigger would call PL/pgSQL per row
            // (15 µs a row, measured).
            db.execute_unprepared(&format!(
                "CREATE RULE billing_ledger_in_insert AS ON INSERT TO billing_ledger_in \
                 DO INSTEAD ( \
                   INSERT INTO mrr_changes ({CHANGES_COLS}) SELECT {CHANGES_NEW} WHERE NEW.kind = 'mrr'; \
                   INSERT INTO billing_entries ({ENTRIES_COLS}) SELECT {ENTRIES_NEW} WHERE NEW.kind <> 'mrr' \
                 )"
            ))
            .await?;
        } else {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER billing_ledger_in_insert INSTEAD OF INSERT ON billing_ledger_in \
                 BEGIN \
                   INSERT INTO mrr_changes ({CHANGES_COLS}) SELECT {CHANGES_NEW} WHERE NEW.kind = 'mrr'; \
                   INSERT INTO billing_entries ({ENTRIES_COLS}) SELECT {ENTRIES_NEW} WHERE NEW.kind <> 'mrr'; \
                 END"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP VIEW billing_ledger_in").await?;
        m.drop_table(Table::drop().table(MrrChanges::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(BillingEntries::Table).to_owned())
            .await
    }
}
