//! The ZIP as it is written: entries deflated one after another into a stream that never
//! seeks back (sizes follow each entry in a data descriptor), its bytes handed to a bounded
//! channel whenever `SEND_AT` of them have gathered. The zip writer is synchronous, the
//! reads are not: it writes into a shared buffer, and the async side empties the buffer
//! into the channel between chunks, waiting there while the reader is behind.
use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, Timelike};
use tokio::sync::mpsc::Sender;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

use crate::error::AppError;

/// What the channel carries: the ZIP's next bytes, or the error that ended it (sent by
/// whoever runs the export, so a download is cut off rather than ended as if complete).
pub type Chunk = Result<Vec<u8>, AppError>;

/// Bytes gathered before they are sent.
const SEND_AT: usize = 64 * 1024;

/// The buffer the zip writer writes into.
struct Pipe(Arc<Mutex<Vec<u8>>>);

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut buf = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("the export's buffer was poisoned"))?;
        buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct Zip<'a> {
    zip: ZipWriter<StreamWriter<Pipe>>,
    buf: Arc<Mutex<Vec<u8>>>,
    to: &'a Sender<Chunk>,
    options: SimpleFileOptions,
}

fn zip_error(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("writing the export's ZIP: {e}"))
}

impl<'a> Zip<'a> {
    pub fn new(to: &'a Sender<Chunk>) -> Zip<'a> {
        let buf = Arc::new(Mutex::new(Vec::with_capacity(2 * SEND_AT)));
        let now = chrono::Utc::now();
        let mut options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            // Zip64 sizes: a table past 4 GiB would otherwise fail at its end, and a
            // stream cannot go back to widen them.
            .large_file(true);
        // The ZIP's own times are local times without a zone; UTC is what every other
        // time in the export is.
        if let Ok(t) = zip::DateTime::from_date_and_time(
            u16::try_from(now.year()).unwrap_or(1980),
            now.month() as u8,
            now.day() as u8,
            now.hour() as u8,
            now.minute() as u8,
            now.second() as u8,
        ) {
            options = options.last_modified_time(t);
        }
        Zip {
            zip: ZipWriter::new_stream(Pipe(buf.clone())),
            buf,
            to,
            options,
        }
    }

    /// Starts the next entry.
    pub fn file(&mut self, name: &str) -> Result<(), AppError> {
        self.zip.start_file(name, self.options).map_err(zip_error)
    }

    /// Adds `data` to the current entry, sending what has gathered.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
        self.zip.write_all(data).map_err(zip_error)?;
        self.send(SEND_AT).await
    }

    /// Ends the ZIP (the central directory) and sends the rest.
    pub async fn finish(self) -> Result<(), AppError> {
        let Zip { zip, buf, to, .. } = self;
        zip.finish().map_err(zip_error)?;
        Zip::send_from(&buf, to, 1).await
    }

    async fn send(&self, at_least: usize) -> Result<(), AppError> {
        Zip::send_from(&self.buf, self.to, at_least).await
    }

    async fn send_from(
        buf: &Mutex<Vec<u8>>,
        to: &Sender<Chunk>,
        at_least: usize,
    ) -> Result<(), AppError> {
        let bytes = {
            let mut buf = buf.lock().map_err(zip_error)?;
            if buf.len() < at_least {
                return Ok(());
            }
            std::mem::replace(&mut *buf, Vec::with_capacity(2 * SEND_AT))
        };
        to.send(Ok(bytes))
            .await
            .map_err(|_| AppError::BadRequest("The export's download was cancelled.".into()))
    }
}
