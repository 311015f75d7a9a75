//! Record-level access: the organisation setting "reps see only their own records"
//! (`own_records_only`) and the one visibility filter every record read builds through.
//!
//! When the rule is on, a rep sees the contacts, companies and deals they own, and what
//! hangs off those (activities, tasks, a company's contacts, a deal's contacts); anything
//! else is "not found" (404, never 403: its existence is not told). Admins and managers
//! see everything; so do viewers, who are read-only but not restricted by the rule: the
//! issue names reps alone, and a viewer's role is read-only auditing of the whole book.
//!
//! With the rule off, or for anyone but a rep, `visible` answers `Visible::All` and every
//! filter below adds nothing, so lists keep their plans. Non-reps never read the setting;
//! reps read it once per `TTL` per process, and a change made through `settings::set` in
//! this process is seen on the next request (the settings generation moves).
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::domain::sql::Sql;
use crate::domain::{Actor, Db, settings};
use crate::error::AppError;

/// The settings key; "true" turns the rule on, anything else (or none) leaves it off.
pub const SETTING: &str = crate::domain::organisation::OWN_RECORDS_ONLY;

/// What a rep is shown in place of the name of a record linked to theirs that they may
/// not see (a deal's company or contacts, a contact's company, an entry's record).
pub const OTHERS_CONTACT: &str = "another rep's contact";
pub const OTHERS_COMPANY: &str = "another rep's company";

/// Whether a linked company's shown name is the label of one the reader may not see.
pub fn company_hidden(shown: Option<&str>) -> bool {
    shown == Some(OTHERS_COMPANY)
}

/// A linked company as a record's form shows it: one the reader may not see is chosen by
/// its id alone, so saving the form keeps the link without naming it.
pub fn company_in_form(shown: Option<&str>, id: Option<i64>) -> String {
    match (shown, id) {
        (Some(_), Some(id)) if company_hidden(shown) => format!("{OTHERS_COMPANY} (#{id})"),
        (Some(name), _) => name.to_string(),
        _ => String::new(),
    }
}
pub const OTHERS_DEAL: &str = "another rep's deal";

/// A rep naming another rep's record in a picker is told whose it is (a new record of
/// that name would only be refused as taken), never more.
pub const OTHERS_COMPANY_NAMED: &str =
    "Another rep's company has this name; ask a manager to link it or to hand it to you.";
pub const OTHERS_CONTACT_NAMED: &str =
    "Another rep's contact has this name or email; ask a manager to link it or to hand it to you.";

/// A unique value (a contact's email, a company's name or domain) held by a record the
/// rep may not see: said to be in use, never whose.
pub fn taken(field: &str) -> AppError {
    AppError::conflict_field(
        field,
        format!("This {field} is already in use; ask a manager."),
    )
}

/// Whether `visible` is limited to someone other than `owner`: the record is hidden.
pub fn hides(visible: Visible, owner: Option<i64>) -> bool {
    visible.owner().is_some_and(|me| owner != Some(me))
}

/// How long another process's change may take to be seen here.
const TTL: Duration = Duration::from_secs(2);

/// Moves on every settings write in this process (any key: a spare re-read is cheap),
/// so a cached rule is never older than this process's last settings change.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Called by `settings::set` and `settings::delete`.
pub(crate) fn settings_changed() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Whether "reps see only their own records" is on, read from the settings table.
pub async fn own_records_only(conn: &impl ConnectionTrait) -> Result<bool, AppError> {
    Ok(settings::get(conn, SETTING).await?.as_deref() == Some("true"))
}

/// Turns the rule on or off (the Organisation page and tests write it here or through
/// `settings::set`; both are seen on the next request).
pub async fn set_own_records_only(conn: &impl ConnectionTrait, on: bool) -> Result<(), AppError> {
    settings::set(conn, SETTING, if on { "true" } else { "false" }).await
}

/// The rule as last read, when, and at which settings generation.
#[derive(Default)]
pub struct RuleCache {
    entry: Mutex<Option<(bool, Instant, u64)>>,
}

