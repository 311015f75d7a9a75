//! CSV downloads, streamed in chunks so memory stays flat at any size.
use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use futures_util::Stream;

/// One CSV field. Quotes what needs quoting, and defuses text a spreadsheet would run as
/// a formula (`=`, `+`, `-`, `@` at the start) by prefixing a single quote.
pub fn field(out: &mut String, value: &str) {
    let defused = is_formula(value);
    let needs_quotes = defused || value.contains([',', '"', '\n', '\r']);
    if needs_quotes {
        out.push('"');
        if defused {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Whether a spreadsheet would run `value` as a formula. A leading `+` or `-` followed
/// only by digits, spaces and `().-` is a phone number or a number ("+1 555 0100",
/// "-42.5"): it calls nothing, and a quote in front would show in the sheet and break a
/// re-import.
fn is_formula(value: &str) -> bool {
    let mut chars = value.chars();
    match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !chars.all(|c| c.is_ascii_digit() || " ().-".contains(c)),
        _ => false,
    }
}

pub fn row<'a>(out: &mut String, values: impl IntoIterator<Item = &'a str>) {
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, v);
    }
    out.push_str("\r\n");
}

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

#[cfg(test)]
mod tests {
    use super::field;

    fn cell(value: &str) -> String {
        let mut out = String::new();
        field(&mut out, value);
        out
    }

    #[test]
    fn phone_numbers_and_negative_numbers_are_written_as_they_are() {
        assert_eq!(cell("+1 555 0100"), "+1 555 0100");
        assert_eq!(cell("+44 (20) 7946-0958"), "+44 (20) 7946-0958");
        assert_eq!(cell("-42.5"), "-42.5");
    }

    #[test]
    fn formulas_are_defused_with_a_quote() {
        assert_eq!(cell("=1+2"), "\"'=1+2\"");
        assert_eq!(cell("+cmd|' /C calc'!A0"), "\"'+cmd|' /C calc'!A0\"");
        assert_eq!(cell("-2+3+cmd|x"), "\"'-2+3+cmd|x\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
    }
}
