//! The deal reads that stay raw SQL: each hands its deals (a deal, a page of the table, a
//! board's cards) across as one JSON value built in the database (`sql::json_array`), the
//! trick that keeps lists fast on SQLite, and the board reads its columns through
//! per-stage LIMIT subqueries joined by UNION ALL. Writes never come here; everything
//! else in `deals` reads through sea-orm.

use super::*;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult};

use crate::domain::Db;
use crate::domain::Page;
use crate::domain::access::{self, Visible};
use crate::domain::records::reads::json_value;
use crate::domain::sql::{PageRow, Sql, json_array};
use crate::error::AppError;

/// A deal's score in percent, when it has one.
const SCORE: &str = "(SELECT CAST(ROUND(ds.probability * 100) AS INTEGER) FROM deal_scores ds WHERE ds.deal_id = d.id)";

/// A card's fields; a company `visible` does not see is named only as another rep's.
fn card_fields(visible: Visible) -> Vec<(&'static str, String)> {
    let company = visible.name_sql("co", "co.name", access::OTHERS_COMPANY);
    [
        ("id", "d.id"),
        ("title", "d.title"),
        ("stage_id", "d.stage_id"),
        ("position", "d.position"),
        ("amount", "d.amount_minor"),
        ("currency", "d.currency"),
        ("company", company.as_str()),
        ("owner_name", "u.name"),
        ("version", "d.version"),
        ("stage_entered_at", "d.stage_entered_at"),
        ("score", SCORE),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// A deal's fields; the company and contacts `visible` does not see are named only as
/// another rep's (their ids stay: the links are kept when the rep edits the deal).
fn fields(backend: DatabaseBackend, visible: Visible) -> Vec<(&'static str, String)> {
    let name = visible.name_sql(
        "x",
        "x.first_name || ' ' || x.last_name",
        access::OTHERS_CONTACT,
    );
    let company = visible.name_sql("co", "co.name", access::OTHERS_COMPANY);
    // Contacts `visible` does not see sort by the name they show, so where they fall
    // among the others (and among themselves: by id) says nothing of their real names.
    let order = format!(
        "{}, {}, x.id",
        visible.name_sql("x", "x.last_name", access::OTHERS_CONTACT),
        visible.name_sql("x", "x.first_name", access::OTHERS_CONTACT)
    );
    let contacts = match backend {
        DatabaseBackend::Postgres => {
            format!(
                "(SELECT COALESCE(json_agg(json_build_object('id', x.id, 'name', {name}) \
             ORDER BY {order}), '[]'::json) FROM deal_contacts dc JOIN contacts x ON x.id = dc.contact_id AND x.deleted_at IS NULL \
             WHERE dc.deal_id = d.id)"
            )
        }
        _ => {
            format!(
                "json((SELECT json_group_array(json_object('id', x.id, 'name', {name}) \
             ORDER BY {order}) FROM deal_contacts dc JOIN contacts x ON x.id = dc.contact_id AND x.deleted_at IS NULL \
             WHERE dc.deal_id = d.id))"
            )
        }
    };
    let custom = json_value(backend, "d.custom");
    let stored = "(SELECT ds.factors FROM deal_scores ds WHERE ds.deal_id = d.id)";
    let factors = match backend {
        DatabaseBackend::Postgres => format!("{stored}::json"),
        _ => format!("json({stored})"),
    };
    let fields = vec![
        ("id", "d.id"),
        ("title", "d.title"),
        ("pipeline_id", "d.pipeline_id"),
        ("stage_id", "d.stage_id"),
        ("stage", "s.name"),
        ("stage_kind", "s.kind"),
        ("position", "d.position"),
        ("amount", "d.amount_minor"),
        ("currency", "d.currency"),
        // A trashed company is no deal's company until it is restored.
        ("company_id", "co.id"),
        ("company", company.as_str()),
        ("contacts", contacts.as_str()),
        ("owner_id", "d.owner_id"),
        ("owner_name", "u.name"),
        ("expected_close", "d.expected_close"),
        ("probability", "COALESCE(d.probability, s.probability)"),
        ("probability_override", "d.probability"),
        ("source", "d.source"),
        ("closed_at", "d.closed_at"),
        ("lost_reason", "d.lost_reason"),
        ("version", "d.version"),
        ("stage_entered_at", "d.stage_entered_at"),
        ("created_at", "d.created_at"),
        ("updated_at", "d.updated_at"),
        ("custom_fields", custom.as_str()),
        ("score", SCORE),
        ("score_factors", factors.as_str()),
    ];
    fields
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}

/// `fields` as `json_array` takes them.
fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

const JOINS: &str = " JOIN pipeline_stages s ON s.id = d.stage_id LEFT JOIN companies co ON co.id = d.company_id AND co.deleted_at IS NULL \
     JOIN users u ON u.id = d.owner_id";

/// The one row of a JSON-page statement, as its items.
async fn items<T: serde::de::DeserializeOwned>(
    conn: &impl ConnectionTrait,
    sql: Sql,
    what: &str,
) -> Result<Vec<T>, AppError> {
    let page: Page<T> = PageRow::find_by_statement(sql.build())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::Internal(format!("the {what} query returned no row")))?
        .into_page(1, 1)?;
    Ok(page.items)
}

/// Raw: a deal with its contacts as one JSON value, in one statement.
pub(super) async fn deal_by_id(
    conn: &impl ConnectionTrait,
    id: i64,
    visible: Visible,
) -> Result<Option<Deal>, AppError> {
    let backend = conn.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(1 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(backend, &pairs(&fields(backend, visible)), ""))
        .push(" FROM deals d")
        .push(JOINS)
        .push(" WHERE d.deleted_at IS NULL AND d.id = ")
        .bind(id);
    visible.push(&mut sql, "d.owner_id");
    sql.push(") AS items");
    Ok(items(conn, sql, "deal").await?.into_iter().next())
}

/// Whose deals a record page lists.
pub(super) enum Related {
    Company(i64),
    Contact(i64),
}

/// Raw: a company's or a contact's newest deals as one JSON value.
pub(super) async fn related_deals(
    db: &Db,
    to: Related,
    visible: Visible,
    limit: i64,
) -> Result<Vec<Deal>, AppError> {
    let backend = db.backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(
            backend,
            &pairs(&fields(backend, visible)),
            " ORDER BY d.created_at DESC, d.id DESC",
        ))
        .push(" FROM (SELECT d.id FROM deals d");
    match to {
        Related::Company(id) => sql
            .push(" WHERE d.deleted_at IS NULL AND d.company_id = ")
            .bind(id),
        Related::Contact(id) => sql
            .push(" JOIN deal_contacts dc ON dc.deal_id = d.id WHERE d.deleted_at IS NULL AND dc.contact_id = ")
            .bind(id),
    };
    visible.push(&mut sql, "d.owner_id");
    sql.push(" ORDER BY d.created_at DESC, d.id DESC LIMIT ")
        .count(limit)
        .push(") page JOIN deals d ON d.id = page.id")
        .push(JOINS)
        .push(") AS items");
    items(&db.read, sql, "deals").await
}

