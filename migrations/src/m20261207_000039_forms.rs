//! Web-to-lead forms and what each received. A form's fields, tags and allowed origins
//! are JSON text (read and written whole with the form). A submission keeps a copy of
//! what was sent, its outcome and why, and the sender's address: the per-address rate
//! limit counts a form's submissions from one address in the last minute, hence the
//! (form, ip, received_at) index.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Forms {
    Table,
    Id,
    Name,
    PublicKey,
    Fields,
    Source,
    OwnerId,
    Tags,
    ThankYouUrl,
    ThankYouMessage,
    AllowedOrigins,
    NotifyOwner,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FormSubmissions {
    Table,
    Id,
    FormId,
    ContactId,
    Status,
    Reason,
    Ip,
    ReceivedAt,
    Data,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
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
                .table(Forms::Table)
                .col(big_pk_auto(Forms::Id))
                .col(string_len(Forms::Name, 120))
                .col(string_len_uniq(Forms::PublicKey, 32))
                .col(text(Forms::Fields).default("[]"))
                .col(string_len(Forms::Source, 16))
                .col(big_integer(Forms::OwnerId))
                .col(text(Forms::Tags).default("[]"))
                .col(string_len_null(Forms::ThankYouUrl, 2000))
                .col(text_null(Forms::ThankYouMessage))
                .col(text(Forms::AllowedOrigins).default("[]"))
                .col(boolean(Forms::NotifyOwner).default(false))
                .col(boolean(Forms::Active).default(true))
                .col(timestamp_with_time_zone(Forms::CreatedAt))
                .col(timestamp_with_time_zone(Forms::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Forms::Table, Forms::OwnerId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FormSubmissions::Table)
                .col(big_pk_auto(FormSubmissions::Id))
                .col(big_integer(FormSubmissions::FormId))
                .col(big_integer_null(FormSubmissions::ContactId))
                .col(string_len(FormSubmissions::Status, 16))
                .col(text_null(FormSubmissions::Reason))
                .col(string_len_null(FormSubmissions::Ip, 64))
                .col(timestamp_with_time_zone(FormSubmissions::ReceivedAt))
                .col(text(FormSubmissions::Data))
                .foreign_key(
                    ForeignKey::create()
                        .from(FormSubmissions::Table, FormSubmissions::FormId)
                        .to(Forms::Table, Forms::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FormSubmissions::Table, FormSubmissions::ContactId)
                        .to(Contacts::Table, Contacts::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_form_submissions_rate")
                .table(FormSubmissions::Table)
                .col(FormSubmissions::FormId)
                .col(FormSubmissions::Ip)
                .col(FormSubmissions::ReceivedAt)
                .to_owned(),
        )
        .await?;
        // The submission log of a form, newest first.
        m.create_index(
            Index::create()
                .name("idx_form_submissions_form")
                .table(FormSubmissions::Table)
                .col(FormSubmissions::FormId)
                .col(FormSubmissions::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [FormSubmissions::Table.into_iden(), Forms::Table.into_iden()] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
