//! Outbound webhooks: the endpoints admins register (`webhook_endpoints`) and every
//! delivery made to them (`webhook_deliveries`, the delivery log).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Kind,
    Secret,
    EventTypes,
    Active,
    DisabledReason,
    FailingSince,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventType,
    EventId,
    Payload,
    Status,
    Attempts,
    StatusCode,
    LatencyMs,
    ResponseExcerpt,
    Error,
    CreatedAt,
    DeliveredAt,
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
                .table(WebhookEndpoints::Table)
                .col(big_pk_auto(WebhookEndpoints::Id))
                .col(string_len(WebhookEndpoints::Url, 2048))
                // json or slack.
                .col(string_len(WebhookEndpoints::Kind, 16))
                // Kept as given: it signs every delivery, so it must be recoverable.
                .col(string_len(WebhookEndpoints::Secret, 100))
                // The subscribed event types, a JSON array of strings.
                .col(text(WebhookEndpoints::EventTypes))
                .col(boolean(WebhookEndpoints::Active).default(true))
                .col(text_null(WebhookEndpoints::DisabledReason))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::FailingSince,
                ))
                .col(big_integer_null(WebhookEndpoints::CreatedBy))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookEndpoints::Table, WebhookEndpoints::CreatedBy)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(big_pk_auto(WebhookDeliveries::Id))
                .col(big_integer(WebhookDeliveries::EndpointId))
                .col(string_len(WebhookDeliveries::EventType, 64))
                // The same for every endpoint an event goes to: the receiver's idempotency key.
                .col(string_len(WebhookDeliveries::EventId, 64))
                .col(text(WebhookDeliveries::Payload))
                // pending, delivered, failed (retried), dead.
                .col(string_len(WebhookDeliveries::Status, 16))
                .col(integer(WebhookDeliveries::Attempts).default(0))
                .col(integer_null(WebhookDeliveries::StatusCode))
                .col(big_integer_null(WebhookDeliveries::LatencyMs))
                .col(text_null(WebhookDeliveries::ResponseExcerpt))
                .col(text_null(WebhookDeliveries::Error))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::DeliveredAt,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                        .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // An endpoint's delivery log, newest first.
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_endpoint")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}
