//! Hostile text against every operation the OpenAPI document lists: each query parameter
//! and each string field of each request body gets a NUL, a lone surrogate, 10 000
//! characters and control characters in turn. No answer may be a 5xx, every status must
//! be one the operation documents, and every error must have the documented shape.
use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::support::*;

/// (what it is, the query value as it goes on the wire).
fn query_values() -> Vec<(&'static str, String)> {
    vec![
        ("NUL", "a%00b".into()),
        ("lone surrogate (CESU-8)", "%ED%A0%80".into()),
        ("10 000 characters", "a".repeat(10_000)),
        ("control U+0001", "a%01b".into()),
        ("escape U+001B", "a%1Bb".into()),
        ("delete U+007F", "a%7Fb".into()),
        ("newline", "a%0Ab".into()),
    ]
}

/// (what it is, the JSON text of the string value). Raw text, because serde_json cannot
/// make a lone surrogate.
fn json_values() -> Vec<(&'static str, String)> {
    vec![
        ("NUL", r#""a\u0000b""#.into()),
        ("lone surrogate", r#""\ud800""#.into()),
        ("10 000 characters", format!("\"{}\"", "a".repeat(10_000))),
        ("control U+0001", r#""a\u0001b""#.into()),
        ("escape U+001B", r#""a\u001bb""#.into()),
        ("delete U+007F", r#""a\u007fb""#.into()),
        ("newline", r#""a\nb""#.into()),
    ]
}

/// Stands in for the hostile value in a body until the JSON text is written.
const MARK: &str = "fuzz-value-goes-here";

/// Records the operations' paths point at, so handlers get past their 404.
struct Records {
    contact: i64,
    other_contact: i64,
    company: i64,
    other_company: i64,
    deal: i64,
    pipeline: i64,
    stage: i64,
    activity: i64,
    task: i64,
    webhook: i64,
    delivery: i64,
}

async fn records<S, B>(c: &mut Client<S>, token: &str) -> Records
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    // An endpoint first, so the contact's creation leaves a delivery in its log.
    let hook = json!({"url": "https://hooks.example.com/in", "events": ["contact.created"]});
    let webhook = c.create("/api/v1/webhooks", token, hook).await;
    let contact = c
        .add_contact(token, "Ann", "Fuzz", "ann@fuzz.example")
        .await;
    let log = c
        .get_json(&format!("/api/v1/webhooks/{webhook}/deliveries"), token)
        .await;
    let delivery = log["items"][0]["id"].as_i64().expect("a delivery");
    let other_contact = c
        .add_contact(token, "Bob", "Fuzz", "bob@fuzz.example")
        .await;
    let company = c.add_company(token, "Fuzz Target").await;
    let other_company = c.add_company(token, "Fuzz Other").await;
    let deal = c
        .create(
            "/api/v1/deals",
            token,
            json!({"title": "Fuzz deal", "company_id": company, "contact_ids": [contact]}),
        )
        .await;
    let activity = c
        .create(
            "/api/v1/activities",
            token,
            json!({"kind": "note", "body": "Fuzz", "deal_id": deal}),
        )
        .await;
    let task = c
        .create(
            "/api/v1/tasks",
            token,
            json!({"title": "Fuzz task", "deal_id": deal}),
        )
        .await;
    let pipelines = c.api(Method::GET, "/api/v1/pipelines", token, None).await;
    assert_eq!(
        pipelines.status,
        200,
        "GET /api/v1/pipelines: {}",
        pipelines.text()
    );
    let pipelines = pipelines.json();
    Records {
        contact,
        other_contact,
        company,
        other_company,
        deal,
        pipeline: pipelines[0]["id"].as_i64().expect("a pipeline"),
        stage: pipelines[0]["stages"][0]["id"].as_i64().expect("a stage"),
        activity,
        task,
        webhook,
        delivery,
    }
}

impl Records {
    /// The record a path's `{id}` names: the one of the resource before it.
    fn id_for(&self, path: &str) -> i64 {
        let Some((before, _)) = path.split_once("/{id}") else {
            return 0;
        };
        match before.rsplit('/').next().unwrap_or_default() {
            "contacts" => self.contact,
            "companies" => self.company,
            "deals" => self.deal,
            "pipelines" => self.pipeline,
            "stages" => self.stage,
            "activities" => self.activity,
            "tasks" => self.task,
            "webhooks" => self.webhook,
            "deliveries" => self.delivery,
            other => panic!("{path}: the fuzz test has no record for `{other}`; add one"),
        }
    }
}

/// Query parameters that put a list request past its first check (a timeline needs its
/// record); the fuzzed parameter replaces one of the same name.
fn base_query(path: &str, r: &Records) -> Vec<(String, String)> {
    match path {
        "/api/v1/activities" => vec![("deal_id".into(), r.deal.to_string())],
        _ => Vec::new(),
    }
}

/// A valid body for an operation, so that only the fuzzed field is wrong. `n` keeps names
/// that must be unique apart; `version` is the deal's current version.
fn base_body(
    method: &str,
    path: &str,
    r: &Records,
    n: usize,
    version: i64,
    doc: &Value,
    schema: &Value,
) -> Value {
    match (method, path) {
        ("post", "/api/v1/contacts") => contact_json(
            "Fuzz",
            &format!("Person {n}"),
            &format!("fuzz{n}@example.com"),
        ),
        ("post", "/api/v1/contacts/bulk") => {
            json!({"action": "tag", "tag": "fuzzed", "ids": [r.contact]})
        }
        ("post", "/api/v1/contacts/{id}/merge") => {
            json!({"merge_id": r.other_contact, "take": ["email"]})
        }
        ("post", "/api/v1/companies") => json!({"name": format!("Fuzz company {n}")}),
        ("post", "/api/v1/companies/bulk") => {
            json!({"action": "tag", "tag": "fuzzed", "ids": [r.company]})
        }
        ("post", "/api/v1/companies/{id}/merge") => {
            json!({"merge_id": r.other_company, "take": ["phone"]})
        }
        ("post", "/api/v1/pipelines") | ("patch", "/api/v1/pipelines/{id}") => {
            json!({"name": format!("Fuzz pipeline {n}")})
        }
        ("post", "/api/v1/pipelines/{id}/stages") | ("patch", "/api/v1/stages/{id}") => {
            json!({"name": format!("Fuzz stage {n}"), "probability": 10, "kind": "open"})
        }
        ("post", "/api/v1/stages/{id}/reorder") => json!({"direction": "down"}),
        ("post", "/api/v1/deals") => json!({"title": format!("Fuzz deal {n}")}),
        ("patch", "/api/v1/deals/{id}") => json!({"version": version}),
        ("post", "/api/v1/deals/{id}/move") => json!({"stage_id": r.stage, "version": version}),
        ("post", "/api/v1/activities") => {
            json!({"kind": "note", "body": "Fuzz", "deal_id": r.deal})
        }
        // An operation this table does not know yet: its required fields, made up.
        _ => required_only(doc, schema, n),
    }
}

/// Follows `$ref`s into `components.schemas`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(
            doc,
            doc.pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("unresolvable $ref {r}")),
        ),
        None => schema,
    }
}

/// The schema and the branches of its `oneOf`/`anyOf`/`allOf`, resolved.
fn variants<'a>(doc: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    let schema = resolve(doc, schema);
    let mut all = vec![schema];
    for key in ["oneOf", "anyOf", "allOf"] {
        for branch in schema[key].as_array().into_iter().flatten() {
            all.extend(variants(doc, branch));
        }
    }
    all
}

