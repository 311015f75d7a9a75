//! Record-level access: with "reps see only their own records" on, a rep sees only what
//! they own (and what hangs off it) on every surface; managers, admins and viewers see
//! everything; with the rule off nothing changes. The leak test is `access_leak`.
use actix_web::http::Method;
use serde_json::{Value, json};

use cairn::domain::access;

use crate::support::*;

/// Two reps whose records carry unmistakable names ("Zebedee" for the first, "Quintessa"
/// for the second), and the ids of what each owns.
pub struct World {
    pub rep1: String,
    pub rep2: String,
    pub rep1_id: i64,
    pub rep2_id: i64,
    pub zeb: Records,
    pub quin: Records,
    /// A task of the second rep's, about their deal, assigned to the first rep.
    pub errand: i64,
}

/// One rep's contact, company, deal, activity and task.
pub struct Records {
    pub contact: i64,
    pub company: i64,
    pub deal: i64,
    pub note: i64,
    pub task: i64,
}

pub const REP1: &str = "rep1@example.com";
pub const REP2: &str = "rep2@example.com";

/// The reps' records through the API, each answer checked; the rule is left off.
pub async fn world(app: &TestApp) -> World {
    let rep1_id = app.user(REP1, "rep").await.id;
    let rep2_id = app.user(REP2, "rep").await.id;
    let (rep1, rep2) = (app.token(REP1).await, app.token(REP2).await);
    let mut c = app.client().await;
    let zeb = records(&mut c, &rep1, "Zebedee", 100).await;
    let quin = records(&mut c, &rep2, "Quintessa", 7000).await;
    // The second rep's deal is also about the first rep's contact: its activities must
    // stay off that contact's timeline.
    let path = format!("/api/v1/deals/{}", quin.deal);
    c.api_ok(
        Method::PATCH,
        &path,
        &rep2,
        Some(json!({"contact_ids": [quin.contact, zeb.contact]})),
    )
    .await;
    let errand = c
        .add_task(
            &rep2,
            json!({"title": "Quintessa errand", "assignee_id": rep1_id, "deal_id": quin.deal,
                   "due_date": crate::given::yesterday()}),
        )
        .await;
    World {
        rep1,
        rep2,
        rep1_id,
        rep2_id,
        zeb,
        quin,
        errand,
    }
}

async fn records(
    c: &mut Client<impl TestService>,
    token: &str,
    name: &str,
    amount: i64,
) -> Records {
    let lower = name.to_lowercase();
    let company = c.add_company(token, &format!("{name} Works")).await;
    let contact = c
        .add(
            "contacts",
            token,
            json!({"first_name": name, "last_name": "Person", "email": format!("{lower}@{lower}.example"),
                   "company_id": company}),
        )
        .await;
    let deal = c
        .add(
            "deals",
            token,
            json!({"title": format!("{name} Deal"), "amount": amount, "company_id": company,
                   "contact_ids": [contact]}),
        )
        .await;
    let note = c
        .add(
            "activities",
            token,
            json!({"kind": "note", "body": format!("{name} note"), "contact_id": contact}),
        )
        .await;
    c.add(
        "activities",
        token,
        json!({"kind": "call", "body": format!("{name} deal call"), "deal_id": deal}),
    )
    .await;
    let task = c
        .add_task(token,
            json!({"title": format!("{name} task"), "deal_id": deal, "due_date": crate::given::yesterday()}),
        )
        .await;
    Records {
        contact,
        company,
        deal,
        note,
        task,
    }
}

pub async fn rule(app: &TestApp, on: bool) {
    access::set_own_records_only(&app.db.write, on)
        .await
        .expect("write the setting");
}

/// The `total` of an API list.
async fn total(c: &mut Client<impl TestService>, path: &str, token: &str) -> u64 {
    c.get_json(path, token).await["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("{path} has a total"))
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i[key].as_str().unwrap_or_default().to_string())
        .collect()
}

