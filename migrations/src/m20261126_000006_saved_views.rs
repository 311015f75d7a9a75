//! Saved views: a list's filters, search and sort under a name, personal or shared, and
//! each user's default view per list.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SavedViews {
    Table,
    Id,
    UserId,
    List,
    Name,
    Query,
    Shared,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ViewDefaults {
    Table,
    UserId,
    List,
    ViewId,
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
                .table(SavedViews::Table)
                .col(big_pk_auto(SavedViews::Id))
                .col(big_integer(SavedViews::UserId))
                .col(string_len(SavedViews::List, 16))
                .col(string_len(SavedViews::Name, 80))
                .col(text(SavedViews::Query))
                .col(boolean(SavedViews::Shared).default(false))
                .col(timestamp_with_time_zone(SavedViews::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SavedViews::Table, SavedViews::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_saved_views_list")
                .table(SavedViews::Table)
                .col(SavedViews::List)
                .col(SavedViews::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ViewDefaults::Table)
                .col(big_integer(ViewDefaults::UserId))
                .col(string_len(ViewDefaults::List, 16))
                .col(big_integer(ViewDefaults::ViewId))
                .primary_key(
                    Index::create()
                        .col(ViewDefaults::UserId)
                        .col(ViewDefaults::List),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ViewDefaults::Table, ViewDefaults::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ViewDefaults::Table, ViewDefaults::ViewId)
                        .to(SavedViews::Table, SavedViews::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ViewDefaults::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SavedViews::Table).to_owned())
            .await?;
        Ok(())
    }
}