fn has_type(schema: &Value, ty: &str) -> bool {
    match &schema["type"] {
        Value::String(t) => t == ty,
        Value::Array(ts) => ts.iter().any(|t| t == ty),
        _ => false,
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    First,
}

fn describe(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) if s.is_empty() => s.push_str(k),
            Step::Key(k) => s.push_str(&format!(".{k}")),
            Step::First => s.push_str("[0]"),
        }
    }
    s
}

/// Every place in a body schema that holds a string: object properties, nested objects
/// and the first item of arrays.
fn string_fields(doc: &Value, schema: &Value, at: Vec<Step>, out: &mut Vec<Vec<Step>>) {
    if at.len() > 6 {
        return;
    }
    let vs = variants(doc, schema);
    if !at.is_empty() && vs.iter().any(|v| has_type(v, "string")) {
        out.push(at.clone());
    }
    for v in &vs {
        for (key, property) in v["properties"].as_object().into_iter().flatten() {
            let mut next = at.clone();
            next.push(Step::Key(key.clone()));
            string_fields(doc, property, next, out);
        }
        if has_type(v, "array") {
            let mut next = at.clone();
            next.push(Step::First);
            string_fields(doc, &v["items"], next, out);
        }
    }
}

/// A made-up value for a schema: the first allowed value, or something of its type.
fn made_up(doc: &Value, schema: &Value, n: usize) -> Value {
    let vs = variants(doc, schema);
    if let Some(first) = vs
        .iter()
        .filter_map(|v| v["enum"].as_array())
        .flatten()
        .find(|e| e.as_str() != Some(""))
    {
        return first.clone();
    }
    if vs.iter().any(|v| v["properties"].is_object()) {
        return required_only(doc, schema, n);
    }
    let ty = ["string", "integer", "number", "boolean", "array", "object"]
        .into_iter()
        .find(|t| vs.iter().any(|v| has_type(v, t)));
    match ty {
        Some("string") => json!(format!("Fuzz {n}")),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        _ => json!({}),
    }
}

