//! Reading a workspace export back in tests: the ZIP's files, and each CSV as rows of
//! cells by column name.
use std::collections::BTreeMap;
use std::io::Read;

use actix_web::http::Method;

use crate::support::{Client, Response, TestService};

/// The files of an export ZIP, by name, as text.
pub struct Export {
    pub files: BTreeMap<String, String>,
}

/// One CSV file: its header and rows.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Export {
    pub fn read(res: &Response) -> Export {
        assert_eq!(
            res.status,
            200,
            "the export answered {}: {}",
            res.status,
            res.text()
        );
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(res.body.to_vec()))
            .unwrap_or_else(|e| panic!("the export is not a whole ZIP: {e}"));
        let mut files = BTreeMap::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).expect("a ZIP entry");
            let mut text = String::new();
            f.read_to_string(&mut text).expect("a UTF-8 entry");
            files.insert(f.name().expect("a name").to_string(), text);
        }
        Export { files }
    }

    pub fn text(&self, name: &str) -> &str {
        self.files
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in the export: {:?}", self.files.keys()))
    }

    pub fn csv(&self, name: &str) -> Csv {
        let mut rows = parse(self.text(name));
        assert!(!rows.is_empty(), "{name} has no header");
        let header = rows.remove(0);
        Csv { header, rows }
    }

    pub fn workspace(&self) -> serde_json::Value {
        serde_json::from_str(self.text("workspace.json")).expect("workspace.json is JSON")
    }
}

impl Csv {
    /// The row whose `id` (or first) column is `id`.
    pub fn row(&self, id: i64) -> BTreeMap<&str, &str> {
        let row = self
            .rows
            .iter()
            .find(|r| r[0] == id.to_string())
            .unwrap_or_else(|| panic!("no row {id} in {:?}", self.rows));
        self.header
            .iter()
            .map(String::as_str)
            .zip(row.iter().map(String::as_str))
            .collect()
    }

    /// The first column of every row.
    pub fn ids(&self) -> Vec<i64> {
        self.rows
            .iter()
            .map(|r| r[0].parse().expect("an id"))
            .collect()
    }
}

/// RFC 4180 as the export writes it: comma, CRLF, `"` quoting with doubled quotes.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        cell.is_empty() && row.is_empty(),
        "the CSV does not end with CRLF: {text:?}"
    );
    rows
}

/// The export through the API as `token`.
pub async fn export_as(c: &mut Client<impl TestService>, token: &str) -> Response {
    c.api(Method::GET, "/api/v1/export", token, None).await
}
