//! Reading an import file: from its bytes to rows of text, streamed (files may be 2 GB).
//!
//! The encoding is found from the first 64 KiB: a BOM says UTF-8 or UTF-16; text that is
//! valid UTF-8 is UTF-8; anything else is Windows-1252 (the superset of ISO-8859-1 that
//! Salesforce's and Excel's "Latin-1" files really are). The delimiter is the one of `,`
//! `;` tab `|` that splits the first lines into the same number of cells. The parser is
//! our own rather than the `csv` crate's: that one reads an unclosed quote to the end of
//! the file as a single field, where an importer must report the row and read on.
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Cursor, Read};

use encoding_rs::{CoderResult, Decoder, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::{FileSpec, MappedRow, System};
use crate::error::AppError;

/// How much of the file decides its encoding, delimiter and whether it is text.
const SAMPLE: usize = 64 * 1024;
/// A longer line is refused: no text export has one, and reading it whole could exhaust
/// memory on a file that is not what it claims to be.
const LINE_MAX: usize = 4 << 20;
/// A quoted cell still open after this much text is taken for a quote never closed.
const RECORD_MAX: usize = 1 << 20;
/// The delimiters tried, in the order ties are broken.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Windows1252,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Windows1252 => "ISO-8859-1 / Windows-1252",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
        }
    }
}

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
        let delimiter = sniff_delimiter(&text);
        let skip = if encoding == Encoding::Utf8Bom { 3 } else { 0 };
        let whole: Box<dyn Read> = Box::new(Cursor::new(sample).chain(r));
        let mut whole = whole;
        if skip > 0 {
            let mut bom = [0u8; 3];
            whole
                .read_exact(&mut bom)
                .map_err(|e| ReadError::Io(e.to_string()))?;
        }
        let source = match encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => Lines::new(whole),
            Encoding::Windows1252 => Lines::new(Box::new(Transcode::new(
                whole,
                WINDOWS_1252.new_decoder_without_bom_handling(),
            ))),
            Encoding::Utf16Le => Lines::new(Box::new(Transcode::new(
                whole,
                UTF_16LE.new_decoder_with_bom_removal(),
            ))),
            Encoding::Utf16Be => Lines::new(Box::new(Transcode::new(
                whole,
                UTF_16BE.new_decoder_with_bom_removal(),
            ))),
        };
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
                        super::values::unescape_formula(&v).to_string()
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

fn read_sample(r: &mut Box<dyn Read>) -> Result<Vec<u8>, ReadError> {
    let mut sample = Vec::with_capacity(SAMPLE);
    r.by_ref()
        .take(SAMPLE as u64)
        .read_to_end(&mut sample)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    Ok(sample)
}

fn detect_encoding(sample: &[u8]) -> Encoding {
    if sample.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8Bom;
    }
    if sample.starts_with(&[0xFF, 0xFE]) {
        return Encoding::Utf16Le;
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return Encoding::Utf16Be;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => Encoding::Utf8,
        // Cut inside a character at the end of the sample: still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    }
}

fn refuse_binary(sample: &[u8]) -> Result<(), ReadError> {
    let known: [(&[u8], &str); 5] = [
        (
            b"PK\x03\x04",
            "it is a ZIP archive (an Excel .xlsx workbook or a zipped export: save the sheet as CSV, or unpack the archive)",
        ),
        (
            b"\xD0\xCF\x11\xE0",
            "it is an old Excel (.xls) workbook: save it as CSV",
        ),
        (b"%PDF", "it is a PDF document"),
        (b"\x1F\x8B", "it is gzip-compressed: unpack it first"),
        (b"\x89PNG", "it is a PNG image"),
    ];
    if let Some((_, what)) = known.iter().find(|(magic, _)| sample.starts_with(magic)) {
        return Err(ReadError::NotText((*what).to_string()));
    }
    if sample.contains(&0) {
        return Err(ReadError::NotText(
            "it holds NUL bytes, which text never does (is it a spreadsheet or an image?)".into(),
        ));
    }
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if control * 100 > sample.len() {
        return Err(ReadError::NotText(
            "too many of its bytes are control characters for text".into(),
        ));
    }
    Ok(())
}