/// Which deals a board or table query starts from. Naming the stages (rather than the
/// pipeline) lets every filter be answered from the (stage, …) index without reading a
/// deal's row.
enum Scope<'a> {
    Stage(i64),
    Stages(&'a [i64]),
}

/// The board's filters, written once for the board's and the table's statements.
///
/// The stage ids are written into the text, not bound: SQLite (built with STAT4) re-plans
/// a statement on every run in which a value compared with an indexed column was bound
/// again, which cost a board build more than its sums. The text is the same for every
/// build of a pipeline, so each connection prepares it once. Ids are integers we read,
/// so nothing a user typed reaches the text. The amount bounds are bound but compared
/// with `+d.amount_minor`, which no index serves, for the same reason.
fn push_board_filters(sql: &mut Sql, q: &BoardQuery, scope: Scope) {
    match scope {
        Scope::Stage(id) => {
            sql.push(&format!(" WHERE d.stage_id = {id}"));
        }
        Scope::Stages([]) => {
            sql.push(" WHERE 1 = 0");
        }
        Scope::Stages(ids) => {
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            sql.push(&format!(" WHERE d.stage_id IN ({})", ids.join(", ")));
        }
    }
    // Trashed deals are on no board or table; the (stage, …) indexes are partial on it.
    sql.push(" AND d.deleted_at IS NULL");
    q.visible.push(sql, "d.owner_id");
    if let Some(o) = q.owner {
        sql.push(" AND d.owner_id = ").bind(o);
    }
    if let Some(c) = q.company {
        sql.push(" AND d.company_id = ").bind(c);
    }
    if let Some(s) = q.min_score {
        // The score as cards show it, so the filter keeps what they say is at least `s`.
        sql.push(" AND ").push(SCORE).push(" >= ").bind(s);
    }
    if let Some((from, to)) = q.close_month {
        sql.push(" AND d.expected_close >= ")
            .bind(from)
            .push(" AND d.expected_close < ")
            .bind(to);
    }
    // A bound in major units is `a` minor units for a whole currency and `a * 100` for
    // the rest. Written as a test most deals pass on their amount alone (an amount of at
    // least `a * 100` meets a minimum in either kind), rather than scaling the bound per
    // row, it halves what a filtered board's sums cost on SQLite.
    let whole = format!("('{}')", WHOLE_CURRENCIES.join("', '"));
    if let Some(a) = q.min_major {
        sql.push(" AND (+d.amount_minor >= ")
            .bind(a.saturating_mul(100))
            .push(" OR (+d.amount_minor >= ")
            .bind(a)
            .push(" AND d.currency IN ")
            .push(&whole)
            .push("))");
    }
    if let Some(a) = q.max_major {
        sql.push(" AND (+d.amount_minor <= ")
            .bind(a)
            .push(" OR (+d.amount_minor <= ")
            .bind(a.saturating_mul(100))
            .push(" AND d.currency NOT IN ")
            .push(&whole)
            .push("))");
    }
}

