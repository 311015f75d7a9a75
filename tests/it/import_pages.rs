//! Settings → Import as an admin's browser uses it: a multipart upload, the columns mapped
//! by the file's preset, a dry run that writes nothing, the import run by the job queue
//! behind a progress bar, its report, and undo; refusals for reps, for an upload without
//! the CSRF header and for files over the size limit.
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use cairn::domain::import::apply::store;
use cairn::jobs::Clock;

use crate::import_samples::{Sample, hubspot_companies, hubspot_contacts};
use crate::support::*;

const BOUNDARY: &str = "cairnimporttestboundary";

/// A multipart body with `fields` and one file per sample, as a browser's form sends it.
fn multipart(fields: &[(&str, &str)], files: &[Sample]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for f in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{}\"\r\nContent-Type: text/csv\r\n\r\n",
                f.name
            )
            .as_bytes(),
        );
        body.extend_from_slice(&f.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads `files` from `system` as the page's (htmx) form does: the CSRF token in the
/// header when `csrf`.
async fn upload(
    c: &mut Client<impl TestService>,
    system: &str,
    files: &[Sample],
    csrf: bool,
) -> Response {
    let fields = [("system", system), ("zone", "Europe/Berlin")];
    upload_with(c, &fields, files, csrf).await
}

/// Uploads `files` with the form's `fields`.
async fn upload_with(
    c: &mut Client<impl TestService>,
    fields: &[(&str, &str)],
    files: &[Sample],
    csrf: bool,
) -> Response {
    c.get("/settings/import").await;
    let mut req = TestRequest::post()
        .uri("/settings/import")
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(multipart(fields, files));
    if csrf {
        req = req.insert_header(("X-CSRF-Token", c.csrf.clone().unwrap_or_default()));
    }
    c.send(req).await
}

/// An admin's browser with the HubSpot contacts export uploaded: the client and the
/// import's page.
async fn uploaded(app: &TestApp) -> (Client<impl TestService>, String) {
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let res = upload(&mut c, "hubspot", &[hubspot_contacts()], true).await;
    assert_eq!(
        res.status,
        303,
        "the upload goes to the import's page: {}",
        res.text()
    );
    let page = res.location();
    assert!(page.starts_with("/settings/import/"), "{page}");
    (c, page)
}

/// The mapping form as the page shows it: every select's selected option and the
/// options' defaults (`on_match` skip).
fn shown_mapping(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<select id=\"").skip(1) {
        let Some(name) = part
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        let select = part.split("</select>").next().unwrap_or("");
        let chosen = select
            .split_once("\" selected>")
            .and_then(|(before, _)| before.rsplit("value=\"").next())
            .unwrap_or("ignore");
        out.push((name.to_string(), chosen.to_string()));
    }
    out.push(("on_match".into(), "skip".into()));
    out
}

/// Posts the mapping the page shows to `path`, with the owner and company columns left
/// out (the export's owners and companies are not in this Cairn).
async fn post_mapping(c: &mut Client<impl TestService>, path: &str, html: &str) -> Response {
    post_mapping_with(c, path, html, owner_or_links, &[]).await
}

/// `post_mapping` with the page's checkbox to add the deal files' pipelines and stages.
async fn post_mapping_adding_stages(
    c: &mut Client<impl TestService>,
    path: &str,
    html: &str,
) -> Response {
    post_mapping_with(c, path, html, |_| false, &[("add_stages", "on")]).await
}

/// Posts the mapping the page shows to `path`, with the columns whose code `ignored`
/// picks left out, and the further form fields `extra`.
async fn post_mapping_with(
    c: &mut Client<impl TestService>,
    path: &str,
    html: &str,
    ignored: impl Fn(&str) -> bool,
    extra: &[(&str, &str)],
) -> Response {
    let mut fields = shown_mapping(html);
    for (_, code) in fields.iter_mut() {
        if ignored(code) {
            *code = "ignore".into();
        }
    }
    let mut refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    refs.extend_from_slice(extra);
    c.post_form(path, &refs).await
}

