//! Reading an import file: from its bytes to rows of text, streamed (files may be 2 GB).
//!
//! The encoding is found from the first 64 KiB: a BOM says UTF-8 or UTF-16; text that is
//! valid UTF-8 is UTF-8; anything else is Windows-1252 (the superset of ISO-8859-1 that
//! Salesforce's and Excel's "Latin-1" files really are). The delimiter is the one of `,`
//! `;` tab `|` that splits the first lines into the same number of cells. The parser is
//! our own rather than the `csv` crate's: that one reads an unclosed quote to the end of
//! the file as a single field, where an importer must report the row and read on.
use std::collections::VecDeque;
use std::io::{Cursor, Read};

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::{FileSpec, MappedRow, System};
use crate::error::AppError;
pub use decode::Encoding;
use decode::{Lines, Transcode, decode_sample, detect_encoding, read_sample, refuse_binary};
use parse::Records;

mod decode;
mod parse;

/// The delimiters tried, in the order ties are broken.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// What makes a whole file unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("The file is empty.")]
    Empty,
    #[error("This is not a CSV file: {0}")]
    NotText(String),
    #[error("The file's first row (the column names) cannot be read: {0}")]
    Header(String),
    #[error("The file could not be read: {0}")]
    Io(String),
}

impl From<ReadError> for AppError {
    fn from(e: ReadError) -> AppError {
        match e {
            ReadError::NotText(_) => AppError::UnsupportedMediaType(e.to_string()),
            _ => AppError::BadRequest(e.to_string()),
        }
    }
}

/// A row that could not be read or mapped; reading goes on after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file's index among the import's files (0 until [`mapped`] sets it).
    pub file: usize,
    /// As a spreadsheet numbers it: the header is row 1.
    pub row: u64,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}", self.row, self.reason)
    }
}

/// One data row: its number and its cells, as many as the header has.
pub type Row = (u64, Vec<String>);

/// An opened file: its header read, its encoding and delimiter found, its rows not yet.
pub struct CsvFile {
    headers: Vec<String>,
    encoding: Encoding,
    delimiter: u8,
    records: Records,
}

impl CsvFile {
    pub fn open(r: impl Read + 'static) -> Result<CsvFile, ReadError> {
        let mut r: Box<dyn Read> = Box::new(r);
        let sample = read_sample(&mut r)?;
        if sample.is_empty() {
            return Err(ReadError::Empty);
        }
        let encoding = detect_encoding(&sample);
        if !matches!(encoding, Encoding::Utf16Le | Encoding::Utf16Be) {
            refuse_binary(&sample)?;
        }
        let text = decode_sample(&sample, encoding);
        let newline = if text.contains('\r') && !text.contains('\n') {
            b'\r'
        } else {
            b'\n'
        };
        let delimiter = sniff_delimiter(&text, char::from(newline));
        let mut whole: Box<dyn Read> = Box::new(Cursor::new(sample).chain(r));
        if encoding == Encoding::Utf8Bom {
            let mut bom = [0u8; 3];
            whole
                .read_exact(&mut bom)
                .map_err(|e| ReadError::Io(e.to_string()))?;
        }
        let decoder = match encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => None,
            Encoding::Windows1252 => Some(WINDOWS_1252.new_decoder_without_bom_handling()),
            Encoding::Utf16Le => Some(UTF_16LE.new_decoder_with_bom_removal()),
            Encoding::Utf16Be => Some(UTF_16BE.new_decoder_with_bom_removal()),
        };
        let text: Box<dyn Read> = match decoder {
            Some(d) => Box::new(Transcode::new(whole, d)),
            None => whole,
        };
        let source = Lines::new(text, newline);
        let mut records = Records::new(Some(source), VecDeque::new(), delimiter);
        let headers = match records.next_record() {
            None => return Err(ReadError::Empty),
            Some(Err(e)) => return Err(ReadError::Header(e.reason)),
            Some(Ok(r)) => r.cells,
        };
        let headers: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
        if headers.iter().all(String::is_empty) {
            return Err(ReadError::Header("it has no column names".into()));
        }
        records.width = Some(headers.len());
        Ok(CsvFile {
            headers,
            encoding,
            delimiter,
            records,
        })
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    pub fn delimiter(&self) -> char {
        char::from(self.delimiter)
    }

    /// The data rows, in order. Blank rows (no cell holds anything) are passed over.
    pub fn rows(self) -> impl Iterator<Item = Result<Row, RowError>> {
        self.records
    }
}

/// The rows of one file paired with the columns' targets, ignored columns left out and
/// the formula escaping of Cairn's own export undone.
pub fn mapped<I>(
    file: usize,
    spec: &FileSpec,
    rows: I,
) -> impl Iterator<Item = Result<MappedRow, RowError>> + use<I>
where
    I: Iterator<Item = Result<Row, RowError>>,
{
    let columns = spec.columns.clone();
    let unescape = spec.system == System::Cairn;
    rows.map(move |r| match r {
        Err(e) => Err(RowError { file, ..e }),
        Ok((row, cells)) => {
            let values = columns
                .iter()
                .zip(cells)
                .filter(|(t, _)| **t != super::Target::Ignore)
                .map(|(t, v)| {
                    let v = if unescape {
                        crate::domain::csv::unescape(&v).to_string()
                    } else {
                        v
                    };
                    (t.clone(), v)
                })
                .collect();
            Ok(MappedRow { file, row, values })
        }
    })
}

/// The delimiter that gives the first lines the most cells, the same number on each.
fn sniff_delimiter(text: &str, newline: char) -> u8 {
    let mut lines: Vec<String> = text.split(newline).map(|l| l.to_string()).collect();
    if lines.len() > 1 {
        // The sample may end inside a line.
        lines.pop();
    }
    lines.truncate(50);
    let mut best = (0usize, b',');
    for d in DELIMITERS {
        let mut records = Records::new(None, lines.iter().cloned().collect(), d);
        let mut widths = Vec::new();
        while let Some(r) = records.next_record() {
            match r {
                Ok(r) => widths.push(r.cells.len()),
                Err(_) => widths.push(0),
            }
        }
        let header = widths.first().copied().unwrap_or(0);
        if header < 2 {
            continue;
        }
        let agreeing = widths.iter().filter(|&&w| w == header).count();
        let score = agreeing * 1000 + header;
        if score > best.0 {
            best = (score, d);
        }
    }
    best.1
}
