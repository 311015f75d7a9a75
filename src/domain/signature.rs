//! Stripe's webhook signature scheme, used both ways: to check what Stripe sends
//! (`Stripe-Signature`) and to sign what Cairn sends (`Cairn-Signature`), so a receiver
//! can verify Cairn's deliveries with the code it already has for Stripe's.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`; each `v1` is the lowercase hex
//! HMAC-SHA256 of `"<t>.<raw body>"` keyed with the endpoint's secret (the whole secret
//! string's bytes, `whsec_` prefix included, as Stripe's libraries do).
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a signed timestamp may be from now, either way (Stripe's default).
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature header was refused; the message is safe to show to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No header, or one without `t=` and at least one `v1=`.
    Malformed,
    /// The timestamp is more than `TOLERANCE_SECS` from now.
    Stale,
    /// No `v1` matches any active secret.
    Mismatch,
    /// No secret is configured, so nothing can be verified.
    NoSecret,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Malformed => "The signature header is missing or malformed.",
            Refusal::Stale => "The signature's timestamp is outside the five-minute tolerance.",
            Refusal::Mismatch => "The signature does not match the body.",
            Refusal::NoSecret => "No signing secret is configured for this endpoint.",
        }
    }

    /// A short code for counters and stored reasons.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::Stale => "stale",
            Refusal::Mismatch => "mismatch",
            Refusal::NoSecret => "no_secret",
        }
    }
}

/// The lowercase hex HMAC-SHA256 of `"<t>.<body>"` under `secret`.
pub fn v1(secret: &str, t: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, t, body).finalize().into_bytes())
}

/// The header value for `body` signed at `t` with `secret`: `t=<t>,v1=<hex>`.
pub fn header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", v1(secret, t, body))
}

/// Checks `header` against `body` at `now` (unix seconds): accepted when one of its `v1`
/// values is the signature under one of `secrets` (two may be active during a rotation)
/// and its `t` is within the tolerance. Comparison is constant-time.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&str],
    now: i64,
) -> Result<i64, Refusal> {
    let secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    if secrets.is_empty() {
        return Err(Refusal::NoSecret);
    }
    let (t, signatures) = parse(header.ok_or(Refusal::Malformed)?)?;
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(Refusal::Stale);
    }
    for secret in secrets {
        for sig in &signatures {
            if mac(secret, t, body).verify_slice(sig).is_ok() {
                return Ok(t);
            }
        }
    }
    Err(Refusal::Mismatch)
}

/// `t` and the decoded `v1` values; other schemes (`v0`, Stripe's test-mode extra) are
/// skipped, as Stripe's libraries do. Undecodable `v1` values count as no match.
fn parse(header: &str) -> Result<(i64, Vec<Vec<u8>>), Refusal> {
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => t = Some(value.parse::<i64>().map_err(|_| Refusal::Malformed)?),
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    match t {
        Some(t) if !signatures.is_empty() => Ok((t, signatures)),
        Some(_) => Err(Refusal::Mismatch),
        None => Err(Refusal::Malformed),
    }
}

// HMAC takes a key of any length: `new_from_slice` has no failing case for it.
#[allow(clippy::expect_used)]
fn mac(secret: &str, t: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn a_header_it_signed_verifies() {
        let h = header("whsec_a", NOW, b"{}");
        assert_eq!(verify(Some(&h), b"{}", &["whsec_a"], NOW + 10), Ok(NOW));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_t_dot_body() {
        // Computed independently: python3 -c "hmac.new(b'whsec_test', b'1.{}', sha256)"
        assert_eq!(
            v1("whsec_test", 1, b"{}"),
            "7500d5d4be4b3ef07af1fe56f7d522d135cdaa7530de557e67cc1049c52de094"
        );
    }

    #[test]
    fn the_second_secret_of_a_rotation_verifies() {
        let h = header("new", NOW, b"x");
        assert_eq!(verify(Some(&h), b"x", &["old", "new"], NOW), Ok(NOW));
    }

    #[test]
    fn any_of_several_v1_values_may_match() {
        let h = format!(
            "t={NOW},v1={},v1={}",
            v1("other", NOW, b"x"),
            v1("s", NOW, b"x")
        );
        assert_eq!(verify(Some(&h), b"x", &["s"], NOW), Ok(NOW));
    }

    #[test]
    fn a_changed_body_is_a_mismatch() {
        let h = header("s", NOW, b"x");
        assert_eq!(verify(Some(&h), b"y", &["s"], NOW), Err(Refusal::Mismatch));
    }

    #[test]
    fn a_timestamp_over_five_minutes_old_is_stale() {
        let h = header("s", NOW - 301, b"x");
        assert_eq!(verify(Some(&h), b"x", &["s"], NOW), Err(Refusal::Stale));
    }

    #[test]
    fn a_missing_or_garbled_header_is_malformed() {
        assert_eq!(verify(None, b"x", &["s"], NOW), Err(Refusal::Malformed));
        assert_eq!(
            verify(Some("v1=ab"), b"x", &["s"], NOW),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            verify(Some("t=abc,v1=ab"), b"x", &["s"], NOW),
            Err(Refusal::Malformed)
        );
    }

    #[test]
    fn no_configured_secret_verifies_nothing() {
        let h = header("", NOW, b"x");
        assert_eq!(verify(Some(&h), b"x", &[""], NOW), Err(Refusal::NoSecret));
    }
}
