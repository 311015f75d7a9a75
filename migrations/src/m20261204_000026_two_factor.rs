//! Two-factor sign-in (TOTP): each user's authenticator secret with the last time step a
//! code was accepted for (a code is never accepted twice), their single-use recovery
//! codes (kept only as SHA-256 hashes, like tokens), and the short-lived pending
//! sign-ins between a right password and the second step. A pending sign-in is not a
//! session: it lets its holder do nothing but finish signing in.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TwoFactor {
    Table,
    UserId,
    Secret,
    EnabledAt,
    LastStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PendingSignIns {
    Table,
    Id,
    TokenHash,
    UserId,
    Purpose,
    Next,
    Failures,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn owned_by_user(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TwoFactor::Table)
                .col(big_integer(TwoFactor::UserId).primary_key())
                .col(string_len(TwoFactor::Secret, 64))
                // None while the secret waits for its first code (set-up not confirmed).
                .col(timestamp_with_time_zone_null(TwoFactor::EnabledAt))
                .col(big_integer_null(TwoFactor::LastStep))
                .col(timestamp_with_time_zone(TwoFactor::CreatedAt))
                .foreign_key(&mut owned_by_user(TwoFactor::Table, TwoFactor::UserId))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(big_pk_auto(RecoveryCodes::Id))
                .col(big_integer(RecoveryCodes::UserId))
                .col(string_len(RecoveryCodes::CodeHash, 64))
                .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                .foreign_key(&mut owned_by_user(
                    RecoveryCodes::Table,
                    RecoveryCodes::UserId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recovery_codes_user")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::UserId)
                .col(RecoveryCodes::CodeHash)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PendingSignIns::Table)
                .col(big_pk_auto(PendingSignIns::Id))
                .col(string_len_uniq(PendingSignIns::TokenHash, 64))
                .col(big_integer(PendingSignIns::UserId))
                // "code" (asks for a code) or "setup" (two-factor is required and the
                // user has none yet).
                .col(string_len(PendingSignIns::Purpose, 8))
                .col(string_len(PendingSignIns::Next, 2048))
                .col(integer(PendingSignIns::Failures).default(0))
                .col(timestamp_with_time_zone(PendingSignIns::CreatedAt))
                .col(timestamp_with_time_zone(PendingSignIns::ExpiresAt))
                .foreign_key(&mut owned_by_user(
                    PendingSignIns::Table,
                    PendingSignIns::UserId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pending_sign_ins_expires")
                .table(PendingSignIns::Table)
                .col(PendingSignIns::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PendingSignIns::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            TwoFactor::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