impl RuleCache {
    fn get(&self) -> Option<bool> {
        let entry = self.entry.lock().unwrap_or_else(|e| e.into_inner());
        entry
            .filter(|(_, at, generation)| {
                at.elapsed() < TTL && *generation == GENERATION.load(Ordering::SeqCst)
            })
            .map(|(on, _, _)| on)
    }

    fn put(&self, on: bool, generation: u64) {
        *self.entry.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((on, Instant::now(), generation));
    }
}

async fn rule(db: &Db) -> Result<bool, AppError> {
    if let Some(on) = db.access_cache.get() {
        return Ok(on);
    }
    // Read the generation first: a change racing the read makes the entry stale at once.
    let generation = GENERATION.load(Ordering::SeqCst);
    let on = own_records_only(&db.read).await?;
    db.access_cache.put(on, generation);
    Ok(on)
}

/// Whose records someone may see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Visible {
    #[default]
    All,
    /// Only the records this user owns (and what is linked to them).
    Owner(i64),
}

/// What `actor` may see now.
pub async fn visible(db: &Db, actor: &Actor) -> Result<Visible, AppError> {
    // The permission table says whom the rule limits (reps).
    if actor.reaches_all(crate::domain::Action::ReadUnderOwnRecordsRule) {
        return Ok(Visible::All);
    }
    Ok(if rule(db).await? {
        Visible::Owner(actor.id)
    } else {
        Visible::All
    })
}

/// What user `user_id` may see, read through `conn` for mail sent to them (a job's or a
/// transaction's: no request, no actor of theirs, no cache). An unknown user sees nothing
/// but their own.
pub async fn visible_to_user(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Visible, AppError> {
    use sea_orm::{EntityTrait, QuerySelect};
    let role: Option<String> = crate::entities::user::Entity::find_by_id(user_id)
        .select_only()
        .column(crate::entities::user::Column::Role)
        .into_tuple()
        .one(conn)
        .await?;
    let sees_all = role
        .as_deref()
        .and_then(crate::domain::Role::parse)
        .is_some_and(|r| {
            crate::domain::permissions::scope(r, crate::domain::Action::ReadUnderOwnRecordsRule)
                == crate::domain::permissions::Scope::All
        });
    Ok(if sees_all || !own_records_only(conn).await? {
        Visible::All
    } else {
        Visible::Owner(user_id)
    })
}

/// The record tables the rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Contacts,
    Companies,
    Deals,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Contacts => "contacts",
            Table::Companies => "companies",
            Table::Deals => "deals",
        }
    }

    /// The table named `name` (a record kind's table).
    pub fn of(name: &str) -> Option<Table> {
        match name {
            "contacts" => Some(Table::Contacts),
            "companies" => Some(Table::Companies),
            "deals" => Some(Table::Deals),
            _ => None,
        }
    }
}

impl Visible {
    pub fn owner(self) -> Option<i64> {
        match self {
            Visible::All => None,
            Visible::Owner(id) => Some(id),
        }
    }

    pub fn is_all(self) -> bool {
        self == Visible::All
    }

    /// `<alias>.owner_id = owner` on the record aliased `alias`; none for `All`, so a
    /// statement is exactly what it was without the rule (an empty condition would be
    /// written `AND TRUE`).
    pub fn on(self, alias: &'static str) -> Option<Expr> {
        self.owned((alias, "owner_id"))
    }

    /// `column` (a record's owner) is the one this one sees; none for `All`.
    pub fn owned(self, column: impl IntoColumnRef) -> Option<Expr> {
        self.owner().map(|id| Expr::col(column).eq(id))
    }

    /// The ids of the live records of `table` this one sees (None for `All`: everything).
    pub fn ids(self, table: Table) -> Option<SelectStatement> {
        let id = self.owner()?;
        Some(
            Query::select()
                .column("id")
                .from(table.name())
                .and_where(Expr::col("owner_id").eq(id))
                .and_where(Expr::col("deleted_at").is_null())
                .to_owned(),
        )
    }

    /// `column` names a record of `table` this one sees (nothing for `All`).
    pub fn names(self, column: impl IntoColumnRef, table: Table) -> Condition {
        match self.ids(table) {
            None => Condition::all(),
            Some(ids) => Condition::all().add(Expr::col(column).in_subquery(ids)),
        }
    }

