//! From bytes to UTF-8 lines: the encoding found from the file's start, bytes in other
//! encodings decoded as they stream, files that are not text refused.
use std::io::{BufRead, BufReader, Read};

use encoding_rs::{CoderResult, Decoder, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::ReadError;

/// How much of the file decides its encoding, delimiter and whether it is text.
const SAMPLE: usize = 64 * 1024;
/// A longer line is refused: no text export has one, and reading it whole could exhaust
/// memory on a file that is not what it claims to be.
const LINE_MAX: usize = 4 << 20;

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

pub(super) fn read_sample(r: &mut Box<dyn Read>) -> Result<Vec<u8>, ReadError> {
    let mut sample = Vec::with_capacity(SAMPLE);
    r.by_ref()
        .take(SAMPLE as u64)
        .read_to_end(&mut sample)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    Ok(sample)
}

pub(super) fn detect_encoding(sample: &[u8]) -> Encoding {
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
        // UTF-8 text with a row saved in another encoding: read as Latin-1 its UTF-8
        // names would all come out garbled ("ZoÃ«"); as UTF-8, that row alone fails.
        Err(_) if has_utf8_letters(sample) => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    }
}

/// Whether `sample` holds any character of more than one UTF-8 byte (bytes of Latin-1
/// text, "Müller", hardly ever form one).
fn has_utf8_letters(sample: &[u8]) -> bool {
    sample
        .utf8_chunks()
        .any(|c| c.valid().bytes().any(|b| b >= 0x80))
}

pub(super) fn refuse_binary(sample: &[u8]) -> Result<(), ReadError> {
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

pub(super) fn decode_sample(sample: &[u8], encoding: Encoding) -> String {
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

/// Decodes a non-UTF-8 byte stream to UTF-8 as it is read.
pub(super) struct Transcode {
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
    pub(super) fn new(inner: Box<dyn Read>, decoder: Decoder) -> Transcode {
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
pub(super) type Line = Result<String, String>;

/// The lines of a UTF-8 stream, each bounded in length and checked as UTF-8 on its own,
/// so a file that turns out not to be UTF-8 past its start fails only on those rows.
pub(super) struct Lines {
    reader: BufReader<Box<dyn Read>>,
    buf: Vec<u8>,
    /// `\n`, or `\r` for the files old Excel for Mac writes with nothing else.
    newline: u8,
}

impl Lines {
    pub(super) fn new(r: Box<dyn Read>, newline: u8) -> Lines {
        Lines {
            reader: BufReader::with_capacity(64 * 1024, r),
            buf: Vec::new(),
            newline,
        }
    }

    pub(super) fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            any = true;
            let (take, end) = match available.iter().position(|&b| b == self.newline) {
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
        if self.buf.last() == Some(&self.newline) {
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