fn decode_sample(sample: &[u8], encoding: Encoding) -> String {
    match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => {
            let body = sample.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(sample);
            match std::str::from_utf8(body) {
                Ok(s) => s.to_string(),
                Err(e) => String::from_utf8_lossy(&body[..e.valid_up_to()]).into_owned(),
            }
        }
        Encoding::Windows1252 => WINDOWS_1252.decode_without_bom_handling(sample).0.into(),
        Encoding::Utf16Le => UTF_16LE.decode_with_bom_removal(sample).0.into(),
        Encoding::Utf16Be => UTF_16BE.decode_with_bom_removal(sample).0.into(),
    }
}

/// The delimiter that gives the first lines the most cells, the same number on each.
fn sniff_delimiter(text: &str) -> u8 {
    let mut lines: Vec<String> = text.split('\n').map(|l| l.to_string()).collect();
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

/// Decodes a non-UTF-8 byte stream to UTF-8 as it is read.
struct Transcode {
    inner: Box<dyn Read>,
    decoder: Decoder,
    input: Box<[u8]>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    done: bool,
    output: Box<[u8]>,
    out_pos: usize,
    out_len: usize,
}

impl Transcode {
    fn new(inner: Box<dyn Read>, decoder: Decoder) -> Transcode {
        Transcode {
            inner,
            decoder,
            input: vec![0; 8 * 1024].into_boxed_slice(),
            in_pos: 0,
            in_len: 0,
            eof: false,
            done: false,
            output: vec![0; 32 * 1024].into_boxed_slice(),
            out_pos: 0,
            out_len: 0,
        }
    }
}

impl Read for Transcode {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.in_pos == self.in_len && !self.eof {
                self.in_len = self.inner.read(&mut self.input)?;
                self.in_pos = 0;
                self.eof = self.in_len == 0;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_pos..self.in_len],
                &mut self.output,
                self.eof,
            );
            self.in_pos += read;
            self.out_pos = 0;
            self.out_len = written;
            if self.eof && result == CoderResult::InputEmpty {
                self.done = true;
            }
        }
    }
}

/// One physical line, without its line break; or why it cannot be read.
type Line = Result<String, String>;

/// The lines of a UTF-8 stream, each bounded in length and checked as UTF-8 on its own,
/// so a file that turns out not to be UTF-8 past its start fails only on those rows.
struct Lines {
    reader: BufReader<Box<dyn Read>>,
    buf: Vec<u8>,
}

impl Lines {
    fn new(r: Box<dyn Read>) -> Lines {
        Lines {
            reader: BufReader::with_capacity(64 * 1024, r),
            buf: Vec::new(),
        }
    }

    fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            any = true;
            let (take, end) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > LINE_MAX {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(&available[..take]);
                }
            }
            self.reader.consume(take);
            if end {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if too_long {
            return Ok(Some(Err(format!(
                "a line is longer than {} MiB",
                LINE_MAX >> 20
            ))));
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let bytes = std::mem::take(&mut self.buf);
        Ok(Some(String::from_utf8(bytes).map_err(|_| {
            "it is not valid UTF-8 text, though the file's start is: save the whole file as UTF-8"
                .to_string()
        })))
    }
}

/// Where the parser is within the current cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Fresh,
    Unquoted,
    Quoted,
    Closed,
}

/// One record being assembled from one or more lines.
struct Partial {
    row: u64,
    cells: Vec<String>,
    cell: String,
    state: Cell,
    /// The first quoting fault, if any.
    fault: Option<String>,
    /// The lines after the first, kept to read again when the quoting proves broken.
    rest: Vec<String>,
    size: usize,
}

struct Record {
    row: u64,
    cells: Vec<String>,
}

/// The record parser over a line source, plus lines queued to be read again.
struct Records {
    source: Option<Lines>,
    pending: VecDeque<String>,
    delimiter: u8,
    /// The header's width, once read.
    width: Option<usize>,
    row: u64,
}

impl Records {
    fn new(source: Option<Lines>, pending: VecDeque<String>, delimiter: u8) -> Records {
        Records {
            source,
            pending,
            delimiter,
            width: None,
            row: 0,
        }
    }

    fn line(&mut self) -> Option<Line> {
        if let Some(l) = self.pending.pop_front() {
            return Some(Ok(l));
        }
        match self.source.as_mut()?.next_line() {
            Ok(l) => l,
            Err(e) => {
                // An I/O failure ends the file; it is reported once, on the next row.
                self.source = None;
                Some(Err(format!("the file could not be read further: {e}")))
            }
        }
    }