/// An object with only its required properties, made up.
fn required_only(doc: &Value, schema: &Value, n: usize) -> Value {
    let mut body = serde_json::Map::new();
    for v in variants(doc, schema) {
        for name in v["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            body.insert(name.to_string(), made_up(doc, &v["properties"][name], n));
        }
    }
    Value::Object(body)
}

/// Puts `value` at `path` in `body`, making the objects and arrays on the way.
fn set(body: &mut Value, path: &[Step], value: Value) {
    let Some((step, rest)) = path.split_first() else {
        *body = value;
        return;
    };
    match step {
        Step::Key(k) => {
            if !body.is_object() {
                *body = json!({});
            }
            let slot = body
                .as_object_mut()
                .unwrap()
                .entry(k.clone())
                .or_insert(Value::Null);
            set(slot, rest, value);
        }
        Step::First => {
            if !body.is_array() || body.as_array().unwrap().is_empty() {
                *body = json!([null]);
            }
            set(&mut body.as_array_mut().unwrap()[0], rest, value);
        }
    }
}

/// One hostile request: a query parameter or a body field, and the value it gets.
struct Probe {
    method: Method,
    /// The documented path, `{id}` and all.
    path: String,
    /// Where the value goes: `query <name>` or `body <field>`.
    input: String,
    kind: &'static str,
    target: Target,
}

enum Target {
    /// The whole URI, query string included.
    Query(String),
    /// The field's place in the body, the body's schema, and the value's JSON text.
    Body(Vec<Step>, Value, String),
}

/// Every probe of one operation: each query parameter, then each string field of the
/// body, with each hostile value.
fn probes(doc: &Value, path: &str, method: &str, op: &Value, r: &Records) -> Vec<Probe> {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let concrete = path.replace("{id}", &r.id_for(path).to_string());
    let mut out = Vec::new();
    for param in op["parameters"].as_array().into_iter().flatten() {
        if param["in"] != "query" {
            continue;
        }
        let name = param["name"].as_str().unwrap();
        for (kind, value) in query_values() {
            let mut query: Vec<String> = base_query(path, r)
                .into_iter()
                .filter(|(k, _)| k != name)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            query.push(format!("{name}={value}"));
            out.push(Probe {
                method: m.clone(),
                path: path.to_string(),
                input: format!("query {name}"),
                kind,
                target: Target::Query(format!("{concrete}?{}", query.join("&"))),
            });
        }
    }
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    if !schema.is_null() {
        let mut fields = Vec::new();
        string_fields(doc, schema, Vec::new(), &mut fields);
        for field in fields {
            for (kind, value) in json_values() {
                out.push(Probe {
                    method: m.clone(),
                    path: path.to_string(),
                    input: format!("body {}", describe(&field)),
                    kind,
                    target: Target::Body(field.clone(), schema.clone(), value),
                });
            }
        }
    }
    out
}

