//! Tasks, and each user's time zone (tasks are due in it, and grouped by its days).
//!
//! A task's due is one of two kinds, never both: `due_at`, an instant (stored UTC), for a
//! task due at a time; or `due_date`, a calendar date with no time, for a task due some
//! day (it stays "today" all of that day wherever its viewer is, and is overdue from the
//! next day). A task with neither has no due.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    Title,
    Notes,
    DueAt,
    DueDate,
    Priority,
    AssigneeId,
    CreatedBy,
    ContactId,
    CompanyId,
    DealId,
    Done,
    DoneAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TimeZone,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len(Users::TimeZone, 64).default("UTC"))
                .to_owned(),
        )
        .await?;
        let record = |col: Tasks, to: (DynIden, DynIden)| {
            ForeignKey::create()
                .from(Tasks::Table, col)
                .to(to.0, to.1)
                .on_delete(ForeignKeyAction::Cascade)
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table(Tasks::Table)
                .col(big_pk_auto(Tasks::Id))
                .col(string_len(Tasks::Title, 200))
                .col(text_null(Tasks::Notes))
                .col(timestamp_with_time_zone_null(Tasks::DueAt))
                .col(date_null(Tasks::DueDate))
                .col(string_len(Tasks::Priority, 8).default("normal"))
                .col(big_integer(Tasks::AssigneeId))
                .col(big_integer_null(Tasks::CreatedBy))
                .col(big_integer_null(Tasks::ContactId))
                .col(big_integer_null(Tasks::CompanyId))
                .col(big_integer_null(Tasks::DealId))
                .col(boolean(Tasks::Done).default(false))
                .col(timestamp_with_time_zone_null(Tasks::DoneAt))
                .col(integer(Tasks::Version).default(1))
                .col(timestamp_with_time_zone(Tasks::CreatedAt))
                .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                // Users are deactivated, never deleted: a task keeps its assignee.
                .foreign_key(
                    ForeignKey::create()
                        .from(Tasks::Table, Tasks::AssigneeId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Tasks::Table, Tasks::CreatedBy)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                // A task about a record goes with it, as its activities do.
                .foreign_key(&mut record(
                    Tasks::ContactId,
                    (Contacts::Table.into_iden(), Contacts::Id.into_iden()),
                ))
                .foreign_key(&mut record(
                    Tasks::CompanyId,
                    (Companies::Table.into_iden(), Companies::Id.into_iden()),
                ))
                .foreign_key(&mut record(
                    Tasks::DealId,
                    (Deals::Table.into_iden(), Deals::Id.into_iden()),
                ))
                .to_owned(),
        )
        .await?;
        // My tasks: each group is a range of one of these per assignee (open ones by due
        // time or due date, done ones newest first); the `_all` ones serve a manager's
        // view of everyone's; the record ones a record page's open tasks. The date ones
        // hold `due_at` too, so tasks with no due at all (both null) are one range of
        // them rather than a table lookup for each of the many tasks with no time.
        let indexes: [(&str, &[&str]); 9] = [
            (
                "idx_tasks_assignee_due_at",
                &["assignee_id", "done", "due_at", "id"],
            ),
            (
                "idx_tasks_assignee_due_date",
                &["assignee_id", "done", "due_date", "id"],
            ),
            (
                "idx_tasks_assignee_done_at",
                &["assignee_id", "done", "done_at", "id"],
            ),
            ("idx_tasks_all_due_at", &["done", "due_at", "id"]),
            (
                "idx_tasks_all_due_date",
                &["done", "due_date", "due_at", "id"],
            ),
            ("idx_tasks_all_done_at", &["done", "done_at", "id"]),
            ("idx_tasks_contact", &["contact_id", "done"]),
            ("idx_tasks_company", &["company_id", "done"]),
            ("idx_tasks_deal", &["deal_id", "done"]),
        ];
        for (name, cols) in indexes {
            let mut index = Index::create();
            index.name(name).table(Tasks::Table);
            for col in cols {
                index.col(Alias::new(*col));
            }
            m.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Tasks::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::TimeZone)
                .to_owned(),
        )
        .await
    }
}