/// Per stage and currency, the count and sums of a board's deals.
#[derive(FromQueryResult)]
pub(super) struct Totals {
    pub(super) stage_id: i64,
    pub(super) currency: String,
    /// The deals the column shows: all of an open stage's, a closed stage's recent ones.
    pub(super) n: i64,
    pub(super) total: i64,
    /// The amounts of deals that follow their stage's probability (open stages).
    pub(super) plain: i64,
    /// Amount × probability ÷ 100 of the deals with their own (open stages).
    pub(super) overridden: i64,
    /// A closed stage's deals that entered it before the cut-off.
    pub(super) older: i64,
}

impl Totals {
    /// A (stage, currency) with nothing counted yet.
    pub(super) fn empty(stage_id: i64, currency: &str) -> Totals {
        Totals {
            stage_id,
            currency: currency.to_string(),
            n: 0,
            total: 0,
            plain: 0,
            overridden: 0,
            older: 0,
        }
    }
}

/// Raw: it shares the board's filter text with the card statements below, so the counts
/// and the cards can never disagree on which deals match. Open stages are summed from
/// the (stage, position, …) index, closed ones from the (stage, entered, …) index, which
/// also splits their recent deals from the older.
pub(super) async fn board_totals(
    db: &Db,
    q: &BoardQuery,
    stages: &[Stage],
    since: DateTime<Utc>,
) -> Result<Vec<Totals>, AppError> {
    let (open, closed): (Vec<&Stage>, Vec<&Stage>) = stages.iter().partition(|s| s.kind == "open");
    let ids = |s: Vec<&Stage>| s.iter().map(|s| s.id).collect::<Vec<i64>>();
    let (open, closed) = (ids(open), ids(closed));
    let mut sql = Sql::new(db.backend());
    sql.push(
        // The stage's probability is applied per stage by the caller, so every sum comes
        // from the (stage, …) index alone, with no join per deal.
        "SELECT d.stage_id, d.currency, COUNT(*) AS n, CAST(COALESCE(SUM(d.amount_minor), 0) AS BIGINT) AS total, \
         CAST(COALESCE(SUM(CASE WHEN d.probability IS NULL THEN d.amount_minor ELSE 0 END), 0) AS BIGINT) AS plain, \
         CAST(COALESCE(SUM(d.amount_minor * d.probability / 100), 0) AS BIGINT) AS overridden, \
         CAST(0 AS BIGINT) AS older FROM deals d",
    );
    push_board_filters(&mut sql, q, Scope::Stages(&open));
    sql.push(" GROUP BY d.stage_id, d.currency UNION ALL SELECT d.stage_id, d.currency, CAST(SUM(CASE WHEN d.stage_entered_at >= ")
        .bind(since)
        .push(" THEN 1 ELSE 0 END) AS BIGINT) AS n, CAST(COALESCE(SUM(CASE WHEN d.stage_entered_at >= ")
        .bind(since)
        .push(
            " THEN d.amount_minor ELSE 0 END), 0) AS BIGINT) AS total, \
             CAST(0 AS BIGINT) AS plain, CAST(0 AS BIGINT) AS overridden, \
             CAST(SUM(CASE WHEN d.stage_entered_at >= ",
        )
        .bind(since)
        .push(" THEN 0 ELSE 1 END) AS BIGINT) AS older FROM deals d");
    push_board_filters(&mut sql, q, Scope::Stages(&closed));
    sql.push(" GROUP BY d.stage_id, d.currency");
    Ok(Totals::find_by_statement(sql.build()).all(&db.read).await?)
}

