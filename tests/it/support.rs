//! Test harness: a fresh database per test, the real app from `app::build`, and a small
//! client that keeps the session cookie like a browser.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::cookie::Key;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use actix_web::web::{Bytes, Data};
use cairn::app::{AppState, SESSION_COOKIE, build};
use cairn::config::Config;
use cairn::domain::Db;
use cairn::domain::{Actor, Role, tokens, users};
use sea_orm::ConnectionTrait;
use sea_orm::sqlx::{Connection, postgres::PgConnection};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database nobody else uses, removed when the returned value is dropped.
pub async fn fresh_database() -> TempDatabase {
    TempDatabase {
        url: fresh_database_url().await,
    }
}

/// A migrated database nobody else uses, copied from one migrated once per test run:
/// migrating anew for each of several hundred tests was most of the suite's time.
pub async fn migrated_database() -> TempDatabase {
    let template = TEMPLATE.get_or_init(make_template).await;
    let url = match template {
        Template::Sqlite(path) => {
            let url = sqlite_url();
            let target = url.strip_prefix("sqlite://").expect("a SQLite URL");
            std::fs::copy(path, target).expect("copy the template database");
            url
        }
        Template::Postgres(name) => create_pg_database(Some(name)).await,
    };
    TempDatabase { url }
}

enum Template {
    /// A SQLite file with no WAL beside it (written by `VACUUM INTO`), so a plain copy is
    /// a whole database.
    Sqlite(String),
    /// A PostgreSQL database nobody stays connected to, as `CREATE DATABASE … TEMPLATE`
    /// requires.
    Postgres(String),
}

static TEMPLATE: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();

async fn make_template() -> Template {
    remove_stale_templates().await;
    let url = fresh_database_url().await;
    let pools = cairn::db::connect(&url)
        .await
        .expect("connect to the template");
    cairn::db::migrate(&pools.write)
        .await
        .expect("migrate the template");
    let pid = std::process::id();
    let template = if let Some(path) = url.strip_prefix("sqlite://") {
        let dir = std::path::Path::new(path).parent().expect("a directory");
        let copy = format!("{}/template_{pid}.db", dir.display());
        let _ = std::fs::remove_file(&copy);
        pools
            .write
            .execute_unprepared(&format!("VACUUM INTO '{copy}'"))
            .await
            .expect("write the template file");
        Template::Sqlite(copy)
    } else {
        Template::Postgres(format!("cairn_template_{pid}"))
    };
    let (read, write) = (pools.read, pools.write);
    drop(read);
    write
        .close()
        .await
        .expect("close the template's connections");
    if let Template::Postgres(name) = &template {
        let (_, migrated) = url.rsplit_once('/').expect("database URL has a path");
        pg_admin(&format!("ALTER DATABASE {migrated} RENAME TO {name}")).await;
    }
    // The migrated original is not needed again; the template is left for the next
    // run's clean-up (nothing runs when a test binary exits).
    if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm", "-auth"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    template
}

