//! Tags on contacts and companies.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    Name,
    NameNorm,
    Color,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ContactTags {
    Table,
    ContactId,
    TagId,
}

#[derive(DeriveIden)]
enum CompanyTags {
    Table,
    CompanyId,
    TagId,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tags::Table)
                .col(big_pk_auto(Tags::Id))
                .col(string_len(Tags::Name, 60))
                .col(string_len_uniq(Tags::NameNorm, 60))
                .col(string_len(Tags::Color, 16).default("gray"))
                .col(timestamp_with_time_zone(Tags::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ContactTags::Table)
                .col(big_integer(ContactTags::ContactId))
                .col(big_integer(ContactTags::TagId))
                .primary_key(
                    Index::create()
                        .col(ContactTags::ContactId)
                        .col(ContactTags::TagId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ContactTags::Table, ContactTags::ContactId)
                        .to(Contacts::Table, Contacts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ContactTags::Table, ContactTags::TagId)
                        .to(Tags::Table, Tags::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_contact_tags_tag")
                .table(ContactTags::Table)
                .col(ContactTags::TagId)
                .col(ContactTags::ContactId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CompanyTags::Table)
                .col(big_integer(CompanyTags::CompanyId))
                .col(big_integer(CompanyTags::TagId))
                .primary_key(
                    Index::create()
                        .col(CompanyTags::CompanyId)
                        .col(CompanyTags::TagId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CompanyTags::Table, CompanyTags::CompanyId)
                        .to(Companies::Table, Companies::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CompanyTags::Table, CompanyTags::TagId)
                        .to(Tags::Table, Tags::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_company_tags_tag")
                .table(CompanyTags::Table)
                .col(CompanyTags::TagId)
                .col(CompanyTags::CompanyId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CompanyTags::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ContactTags::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Tags::Table).to_owned())
            .await?;
        Ok(())
    }
}