#[actix_web::test]
async fn the_setting_reads_false_until_turned_on() {
    let app = TestApp::new().await;
    assert!(!access::own_records_only(&app.db.read).await.unwrap());
    rule(&app, true).await;
    assert!(access::own_records_only(&app.db.read).await.unwrap());
    rule(&app, false).await;
    assert!(!access::own_records_only(&app.db.read).await.unwrap());
}

#[actix_web::test]
async fn a_rep_lists_and_counts_only_their_own_records() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    for (path, key, mine) in [
        ("/api/v1/contacts", "first_name", "Zebedee"),
        ("/api/v1/companies", "name", "Zebedee Works"),
        ("/api/v1/deals", "title", "Zebedee Deal"),
    ] {
        let list = c.get_json(path, &w.rep1).await;
        assert_eq!(
            list["total"], 1,
            "{path} counts the rep's one record: {list}"
        );
        assert_eq!(names(&list, key), vec![mine.to_string()], "{path}");
        // A saved view or a filter naming the other rep finds nothing.
        let theirs = format!("{path}?owner={}", w.rep2_id);
        let filtered = c.get_json(&theirs, &w.rep1).await;
        assert_eq!(filtered["total"], 0, "{theirs}: {filtered}");
    }
}

#[actix_web::test]
async fn managers_admins_and_viewers_see_everyone_s_records() {
    let app = TestApp::new().await;
    world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    for role in ["manager", "admin", "viewer"] {
        let token = app.api_user(role).await;
        for path in ["/api/v1/contacts", "/api/v1/companies", "/api/v1/deals"] {
            assert_eq!(total(&mut c, path, &token).await, 2, "{role} on {path}");
        }
    }
}

#[actix_web::test]
async fn with_the_rule_off_a_rep_sees_everything() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut c = app.client().await;
    for path in ["/api/v1/contacts", "/api/v1/companies", "/api/v1/deals"] {
        assert_eq!(total(&mut c, path, &w.rep1).await, 2, "{path}");
    }
    let res = c
        .api(
            Method::GET,
            &format!("/api/v1/contacts/{}", w.quin.contact),
            &w.rep1,
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[actix_web::test]
async fn another_rep_s_record_is_not_found_in_the_api_and_on_pages() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    for (kind, id) in [
        ("contacts", w.quin.contact),
        ("companies", w.quin.company),
        ("deals", w.quin.deal),
    ] {
        let path = format!("/api/v1/{kind}/{id}");
        let res = c.api(Method::GET, &path, &w.rep1, None).await;
        assert_eq!(res.status, 404, "GET {path}: {}", res.text());
        let res = c
            .api(
                Method::PATCH,
                &path,
                &w.rep1,
                Some(json!({"owner_id": w.rep1_id})),
            )
            .await;
        assert_eq!(res.status, 404, "a rep cannot take {path}: {}", res.text());
        let res = c.delete_as(kind, id, &w.rep1).await;
        assert_eq!(res.status, 404, "DELETE {path}: {}", res.text());
    }
    let mut page = app.client().await;
    page.sign_in(REP1, PASSWORD).await;
    for path in [
        format!("/contacts/{}", w.quin.contact),
        format!("/companies/{}", w.quin.company),
        format!("/deals/{}", w.quin.deal),
    ] {
        let res = page.get(&path).await;
        assert_eq!(res.status, 404, "GET {path}");
        assert!(!res.text().contains("Quintessa"), "{path} names nothing");
    }
    assert_eq!(app.count("contacts").await, 2, "nothing was deleted");
}

#[actix_web::test]
async fn a_rep_hands_their_own_record_over_and_then_no_longer_sees_it() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let rep2_id = w.rep2_id;
    rule(&app, true).await;
    let mut c = app.client().await;
    let path = format!("/api/v1/contacts/{}", w.zeb.contact);
    c.api_ok(
        Method::PATCH,
        &path,
        &w.rep1,
        Some(json!({"owner_id": rep2_id})),
    )
    .await;
    let res = c.api(Method::GET, &path, &w.rep1, None).await;
    assert_eq!(res.status, 404, "handed over: {}", res.text());
    let theirs = c.get_json(&path, &w.rep2).await;
    assert_eq!(theirs["owner_id"], rep2_id, "the other rep now owns it");
}

