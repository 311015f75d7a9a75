//! Reading the values of import files: dates and times, Salesforce ids, lists, booleans
//! and money in the forms the exports write them. Each parser answers a message the
//! user understands, since it ends up in the row-by-row report.

/// Undoes the formula escaping of Cairn's export (`src/web/csv.rs` `field`): a leading
/// `'` is removed only where the export would have put it, so a value that really starts
/// with a quote survives.
pub fn unescape_formula(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if is_formula(rest) => rest,
        _ => value,
    }
}

/// The export's own test of what a spreadsheet would run as a formula.
fn is_formula(value: &str) -> bool {
    let mut chars = value.chars();
    match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !chars.all(|c| c.is_ascii_digit() || " ().-".contains(c)),
        _ => false,
    }
}
