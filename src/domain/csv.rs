//! CSV cells and rows as every download writes them (record lists, reports, the workspace
//! export), and the one rule that reads an escaped cell back (`unescape`, for re-imports).
//! UTF-8, comma-separated, CRLF line ends.

/// One CSV field. Quotes what needs quoting, and defuses text a spreadsheet would run as
/// a formula (`=`, `+`, `-`, `@` at the start) by prefixing a single quote.
pub fn field(out: &mut String, value: &str) {
    let defused = escaped(value);
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

/// A cell as `field` wrote it, its defusing quote removed: `'=1+2` is `=1+2` again, and
/// any other cell is itself.
pub fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if escaped(rest) => rest,
        _ => cell,
    }
}

/// Whether `field` puts a quote in front of `value`: a formula, or a value that already
/// starts with a quote in front of one (`'=x`), so that `unescape` can tell a defused
/// formula from text that began with a quote.
fn escaped(value: &str) -> bool {
    is_formula(value) || value.strip_prefix('\'').is_some_and(escaped)
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

/// One row: its fields, comma-separated, then CRLF.
pub fn row<'a>(out: &mut String, values: impl IntoIterator<Item = &'a str>) {
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, v);
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::{field, unescape};

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

    /// The cell as a CSV reader gives it (outer quotes and doubled quotes undone).
    fn read_back(written: &str) -> String {
        let inner = written
            .strip_prefix('"')
            .and_then(|w| w.strip_suffix('"'))
            .map(|w| w.replace("\"\"", "\""))
            .unwrap_or_else(|| written.to_string());
        unescape(&inner).to_string()
    }

    #[test]
    fn every_value_reads_back_as_it_was_written() {
        for v in [
            "=1+2", "'=1+2", "''=1+2", "'quoted'", "'", "@x", "+1 555", "-3", "plain", "",
            "a,\"b\"",
        ] {
            assert_eq!(read_back(&cell(v)), v, "{v:?} was written as {:?}", cell(v));
        }
    }
}