#[actix_web::test]
async fn bulk_actions_refuse_another_rep_s_records_and_change_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let body = json!({"action": "change_owner", "owner_id": w.rep1_id,
                      "ids": [w.zeb.contact, w.quin.contact]});
    let res = c
        .api(Method::POST, "/api/v1/contacts/bulk", &w.rep1, Some(body))
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    let theirs = c
        .get_json(&format!("/api/v1/contacts/{}", w.quin.contact), &w.rep2)
        .await;
    assert_ne!(theirs["owner_id"], w.rep1_id, "the other rep keeps it");
    // By filter, the selection is only the rep's own.
    let body = json!({"action": "tag", "tag": "mine", "filter": {}});
    let res = c
        .api(Method::POST, "/api/v1/contacts/bulk", &w.rep1, Some(body))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["affected"], 1, "{}", res.text());
}

#[actix_web::test]
async fn merging_with_another_rep_s_record_is_refused() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let path = format!("/api/v1/contacts/{}/merge", w.zeb.contact);
    let res = c
        .api(
            Method::POST,
            &path,
            &w.rep1,
            Some(json!({"merge_id": w.quin.contact})),
        )
        .await;
    assert!(
        res.status == 404 || res.status == 422,
        "refused: {} {}",
        res.status,
        res.text()
    );
    assert_eq!(app.count("contacts").await, 2, "nothing was merged");
}

#[actix_web::test]
async fn search_finds_only_the_rep_s_records() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let hits = c.get_json("/api/v1/search?q=Quintessa", &w.rep1).await;
    for kind in ["contacts", "companies", "deals"] {
        assert_eq!(hits[kind], json!([]), "{kind}: {hits}");
    }
    let hits = c.get_json("/api/v1/search?q=Zebedee", &w.rep1).await;
    for kind in ["contacts", "companies", "deals"] {
        assert_eq!(hits[kind].as_array().unwrap().len(), 1, "{kind}: {hits}");
    }
    let manager = app.api_user("manager").await;
    let hits = c.get_json("/api/v1/search?q=Quintessa", &manager).await;
    assert_eq!(hits["contacts"].as_array().unwrap().len(), 1, "{hits}");
}

#[actix_web::test]
async fn the_board_and_its_sums_hold_only_the_rep_s_deals_even_after_a_manager_s_view() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut manager = app.signed_in("boss@example.com", "manager").await;
    let board = manager.get("/deals").await;
    assert_eq!(board.status, 200);
    assert!(
        board.text().contains("Quintessa Deal"),
        "the manager sees it"
    );
    assert!(
        board.text().contains("USD 71.00"),
        "the manager's sum: {}",
        board.text()
    );
    // The same board filters, so the same cache key but for the visibility.
    let mut rep = app.client().await;
    rep.sign_in(REP1, PASSWORD).await;
    let board = rep.get("/deals").await;
    assert_eq!(board.status, 200);
    let text = board.text();
    assert!(text.contains("Zebedee Deal"), "the rep's own deal");
    assert!(!text.contains("Quintessa"), "none of the other rep's");
    assert!(
        !text.contains("USD 71.00") && !text.contains("USD 70.00"),
        "no sum with theirs"
    );
    assert!(text.contains("USD 1.00"), "the rep's own sum: {text}");
    let list = rep.get("/deals/list").await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains("Zebedee Deal") && !list.text().contains("Quintessa"));
    let api = rep_api_deals(&app, &w.rep1).await;
    assert_eq!(api["total"], 1, "{api}");
}

async fn rep_api_deals(app: &TestApp, token: &str) -> Value {
    app.client().await.get_json("/api/v1/deals", token).await
}