/// Which of a column's deals it shows, and in which order.
#[derive(Clone, Copy)]
pub(super) enum Shown {
    /// An open stage: every deal, in the column's order.
    All,
    /// A won or lost stage: the deals that entered it since the time given, newest first.
    Since(DateTime<Utc>),
}

impl Shown {
    fn of(stage: &Stage, since: DateTime<Utc>) -> Shown {
        if stage.kind == "open" {
            Shown::All
        } else {
            Shown::Since(since)
        }
    }

    /// The column's filter beyond the board's, and its order: `WHERE` is already open.
    fn push(self, sql: &mut Sql) {
        match self {
            Shown::All => sql.push(" ORDER BY d.position, d.id"),
            // Written into the text like the stage ids (see `push_board_filters`), as
            // both databases would read the bound value: it changes once a day.
            Shown::Since(t) => sql.push(&format!(
                " AND d.stage_entered_at >= '{}' ORDER BY d.stage_entered_at DESC, d.id DESC",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
            )),
        };
    }

    fn order(self) -> &'static str {
        match self {
            Shown::All => " ORDER BY d.position, d.id",
            Shown::Since(_) => " ORDER BY d.stage_entered_at DESC, d.id DESC",
        }
    }
}

/// Raw: every column's first cards as one JSON value, from a UNION ALL of one small index
/// range per stage ((stage, position) for open stages, (stage, entered) for closed ones)
/// instead of numbering every deal of the pipeline. The cards come in no order: `board`
/// orders each column's few, where ordering them here sorted them into a temporary
/// B-tree, a fifth of the statement's cost on SQLite.
pub(super) async fn board_cards(
    db: &Db,
    q: &BoardQuery,
    stages: &[Stage],
    since: DateTime<Utc>,
) -> Result<Vec<Card>, AppError> {
    let backend = db.backend();
    let mut cards = Sql::new(backend);
    cards
        .push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(backend, &pairs(&card_fields(q.visible)), ""))
        .push(" FROM (");
    for (i, stage) in stages.iter().enumerate() {
        if i > 0 {
            cards.push(" UNION ALL ");
        }
        cards.push("SELECT * FROM (SELECT d.id FROM deals d");
        push_board_filters(&mut cards, q, Scope::Stage(stage.id));
        Shown::of(stage, since).push(&mut cards);
        cards
            .push(" LIMIT ")
            .count(COLUMN_PAGE)
            .push(") s")
            .push(&i.to_string());
    }
    if stages.is_empty() {
        cards.push("SELECT id FROM deals WHERE 1 = 0");
    }
    cards
        .push(") page JOIN deals d ON d.id = page.id")
        .push(JOINS)
        .push(") AS items");
    items(&db.read, cards, "board").await
}

/// Raw: one column's next cards as one JSON value.
pub(super) async fn column_cards_after(
    db: &Db,
    q: &BoardQuery,
    stage: &Stage,
    since: DateTime<Utc>,
    offset: i64,
) -> Result<Vec<Card>, AppError> {
    let backend = db.backend();
    let shown = Shown::of(stage, since);
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(
            backend,
            &pairs(&card_fields(q.visible)),
            shown.order(),
        ))
        .push(" FROM (SELECT d.id FROM deals d");
    push_board_filters(&mut sql, q, Scope::Stage(stage.id));
    shown.push(&mut sql);
    sql.push(" LIMIT ")
        .count(COLUMN_PAGE)
        .push(" OFFSET ")
        .count(offset.max(0))
        .push(") page JOIN deals d ON d.id = page.id")
        .push(JOINS)
        .push(") AS items");
    items(&db.read, sql, "column").await
}

/// Per currency, the count and sum of the deal table's matches.
#[derive(FromQueryResult)]
pub(super) struct CurrencyTotal {
    pub(super) currency: String,
    pub(super) n: i64,
    pub(super) total: i64,
}

