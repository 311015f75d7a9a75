//! `cairn import`: the real binary imports a file, prints the report, and exits non-zero
//! when a row fails.
use std::process::Output;

use crate::cli::cairn;
use crate::import_given::with_admin;
use crate::support::TestApp;

fn csv_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cairn-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}-{name}", rand_suffix()));
    std::fs::write(&path, text).unwrap();
    path
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Runs `cairn import` on a file `name` holding `text`, with the further `args`.
fn import(app: &TestApp, name: &str, text: &str, args: &[&str]) -> Output {
    let path = csv_file(name, text);
    cairn(&app.url)
        .arg("import")
        .arg(&path)
        .args(args)
        .output()
        .unwrap()
}

/// What a command that must have succeeded printed.
fn printed_ok(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[actix_web::test]
async fn the_command_imports_and_reports() {
    let (app, _) = with_admin().await;
    let text = "first_name,last_name,email\r\nAna,Lima,ana@example.com\r\n";
    let out = import(
        &app,
        "people.csv",
        text,
        &["--type", "contacts", "--preset", "generic"],
    );
    let text = printed_ok(&out);
    assert!(text.contains("contacts: 1 rows, 1 created"), "{text}");
    assert_eq!(app.count("contacts").await, 1);
}

#[actix_web::test]
async fn a_failed_row_is_printed_and_the_exit_code_says_so() {
    let (app, _) = with_admin().await;
    let text = "first_name,last_name,email\r\nAna,Lima,ana@example.com\r\nBo,,bo@example.com\r\n";
    let out = import(
        &app,
        "people.csv",
        text,
        &["--type", "contacts", "--dry-run"],
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a failed row fails the command: {printed}"
    );
    assert!(
        printed.contains("row 3: Last name is required."),
        "{printed}"
    );
    assert_eq!(app.count("contacts").await, 0, "a dry run writes nothing");
}

#[actix_web::test]
async fn the_command_imports_deals() {
    let (app, _) = with_admin().await;
    let text = "title,amount,stage\r\nPilot,10.50,Qualified\r\n";
    let text = printed_ok(&import(&app, "deals.csv", text, &["--type", "deals"]));
    assert!(text.contains("deals: 1 rows, 1 created"), "{text}");
    assert_eq!(app.count("deals").await, 1);
}

#[actix_web::test]
async fn the_command_takes_a_zip_of_csv_files_as_the_page_does() {
    let (app, _) = with_admin().await;
    let contacts = crate::import_samples::Sample {
        name: "contacts.csv",
        bytes: b"first_name,last_name,email\r\nAna,Lima,ana@example.com\r\n".to_vec(),
    };
    let zip = crate::import_pages::zipped(&[contacts]);
    let path = csv_file("export.zip", "");
    std::fs::write(&path, &zip.bytes).expect("write the ZIP");
    let out = cairn(&app.url).arg("import").arg(&path).output().unwrap();
    let text = printed_ok(&out);
    assert!(text.contains("contacts: 1 rows, 1 created"), "{text}");
}

#[actix_web::test]
async fn a_dry_run_prints_the_pipelines_it_would_add() {
    let (app, _) = with_admin().await;
    let text = "title,pipeline,stage\r\nPilot,Partners,Intro\r\n";
    let args = ["--type", "deals", "--preset", "generic", "--dry-run"];
    let out = import(&app, "deals.csv", text, &args);
    let text = printed_ok(&out);
    assert!(
        text.contains("pipelines would be added: Partners"),
        "{text}"
    );
}

#[actix_web::test]
async fn a_link_that_waits_is_printed_as_a_note() {
    let (app, _) = with_admin().await;
    let sample = crate::import_samples::hubspot_contacts();
    let text = String::from_utf8(sample.bytes).expect("UTF-8");
    let args = ["--dry-run", "--unknown-owners-to-me"];
    let text = printed_ok(&import(&app, sample.name, &text, &args));
    assert!(
        text.contains("(note): Company 9001 is not in Cairn yet: would link later"),
        "{text}"
    );
}
