//! Editable custom fields, custom fields on deals, and editable activities: a version on
//! each field definition (a save from a stale settings page is refused, not applied), a
//! `custom` object on deals like contacts' and companies', and on activities a version,
//! the time of the last edit and every earlier text in `activity_revisions`.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomFields {
    Table,
    Version,
}

#[derive(DeriveIden)]
enum Deals {
    Table,
    Custom,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    Version,
    EditedAt,
}

#[derive(DeriveIden)]
enum ActivityRevisions {
    Table,
    Id,
    ActivityId,
    Kind,
    Body,
    OccurredAt,
    EditorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        m.alter_table(
            Table::alter()
                .table(CustomFields::Table)
                .add_column(integer(CustomFields::Version).default(1))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Deals::Table)
                .add_column(text(Deals::Custom).default("{}"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Activities::Table)
                .add_column(integer(Activities::Version).default(1))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Activities::Table)
                .add_column(timestamp_with_time_zone_null(Activities::EditedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ActivityRevisions::Table)
                .col(big_pk_auto(ActivityRevisions::Id))
                .col(big_integer(ActivityRevisions::ActivityId))
                .col(string_len(ActivityRevisions::Kind, 16))
                .col(text(ActivityRevisions::Body))
                .col(timestamp_with_time_zone(ActivityRevisions::OccurredAt))
                .col(big_integer_null(ActivityRevisions::EditorId))
                .col(timestamp_with_time_zone(ActivityRevisions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ActivityRevisions::Table, ActivityRevisions::ActivityId)
                        .to(Activities::Table, Activities::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ActivityRevisions::Table, ActivityRevisions::EditorId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        // An activity's history, in order, straight from an index.
        m.create_index(
            Index::create()
                .name("idx_activity_revisions_activity")
                .table(ActivityRevisions::Table)
                .col(ActivityRevisions::ActivityId)
                .col(ActivityRevisions::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ActivityRevisions::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Activities::Table)
                .drop_column(Activities::EditedAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Activities::Table)
                .drop_column(Activities::Version)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Deals::Table)
                .drop_column(Deals::Custom)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(CustomFields::Table)
                .drop_column(CustomFields::Version)
                .to_owned(),
        )
        .await
    }
}