/// Loads `page` until it shows `text` (the job runs beside the test).
async fn page_once(c: &mut Client<impl TestService>, page: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let html = c.get(page).await.text();
        if html.contains(text) {
            return html;
        }
        assert!(
            Instant::now() < deadline,
            "{page} never showed {text:?}: {html}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn an_uploaded_hubspot_export_is_mapped_by_its_preset() {
    let app = TestApp::new().await;
    let (mut c, page) = uploaded(&app).await;
    let html = c.get(&page).await.text();
    assert!(
        html.contains("hubspot-crm-exports-all-contacts-2024-02-01.csv"),
        "{html}"
    );
    let mapping = shown_mapping(&html);
    assert!(
        mapping.contains(&("kind_0".into(), "contacts".into())),
        "the file is taken for contacts: {mapping:?}"
    );
    assert!(
        mapping.contains(&("col_0_3".into(), "field:email".into())),
        "HubSpot's Email column is the email: {mapping:?}"
    );
    assert!(
        html.contains("zoe@mueller-soehne.de"),
        "the first rows are shown"
    );
}

#[actix_web::test]
async fn a_dry_run_from_the_page_reports_every_row_and_writes_nothing() {
    let app = TestApp::new().await;
    let (mut c, page) = uploaded(&app).await;
    let html = c.get(&page).await.text();
    let res = post_mapping(&mut c, &format!("{page}/dry-run"), &html).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let html = c.get(&page).await.text();
    assert!(html.contains("Dry run: nothing was written"), "{html}");
    assert_eq!(
        app.count("contacts").await,
        0,
        "a dry run writes no contact"
    );
}

#[actix_web::test]
async fn an_import_started_from_the_page_runs_as_a_job_and_undo_removes_it() {
    let app = TestApp::new().await;
    let (mut c, page) = uploaded(&app).await;
    let html = c.get(&page).await.text();
    let jobs = crate::email::runner(&app.db, &Clock::system());
    let res = post_mapping(&mut c, &format!("{page}/start"), &html).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let html = page_once(&mut c, &page, "every link points to a record").await;
    assert!(html.contains("Undo this import"), "{html}");
    let contacts = app.count("contacts").await;
    assert_eq!(contacts, 3, "the export's three contacts were imported");

    let res = c.post_form(&format!("{page}/undo"), &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    page_once(&mut c, &page, ">undone<").await;
    assert_eq!(app.count("contacts").await, 0, "undo removed them");
    jobs.finish(Duration::from_secs(5)).await;
}

#[actix_web::test]
async fn the_progress_bar_asks_for_a_reload_once_the_import_has_finished() {
    let app = TestApp::new().await;
    let (mut c, page) = uploaded(&app).await;
    let res = c.hx_get(&format!("{page}/progress")).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("hx-refresh").as_deref(),
        Some("true"),
        "an import not running has no bar to poll: the page is loaded again"
    );
}

#[actix_web::test]
async fn an_upload_without_the_csrf_header_is_refused() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let res = upload(&mut c, "hubspot", &[hubspot_contacts()], false).await;
    assert_eq!(res.status, 403, "{}", res.text());
}

/// An admin's browser on `app`, whose uploads may then hold 1 MB at the most.
async fn limited_to_one_mb(app: &TestApp) -> Client<impl TestService> {
    let c = app.signed_in("admin@example.com", "admin").await;
    cairn::domain::settings::set(&app.db.write, store::MAX_MB_SETTING, "1")
        .await
        .expect("set the limit");
    c
}

/// A CSV file `name` of an `Email` column with one cell of `len` letters.
fn one_cell(name: &'static str, len: usize) -> Sample {
    Sample {
        name,
        bytes: "Email\r\n"
            .bytes()
            .chain(std::iter::repeat_n(b'a', len))
            .collect(),
    }
}

#[actix_web::test]
async fn files_over_the_size_limit_are_refused_with_413() {
    let app = TestApp::new().await;
    let mut c = limited_to_one_mb(&app).await;
    let big = one_cell("big.csv", 1_200_000);
    let res = upload(&mut c, "auto", &[big], true).await;
    assert_eq!(res.status, 413, "{}", res.text());
    assert_eq!(app.count("imports").await, 0, "nothing stored");
}

