//! The real SMTP server the email tests send to (tests/smtp/server.py, aiosmtpd), and
//! reading what it received. `scripts/test` starts it and sets `CAIRN_TEST_SMTP`
//! (host:port) and `CAIRN_TEST_MAILDIR`; without them the tests start it themselves
//! (aiosmtpd from `target/python`, where scripts/test installs it, or from the system)
//! and fail, loudly, when they cannot.
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cairn::domain::{Actor, Db};
use cairn::mail::settings::{self, Form};

pub(crate) struct Smtp {
    pub addr: String,
    pub maildir: PathBuf,
    /// The server this test binary started, if it did (it exits when the binary does).
    _server: Option<std::process::Child>,
}

static SMTP: OnceLock<Smtp> = OnceLock::new();

pub(crate) fn smtp() -> &'static Smtp {
    SMTP.get_or_init(|| match std::env::var("CAIRN_TEST_SMTP") {
        Ok(addr) => {
            let maildir = std::env::var("CAIRN_TEST_MAILDIR").expect(
                "CAIRN_TEST_SMTP is set but CAIRN_TEST_MAILDIR (where it saves mail) is not",
            );
            Smtp {
                addr,
                maildir: maildir.into(),
                _server: None,
            }
        }
        Err(_) => start(),
    })
}

fn start() -> Smtp {
    let port = crate::cli::free_port();
    let maildir = std::env::temp_dir().join(format!("cairn-mail-{}", std::process::id()));
    let child = crate::python_server::start(
        "smtp/server.py",
        &["127.0.0.1", &port.to_string(), &maildir.to_string_lossy()],
        "it needs aiosmtpd: `python3 -m pip install --target target/python aiosmtpd`, \
         or run scripts/test, or set CAIRN_TEST_SMTP and CAIRN_TEST_MAILDIR",
    );
    Smtp {
        addr: format!("127.0.0.1:{port}"),
        maildir,
        _server: Some(child),
    }
}

/// An address no other test sends to, so tests sharing the server read only their mail.
pub(crate) fn unique_address(who: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{who}-{}-{n}@example.com", std::process::id())
}

/// Every message the server saved for `to`, as text (envelope lines first).
pub(crate) fn messages_to(to: &str) -> Vec<String> {
    let needle = to.to_lowercase();
    let mut found: Vec<(String, String)> = std::fs::read_dir(&smtp().maildir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            let envelope_to = text.lines().nth(1)?.to_lowercase();
            envelope_to
                .contains(&needle)
                .then(|| (e.file_name().to_string_lossy().into_owned(), text))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, t)| t).collect()
}

/// Waits up to 20 s for `n` messages to `to`.
pub(crate) async fn wait_for_mail(to: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = messages_to(to);
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{n} message(s) to {to} never arrived at the test SMTP server (got {})",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A message's text with quoted-printable soft line breaks joined, for looking for words.
pub(crate) fn unfolded(message: &str) -> String {
    message.replace("=\r\n", "").replace("=\n", "")
}

/// The test server's URL (plain SMTP: it is on this machine), short timeouts.
pub(crate) fn test_server_url() -> String {
    format!("smtp://{}?tls=none&timeout=5", smtp().addr)
}

/// A URL where nothing listens: the server is down.
pub(crate) fn down_server_url() -> String {
    format!(
        "smtp://127.0.0.1:{}?tls=none&timeout=2",
        crate::cli::free_port()
    )
}

/// Settings → Email as `admin` saves it, and the organisation's name (Settings →
/// Organisation) the emails carry.
pub(crate) async fn configure(db: &Db, admin: &Actor, smtp_url: &str, from: &str, org: &str) {
    let form = Form {
        smtp_url: smtp_url.into(),
        mail_from: from.into(),
        ..Default::default()
    };
    settings::save(db, admin, &form)
        .await
        .unwrap_or_else(|e| panic!("save the email settings {smtp_url}: {e:?}"));
    cairn::domain::settings::set(&db.write, settings::ORG_NAME, org)
        .await
        .expect("set the organisation's name");
}
