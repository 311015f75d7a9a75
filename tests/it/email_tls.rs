//! Email over TLS to a real SMTP server: STARTTLS (`smtp://`) and TLS from the first
//! byte (`smtps://`), with the server's certificate issued by a private certificate
//! authority that the URL's `ca=` trusts; without it the certificate is refused.
use std::path::PathBuf;
use std::process::Child;

use cairn::mail::smtp::{self, Outgoing, SmtpUrl};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

use crate::email_server::unfolded;

/// A certificate authority and a certificate for `localhost` it issued, as PEM files in
/// a directory removed on drop.
struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Pki {
    fn new() -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let dir = std::env::temp_dir().join(format!(
            "cairn-tls-{}-{}",
            std::process::id(),
            crate::cli::free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

/// tests/smtp/server.py speaking TLS (`mode`: `--starttls` or `--tls`), stopped on drop.
struct TlsServer {
    port: u16,
    maildir: PathBuf,
    child: Child,
}

impl TlsServer {
    fn start(pki: &Pki, mode: &str) -> TlsServer {
        let port = crate::cli::free_port();
        let maildir = pki.dir.join("mail");
        let (cert, key) = (pki.path("cert.pem"), pki.path("key.pem"));
        let child = crate::python_server::start(
            "smtp/server.py",
            &[
                "127.0.0.1",
                &port.to_string(),
                &maildir.to_string_lossy(),
                mode,
                &cert,
                &key,
            ],
            "it needs aiosmtpd in target/python, as scripts/test installs it",
        );
        TlsServer {
            port,
            maildir,
            child,
        }
    }

    fn saved(&self) -> Vec<String> {
        std::fs::read_dir(&self.maildir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn send(url: &str) -> Result<String, String> {
    let smtp = SmtpUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let from = "Cairn <cairn@localhost>".parse().unwrap();
    let m = Outgoing {
        from: &from,
        to: "ana@example.com",
        subject: "Over TLS",
        html: "<p>Sent <strong>encrypted</strong></p>",
        text: "Sent encrypted",
    };
    smtp::send(&smtp, &m).await
}

#[actix_web::test]
async fn starttls_delivers_to_a_server_whose_authority_is_trusted() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "--starttls");
    let url = format!(
        "smtp://localhost:{}?ca={}&timeout=5",
        server.port,
        pki.path("ca.pem")
    );
    let answer = send(&url).await.expect("sent over STARTTLS");
    assert!(answer.starts_with("250"), "the server's answer: {answer}");
    let saved = server.saved();
    assert_eq!(saved.len(), 1, "one message arrives");
    let text = unfolded(&saved[0]);
    assert!(text.contains("X-Envelope-To: ana@example.com"));
    assert!(text.contains("Sent encrypted") && text.contains("<strong>encrypted</strong>"));
}

#[actix_web::test]
async fn smtps_delivers_over_tls_from_the_first_byte() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "--tls");
    let url = format!(
        "smtps://localhost:{}?ca={}&timeout=5",
        server.port,
        pki.path("ca.pem")
    );
    let answer = send(&url).await.expect("sent over smtps");
    assert!(answer.starts_with("250"), "the server's answer: {answer}");
    assert_eq!(server.saved().len(), 1, "one message arrives");
}

#[actix_web::test]
async fn a_certificate_from_an_unknown_authority_is_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "--starttls");
    let url = format!("smtp://localhost:{}?timeout=5", server.port);
    let err = send(&url)
        .await
        .expect_err("an untrusted certificate must fail");
    assert!(
        err.to_lowercase().contains("certificate"),
        "the error should say the certificate is the problem: {err}"
    );
    assert!(server.saved().is_empty(), "nothing may be sent in clear");
}

#[test]
fn a_ca_file_that_cannot_be_read_is_refused_with_its_path() {
    let err = SmtpUrl::parse("smtp://mail.example.com?ca=/nonexistent/ca.pem").unwrap_err();
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}

#[test]
fn the_ca_option_survives_being_shown_and_read_again() {
    let pki = Pki::new();
    let url = SmtpUrl::parse(&format!(
        "smtp://mail.example.com?ca={}",
        pki.path("ca.pem")
    ))
    .unwrap();
    assert_eq!(SmtpUrl::parse(&url.shown()).unwrap(), url);
}