#[actix_web::test]
async fn a_rep_cannot_open_the_import_page() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep@example.com", "rep").await;
    assert_eq!(c.get("/settings/import").await.status, 403);
}

/// A ZIP holding `files` (and a note that is not CSV), as an export's archive is.
pub fn zipped(files: &[Sample]) -> Sample {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for f in files {
        zip.start_file(format!("export/{}", f.name), opts)
            .expect("a ZIP entry");
        zip.write_all(&f.bytes).expect("write the entry");
    }
    zip.start_file("README.txt", opts).expect("a ZIP entry");
    zip.write_all(b"not a CSV").expect("write the entry");
    let bytes = zip.finish().expect("a whole ZIP").into_inner();
    Sample {
        name: "export.zip",
        bytes,
    }
}

#[actix_web::test]
async fn an_uploaded_zip_stands_for_the_csv_files_in_it() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let res = upload(&mut c, "hubspot", &[zipped(&[hubspot_contacts()])], true).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let html = c.get(&res.location()).await.text();
    assert!(
        html.contains("<h2>hubspot-crm-exports-all-contacts-2024-02-01.csv</h2>"),
        "the CSV in the ZIP is the import's one file: {html}"
    );
    assert!(
        !html.contains("README.txt"),
        "what is not CSV is passed over"
    );
}

#[actix_web::test]
async fn a_zip_without_csv_files_is_refused() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let res = upload(&mut c, "auto", &[zipped(&[])], true).await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert!(res.text().contains("holds no CSV file"), "{}", res.text());
}

#[actix_web::test]
async fn a_small_zip_that_unpacks_past_the_size_limit_is_refused_with_413() {
    let app = TestApp::new().await;
    let mut c = limited_to_one_mb(&app).await;
    let csv = one_cell("contacts.csv", 3_000_000);
    let zip = zipped(&[csv]);
    assert!(zip.bytes.len() < 100_000, "the archive itself is small");
    let res = upload(&mut c, "auto", &[zip], true).await;
    assert_eq!(res.status, 413, "{}", res.text());
    assert_eq!(app.count("imports").await, 0, "nothing stored");
}

#[actix_web::test]
async fn an_upload_with_a_zone_that_is_not_one_is_refused_and_stores_nothing() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let fields = [("system", "hubspot"), ("zone", "Mars/Olympus")];
    let res = upload_with(&mut c, &fields, &[hubspot_contacts()], true).await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("is not a time zone"), "{}", res.text());
    assert_eq!(app.count("imports").await, 0, "nothing stored");
}

#[actix_web::test]
async fn a_deals_file_imported_from_the_page_is_reported_with_its_deals() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let deals = Sample::text(
        "deals.csv",
        "Title,Amount,Stage\r\nPilot,10.50,Qualified\r\n",
    );
    let res = upload(&mut c, "generic", &[deals], true).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let page = res.location();
    let html = c.get(&page).await.text();
    assert!(
        shown_mapping(&html).contains(&("kind_0".into(), "deals".into())),
        "the file is taken for deals: {html}"
    );
    let jobs = crate::email::runner(&app.db, &Clock::system());
    let res = post_mapping(&mut c, &format!("{page}/start"), &html).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let html = page_once(&mut c, &page, "every link points to a record").await;
    assert!(
        html.contains("<tr><td>deals</td><td>1</td><td>1</td>"),
        "the report lists the deal row: {html}"
    );
    assert_eq!(app.count("deals").await, 1);
    jobs.finish(Duration::from_secs(5)).await;
}