#[actix_web::test]
async fn timelines_and_activities_hide_what_belongs_to_another_rep() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let path = format!("/api/v1/activities?contact_id={}", w.quin.contact);
    let res = c.api(Method::GET, &path, &w.rep1, None).await;
    assert_eq!(res.status, 404, "their contact's timeline: {}", res.text());
    let mine = c
        .get_json(
            &format!(
                "/api/v1/activities?contact_id={}&with_deals=true",
                w.zeb.contact
            ),
            &w.rep1,
        )
        .await;
    assert_eq!(
        mine["total"], 2,
        "the rep's note and their deal's call: {mine}"
    );
    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/activities/{}", w.quin.note),
            &w.rep1,
            None,
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    let res = c
        .api(
            Method::POST,
            "/api/v1/activities",
            &w.rep1,
            Some(json!({"kind": "note", "body": "sneaky", "deal_id": w.quin.deal})),
        )
        .await;
    assert_eq!(res.status, 404, "no note on their deal: {}", res.text());
}

#[actix_web::test]
async fn tasks_about_another_rep_s_records_are_hidden_even_when_assigned_to_the_rep() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut c = app.client().await;
    assert_eq!(total(&mut c, "/api/v1/tasks", &w.rep1).await, 3, "rule off");
    let rep1 = cairn::domain::Actor {
        id: w.rep1_id,
        name: "rep1".into(),
        email: REP1.into(),
        role: cairn::domain::Role::Rep,
        ip: None,
    };
    let overdue = |db: cairn::domain::Db, who: cairn::domain::Actor| async move {
        db.forget_task_counts();
        cairn::domain::tasks::overdue_count(&db, &who, chrono_tz::UTC, cairn::domain::now())
            .await
            .unwrap()
    };
    assert_eq!(
        overdue(app.db.clone(), rep1.clone()).await,
        2,
        "own task and errand"
    );
    rule(&app, true).await;
    assert_eq!(
        overdue(app.db.clone(), rep1.clone()).await,
        1,
        "only the own task"
    );
    let list = c.get_json("/api/v1/tasks", &w.rep1).await;
    assert_eq!(
        names(&list, "title"),
        vec!["Zebedee task".to_string()],
        "{list}"
    );
    for id in [w.errand, w.quin.task] {
        let res = c
            .api(Method::GET, &format!("/api/v1/tasks/{id}"), &w.rep1, None)
            .await;
        assert_eq!(res.status, 404, "task {id}: {}", res.text());
    }
    let mut page = app.client().await;
    page.sign_in(REP1, PASSWORD).await;
    let mine = page.get("/tasks").await;
    assert_eq!(mine.status, 200);
    assert!(mine.text().contains("Zebedee task"), "the rep's own task");
    assert!(
        !mine.text().contains("Quintessa"),
        "not the errand on their deal"
    );
    let res = c
        .api(
            Method::POST,
            "/api/v1/tasks",
            &w.rep1,
            Some(json!({"title": "sneaky", "company_id": w.quin.company})),
        )
        .await;
    assert_eq!(res.status, 404, "no task on their company: {}", res.text());
}

#[actix_web::test]
async fn the_export_holds_only_the_rep_s_records() {
    let app = TestApp::new().await;
    world(&app).await;
    rule(&app, true).await;
    let mut rep = app.client().await;
    rep.sign_in(REP1, PASSWORD).await;
    for path in ["/contacts/export.csv", "/companies/export.csv"] {
        let res = rep.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        assert!(res.text().contains("Zebedee"), "{path}: {}", res.text());
        assert!(!res.text().contains("Quintessa"), "{path}: {}", res.text());
    }
}

#[actix_web::test]
async fn a_company_page_shows_only_the_rep_s_contacts_of_it() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut c = app.client().await;
    // A contact of the second rep's at the first rep's company.
    c.add(
        "contacts",
        &w.rep2,
        json!({"first_name": "Quintessa", "last_name": "Visitor", "company_id": w.zeb.company}),
    )
    .await;
    rule(&app, true).await;
    let mut rep = app.client().await;
    rep.sign_in(REP1, PASSWORD).await;
    let page = rep.get(&format!("/companies/{}", w.zeb.company)).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Zebedee"), "their own contact");
    assert!(
        !page.text().contains("Quintessa"),
        "not the other rep's contact"
    );
    let path = format!("/api/v1/companies/{}", w.zeb.company);
    let company = c.get_json(&path, &w.rep1).await;
    assert_eq!(
        company["contact_count"], 1,
        "counts only the rep's: {company}"
    );
    let listed = c.get_json("/api/v1/companies", &w.rep1).await;
    assert_eq!(listed["items"][0]["contact_count"], 1, "{listed}");
    let manager = app.api_user("manager").await;
    let company = c.get_json(&path, &manager).await;
    assert_eq!(
        company["contact_count"], 2,
        "the manager counts both: {company}"
    );
}

