//! Global search over contacts and companies (deals join them later): by name, email,
//! domain or phone, as you type. A read module with one raw query per engine, on
//! purpose: SQLite answers from the FTS5 index kept by triggers (MATCH and bm25), which
//! no builder expresses, and PostgreSQL from trigram indexes (see migration
//! m20261126_000004_search); one portable LIKE query would scan every row on SQLite.
use sea_orm::{DatabaseBackend, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::access::Visible;
use crate::domain::sql::{Sql, like_contains};
use crate::domain::{Actor, has_control};
use crate::error::AppError;

/// Results per kind of record.
pub const PER_KIND: i64 = 8;

#[derive(Debug, Clone, Serialize, FromQueryResult, ToSchema)]
pub struct Hit {
    /// `contact` or `company`.
    pub kind: String,
    pub id: i64,
    pub title: String,
    /// Email and phone of a contact; domain and phone of a company.
    pub subtitle: String,
}

impl Hit {
    pub fn url(&self) -> String {
        match self.kind.as_str() {
            "company" => format!("/companies/{}", self.id),
            "deal" => format!("/deals/{}", self.id),
            _ => format!("/contacts/{}", self.id),
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Results {
    pub contacts: Vec<Hit>,
    pub companies: Vec<Hit>,
    pub deals: Vec<Hit>,
}

impl Results {
    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty() && self.companies.is_empty() && self.deals.is_empty()
    }
}

/// The words of a search: at most six, each holding a letter or digit.
fn words(q: &str) -> Vec<String> {
    q.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(6)
        .map(str::to_string)
        .collect()
}

/// What `actor` may see (`access`) of the records matching `q`.
pub async fn search(db: &Db, actor: &Actor, q: &str) -> Result<Results, AppError> {
    if has_control(q) || q.chars().count() > 200 {
        return Err(AppError::field(
            "q",
            "Search for up to 200 characters of text.",
        ));
    }
    let words = words(q);
    if words.is_empty() {
        return Ok(Results::default());
    }
    let visible = crate::domain::access::visible(db, actor).await?;
    let backend = db.backend();
    let mut sql = Sql::new(backend);
    match backend {
        DatabaseBackend::Postgres => postgres(&mut sql, &words, visible),
        _ => sqlite(&mut sql, &words, visible),
    }
    let hits = Hit::find_by_statement(sql.build()).all(&db.read).await?;
    let mut results = Results::default();
    for h in hits {
        match h.kind.as_str() {
            "contact" => results.contacts.push(h),
            "company" => results.companies.push(h),
            _ => results.deals.push(h),
        }
    }
    Ok(results)
}

/// Every word as a quoted prefix term: `"ana"* "acme"*`. Quoting keeps FTS5 syntax
/// (`AND`, `-`, `:` …) in what users type from being read as operators.
fn fts_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Only the first hundred matches of a search are ranked: a prefix like "a" or "555"
/// matches most of a large table, and a word or two more narrows the matches enough to
/// rank them all. Reading and ranking 300 took SQLite twice the time of 100 at a million
/// contacts (0.85 ms against 0.4 for "ana"), where 10 000 contacts rarely hold 100.
const RANKED: i64 = 100;

/// The rank is how many of the words begin a word of the name, not FTS5's bm25: bm25
/// counts every row holding each word before it scores the first one (a million rows for
/// "555"), while this looks at the ranked rows only, so a keystroke costs the same at a
/// million contacts as at ten thousand (with the prefix indexes of the scale migration).
fn sqlite(sql: &mut Sql, words: &[String], visible: Visible) {
    let query = fts_query(words);
    for (i, (kind, fts, table)) in [
        ("contact", "contacts_fts", "contacts"),
        ("company", "companies_fts", "companies"),
        ("deal", "deals_fts", "deals"),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!(
            "SELECT kind, id, title, subtitle FROM (SELECT kind, id, title, subtitle FROM \
             (SELECT '{kind}' AS kind, rowid AS id, title, trim(body) AS subtitle \
             FROM {fts} WHERE {fts} MATCH "
        ))
        .bind(query.clone());
        // Only the records the asker may see are ranked (`access`).
        if let Some(owner) = visible.owner() {
            sql.push(&format!(
                " AND rowid IN (SELECT id FROM {table} WHERE owner_id = "
            ))
            .bind(owner)
            .push(")");
        }
        sql.push(" LIMIT ").count(RANKED).push(") ORDER BY ");
        for (j, w) in words.iter().enumerate() {
            if j > 0 {
                sql.push(" + ");
            }
            sql.push("(' ' || lower(title) LIKE ")
                .bind(name_word(w))
                .push(" ESCAPE '\\')");
        }
        sql.push(" DESC, id LIMIT ").count(PER_KIND).push(")");
    }
}

/// `% word%`: a word of the name begins with `w` (lowered as SQLite lowers, ASCII only).
fn name_word(w: &str) -> String {
    let inner = like_contains(&w.to_ascii_lowercase());
    format!("% {}", &inner[1..])
}

// Trashed rows are skipped here; SQLite's search tables drop them (the trash migration).
// As on SQLite, only the first `RANKED` matches of each kind are sorted: walking the name
// index until `PER_KIND` rows match costs a lower() of every row it passes (150 ms when a
// first name's contacts sort late), where the trigram index finds the matches at once.
fn postgres(sql: &mut Sql, words: &[String], visible: Visible) {
    // These expressions are exactly the indexed ones, so the trigram indexes serve them.
    let contact = "lower(c.first_name || ' ' || c.last_name || ' ' || coalesce(c.email, '') || ' ' || coalesce(c.phone, ''))";
    let company = "lower(o.name || ' ' || coalesce(o.domain, '') || ' ' || coalesce(o.phone, ''))";
    let kinds = [
        (
            "SELECT 'contact' AS kind, c.id, c.first_name || ' ' || c.last_name AS title, \
             trim(coalesce(c.email, '') || ' ' || coalesce(c.phone, '')) AS subtitle, \
             c.last_name AS k1, c.first_name AS k2 FROM contacts c WHERE c.deleted_at IS NULL",
            contact,
            "c.owner_id",
        ),
        (
            "SELECT 'company' AS kind, o.id, o.name AS title, \
             trim(coalesce(o.domain, '') || ' ' || coalesce(o.phone, '')) AS subtitle, \
             o.name_norm AS k1, '' AS k2 FROM companies o WHERE o.deleted_at IS NULL",
            company,
            "o.owner_id",
        ),
        (
            "SELECT 'deal' AS kind, d.id, d.title AS title, '' AS subtitle, \
             d.title AS k1, '' AS k2 FROM deals d WHERE d.deleted_at IS NULL",
            "lower(d.title)",
            "d.owner_id",
        ),
    ];
    for (i, (select, text, owner)) in kinds.into_iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push("(SELECT kind, id, title, subtitle FROM (")
            .push(select);
        for w in words {
            sql.push(&format!(" AND {text} LIKE "))
                .bind(like_contains(&w.to_lowercase()))
                .push(" ESCAPE '\\'");
        }
        visible.push(sql, owner);
        sql.push(" LIMIT ")
            .count(RANKED)
            .push(") m ORDER BY k1, k2, id LIMIT ")
            .count(PER_KIND)
            .push(")");
    }
}
