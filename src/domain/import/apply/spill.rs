//! The rows an import plans, kept in a temporary file until they are written. All or
//! nothing needs every row checked before the first is written, so the plan of a file of
//! millions of rows would otherwise be held whole (issue 16). Each planned row is
//! appended as a line of JSON as it is planned, and read back in order, a chunk at a
//! time, to be written. What stays in memory is, per row, its line in the report (8
//! bytes) and, once written, its record's id (16 bytes): what links to it need.
//!
//! The file is removed as soon as it is open where the system allows it (Unix: the open
//! file lives on, and even a killed process leaves nothing behind), else when the plan
//! is dropped, written or not.
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::plan::{ORDER, Planned};
use super::{CHUNK, Report};
use crate::domain::import::ObjectKind;
use crate::error::AppError;

/// One kind's rows. Kinds are planned one after another, so its rows lie together.
#[derive(Default)]
struct Section {
    /// Where its first row starts in the file.
    start: u64,
    /// Each row's line in the report, in planned order.
    reports: Vec<usize>,
    /// Each row's record id, as its chunk is written.
    ids: Vec<Option<i64>>,
}

pub(super) struct Spill {
    /// Opened at the first row kept; only appended to (reads go through clones of it).
    out: Option<BufWriter<File>>,
    /// The file's path while it has one (a system that cannot remove an open file).
    path: Option<PathBuf>,
    /// Bytes written so far.
    len: u64,
    /// The kind rows were last added to: a kind's rows must lie together.
    last: Option<usize>,
    /// Whether the rows of each kind (by place in `ORDER`) go to the file, or are only
    /// counted (`new`).
    keep: [bool; ORDER.len()],
    sections: [Section; ORDER.len()],
    line: Vec<u8>,
}

fn at(kind: ObjectKind) -> usize {
    ORDER.iter().position(|k| *k == kind).unwrap_or(0)
}

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("import plan file: {e}"))
}

impl Spill {
    /// `dry`: a dry run writes nothing, so it keeps only what planning the later files
    /// reads back (`files`: the kinds of the import's files): the contacts, which deals,
    /// activities and tasks name (`about::PlannedNames`), and the deals, which those and
    /// deal contact rows name (`deal_contact`).
    pub fn new(dry: bool, files: &[ObjectKind]) -> Spill {
        use ObjectKind::{Activity, Contact, Deal, DealContact, Task};
        let any = |kinds: &[ObjectKind]| files.iter().any(|k| kinds.contains(k));
        let keep = ORDER.map(|k| {
            !dry || match k {
                Contact => any(&[Deal, Activity, Task]),
                Deal => any(&[Deal, DealContact, Activity, Task]),
                _ => false,
            }
        });
        Spill {
            out: None,
            path: None,
            len: 0,
            last: None,
            keep,
            sections: Default::default(),
            line: Vec::new(),
        }
    }

    fn keeps(&self, kind: ObjectKind) -> bool {
        self.keep[at(kind)]
    }

