//! Reading import files: encodings, delimiters, quoting, per-row errors, refused files.
use std::io::Cursor;

use cairn::domain::import::read::{CsvFile, Encoding, ReadError, Row, RowError};

fn open(bytes: &[u8]) -> CsvFile {
    match CsvFile::open(Cursor::new(bytes.to_vec())) {
        Ok(f) => f,
        Err(e) => panic!("the file should open: {e}"),
    }
}

fn rows(bytes: &[u8]) -> Vec<Result<Row, RowError>> {
    open(bytes).rows().collect()
}

fn ok(row: u64, cells: &[&str]) -> Result<Row, RowError> {
    Ok((row, cells.iter().map(|c| c.to_string()).collect()))
}

fn refused(bytes: &[u8]) -> ReadError {
    match CsvFile::open(Cursor::new(bytes.to_vec())) {
        Ok(f) => panic!("the file should be refused, got headers {:?}", f.headers()),
        Err(e) => e,
    }
}

#[test]
fn utf8_with_bom_reads_headers_without_the_bom() {
    let f = open(b"\xEF\xBB\xBFRecord ID,First Name\r\n1,Zo\xC3\xAB\r\n");
    assert_eq!(f.encoding(), Encoding::Utf8Bom);
    assert_eq!(f.headers(), ["Record ID", "First Name"]);
    assert_eq!(f.rows().collect::<Vec<_>>(), vec![ok(2, &["1", "Zoë"])]);
}

#[test]
fn latin1_is_detected_and_decoded() {
    let f = open(b"Id,LastName\r\n1,M\xFCller\r\n2,Fran\xE7ois\r\n");
    assert_eq!(f.encoding(), Encoding::Windows1252);
    let got: Vec<_> = f.rows().collect();
    assert_eq!(
        got,
        vec![ok(2, &["1", "Müller"]), ok(3, &["2", "François"])]
    );
}

#[test]
fn utf16_with_bom_is_decoded() {
    let mut bytes = vec![0xFF, 0xFE];
    for u in "a;b\r\nx;ÿ\r\n".encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let f = open(&bytes);
    assert_eq!(f.encoding(), Encoding::Utf16Le);
    assert_eq!(f.delimiter(), ';');
    assert_eq!(f.rows().collect::<Vec<_>>(), vec![ok(2, &["x", "ÿ"])]);
}

#[test]
fn semicolon_tab_and_pipe_delimiters_are_sniffed() {
    for (d, text) in [
        (';', "name;amount\nAcme;1,5\nBeta;2,25\n"),
        ('\t', "name\tamount\nAcme, Inc.\t1\n"),
        ('|', "name|amount\nAcme;x|1\n"),
        (',', "name,note\nAcme,\"a;b;c\"\n"),
    ] {
        let f = open(text.as_bytes());
        assert_eq!(f.delimiter(), d, "for {text:?}");
        assert!(f.rows().all(|r| r.is_ok()), "rows of {text:?} should read");
    }
}

#[test]
fn quoted_newlines_and_doubled_quotes_make_one_row() {
    let got = rows(b"id,note\r\n1,\"line one\r\nsaid \"\"hi\"\"\"\r\n2,plain\r\n");
    assert_eq!(
        got,
        vec![
            ok(2, &["1", "line one\nsaid \"hi\""]),
            ok(3, &["2", "plain"])
        ]
    );
}

#[test]
fn text_after_a_closing_quote_fails_that_row_only() {
    let got = rows(b"id,name\n1,\"Acme\"x\n2,Beta\n");
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        matches!(&got[0], Err(e) if e.row == 2 && e.reason.contains("closing quote")),
        "{got:?}"
    );
    assert_eq!(got[1], ok(3, &["2", "Beta"]));
}

#[test]
fn an_unclosed_quote_fails_its_row_and_the_next_rows_still_read() {
    let got = rows(b"id,name\n1,\"Acme\n2,Beta\n3,Gamma\n");
    assert!(
        matches!(&got[0], Err(e) if e.row == 2 && e.reason.contains("never closed")),
        "{got:?}"
    );
    assert_eq!(&got[1..], &[ok(3, &["2", "Beta"]), ok(4, &["3", "Gamma"])]);
}

