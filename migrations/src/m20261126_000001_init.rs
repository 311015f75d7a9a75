use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    EmailNorm,
    Name,
    PasswordHash,
    Role,
    Active,
    SessionVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    Prefix,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Name,
    NameNorm,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
    FirstName,
    LastName,
    Email,
    EmailNorm,
    Phone,
    CompanyId,
    Title,
    Source,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Id,
    EmailNorm,
    Ip,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    Action,
    Entity,
    EntityId,
    Detail,
    CreatedAt,
}

fn index(
    table: impl IntoIden + 'static,
    name: &str,
    cols: &[&'static str],
) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(Alias::new(*c));
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Settings::Table)
                .col(string(Settings::Key).primary_key())
                .col(text(Settings::Value))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_len(Users::Email, 254))
                .col(string_len_uniq(Users::EmailNorm, 254))
                .col(string_len(Users::Name, 120))
                .col(text(Users::PasswordHash))
                .col(string_len(Users::Role, 16))
                .col(boolean(Users::Active).default(true))
                .col(integer(Users::SessionVersion).default(1))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(big_pk_auto(ApiTokens::Id))
                .col(big_integer(ApiTokens::UserId))
                .col(string_len(ApiTokens::Name, 120))
                .col(string_len_uniq(ApiTokens::TokenHash, 64))
                .col(string_len(ApiTokens::Prefix, 16))
                .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiTokens::Table, ApiTokens::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(ApiTokens::Table, "idx_api_tokens_user", &["user_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table(Companies::Table)
                .col(big_pk_auto(Companies::Id))
                .col(string_len(Companies::Name, 200))
                .col(string_len_uniq(Companies::NameNorm, 200))
                .col(timestamp_with_time_zone(Companies::CreatedAt))
                .col(timestamp_with_time_zone(Companies::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Contacts::Table)
                .col(big_pk_auto(Contacts::Id))
                .col(string_len(Contacts::FirstName, 120))
                .col(string_len(Contacts::LastName, 120))
                .col(string_len_null(Contacts::Email, 254))
                .col(string_len_null(Contacts::EmailNorm, 254).unique_key())
                .col(string_len_null(Contacts::Phone, 30))
                .col(big_integer_null(Contacts::CompanyId))
                .col(string_len_null(Contacts::Title, 120))
                .col(string_len(Contacts::Source, 16).default("organic"))
                .col(big_integer(Contacts::OwnerId))
                .col(timestamp_with_time_zone(Contacts::CreatedAt))
                .col(timestamp_with_time_zone(Contacts::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Contacts::Table, Contacts::CompanyId)
                        .to(Companies::Table, Companies::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Contacts::Table, Contacts::OwnerId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        // The list is newest first; every filter is paired with created_at so the
        // page query walks one index in order, and each filter index also carries the
        // other filter columns, so any mix of filters is answered from the index alone
        // (no table reads while counting or picking a page).
        m.create_index(index(
            Contacts::Table,
            "idx_contacts_created",
            &["created_at", "id"],
        ))
        .await?;
        m.create_index(index(
            Contacts::Table,
            "idx_contacts_company_created",
            &["company_id", "created_at", "source", "owner_id"],
        ))
        .await?;
        m.create_index(index(
            Contacts::Table,
            "idx_contacts_owner_created",
            &["owner_id", "created_at", "source", "company_id"],
        ))
        .await?;
        m.create_index(index(
            Contacts::Table,
            "idx_contacts_source_created",
            &["source", "created_at", "owner_id", "company_id"],
        ))
        .await?;
        // Duplicate checks look contacts up by phone.
        m.create_index(index(Contacts::Table, "idx_contacts_phone", &["phone"]))
            .await?;
        m.create_index(index(
            Contacts::Table,
            "idx_contacts_name",
            &["last_name", "first_name", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(LoginAttempts::Table)
                .col(big_pk_auto(LoginAttempts::Id))
                .col(string_len(LoginAttempts::EmailNorm, 254))
                .col(string_len(LoginAttempts::Ip, 64))
                .col(timestamp_with_time_zone(LoginAttempts::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            LoginAttempts::Table,
            "idx_login_attempts_email",
            &["email_norm", "created_at"],
        ))
        .await?;
        m.create_index(index(
            LoginAttempts::Table,
            "idx_login_attempts_ip",
            &["ip", "created_at"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_pk_auto(AuditLog::Id))
                .col(big_integer_null(AuditLog::ActorId))
                .col(string_len(AuditLog::Action, 32))
                .col(string_len(AuditLog::Entity, 32))
                .col(big_integer(AuditLog::EntityId))
                .col(text_null(AuditLog::Detail))
                .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            AuditLog::Table,
            "idx_audit_log_entity",
            &["entity", "entity_id"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "audit_log",
            "login_attempts",
            "contacts",
            "companies",
            "api_tokens",
            "users",
            "settings",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