    fn open(&mut self) -> Result<(), AppError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "cairn-import-plan-{}-{nanos}-{}.jsonl",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let mut options = OpenOptions::new();
        options.read(true).append(true).create_new(true);
        // The rows are the records' data: readable by this user only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(io)?;
        self.path = fs::remove_file(&path).is_err().then_some(path);
        self.out = Some(BufWriter::with_capacity(1 << 16, file));
        Ok(())
    }

    /// Adds a planned row of `kind`, the next of its kind (`count` is its index).
    pub fn push<T: Serialize>(
        &mut self,
        kind: ObjectKind,
        row: &Planned<T>,
    ) -> Result<(), AppError> {
        let k = at(kind);
        if self.last.is_some_and(|l| l != k) && !self.sections[k].reports.is_empty() {
            return Err(AppError::Internal(format!(
                "import plan: {} planned after another kind",
                kind.plural()
            )));
        }
        self.last = Some(k);
        if self.keeps(kind) {
            self.line.clear();
            serde_json::to_writer(&mut self.line, row).map_err(io)?;
            self.line.push(b'\n');
            if self.out.is_none() {
                self.open()?;
            }
            if let Some(out) = self.out.as_mut() {
                out.write_all(&self.line).map_err(io)?;
            }
            if self.sections[k].reports.is_empty() {
                self.sections[k].start = self.len;
            }
            self.len += self.line.len() as u64;
        }
        self.sections[k].reports.push(row.report);
        Ok(())
    }

    /// How many rows of `kind` are planned.
    pub fn count(&self, kind: ObjectKind) -> usize {
        self.sections[at(kind)].reports.len()
    }

    /// How many rows of every kind are planned.
    pub fn total(&self) -> usize {
        self.sections.iter().map(|s| s.reports.len()).sum()
    }

    /// The line in the report of the `i`th planned row of `kind`.
    pub fn report_of(&self, kind: ObjectKind, i: usize) -> Option<usize> {
        self.sections[at(kind)].reports.get(i).copied()
    }

    /// The rows of `kind` from the first, `CHUNK` at a time.
    pub fn chunks<T: DeserializeOwned>(&mut self, kind: ObjectKind) -> Result<Chunks<T>, AppError> {
        let section = &self.sections[at(kind)];
        let rows = section.reports.len();
        let start = section.start;
        let kept = self.keeps(kind);
        let file = match self.out.as_mut() {
            Some(out) if rows > 0 && kept => {
                out.flush().map_err(io)?;
                Some(out.get_ref().try_clone().map_err(io)?)
            }
            _ if rows > 0 => {
                return Err(AppError::Internal(format!(
                    "import plan: the {} were not kept",
                    kind.plural()
                )));
            }
            _ => None,
        };
        Ok(Chunks {
            file,
            at: start,
            left: rows,
            line: String::new(),
            row: PhantomData,
        })
    }

    /// Records the ids a written chunk of `kind` got (the rows after those written
    /// before), and puts them on the rows' report lines.
    pub fn written<T>(&mut self, kind: ObjectKind, rows: &[Planned<T>], report: &mut Report) {
        let ids = &mut self.sections[at(kind)].ids;
        for p in rows {
            ids.push(p.id);
            if let Some(line) = report.rows.get_mut(p.report) {
                line.record_id = p.id;
            }
        }
    }

    /// The record ids of the rows of `kind` written so far, by planned index.
    pub fn ids(&self, kind: ObjectKind) -> &[Option<i64>] {
        &self.sections[at(kind)].ids
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        drop(self.out.take());
        if let Some(path) = self.path.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Reads one kind's rows back, a chunk at a time. Each read seeks to where the last
/// ended, so readers of the same file do not disturb one another.
pub(super) struct Chunks<T> {
    file: Option<File>,
    at: u64,
    left: usize,
    line: String,
    row: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Chunks<T> {
    /// The next up to `CHUNK` rows; None after the last.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<Planned<T>>>, AppError> {
        let Some(file) = self.file.as_ref().filter(|_| self.left > 0) else {
            return Ok(None);
        };
        let mut file = file;
        file.seek(SeekFrom::Start(self.at)).map_err(io)?;
        let mut read = BufReader::with_capacity(1 << 16, file);
        let n = self.left.min(CHUNK);
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            self.line.clear();
            let got = read.read_line(&mut self.line).map_err(io)?;
            if got == 0 {
                return Err(io("it ends before its last row"));
            }
            self.at += got as u64;
            rows.push(serde_json::from_str(&self.line).map_err(io)?);
        }
        self.left -= n;
        Ok(Some(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import::apply::plan::Action;

    fn row(i: usize) -> Planned<String> {
        Planned {
            report: i,
            source: Some(format!("src-{i}")),
            action: Action::Create,
            data: format!("row {i}, with \"quotes\"\nand a newline"),
            id: None,
        }
    }

    /// This process's plan files in the temporary folder.
    fn files_left() -> Vec<String> {
        let mine = format!("cairn-import-plan-{}-", std::process::id());
        fs::read_dir(std::env::temp_dir())
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.starts_with(&mine))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn rows_come_back_in_order_a_chunk_at_a_time() -> Result<(), AppError> {
        let mut spill = Spill::new(false, &[]);
        for i in 0..2500 {
            spill.push(ObjectKind::Company, &row(i))?;
        }
        let mut chunks = spill.chunks::<String>(ObjectKind::Company)?;
        let mut sizes = Vec::new();
        let mut next = 0;
        while let Some(chunk) = chunks.next_chunk()? {
            sizes.push(chunk.len());
            for p in chunk {
                assert_eq!(p.data, row(next).data, "row {next} came back changed");
                assert_eq!(p.report, next, "row {next} came back out of order");
                next += 1;
            }
        }
        assert_eq!(sizes, [CHUNK, CHUNK, 500], "chunks of the planned rows");
        Ok(())
    }

    #[test]
    fn the_file_is_gone_once_the_plan_is_dropped() -> Result<(), AppError> {
        let mut spill = Spill::new(false, &[]);
        spill.push(ObjectKind::Contact, &row(0))?;
        let back = spill.chunks::<String>(ObjectKind::Contact)?.next_chunk()?;
        assert_eq!(back.map(|c| c.len()), Some(1), "the row was not kept");
        drop(spill);
        assert_eq!(files_left(), Vec::<String>::new(), "plan files left behind");
        Ok(())
    }
}
