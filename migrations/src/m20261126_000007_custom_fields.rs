//! Custom fields: admins define extra fields per record type; values live in a JSON
//! object on each record (`custom`), keyed by the field's key.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomFields {
    Table,
    Id,
    Entity,
    Key,
    Label,
    Kind,
    Options,
    Required,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Custom,
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Custom,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CustomFields::Table)
                .col(big_pk_auto(CustomFields::Id))
                .col(string_len(CustomFields::Entity, 16))
                .col(string_len(CustomFields::Key, 40))
                .col(string_len(CustomFields::Label, 80))
                .col(string_len(CustomFields::Kind, 16))
                .col(text(CustomFields::Options).default("[]"))
                .col(boolean(CustomFields::Required).default(false))
                .col(integer(CustomFields::Position).default(0))
                .col(timestamp_with_time_zone(CustomFields::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_custom_fields_key")
                .table(CustomFields::Table)
                .col(CustomFields::Entity)
                .col(CustomFields::Key)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Contacts::Table)
                .add_column(text(Contacts::Custom).default("{}"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Companies::Table)
                .add_column(text(Companies::Custom).default("{}"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Contacts::Table)
                .drop_column(Contacts::Custom)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Companies::Table)
                .drop_column(Companies::Custom)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(CustomFields::Table).to_owned())
            .await?;
        Ok(())
    }
}
