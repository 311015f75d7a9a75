//! An uploaded ZIP (Cairn's own export, or a Salesforce weekly export's archive) stands
//! for the CSV files in it: each `.csv` entry becomes one file of the import, in the
//! archive's order; a Cairn export's `workspace.json` comes along (`store::create` keeps
//! it apart); other entries (attachments) are passed over.
use std::io::{Cursor, Read};

use super::store::{Upload, too_large};
use crate::error::AppError;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// The name of a Cairn export's description of its files.
pub const WORKSPACE: &str = "workspace.json";

/// `uploads` with every ZIP among them replaced by its CSV entries. The unpacked sizes
/// count against `max` (the import's size limit), read no further than it: a small
/// archive that unpacks to gigabytes is refused, not unpacked.
pub fn expand(uploads: Vec<Upload>, max: u64) -> Result<Vec<Upload>, AppError> {
    let mut out = Vec::with_capacity(uploads.len());
    let mut size = 0u64;
    for upload in uploads {
        if !upload.bytes.starts_with(ZIP_MAGIC) {
            size += upload.bytes.len() as u64;
            out.push(upload);
            continue;
        }
        let unreadable = |e: zip::result::ZipError| {
            AppError::BadRequest(format!(
                "{} is not a readable ZIP archive: {e}",
                upload.name
            ))
        };
        let mut archive = zip::ZipArchive::new(Cursor::new(&upload.bytes)).map_err(unreadable)?;
        let before = out.len();
        for i in 0..archive.len() {
            let entry = archive.by_index(i).map_err(unreadable)?;
            let name = entry.name().map_err(unreadable)?.to_string();
            let base = name
                .rsplit('/')
                .next()
                .unwrap_or(&name)
                .to_ascii_lowercase();
            if entry.is_dir() || !(base.ends_with(".csv") || base == WORKSPACE) {
                continue;
            }
            let mut bytes = Vec::new();
            entry
                .take(max.saturating_sub(size) + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| {
                    AppError::BadRequest(format!(
                        "{name} in {} could not be unpacked: {e}",
                        upload.name
                    ))
                })?;
            size += bytes.len() as u64;
            if size > max {
                return Err(too_large(size, max));
            }
            let name = name.rsplit('/').next().unwrap_or(&name).to_string();
            out.push(Upload { name, bytes });
        }
        if out.len() == before {
            return Err(AppError::BadRequest(format!(
                "{} holds no CSV file to import (an Excel workbook? Save the sheet as CSV).",
                upload.name
            )));
        }
    }
    Ok(out)
}