/// Templates are named after the test process that made them; those of processes that
/// have ended are removed.
async fn remove_stale_templates() {
    let gone = |pid: &str| !std::path::Path::new(&format!("/proc/{pid}")).exists();
    if let Ok(admin) = std::env::var("CAIRN_TEST_DATABASE_URL")
        && admin.starts_with("postgres")
    {
        let mut conn = PgConnection::connect(&admin).await.expect("connect");
        let names: Vec<(String,)> = sea_orm::sqlx::query_as(
            "SELECT datname FROM pg_database WHERE datname LIKE 'cairn_template_%'",
        )
        .fetch_all(&mut conn)
        .await
        .expect("list templates");
        let _ = conn.close().await;
        for (name,) in names {
            if gone(name.trim_start_matches("cairn_template_")) {
                pg_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            }
        }
        return;
    }
    let dir = std::env::temp_dir().join("cairn-tests");
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(pid) = name
            .strip_prefix("template_")
            .and_then(|n| n.strip_suffix(".db"))
            && gone(pid)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Runs one statement on the PostgreSQL test server's admin database.
async fn pg_admin(sql: &str) {
    let admin = std::env::var("CAIRN_TEST_DATABASE_URL").expect("a PostgreSQL test server");
    let mut conn = PgConnection::connect(&admin)
        .await
        .expect("connect to the PostgreSQL test server");
    sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

/// A database URL nobody else uses: a new SQLite file, or a new PostgreSQL database.
async fn fresh_database_url() -> String {
    match std::env::var("CAIRN_TEST_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => create_pg_database(None).await,
        _ => sqlite_url(),
    }
}

fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!(
        "{}_{}_{}",
        std::process::id(),
        n,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

fn sqlite_url() -> String {
    let dir = std::env::temp_dir().join("cairn-tests");
    std::fs::create_dir_all(&dir).unwrap();
    format!("sqlite://{}/t_{}.db", dir.display(), unique_suffix())
}

/// A new PostgreSQL database on the test server, empty or copied from `template`.
async fn create_pg_database(template: Option<&str>) -> String {
    let admin = std::env::var("CAIRN_TEST_DATABASE_URL").expect("a PostgreSQL test server");
    let name = format!("cairn_t_{}", unique_suffix());
    pg_admin(&match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    })
    .await;
    let (base, _) = admin.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

pub struct TestApp {
    pub db: Db,
    pub state: Data<AppState>,
    pub key: Key,
    /// The database URL, for running the real binary against the same database.
    pub url: String,
    /// The database, removed when the app that made it goes (a second process's view of
    /// it has none).
    _database: Option<TempDatabase>,
}

/// A database made for one test: a new SQLite file or a new PostgreSQL database.
pub struct TempDatabase {
    pub url: String,
}

/// A test's database goes with it: the SQLite file (and its WAL), or the PostgreSQL
/// database (dropped even while the app's pool still holds connections).
impl Drop for TempDatabase {
    fn drop(&mut self) {
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            for suffix in ["", "-wal", "-shm", "-auth"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
            return;
        }
        let (Ok(admin), Some((_, name))) = (
            std::env::var("CAIRN_TEST_DATABASE_URL"),
            self.url.rsplit_once('/'),
        ) else {
            return;
        };
        let name = name.to_string();
        // Drop runs inside the test's runtime: the statement gets a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        let database = migrated_database().await;
        let url = database.url.clone();
        let db = Db::connect(&url).await.expect("connect");
        // A no-op on the copied schema, kept so a test app is always fully migrated.
        db.migrate().await.expect("migrate");
        let state = Data::new(AppState {
            db: db.clone(),
            config: Arc::new(Config::for_database(&url)),
        });
        TestApp {
            db,
            state,
            key: Key::generate(),
            url,
            _database: Some(database),
        }
    }

    /// A client of this app configured as an install behind https.
    pub async fn https_client(&self) -> Client<impl TestService> {
        let mut config = Config::for_database(&self.url);
        config.base_url = "https://crm.example.com".into();
        config.secure_cookies = true;
        let state = Data::new(AppState {
            db: self.db.clone(),
            config: Arc::new(config),
        });
        Client {
            svc: test::init_service(build(state, self.key.clone())).await,
            cookie: None,
            csrf: None,
            peer: "10.1.2.3:4000".parse().unwrap(),
        }
    }

    /// A client of this app started with `config` (say, an environment's webhook secret).
    pub async fn client_with(&self, config: Config) -> Client<impl TestService> {
        let state = Data::new(AppState {
            db: self.db.clone(),
            config: Arc::new(config),
        });
        Client {
            svc: test::init_service(build(state, self.key.clone())).await,
            cookie: None,
            csrf: None,
            peer: "10.1.2.3:4000".parse().unwrap(),
        }
    }

    /// The same database and cookie key opened again, as a second `cairn serve` process
    /// sharing it would: its own connections and caches.
    pub async fn other_process(&self) -> TestApp {
        let db = Db::connect(&self.url).await.expect("connect");
        let state = Data::new(AppState {
            db: db.clone(),
            config: self.state.config.clone(),
        });
        TestApp {
            db,
            state,
            key: self.key.clone(),
            url: self.url.clone(),
            _database: None,
        }
    }

    pub async fn client(
        &self,
    ) -> Client<
        impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
    > {
        Client {
            svc: test::init_service(build(self.state.clone(), self.key.clone())).await,
            cookie: None,
            csrf: None,
            peer: "10.1.2.3:4000".parse().unwrap(),
        }
    }

    /// Creates a user straight through the domain (as `cairn user create` does).
    pub async fn user(&self, email: &str, role: &str) -> Actor {
        create_user(&self.db, email, role).await
    }

    /// A client signed in as a new user with `role`.
    pub async fn signed_in(&self, email: &str, role: &str) -> Client<impl TestService> {
        self.user(email, role).await;
        let mut c = self.client().await;
        let res = c.sign_in(email, PASSWORD).await;
        assert_eq!(res.status, 303, "sign in as {email}: {}", res.text());
        c
    }

    pub async fn token(&self, email: &str) -> String {
        self.token_with(email, "write", "").await
    }

    /// A token for `email` with a scope (`read`/`write`) and expiry in days ("" never).
    pub async fn token_with(&self, email: &str, scope: &str, expires_in_days: &str) -> String {
        create_token(&self.db, email, scope, expires_in_days).await
    }

    /// An API token for a new user with `role`.
    pub async fn api_user(&self, role: &str) -> String {
        let email = format!("{role}-api@example.com");
        self.user(&email, role).await;
        self.token(&email).await
    }

    /// A client signed in as a rep (`rep-api@example.com`), and that rep's API token.
    pub async fn rep_signed_in(&self) -> (Client<impl TestService>, String) {
        let token = self.api_user("rep").await;
        let mut c = self.client().await;
        let res = c.sign_in("rep-api@example.com", PASSWORD).await;
        assert_eq!(res.status, 303, "the rep signs in: {}", res.text());
        (c, token)
    }

    /// Sets `who`'s time zone (an IANA name), as their account page does.
    pub async fn set_zone(&self, who: &Actor, zone: &str) {
        users::set_time_zone(&self.db, who, zone)
            .await
            .unwrap_or_else(|e| panic!("set {}'s zone to {zone}: {e}", who.email));
    }

    /// Rows in `table`; for contacts, companies and deals the live ones (not trashed).
    pub async fn count(&self, table: &str) -> i64 {
        let live = if cairn::domain::trash::TABLES.contains(&table) {
            " WHERE deleted_at IS NULL"
        } else {
            ""
        };
        self.count_where(table, live).await
    }

    /// Rows in `table` that `filter` (" WHERE …", or empty) keeps, trashed ones included.
    pub async fn count_where(&self, table: &str, filter: &str) -> i64 {
        let row = self
            .db
            .read
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.backend(),
                format!("SELECT COUNT(*) AS n FROM {table}{filter}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

pub const PASSWORD: &str = "correct horse battery";

pub struct Response {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    pub fn location(&self) -> String {
        self.header("location").expect("a Location header")
    }
    /// Asserts a 422 whose JSON error names `field`.
    pub fn refuses_field(&self, field: &str) {
        assert_eq!(
            self.status,
            422,
            "expected 422 naming {field}: {}",
            self.text()
        );
        assert!(
            self.json()["error"]["fields"][field].is_string(),
            "the error does not name {field}: {}",
            self.text()
        );
    }
    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Finds the CSRF token a page rendered into its forms.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

/// What `TestApp::client` drives: the app as actix's test service. Helpers take
/// `&mut Client<impl TestService>`.
pub trait TestService:
    Service<Request, Response = ServiceResponse<Self::Body>, Error = actix_web::Error>
{
    type Body: MessageBody;
}

impl<S, B: MessageBody> TestService for S
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Body = B;
}

pub struct Client<S> {
    svc: S,
    /// The session cookie's value, as a browser keeps it (copy it to act as a thief).
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    /// The client's address as the server sees it.
    pub peer: std::net::SocketAddr,
}

impl<S, B> Client<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    pub async fn send(&mut self, req: TestRequest) -> Response {
        let mut req = req.peer_addr(self.peer);
        if let Some(c) = &self.cookie {
            req = req.insert_header(("cookie", format!("{SESSION_COOKIE}={c}")));
        }
        let res = test::call_service(&self.svc, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        for value in headers.get_all("set-cookie") {
            let v = value.to_str().unwrap();
            if let Some(rest) = v.strip_prefix(&format!("{SESSION_COOKIE}=")) {
                let val = rest.split(';').next().unwrap().to_string();
                let removed = val.is_empty() || v.contains("Max-Age=0") || v.contains("max-age=0");
                self.cookie = if removed { None } else { Some(val) };
            }
        }
        let body = test::read_body(res).await;
        let response = Response {
            status,
            headers,
            body,
        };
        if let Some(t) = csrf_in(&response.text()) {
            self.csrf = Some(t);
        }
        response
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.send(TestRequest::get().uri(path)).await
    }

    /// An htmx request for a fragment.
    pub async fn hx_get(&mut self, path: &str) -> Response {
        self.send(
            TestRequest::get()
                .uri(path)
                .insert_header(("HX-Request", "true")),
        )
        .await
    }

    /// A form post carrying the CSRF token the last page gave us.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("_csrf", &token));
        self.post_form_raw(path, &all).await
    }

    /// An htmx form post (the answer is a fragment), carrying the CSRF token.
    pub async fn hx_post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("_csrf", &token));
        let body = serde_html_form::to_string(&all).unwrap();
        self.send(
            TestRequest::post()
                .uri(path)
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .insert_header(("HX-Request", "true"))
                .set_payload(body),
        )
        .await
    }

    /// A form post exactly as given (no CSRF token added).
    pub async fn post_form_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = serde_html_form::to_string(fields).unwrap();
        self.send(
            TestRequest::post()
                .uri(path)
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
        .await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Response {
        self.get("/login").await;
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }

    /// Creates a record through the API and gives its id; anything but 201 fails the test.
    pub async fn create(&mut self, path: &str, token: &str, body: serde_json::Value) -> i64 {
        let res = self.api(Method::POST, path, token, Some(body)).await;
        assert_eq!(res.status, 201, "POST {path}: {}", res.text());
        res.json()["id"].as_i64().expect("the new record's id")
    }

    /// The titles of a list answer's items, in order.
    pub async fn titles(&mut self, path: &str, token: &str) -> Vec<String> {
        let res = self.api(Method::GET, path, token, None).await;
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
        res.json()["items"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|d| d["title"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// A JSON API call whose answer must be a success (any 2xx); anything else fails the
    /// test with the answer.
    pub async fn api_ok(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let label = format!("{method} {path}");
        let res = self.api(method, path, token, body).await;
        assert!(
            res.status.is_success(),
            "{label} answered {}: {}",
            res.status,
            res.text()
        );
        res
    }

    /// A form post that must succeed: 2xx, or 303 to the next page.
    pub async fn post_form_ok(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let res = self.post_form(path, fields).await;
        assert!(
            res.status.is_success() || res.status == 303,
            "POST {path} answered {}: {}",
            res.status,
            res.text()
        );
        res
    }

    /// A GET of the API that must succeed (any 2xx), and the answer's JSON.
    pub async fn get_json(&mut self, path: &str, token: &str) -> serde_json::Value {
        self.api_ok(Method::GET, path, token, None).await.json()
    }

    /// A JSON API call with a bearer token.
    pub async fn api(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut req = TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("authorization", format!("Bearer {token}")));
        if let Some(b) = body {
            req = req
                .insert_header(("content-type", "application/json"))
                .set_payload(b.to_string());
        }
        self.send(req).await
    }
}

/// The id of the stage called `name` in a pipeline's JSON (as the pipelines API gives it).
pub fn stage_id(pipeline: &serde_json::Value, name: &str) -> i64 {
    pipeline["stages"]
        .as_array()
        .expect("a pipeline's stages")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name} in {pipeline}"))["id"]
        .as_i64()
        .expect("a stage id")
}

/// A valid contact body for the API.
pub fn contact_json(first: &str, last: &str, email: &str) -> serde_json::Value {
    serde_json::json!({"first_name": first, "last_name": last, "email": email})
}

/// A user made straight through the domain on `db` (as `cairn user create` does), with
/// the suite's password: for tests that run servers of their own rather than a `TestApp`.
pub async fn create_user(db: &Db, email: &str, role: &str) -> Actor {
    let u = users::create(
        db,
        None,
        &users::NewUser {
            email: email.into(),
            name: format!("{role} {email}"),
            password: PASSWORD.into(),
            role: role.into(),
        },
    )
    .await
    .expect("create user");
    Actor {
        id: u.id,
        name: u.name,
        email: u.email,
        role: Role::parse(&u.role).unwrap(),
        ip: None,
    }
}

/// An API token for `email` on `db`, with a scope (`read`/`write`) and expiry in days
/// ("" never).
pub async fn create_token(db: &Db, email: &str, scope: &str, expires_in_days: &str) -> String {
    let req = tokens::Request {
        name: "test".into(),
        scope: scope.into(),
        expires_in_days: expires_in_days.into(),
    };
    tokens::create_for_email(db, None, email, &req)
        .await
        .expect("create token")
        .token
}

pub async fn exec(db: &Db, sql: &str) {
    db.write.execute_unprepared(sql).await.unwrap();
}
