//! CSV downloads, streamed in chunks so memory stays flat at any size. Cells and rows are
//! written by `domain::csv`.
use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use futures_util::Stream;

use crate::domain::csv::row;

/// A download response for a stream of CSV chunks.
pub fn download<S>(name: &str, body: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
{
    let day = chrono::Utc::now().format("%Y-%m-%d");
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}-{day}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

/// Streams `header` and then every chunk `next(after)` returns, each turned into CSV by
/// `write`, until a chunk comes back shorter than `chunk`. `id` gives the keyset position.
pub fn stream<T, F, Fut, W, I>(
    header: &[&str],
    chunk: u64,
    next: F,
    write: W,
    id: I,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static
where
    T: 'static,
    F: Fn(i64) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = Result<Vec<T>, crate::error::AppError>> + 'static,
    W: Fn(&mut String, &T) + Clone + 'static,
    I: Fn(&T) -> i64 + Clone + 'static,
{
    let mut first = String::new();
    row(&mut first, header.iter().copied());
    let chunks = futures_util::stream::unfold(Some(0i64), move |after| {
        let (next, write, id) = (next.clone(), write.clone(), id.clone());
        async move {
            let after = after?;
            match next(after).await {
                Err(e) => Some((Err(actix_web::Error::from(e)), None)),
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let mut out = String::with_capacity(rows.len() * 160);
                    for r in &rows {
                        write(&mut out, r);
                    }
                    let more = (rows.len() as u64) >= chunk;
                    let last = rows.last().map(&id);
                    Some((Ok(Bytes::from(out)), if more { last } else { None }))
                }
            }
        }
    });
    futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(Bytes::from(first)) }),
        chunks,
    )
}