#[test]
fn an_unclosed_quote_in_a_big_file_gives_up_after_a_mebibyte_and_loses_no_row() {
    let mut bytes = b"id,name\n1,\"open\n".to_vec();
    for i in 0..20_000 {
        bytes.extend_from_slice(format!("{i},{}\n", "x".repeat(60)).as_bytes());
    }
    let got = rows(&bytes);
    assert!(
        matches!(&got[0], Err(e) if e.row == 2 && e.reason.contains("never closed")),
        "{:?}",
        got[0]
    );
    assert_eq!(
        got.len(),
        20_001,
        "the unclosed row, then every line it swallowed"
    );
    assert!(
        got[1..].iter().all(|r| r.is_ok()),
        "the swallowed lines read as rows"
    );
    assert!(
        matches!(got.last(), Some(Ok((20_002, _)))),
        "{:?}",
        got.last().map(|r| r.as_ref().map(|r| r.0))
    );
}

#[test]
fn a_quote_closed_rows_later_fails_the_row_and_rereads_the_swallowed_lines() {
    let got = rows(b"id,name\n1,\"Acme\n2,Beta\n3,\"Gamma\"x,\n4,Delta\n");
    assert!(matches!(&got[0], Err(e) if e.row == 2), "{got:?}");
    assert_eq!(got[1], ok(3, &["2", "Beta"]));
    assert!(matches!(&got[2], Err(e) if e.row == 4), "{got:?}");
    assert_eq!(got[3], ok(5, &["4", "Delta"]));
}

#[test]
fn a_row_with_the_wrong_number_of_cells_fails_alone() {
    let got = rows(b"a,b,c\n1,2\n1,2,3,4\n1,2,3,\n1,2,3\n");
    assert!(
        matches!(&got[0], Err(e) if e.row == 2 && e.reason.contains("2 cells")),
        "{got:?}"
    );
    assert!(
        matches!(&got[1], Err(e) if e.row == 3 && e.reason.contains("4 cells")),
        "{got:?}"
    );
    assert_eq!(
        &got[2..],
        &[ok(4, &["1", "2", "3"]), ok(5, &["1", "2", "3"])]
    );
}

#[test]
fn old_mac_files_with_carriage_returns_only_read_line_by_line() {
    let got = rows(b"a,b\r1,\"x\ry\"\r3,4\r");
    assert_eq!(got, vec![ok(2, &["1", "x\ny"]), ok(3, &["3", "4"])]);
}

#[test]
fn blank_rows_are_passed_over_but_counted() {
    let got = rows(b"a,b\n\n1,2\n,\n3,4\n\n");
    assert_eq!(got, vec![ok(3, &["1", "2"]), ok(5, &["3", "4"])]);
}

#[test]
fn a_utf8_file_with_a_latin1_row_fails_that_row() {
    // The start must be UTF-8 for the whole 64 KiB sample; pad it.
    let mut padded = b"id,name\n".to_vec();
    for i in 0..5000 {
        padded.extend_from_slice(format!("{i},Zoë Ängström\n").as_bytes());
    }
    padded.extend_from_slice(b"x,M\xFCller\ny,Ok\n");
    let got = rows(&padded);
    let bad: Vec<_> = got.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(bad.len(), 1, "one row is not UTF-8: {bad:?}");
    assert_eq!(bad[0].row, 5002);
    assert!(bad[0].reason.contains("UTF-8"), "{}", bad[0].reason);
    assert_eq!(got.last(), Some(&ok(5003, &["y", "Ok"])));
}

#[test]
fn binary_files_are_refused_up_front() {
    assert!(matches!(refused(b"PK\x03\x04\x14\0\0\0"), ReadError::NotText(m) if m.contains("ZIP")));
    assert!(
        matches!(refused(b"id,name\n1,\0\0\x01\x02\n"), ReadError::NotText(m) if m.contains("NUL"))
    );
    assert_eq!(refused(b""), ReadError::Empty);
}

