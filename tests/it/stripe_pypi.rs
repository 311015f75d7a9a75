//! Cairn's signature scheme is Stripe's: a header made by `signature::header` is accepted
//! by Stripe's own Python library (`stripe.Webhook.construct_event`, PyPI's `stripe`,
//! installed by scripts/test into target/python). Fails, never skips, when python3 or the
//! package is missing.
use std::io::Write;
use std::process::{Command, Stdio};

use cairn::domain::signature;

use crate::stripe_in::{invoice_paid, now};

const SECRET: &str = "whsec_checked_by_stripe_python";

/// Runs tests/stripe/verify.py; (exit success, what it printed).
fn stripe_python(secret: &str, header: &str, body: &str) -> (bool, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new("python3")
        .arg(format!("{root}/tests/stripe/verify.py"))
        .args([secret, header])
        .env("PYTHONPATH", format!("{root}/target/python"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("tests/stripe/verify.py needs python3: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "the stripe package is missing (scripts/test installs it into target/python): {stderr}"
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

#[test]
fn stripe_s_library_accepts_a_header_cairn_signed() {
    let body = invoice_paid("evt_pypi", "cus_1", "a@example.com", 100, "usd", now());
    let header = signature::header(SECRET, now(), body.as_bytes());
    let (ok, said) = stripe_python(SECRET, &header, &body);
    assert!(
        ok,
        "stripe.Webhook.construct_event refused Cairn's header {header}: {said}"
    );
    assert_eq!(said, "ok evt_pypi");
}

#[test]
fn stripe_s_library_refuses_cairn_s_header_over_another_body() {
    let body = invoice_paid("evt_pypi", "cus_1", "a@example.com", 100, "usd", now());
    let header = signature::header(SECRET, now(), body.as_bytes());
    let (ok, said) = stripe_python(SECRET, &header, &body.replace("100", "999"));
    assert!(
        !ok && said.starts_with("refused"),
        "a changed body must fail: {said}"
    );
}
