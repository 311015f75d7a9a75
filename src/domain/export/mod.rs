//! The whole workspace as one ZIP (Settings → Export, `GET /api/v1/export`, `cairn export
//! FILE`): a CSV per record type, with ids and links, and `workspace.json` describing them.
//! The format is documented in docs/export-format.md; `domain::import` reads it back.
//!
//! Memory stays flat at any size: each table is read in keyset-paged chunks of `CHUNK`
//! rows, each chunk is written as CSV into the ZIP (deflated) as soon as it is read, and
//! the ZIP's bytes leave through a bounded channel as they are made (`out`), so at most a
//! chunk of rows and a few buffers of compressed bytes are held at once.
//!
//! Only live records are exported: what is in the trash stays out, and so do the
//! activities, tasks and deal links of trashed records; a link from a live record to a
//! trashed one is written empty. Every link in the files then resolves within the files,
//! which is what a re-import into an empty Cairn needs (a backup of everything, the trash
//! included, is `cairn backup`).
//!
//! The reads run in one read transaction (a snapshot on PostgreSQL; a WAL read snapshot on
//! SQLite), so the files agree with each other and with their counts even while others
//! write.
mod out;
mod records;
mod tables;
mod workspace;

use sea_orm::{AccessMode, DatabaseConnection, DbBackend, IsolationLevel, TransactionTrait};
use serde_json::json;
use tokio::sync::mpsc::Sender;

use crate::domain::{Action, Actor, Db, audit};
use crate::error::AppError;
pub use out::Chunk;
pub use workspace::{FORMAT_VERSION, FieldDef, PipelineDef, StageDef, TagDef, Workspace};

/// Rows read (and written) per statement.
pub const CHUNK: u64 = 1000;

/// How many chunks of ZIP bytes may wait for a slow reader before the export waits too.
pub const QUEUE: usize = 4;

/// The files of the ZIP in the order they are written (`workspace.json` comes last: by
/// then the row counts are known).
pub const FILES: [&str; 8] = [
    "users.csv",
    "companies.csv",
    "contacts.csv",
    "deals.csv",
    "deal_contacts.csv",
    "activities.csv",
    "tasks.csv",
    "workspace.json",
];

/// Where an export was asked for, kept in its audit entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Page,
    Api,
    CommandLine,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Via::Page => "settings",
            Via::Api => "api",
            Via::CommandLine => "command_line",
        }
    }
}

/// An export allowed and audited, ready to be written: `start` makes one, so nothing
/// writes an export that was not checked and recorded.
pub struct Export {
    conn: DatabaseConnection,
}

/// Checks that `actor` may export everything (admins; the command line, with no actor,
/// may) and records who asked and how, before any byte goes out: a refusal can still be a
/// status, and an export cut short is still on the record.
pub async fn start(db: &Db, actor: Option<&Actor>, via: Via) -> Result<Export, AppError> {
    if let Some(actor) = actor {
        actor.require(Action::ExportWorkspace)?;
    }
    let detail = json!({ "via": via.name() });
    audit::record(&db.write, actor, "export", "workspace", 0, Some(detail)).await?;
    Ok(Export {
        conn: db.read.clone(),
    })
}

impl Export {
    /// Writes the ZIP into `to`, chunk by chunk; answers the counts written. Fails when
    /// the reader goes away (`to` closed) or a read fails: the ZIP is then incomplete, and
    /// a ZIP without its central directory is refused by any reader.
    pub async fn write(self, to: &Sender<Chunk>) -> Result<Workspace, AppError> {
        let pg = self.conn.get_database_backend() == DbBackend::Postgres;
        // SQLite has neither setting (sea-orm warns when given them); its read snapshot
        // starts at the first read and lasts the transaction.
        let (isolation, mode) = if pg {
            (
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
        } else {
            (None, None)
        };
        let tx = self.conn.begin_with_config(isolation, mode).await?;
        let mut zip = out::Zip::new(to);
        let mut info = workspace::describe(&tx).await?;
        info.counts = tables::write_all(&tx, &info, &mut zip).await?;
        zip.file("workspace.json")?;
        let text = serde_json::to_string_pretty(&info)
            .map_err(|e| AppError::Internal(format!("workspace.json: {e}")))?;
        zip.write(text.as_bytes()).await?;
        zip.finish().await?;
        tx.commit().await?;
        Ok(info)
    }
}

/// The file name a download is offered under: `cairn-export-YYYY-MM-DD.zip`.
pub fn file_name(now: chrono::DateTime<chrono::Utc>) -> String {
    format!("cairn-export-{}.zip", now.format("%Y-%m-%d"))
}