#[test]
fn a_header_with_a_broken_quote_refuses_the_file() {
    assert!(matches!(refused(b"\"id,name\n"), ReadError::Header(_)));
}

/// A measurement, run by hand (`cargo test --test it reading_100k -- --ignored
/// --nocapture`): reading and mapping 100 000 HubSpot contact rows, some with quoted
/// cells, must not be what makes an import of that size slow.
#[test]
#[ignore = "a measurement run by hand, not a test: cargo test --test it reading_ -- --ignored --nocapture"]
fn reading_100k_rows_measured() {
    use cairn::domain::import::{presets, read::mapped};
    let mut text = String::from(
        "\u{FEFF}Record ID,First Name,Last Name,Email,Phone Number,Contact owner,Job Title,Associated Company,Associated Company IDs,Create Date,Lifecycle Stage\r\n",
    );
    for i in 0..100_000 {
        text.push_str(&format!(
            "{i},Zoë,Müller-{i},zoe{i}@example.com,+49 30 {i},Jane Doe,\"Head of Sales, EMEA\",\"Müller & Söhne, GmbH\",{};{},2023-11-02 14:35,customer\r\n",
            i % 5000,
            i % 7000
        ));
    }
    let bytes = text.into_bytes();
    let size = bytes.len();
    let started = std::time::Instant::now();
    let file = CsvFile::open(Cursor::new(bytes)).unwrap();
    let spec = presets::describe("all-contacts.csv", file.headers(), None, None, &[]).unwrap();
    let mut count = 0;
    for row in mapped(0, &spec, file.rows()) {
        let row = row.unwrap();
        count += row.values.len();
    }
    let took = started.elapsed();
    assert_eq!(count, 100_000 * 10, "every mapped cell of every row");
    println!(
        "read and mapped 100000 rows ({} MB) in {took:?}",
        size / 1_000_000
    );
}

/// Rows made as they are read, so the file exists nowhere whole.
struct Generated {
    next: u64,
    rows: u64,
    pending: Vec<u8>,
}

impl std::io::Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() && self.next <= self.rows {
            self.pending = if self.next == 0 {
                b"id,email,name,note\r\n".to_vec()
            } else {
                let i = self.next;
                format!("{i},u{i}@example.com,Zoë {i},\"a note, with a comma\r\nand a line\"\r\n")
                    .into_bytes()
            };
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A measurement, run by hand: 2 000 000 rows (about 150 MB) stream through in the
/// memory of a few buffers.
#[test]
#[ignore = "a measurement run by hand, not a test: cargo test --test it reading_ -- --ignored --nocapture"]
fn reading_2m_rows_streams_in_constant_memory() {
    let before = peak_rss_kb();
    let started = std::time::Instant::now();
    let file = CsvFile::open(Generated {
        next: 0,
        rows: 2_000_000,
        pending: Vec::new(),
    })
    .unwrap();
    let read = file.rows().filter(|r| r.is_ok()).count();
    assert_eq!(read, 2_000_000);
    let grew = peak_rss_kb().saturating_sub(before);
    println!(
        "2000000 rows in {:?}, peak RSS grew by {grew} kB",
        started.elapsed()
    );
    assert!(
        grew < 50_000,
        "reading should not hold the file: peak RSS grew by {grew} kB"
    );
}

#[test]
fn a_short_utf8_file_with_a_latin1_row_fails_that_row_and_reads_the_others() {
    let got = rows(b"id,name\n1,Zo\xC3\xAB\n2,M\xFCller\n3,\xC3\x85sa\n");
    assert_eq!(got[0], ok(2, &["1", "Zoë"]));
    assert!(got[1].is_err(), "the Latin-1 row fails: {got:?}");
    assert_eq!(got[2], ok(4, &["3", "Åsa"]));
}
