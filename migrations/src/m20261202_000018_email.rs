//! Email: the outbox (every message the product sends or holds, with its delivery state)
//! and each user's notification preferences.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    UserId,
    ToEmail,
    Subject,
    Content,
    HtmlBody,
    TextBody,
    State,
    Attempts,
    LastError,
    ServerReply,
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum NotificationPrefs {
    Table,
    UserId,
    TaskAssigned,
    TaskDue,
    TaskDueLeadMinutes,
    DealAssigned,
    DailyDigest,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(big_pk_auto(Outbox::Id))
                // The recipient when it is a user (kept when the user goes: the mail went).
                .col(big_integer_null(Outbox::UserId))
                .col(string_len(Outbox::ToEmail, 320))
                .col(string_len(Outbox::Subject, 300))
                // What the bodies are rendered from (JSON), at send time.
                .col(text(Outbox::Content))
                .col(text_null(Outbox::HtmlBody))
                .col(text_null(Outbox::TextBody))
                .col(string_len(Outbox::State, 16))
                .col(integer(Outbox::Attempts).default(0))
                .col(text_null(Outbox::LastError))
                .col(text_null(Outbox::ServerReply))
                .col(string_len(Outbox::IdempotencyKey, 200))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .col(timestamp_with_time_zone(Outbox::UpdatedAt))
                .col(timestamp_with_time_zone_null(Outbox::SentAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Outbox::Table, Outbox::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        // At most one message per notification: a second enqueue of the same key is a no-op.
        m.create_index(
            Index::create()
                .name("uq_outbox_key")
                .table(Outbox::Table)
                .col(Outbox::IdempotencyKey)
                .unique()
                .to_owned(),
        )
        .await?;
        // Settings → Email lists by state, newest first.
        m.create_index(
            Index::create()
                .name("idx_outbox_state")
                .table(Outbox::Table)
                .col(Outbox::State)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await?;
        // A user without a row has the defaults (see src/mail/prefs.rs).
        m.create_table(
            Table::create()
                .table(NotificationPrefs::Table)
                .col(big_integer(NotificationPrefs::UserId).primary_key())
                .col(boolean(NotificationPrefs::TaskAssigned).default(true))
                .col(boolean(NotificationPrefs::TaskDue).default(true))
                .col(integer(NotificationPrefs::TaskDueLeadMinutes).default(0))
                .col(boolean(NotificationPrefs::DealAssigned).default(true))
                .col(boolean(NotificationPrefs::DailyDigest).default(false))
                .col(timestamp_with_time_zone(NotificationPrefs::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(NotificationPrefs::Table, NotificationPrefs::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(NotificationPrefs::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}