/// Raw: it shares the board's filter text with the table's page statement.
pub(super) async fn table_totals(
    db: &Db,
    q: &ListQuery,
    stage_ids: &[i64],
) -> Result<Vec<CurrencyTotal>, AppError> {
    let mut sums = Sql::new(db.backend());
    sums.push(
        "SELECT d.currency, COUNT(*) AS n, CAST(COALESCE(SUM(d.amount_minor), 0) AS BIGINT) AS total \
         FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id",
    );
    push_board_filters(&mut sums, &q.filters, Scope::Stages(stage_ids));
    sums.push(" GROUP BY d.currency");
    Ok(CurrencyTotal::find_by_statement(sums.build())
        .all(&db.read)
        .await?)
}

/// Raw: a page of the deal table as one JSON value, sorted and cut by id first so only
/// the page's rows are built.
pub(super) async fn table_page(
    db: &Db,
    q: &ListQuery,
    stage_ids: &[i64],
) -> Result<Vec<Deal>, AppError> {
    let backend = db.backend();
    let keys: &[&str] = LIST_SORTS
        .iter()
        .find(|(k, _)| *k == q.sort)
        .map_or(&["d.updated_at"], |(_, e)| e);
    // A company the asker may not see sorts under the label they are shown, so where
    // their deal falls says nothing of its real name.
    let company = format!(
        "lower({})",
        q.filters
            .visible
            .name_sql("co", "co.name", access::OTHERS_COMPANY)
    );
    let dir = if q.desc { "DESC" } else { "ASC" };
    let order = format!(
        " ORDER BY {}, d.id {dir}",
        keys.iter()
            .map(|k| if *k == "lower(co.name)" {
                company.as_str()
            } else {
                k
            })
            .map(|k| format!("{k} {dir} NULLS LAST"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(
            backend,
            &pairs(&fields(backend, q.filters.visible)),
            &order,
        ))
        .push(
            " FROM (SELECT d.id FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id \
             JOIN users u ON u.id = d.owner_id",
        );
    if q.sort == "company" {
        // Only this sort reads the company; a trashed one is no deal's company.
        sql.push(" LEFT JOIN companies co ON co.id = d.company_id AND co.deleted_at IS NULL");
    }
    push_board_filters(&mut sql, &q.filters, Scope::Stages(stage_ids));
    sql.push(&order)
        .push(" LIMIT ")
        .count(q.per_page)
        .push(" OFFSET ")
        .count(((q.page - 1) as i64).saturating_mul(q.per_page))
        .push(") page JOIN deals d ON d.id = page.id")
        .push(JOINS)
        .push(") AS items");
    items(&db.read, sql, "deal list").await
}

/// A live deal as the board's index reads it (`index`): id, stage, position, amount,
/// currency, probability, owner and their name, company, its name and its owner (None
/// when the company is in the trash; the id stays, as the company filter compares it),
/// expected close, when it entered its stage, version, title, score.
pub(super) type IndexRow = (
    i64,
    i64,
    i64,
    i64,
    String,
    Option<i32>,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<chrono::NaiveDate>,
    DateTime<Utc>,
    i32,
    String,
    Option<i32>,
);

/// Raw: every live deal as one JSON array of arrays. Read row by row, sqlx hands each of
/// a few thousand rows across threads on its own, which took 77 ms for 2 222 deals under
/// load, against a few for one value; arrays rather than objects halve what is built
/// and parsed.
pub(super) async fn index_rows(db: &Db) -> Result<Vec<IndexRow>, AppError> {
    let backend = db.backend();
    let columns = "d.id, d.stage_id, d.position, d.amount_minor, d.currency, d.probability, \
         d.owner_id, u.name, d.company_id, co.name, co.owner_id, d.expected_close, d.stage_entered_at, d.version, d.title, \
         CAST(ROUND(ds.probability * 100) AS INTEGER)";
    let rows = match backend {
        DatabaseBackend::Postgres => {
            format!("COALESCE(json_agg(json_build_array({columns})), '[]'::json)::text")
        }
        _ => format!("json_group_array(json_array({columns}))"),
    };
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&rows)
        .push(" FROM deals d")
        .push(JOINS)
        .push(
            " LEFT JOIN deal_scores ds ON ds.deal_id = d.id WHERE d.deleted_at IS NULL) AS items",
        );
    items(&db.read, sql, "board index").await
}
