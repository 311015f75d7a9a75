//! The record parser: cells from lines, quoted cells across lines, and a row's quoting
//! fault reported for that row with the lines it swallowed read again.
use std::collections::VecDeque;

use super::decode::{Line, Lines};
use super::{Row, RowError};

/// A quoted cell still open after this much text is taken for a quote never closed.
const RECORD_MAX: usize = 1 << 20;

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

pub(super) struct Record {
    pub(super) row: u64,
    pub(super) cells: Vec<String>,
}

/// The record parser over a line source, plus lines queued to be read again.
pub(super) struct Records {
    source: Option<Lines>,
    pending: VecDeque<String>,
    delimiter: u8,
    /// The header's width, once read.
    pub(super) width: Option<usize>,
    row: u64,
}

impl Records {
    pub(super) fn new(source: Option<Lines>, pending: VecDeque<String>, delimiter: u8) -> Records {
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

    pub(super) fn next_record(&mut self) -> Option<Result<Record, RowError>> {
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
            let next = match (p.size <= RECORD_MAX).then(|| self.line()).flatten() {
                None => None,
                Some(Ok(l)) => Some(l),
                Some(Err(reason)) => return fail(reason),
            };
            let Some(next) = next else {
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
