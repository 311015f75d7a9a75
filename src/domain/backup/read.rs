//! The two statements backup and restore send as text: SQLite's own commands, which no
//! query builder expresses. Both only read the database they run on.
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

/// Copies the database `conn` reads into a new file at `path`: one snapshot, taken on a
/// read connection, so the writer is never held.
pub async fn vacuum_into(conn: &DatabaseConnection, path: &str) -> Result<(), DbErr> {
    let quoted = path.replace('\'', "''");
    conn.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
        .await?;
    Ok(())
}

/// `PRAGMA integrity_check`'s lines: `["ok"]` for a sound file.
pub async fn integrity_check(conn: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect())
}