#[actix_web::test]
async fn turning_the_rule_on_or_off_takes_effect_on_the_next_request() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut c = app.client().await;
    assert_eq!(total(&mut c, "/api/v1/contacts", &w.rep1).await, 2);
    rule(&app, true).await;
    assert_eq!(total(&mut c, "/api/v1/contacts", &w.rep1).await, 1);
    rule(&app, false).await;
    assert_eq!(total(&mut c, "/api/v1/contacts", &w.rep1).await, 2);
}

#[actix_web::test]
async fn the_organisation_page_s_checkbox_turns_the_rule_on_and_off_at_once() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    let mut c = app.client().await;
    assert_eq!(total(&mut c, "/api/v1/contacts", &w.rep1).await, 2);
    crate::organisation::set_organisation(&mut admin, &[("own_records_only", "1")]).await;
    assert_eq!(total(&mut c, "/api/v1/contacts", &w.rep1).await, 1, "on");
    crate::organisation::set_organisation(&mut admin, &[]).await;
    assert_eq!(total(&mut c, "/api/v1/contacts", &w.rep1).await, 2, "off");
}

#[actix_web::test]
async fn a_new_deal_cannot_link_records_the_rep_may_not_see() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    for (field, body) in [
        (
            "contact_ids",
            json!({"title": "Linked", "amount": 1, "contact_ids": [w.quin.contact]}),
        ),
        (
            "company_id",
            json!({"title": "Linked", "amount": 1, "company_id": w.quin.company}),
        ),
    ] {
        let res = c
            .api(Method::POST, "/api/v1/deals", &w.rep1, Some(body))
            .await;
        res.refuses_field(field);
    }
    assert_eq!(app.count("deals").await, 2, "no deal was added");
}

#[actix_web::test]
async fn a_rep_cannot_link_a_contact_to_another_reps_company_by_id() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let mut body = contact_json("Linked", "Elsewhere", "linked@example.com");
    body["company_id"] = json!(w.quin.company);
    let res = c
        .api(Method::POST, "/api/v1/contacts", &w.rep1, Some(body))
        .await;
    res.refuses_field("company_id");
    assert!(
        !res.text().contains("Quintessa"),
        "the refusal names nothing hidden"
    );
    assert_eq!(
        app.count_where("contacts", " WHERE first_name = 'Linked'")
            .await,
        0
    );
}

#[actix_web::test]
async fn a_rep_cannot_link_a_contact_to_another_reps_company_by_name() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let mut body = contact_json("Linked", "Elsewhere", "linked@example.com");
    body["company"] = json!("Quintessa Works");
    let res = c
        .api(Method::POST, "/api/v1/contacts", &w.rep1, Some(body))
        .await;
    res.refuses_field("company");
    assert_eq!(
        app.count_where("contacts", " WHERE first_name = 'Linked'")
            .await,
        0
    );
}

#[actix_web::test]
async fn with_the_rule_off_a_rep_links_any_company() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut c = app.client().await;
    let mut body = contact_json("Linked", "Elsewhere", "linked@example.com");
    body["company_id"] = json!(w.quin.company);
    c.api_ok(Method::POST, "/api/v1/contacts", &w.rep1, Some(body))
        .await;
}

#[actix_web::test]
async fn a_rep_still_edits_a_contact_a_manager_linked_to_another_reps_company() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let path = format!("/api/v1/contacts/{}", w.zeb.contact);
    c.api_ok(
        Method::PATCH,
        &path,
        &manager,
        Some(json!({"company_id": w.quin.company})),
    )
    .await;
    rule(&app, true).await;
    c.api_ok(
        Method::PATCH,
        &path,
        &w.rep1,
        Some(json!({"title": "Buyer"})),
    )
    .await;
}
