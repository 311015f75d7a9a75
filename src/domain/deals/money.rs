//! Money: amounts in integer minor units with an ISO 4217 currency, shown in the
//! currency's own decimals.

use std::collections::BTreeMap;

/// ISO 4217 codes in use.
pub const CURRENCIES: [&str; 40] = [
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK",
    "HUF", "RON", "BGN", "ISK", "TRY", "ILS", "AED", "SAR", "INR", "CNY", "HKD", "SGD", "KRW",
    "TWD", "THB", "MYR", "IDR", "PHP", "VND", "BRL", "MXN", "ARS", "CLP", "COP", "ZAR", "NGN",
    "KES",
];

/// The largest amount a deal may have, in minor units (a hundred billion in major units):
/// far beyond any deal. A sum in SQL overflows only past some 900 000 deals at this cap,
/// and the sums added up here saturate.
pub const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// `123456, "EUR"` → "EUR 1,234.56".
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let scale = 10u64.pow(decimals(currency));
    let (units, fraction) = (m / scale, m % scale);
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match decimals(currency) {
        0 => format!("{currency} {sign}{grouped}"),
        _ => format!("{currency} {sign}{grouped}.{fraction:02}"),
    }
}

/// Currencies whose minor unit is the unit itself (ISO 4217 exponent 0).
pub const WHOLE_CURRENCIES: [&str; 5] = ["JPY", "KRW", "VND", "CLP", "ISK"];

/// Digits after the decimal point in `currency` (an amount's minor units per unit is
/// 10 to this).
pub fn decimals(currency: &str) -> u32 {
    if WHOLE_CURRENCIES.contains(&currency) {
        0
    } else {
        2
    }
}

/// Amounts in several currencies, e.g. "EUR 1,540.00 + USD 9.99".
pub fn sums_text(sums: &BTreeMap<String, i64>) -> String {
    if sums.is_empty() {
        return money(0, "");
    }
    sums.iter()
        .map(|(c, a)| money(*a, c))
        .collect::<Vec<_>>()
        .join(" + ")
}