#[actix_web::test]
async fn a_dry_run_from_the_page_lists_the_pipeline_a_deals_file_would_add() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let deals = Sample {
        name: "deals.csv",
        bytes: b"Title,Pipeline,Stage\r\nPilot,Partners,Intro\r\n".to_vec(),
    };
    let res = upload(&mut c, "generic", &[deals], true).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let page = res.location();
    let html = c.get(&page).await.text();
    assert!(
        html.contains(r#"name="add_stages" value="on" checked"#),
        "adding stages is offered, and on: {html}"
    );
    let res = post_mapping_adding_stages(&mut c, &format!("{page}/dry-run"), &html).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let html = c.get(&page).await.text();
    assert!(
        html.contains("Would be added to Cairn for these files")
            && html.contains("<dd>Partners</dd>"),
        "the dry run names the pipeline it would add: {html}"
    );
    assert_eq!(app.count("pipelines").await, 1, "a dry run adds none");
}

/// Uploads `files` from `system`, starts the import with the mapping the page shows
/// (less the columns `ignored` picks) and waits for its page to show `outcome`; the page
/// and its HTML then.
async fn imported(
    c: &mut Client<impl TestService>,
    system: &str,
    files: &[Sample],
    ignored: impl Fn(&str) -> bool,
    outcome: &str,
) -> (String, String) {
    let res = upload(c, system, files, true).await;
    assert_eq!(res.status, 303, "the upload is taken: {}", res.text());
    let page = res.location();
    let html = c.get(&page).await.text();
    let res = post_mapping_with(c, &format!("{page}/start"), &html, ignored, &[]).await;
    assert_eq!(res.status, 303, "the import starts: {}", res.text());
    let html = page_once(c, &page, outcome).await;
    (page, html)
}

/// A contact's owner is not in this Cairn, nor are its deals.
fn owner_or_deals(code: &str) -> bool {
    code == "owner" || code.ends_with(":deals")
}

/// Nor, in a Cairn without the export's companies, are its companies.
fn owner_or_links(code: &str) -> bool {
    code == "owner" || code.starts_with("link_")
}

#[actix_web::test]
async fn an_import_told_from_the_columns_keeps_its_ids_for_a_later_preset_import() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let jobs = crate::email::runner(&app.db, &Clock::system());
    let companies = [hubspot_companies()];
    imported(
        &mut c,
        "auto",
        &companies,
        owner_or_links,
        "every link points",
    )
    .await;
    assert_eq!(
        app.count_where("import_sources", " WHERE system = 'hubspot'")
            .await,
        2,
        "the companies' HubSpot ids are kept as HubSpot's"
    );
    let contacts = [hubspot_contacts()];
    imported(
        &mut c,
        "hubspot",
        &contacts,
        owner_or_deals,
        "every link points",
    )
    .await;
    assert_eq!(
        app.count_where("contacts", " WHERE company_id IS NOT NULL")
            .await,
        3,
        "the contacts found their companies by the first import's HubSpot ids"
    );
    jobs.finish(Duration::from_secs(5)).await;
}

#[actix_web::test]
async fn links_to_records_not_in_cairn_show_as_waiting_on_the_page() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let jobs = crate::email::runner(&app.db, &Clock::system());
    let owner = |code: &str| code == "owner";
    let files = [hubspot_contacts()];
    let ok = "every link points to a record";
    let (_, html) = imported(&mut c, "hubspot", &files, owner, ok).await;
    assert!(
        html.contains("Company 9001 is not in Cairn yet: linked when it is imported."),
        "the rows' notes: {html}"
    );
    assert!(
        html.contains("links wait for records not in Cairn yet"),
        "the integrity report lists them as pending: {html}"
    );
    jobs.finish(Duration::from_secs(5)).await;
}

#[actix_web::test]
async fn an_import_its_rows_stopped_can_be_mapped_and_started_again() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let jobs = crate::email::runner(&app.db, &Clock::system());
    let files = [hubspot_contacts()];
    // Its owners are not users of this Cairn: mapped, they stop the rows.
    let links = |code: &str| code.starts_with("link_");
    let (page, html) = imported(&mut c, "hubspot", &files, links, "nothing was written").await;
    assert!(
        html.contains(&format!("formaction=\"{page}/start\"")),
        "the failed import's page offers the mapping and its buttons again: {html}"
    );
    let res = post_mapping_with(&mut c, &format!("{page}/start"), &html, owner_or_links, &[]).await;
    assert_eq!(res.status, 303, "the import starts again: {}", res.text());
    page_once(&mut c, &page, "every link points to a record").await;
    assert_eq!(
        app.count("contacts").await,
        3,
        "the second run imported them"
    );
    jobs.finish(Duration::from_secs(5)).await;
}