    fn next_record(&mut self) -> Option<Result<Record, RowError>> {
        let first = self.line()?;
        self.row += 1;
        let row = self.row;
        let fail = |reason: String| {
            Some(Err(RowError {
                file: 0,
                row,
                reason,
            }))
        };
        let first = match first {
            Ok(l) => l,
            Err(reason) => return fail(reason),
        };
        let mut p = Partial {
            row,
            cells: Vec::new(),
            cell: String::new(),
            state: Cell::Fresh,
            fault: None,
            rest: Vec::new(),
            size: first.len(),
        };
        let mut complete = feed(&mut p, &first, self.delimiter);
        while !complete {
            let next = match self.line() {
                None => None,
                Some(Ok(l)) => Some(l),
                Some(Err(reason)) => return fail(reason),
            };
            let Some(next) = next.filter(|_| p.size <= RECORD_MAX) else {
                let column = p.cells.len() + 1;
                self.requeue(p.rest);
                return fail(format!(
                    "the quote that opens cell {column} is never closed"
                ));
            };
            p.size += next.len();
            complete = feed(&mut p, &next, self.delimiter);
            p.rest.push(next);
        }
        if let Some(fault) = p.fault {
            self.requeue(p.rest);
            return Some(Err(RowError {
                file: 0,
                row: p.row,
                reason: fault,
            }));
        }
        Some(Ok(Record {
            row: p.row,
            cells: p.cells,
        }))
    }

    /// Lines swallowed by a broken quote are read again as rows of their own.
    fn requeue(&mut self, lines: Vec<String>) {
        for l in lines.into_iter().rev() {
            self.pending.push_front(l);
        }
    }
}

impl Iterator for Records {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let record = match self.next_record()? {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            let row = record.row;
            let mut cells = record.cells;
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let width = self.width.unwrap_or(cells.len());
            if cells.len() > width && cells[width..].iter().all(|c| c.trim().is_empty()) {
                // A trailing delimiter some tools write after the last cell.
                cells.truncate(width);
            }
            if cells.len() != width {
                return Some(Err(RowError {
                    file: 0,
                    row,
                    reason: format!(
                        "it has {} cells where the header has {width} (check its quotes and delimiters)",
                        cells.len()
                    ),
                }));
            }
            return Some(Ok((row, cells)));
        }
    }
}

/// Continues `p` with one line; whether the record is complete at its end.
fn feed(p: &mut Partial, line: &str, delimiter: u8) -> bool {
    let bytes = line.as_bytes();
    let mut i = 0;
    if p.state == Cell::Quoted {
        p.cell.push('\n');
    }
    loop {
        if p.state == Cell::Quoted {
            match find(bytes, i, b'"') {
                None => {
                    p.cell.push_str(&line[i..]);
                    return false;
                }
                Some(q) => {
                    p.cell.push_str(&line[i..q]);
                    if bytes.get(q + 1) == Some(&b'"') {
                        p.cell.push('"');
                        i = q + 2;
                    } else {
                        p.state = Cell::Closed;
                        i = q + 1;
                    }
                }
            }
            continue;
        }
        if i >= bytes.len() {
            end_cell(p);
            return true;
        }
        let c = bytes[i];
        if c == delimiter {
            end_cell(p);
            i += 1;
            continue;
        }
        match p.state {
            Cell::Fresh if c == b'"' => {
                p.state = Cell::Quoted;
                i += 1;
            }
            Cell::Closed if c == b' ' => i += 1,
            Cell::Closed => {
                if p.fault.is_none() {
                    p.fault = Some(format!(
                        "cell {} has text after its closing quote (a quote inside a quoted cell must be doubled)",
                        p.cells.len() + 1
                    ));
                }
                p.state = Cell::Unquoted;
            }
            _ => {
                let end = find(bytes, i, delimiter).unwrap_or(bytes.len());
                p.cell.push_str(&line[i..end]);
                p.state = Cell::Unquoted;
                i = end;
            }
        }
    }
}

fn end_cell(p: &mut Partial) {
    p.cells.push(std::mem::take(&mut p.cell));
    p.state = Cell::Fresh;
}

fn find(bytes: &[u8], from: usize, b: u8) -> Option<usize> {
    bytes[from..].iter().position(|&x| x == b).map(|i| i + from)
}