/// Sends a probe as the admin; a body gets valid values around the hostile one (`n`
/// keeps its names unique, a deal's body its current version).
async fn send<S, B>(
    c: &mut Client<S>,
    token: &str,
    doc: &Value,
    r: &Records,
    n: usize,
    probe: &Probe,
) -> Response
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = TestRequest::default()
        .method(probe.method.clone())
        .insert_header(("authorization", format!("Bearer {token}")));
    match &probe.target {
        Target::Query(uri) => c.send(req.uri(uri)).await,
        Target::Body(field, schema, value) => {
            let version = if probe.path.starts_with("/api/v1/deals/{id}") {
                let deal = c
                    .api(
                        Method::GET,
                        &format!("/api/v1/deals/{}", r.deal),
                        token,
                        None,
                    )
                    .await;
                deal.json()["version"].as_i64().expect("the deal's version")
            } else {
                1
            };
            let method = probe.method.as_str().to_lowercase();
            let mut body = base_body(&method, &probe.path, r, n, version, doc, schema);
            set(&mut body, field, json!(MARK));
            let text = body.to_string().replace(&format!("\"{MARK}\""), value);
            let uri = probe
                .path
                .replace("{id}", &r.id_for(&probe.path).to_string());
            c.send(
                req.uri(&uri)
                    .insert_header(("content-type", "application/json"))
                    .set_payload(text),
            )
            .await
        }
    }
}

/// What is wrong with an answer, if anything: a 5xx, a status the operation does not
/// document, an error body not in the documented shape.
fn check(res: &Response, documented: &[String], codes: &[String]) -> Option<String> {
    let status = res.status.as_u16();
    if status >= 500 {
        return Some("server error".into());
    }
    if !documented.iter().any(|s| s == res.status.as_str()) {
        return Some(format!(
            "undocumented status (documented: {})",
            documented.join(", ")
        ));
    }
    if status >= 400 {
        let code = serde_json::from_slice::<Value>(&res.body)
            .ok()
            .and_then(|b| b["error"]["code"].as_str().map(str::to_string));
        if !code.is_some_and(|c| codes.contains(&c)) {
            return Some("error body is not the documented ErrorBody".into());
        }
    }
    None
}

/// The error codes the document's ErrorCode schema lists.
fn error_codes(doc: &Value) -> Vec<String> {
    doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("the ErrorCode schema lists the codes")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect()
}

#[actix_web::test]
async fn hostile_text_never_gets_a_server_error_or_an_undocumented_status() {
    let started = std::time::Instant::now();
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    let doc = c.get("/api/openapi.json").await.json();
    let r = records(&mut c, &token).await;
    let codes = error_codes(&doc);
    let mut failures: Vec<String> = Vec::new();
    let mut requests = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            let documented: Vec<String> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            for probe in probes(&doc, path, method, op, &r) {
                requests += 1;
                let res = send(&mut c, &token, &doc, &r, requests, &probe).await;
                if let Some(what) = check(&res, &documented, &codes) {
                    failures.push(format!(
                        "{} {path} [{} = {}] answered {}, {what}: {}",
                        probe.method,
                        probe.input,
                        probe.kind,
                        res.status.as_u16(),
                        res.text().chars().take(200).collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(
        requests > 500,
        "only {requests} requests: did the document lose its parameters?"
    );
    assert!(
        failures.is_empty(),
        "{} of {requests} requests went wrong (in {:?}):\n{}",
        failures.len(),
        started.elapsed(),
        failures.join("\n")
    );
    eprintln!("fuzz: {requests} requests in {:?}", started.elapsed());
}
