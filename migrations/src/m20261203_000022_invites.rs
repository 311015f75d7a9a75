//! Invitations, password resets and the reset requests that throttle them. Each link's
//! secret is kept only as a SHA-256 hash, like sessions and API tokens. A reset also
//! keeps a stamp of the password it was issued against, so any password change since
//! makes it worthless whichever way the password was changed.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Invites {
    Table,
    Id,
    Email,
    EmailNorm,
    Role,
    TokenHash,
    InvitedBy,
    Sends,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    UserId,
    RevokedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    UserId,
    TokenHash,
    PasswordStamp,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum ResetRequests {
    Table,
    Id,
    EmailNorm,
    Ip,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn index(name: &str, table: impl IntoIden, cols: Vec<Alias>) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Invites::Table)
                .col(big_pk_auto(Invites::Id))
                .col(string_len(Invites::Email, 254))
                .col(string_len(Invites::EmailNorm, 254))
                .col(string_len(Invites::Role, 16))
                .col(string_len_uniq(Invites::TokenHash, 64))
                .col(big_integer_null(Invites::InvitedBy))
                .col(integer(Invites::Sends).default(1))
                .col(timestamp_with_time_zone(Invites::CreatedAt))
                .col(timestamp_with_time_zone(Invites::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invites::AcceptedAt))
                .col(big_integer_null(Invites::UserId))
                .col(timestamp_with_time_zone_null(Invites::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Invites::Table, Invites::InvitedBy)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Invites::Table, Invites::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_invites_email",
            Invites::Table,
            vec![Alias::new("email_norm")],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(PasswordResets::Table)
                .col(big_pk_auto(PasswordResets::Id))
                .col(big_integer(PasswordResets::UserId))
                .col(string_len_uniq(PasswordResets::TokenHash, 64))
                .col(string_len(PasswordResets::PasswordStamp, 64))
                .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PasswordResets::Table, PasswordResets::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_password_resets_user",
            PasswordResets::Table,
            vec![Alias::new("user_id")],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(ResetRequests::Table)
                .col(big_pk_auto(ResetRequests::Id))
                .col(string_len(ResetRequests::EmailNorm, 254))
                .col(string_len(ResetRequests::Ip, 64))
                .col(timestamp_with_time_zone(ResetRequests::CreatedAt))
                .to_owned(),
        )
        .await?;
        // The throttle counts one address's, and one client's, requests of the last hour.
        m.create_index(index(
            "idx_reset_requests_email",
            ResetRequests::Table,
            vec![Alias::new("email_norm"), Alias::new("created_at")],
        ))
        .await?;
        m.create_index(index(
            "idx_reset_requests_ip",
            ResetRequests::Table,
            vec![Alias::new("ip"), Alias::new("created_at")],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ResetRequests::Table.into_iden(),
            PasswordResets::Table.into_iden(),
            Invites::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