#[actix_web::test]
async fn a_failed_run_reports_what_would_have_been_created_and_added() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let jobs = crate::email::runner(&app.db, &Clock::system());
    let deals = Sample {
        name: "deals.csv",
        bytes: b"Title,Pipeline,Stage,Amount\r\nPilot,Partners,Intro,10\r\nBroken,Partners,Intro,abc\r\n"
            .to_vec(),
    };
    let res = upload(&mut c, "generic", &[deals], true).await;
    assert_eq!(res.status, 303, "the upload is taken: {}", res.text());
    let page = res.location();
    let html = c.get(&page).await.text();
    let res = post_mapping_adding_stages(&mut c, &format!("{page}/start"), &html).await;
    assert_eq!(res.status, 303, "the import starts: {}", res.text());
    let html = page_once(&mut c, &page, "nothing was written").await;
    assert!(
        html.contains("<th>Would be created</th>") && !html.contains("<th>Created</th>"),
        "nothing was created: {html}"
    );
    assert!(
        html.contains("Would be added to Cairn for these files")
            && !html.contains("<h3>Added to Cairn"),
        "the pipeline was removed again, so it is not listed as added: {html}"
    );
    assert_eq!(app.count("pipelines").await, 1, "no pipeline was added");
    jobs.finish(Duration::from_secs(5)).await;
}

#[actix_web::test]
async fn an_import_that_wrote_cannot_be_started_again() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let jobs = crate::email::runner(&app.db, &Clock::system());
    let files = [hubspot_contacts()];
    let (page, html) = imported(&mut c, "hubspot", &files, owner_or_links, "every link").await;
    assert!(
        !html.contains("formaction"),
        "a done import shows no mapping: {html}"
    );
    let res = c
        .post_form(&format!("{page}/start"), &[("kind_0", "contacts")])
        .await;
    assert_eq!(
        res.status,
        400,
        "a done import is not run again: {}",
        res.text()
    );
    assert!(
        res.text().contains("can no longer be changed"),
        "{}",
        res.text()
    );
    jobs.finish(Duration::from_secs(5)).await;
}

/// Uploads one file `name` holding `bytes` as HubSpot's export.
async fn upload_one(
    c: &mut Client<impl TestService>,
    name: &'static str,
    bytes: &[u8],
) -> Response {
    let file = Sample {
        name,
        bytes: bytes.to_vec(),
    };
    upload(c, "hubspot", &[file], true).await
}

#[actix_web::test]
async fn a_binary_upload_is_refused_on_the_form_and_stores_nothing() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let res = upload_one(&mut c, "logo.png", png).await;
    assert_eq!(res.status, 415, "{}", res.text());
    let html = res.text();
    assert!(
        html.contains("logo.png: This is not a CSV file") && html.contains("name=\"files\""),
        "the refusal is shown above the upload form: {html}"
    );
    assert!(
        html.contains(r#"<option value="hubspot" selected>"#),
        "the form keeps its choice: {html}"
    );
    assert_eq!(app.count("imports").await, 0, "nothing stored");
}

#[actix_web::test]
async fn an_empty_file_is_refused_on_the_form_and_stores_nothing() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let res = upload_one(&mut c, "empty.csv", b"").await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert!(
        res.text().contains("empty.csv: The file is empty.")
            && res.text().contains("name=\"files\""),
        "the refusal is shown above the upload form: {}",
        res.text()
    );
    assert_eq!(app.count("imports").await, 0, "nothing stored");
}

#[actix_web::test]
async fn the_file_picker_offers_zip_files() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let html = c.get("/settings/import").await.text();
    assert!(
        html.contains(r#"accept=".csv,.txt,.zip,"#),
        "ZIP files can be picked: {html}"
    );
}
