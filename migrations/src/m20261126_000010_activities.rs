//! Activities: notes, calls, meetings, emails and payments logged against a deal, a
//! contact or a company. Each belongs to one record and goes when that record goes.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    Kind,
    Body,
    OccurredAt,
    DealId,
    ContactId,
    CompanyId,
    AuthorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Deals {
    Table,
    Id,
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

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let owner = |col: Activities, table: &'static str| {
            let mut fk = ForeignKey::create();
            fk.from(Activities::Table, col);
            match table {
                "deals" => fk.to(Deals::Table, Deals::Id),
                "contacts" => fk.to(Contacts::Table, Contacts::Id),
                _ => fk.to(Companies::Table, Companies::Id),
            };
            fk.on_delete(ForeignKeyAction::Cascade).to_owned()
        };
        m.create_table(
            Table::create()
                .table(Activities::Table)
                .col(big_pk_auto(Activities::Id))
                .col(string_len(Activities::Kind, 16))
                .col(text(Activities::Body))
                .col(timestamp_with_time_zone(Activities::OccurredAt))
                .col(big_integer_null(Activities::DealId))
                .col(big_integer_null(Activities::ContactId))
                .col(big_integer_null(Activities::CompanyId))
                .col(big_integer_null(Activities::AuthorId))
                .col(timestamp_with_time_zone(Activities::CreatedAt))
                .foreign_key(&mut owner(Activities::DealId, "deals"))
                .foreign_key(&mut owner(Activities::ContactId, "contacts"))
                .foreign_key(&mut owner(Activities::CompanyId, "companies"))
                .foreign_key(
                    ForeignKey::create()
                        .from(Activities::Table, Activities::AuthorId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        // A record's timeline, newest first, straight from an index.
        for (name, col) in [
            ("idx_activities_deal", "deal_id"),
            ("idx_activities_contact", "contact_id"),
            ("idx_activities_company", "company_id"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Activities::Table)
                    .col(Alias::new(col))
                    .col(Alias::new("occurred_at"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Activities::Table).to_owned())
            .await
    }
}