    /// What hangs off records (activities, tasks): visible when the record it is about
    /// is; the deal first, then the contact, then the company, as `activities::get`
    /// picks its subject. Something about no record is visible to `author` alone.
    pub fn linked<C: IntoColumnRef + Clone>(
        self,
        deal: C,
        contact: C,
        company: C,
        authors: &[C],
    ) -> Condition {
        let Visible::Owner(me) = self else {
            return Condition::all();
        };
        let null = |c: &C| Expr::col(c.clone()).is_null();
        let mut unlinked = Condition::any();
        for a in authors {
            unlinked = unlinked.add(Expr::col(a.clone()).eq(me));
        }
        Condition::any()
            .add(
                Condition::all()
                    .add(Expr::col(deal.clone()).is_not_null())
                    .add(self.names(deal.clone(), Table::Deals)),
            )
            .add(
                Condition::all()
                    .add(null(&deal))
                    .add(Expr::col(contact.clone()).is_not_null())
                    .add(self.names(contact.clone(), Table::Contacts)),
            )
            .add(
                Condition::all()
                    .add(null(&deal))
                    .add(null(&contact))
                    .add(Expr::col(company.clone()).is_not_null())
                    .add(self.names(company.clone(), Table::Companies)),
            )
            .add(
                Condition::all()
                    .add(null(&deal))
                    .add(null(&contact))
                    .add(null(&company))
                    .add(unlinked),
            )
    }

    /// For the raw-SQL readers: the name `expr` of a linked record aliased `alias` where
    /// this one sees it, `placeholder` where not (a deal's company and contacts). The
    /// owner is an id we read, written into the text like `records::reads`' counts.
    pub fn name_sql(self, alias: &str, expr: &str, placeholder: &str) -> String {
        match self {
            Visible::All => expr.to_string(),
            // No linked record (a left join's nulls) stays no name.
            Visible::Owner(me) => format!(
                "CASE WHEN {alias}.id IS NULL THEN NULL WHEN {alias}.owner_id = {me} THEN {expr} ELSE '{}' END",
                placeholder.replace('\'', "''")
            ),
        }
    }

    /// For the raw-SQL readers (search, deal reads): ` AND <column> = owner`, or nothing.
    pub fn push(self, sql: &mut Sql, column: &str) {
        if let Visible::Owner(id) = self {
            sql.push(" AND ").push(column).push(" = ").bind(id);
        }
    }
}

#[derive(FromQueryResult)]
struct Owner {
    owner_id: Option<i64>,
}

/// Refuses, as "not found", a record of `table` that `actor` may not see (a record that
/// does not exist is left to the caller, which says so in its own words).
pub async fn check(
    db: &Db,
    conn: &impl ConnectionTrait,
    actor: &Actor,
    table: Table,
    id: i64,
    title: &str,
) -> Result<(), AppError> {
    let Visible::Owner(me) = visible(db, actor).await? else {
        return Ok(());
    };
    let stmt = Query::select()
        .column("owner_id")
        .from(table.name())
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    let backend = conn.get_database_backend();
    let found = Owner::find_by_statement(backend.build(&stmt))
        .one(conn)
        .await?;
    match found {
        Some(o) if o.owner_id != Some(me) => Err(AppError::not_found(title)),
        _ => Ok(()),
    }
}

/// Like `check` for several records: every one must be visible.
pub async fn check_all(
    db: &Db,
    actor: &Actor,
    table: Table,
    ids: &[i64],
    title: &str,
) -> Result<(), AppError> {
    let Visible::Owner(me) = visible(db, actor).await? else {
        return Ok(());
    };
    let stmt = Query::select()
        .column("owner_id")
        .from(table.name())
        .and_where(Expr::col("id").is_in(ids.iter().copied()))
        .cond_where(
            Condition::any()
                .add(Expr::col("owner_id").ne(me))
                .add(Expr::col("owner_id").is_null()),
        )
        .limit(1)
        .to_owned();
    let backend = db.backend();
    match Owner::find_by_statement(backend.build(&stmt))
        .one(&db.read)
        .await?
    {
        Some(_) => Err(AppError::not_found(title)),
        None => Ok(()),
    }
}
