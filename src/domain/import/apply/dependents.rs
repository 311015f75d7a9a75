//! What now depends on the records an import created without having been written by
//! it: a call logged on an imported contact, a task about it, a deal linked to it, a
//! contact of another import at an imported company, a payment. Undo deletes the
//! records the import created, and the foreign keys would silently take these along
//! (cascade) or cut them loose (set null); it is refused instead, naming them.
//!
//! Before undo starts, each kind is one count whose ids come from `import_changes` as
//! subqueries, so an import of 100 000 records costs the same handful of queries as one
//! of ten. Revert asks again, chunk by chunk in the transaction that deletes the chunk,
//! so nothing added between that check and the delete is lost either.
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::import::ObjectKind;
use crate::entities::{
    activity, billing_entry, contact, contact_billing, deal, deal_contact, form_submission,
    import_change, mrr_change, task,
};
use crate::error::AppError;

/// How many records of one kind depend on the import's records: (singular, plural, n).
type Count = (&'static str, &'static str, u64);

/// The created records asked about.
#[derive(Clone, Copy)]
pub(super) enum Scope<'a> {
    /// All an import created; what it wrote itself does not count.
    Import(i64),
    /// One chunk of the records of a kind revert is about to delete. By then revert has
    /// removed or put back what the import wrote that pointed at them (kinds go in
    /// `undo::REVERTED` order), so whatever still does was not written by it.
    Chunk(ObjectKind, &'a [i64]),
}

impl Scope<'_> {
    /// `col` points at a record of `kind` in scope; None when no such record is.
    fn made(self, kind: ObjectKind, col: impl ColumnTrait) -> Option<Expr> {
        match self {
            Scope::Import(id) => Some(col.in_subquery(created(id, kind))),
            Scope::Chunk(k, ids) if k == kind => Some(col.is_in(ids.iter().copied())),
            Scope::Chunk(..) => None,
        }
    }

    /// The record whose id is `col` is not one of `kind` the import wrote, nor one whose
    /// link (waiting since an earlier import) it filled: undo leaves that link waiting
    /// again (`pending::reopen`).
    fn not_own(self, kind: ObjectKind, col: impl ColumnTrait) -> Option<Expr> {
        match self {
            Scope::Import(id) => Some(
                col.not_in_subquery(written(id, kind))
                    .and(col.not_in_subquery(filled(id, kind))),
            ),
            Scope::Chunk(..) => None,
        }
    }
}

/// Ids of the records of `kind` import `import_id` wrote (created or updated).
fn written(import_id: i64, kind: ObjectKind) -> SelectStatement {
    Query::select()
        .column(import_change::Column::RecordId)
        .from(import_change::Entity)
        .and_where(import_change::Column::ImportId.eq(import_id))
        .and_where(import_change::Column::Kind.eq(kind.plural()))
        .to_owned()
}

/// Ids of the records of `kind` whose waiting link import `import_id` filled.
fn filled(import_id: i64, kind: ObjectKind) -> SelectStatement {
    Query::select()
        .column(import_change::Column::RecordId)
        .from(import_change::Entity)
        .and_where(import_change::Column::ImportId.eq(import_id))
        .and_where(import_change::Column::Kind.eq(super::pending::filled_kind(kind)))
        .to_owned()
}

/// Ids of the records of `kind` import `import_id` created: the ones undo deletes.
fn created(import_id: i64, kind: ObjectKind) -> SelectStatement {
    written(import_id, kind)
        .and_where(import_change::Column::Change.eq("created"))
        .to_owned()
}

/// The deal contact links the import added, as (deal, contact).
fn links(import_id: i64) -> SelectStatement {
    written(import_id, ObjectKind::DealContact)
        .column(import_change::Column::OtherId)
        // A NULL in a NOT IN list would make every comparison unknown: none excluded.
        .and_where(import_change::Column::OtherId.is_not_null())
        .to_owned()
}

/// The rows of `E` pointing (by any of `refs`) at a record in scope and passing `own`.
async fn count<E>(
    conn: &impl ConnectionTrait,
    refs: [Option<Expr>; 3],
    own: Option<Expr>,
) -> Result<u64, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let any = refs
        .into_iter()
        .flatten()
        .fold(Condition::any(), Condition::add);
    if any.is_empty() {
        return Ok(0);
    }
    let mut find = E::find().filter(any);
    if let Some(own) = own {
        find = find.filter(own);
    }
    Ok(find.count(conn).await?)
}

/// The counts of what depends on the records in `scope` and is not the import's own,
/// for the kinds that have any.
async fn counts(conn: &impl ConnectionTrait, scope: Scope<'_>) -> Result<Vec<Count>, AppError> {
    use ObjectKind::{Activity, Company as CO, Contact as CT, Deal as DL, Task};
    let activities = count::<activity::Entity>(
        conn,
        [
            scope.made(CT, activity::Column::ContactId),
            scope.made(CO, activity::Column::CompanyId),
            scope.made(DL, activity::Column::DealId),
        ],
        scope.not_own(Activity, activity::Column::Id),
    )
    .await?;
    let tasks = count::<task::Entity>(
        conn,
        [
            scope.made(CT, task::Column::ContactId),
            scope.made(CO, task::Column::CompanyId),
            scope.made(DL, task::Column::DealId),
        ],
        scope.not_own(Task, task::Column::Id),
    )
    .await?;
    let own_links = match scope {
        Scope::Import(id) => Some(
            Expr::tuple([
                Expr::col(deal_contact::Column::DealId),
                Expr::col(deal_contact::Column::ContactId),
            ])
            .not_in_subquery(links(id)),
        ),
        Scope::Chunk(..) => None,
    };
    let deal_links = count::<deal_contact::Entity>(
        conn,
        [
            scope.made(CT, deal_contact::Column::ContactId),
            scope.made(DL, deal_contact::Column::DealId),
            None,
        ],
        own_links,
    )
    .await?;
    let deals = count::<deal::Entity>(
        conn,
        [scope.made(CO, deal::Column::CompanyId), None, None],
        scope.not_own(DL, deal::Column::Id),
    )
    .await?;
    let contacts = count::<contact::Entity>(
        conn,
        [scope.made(CO, contact::Column::CompanyId), None, None],
        scope.not_own(CT, contact::Column::Id),
    )
    .await?;
    // Nothing an import writes points at a contact from these: all count.
    let submissions = count::<form_submission::Entity>(
        conn,
        [
            scope.made(CT, form_submission::Column::ContactId),
            None,
            None,
        ],
        None,
    )
    .await?;
    let payments = count::<billing_entry::Entity>(
        conn,
        [scope.made(CT, billing_entry::Column::ContactId), None, None],
        None,
    )
    .await?;
    let subscriptions = count::<mrr_change::Entity>(
        conn,
        [scope.made(CT, mrr_change::Column::ContactId), None, None],
        None,
    )
    .await?;
    let customers = count::<contact_billing::Entity>(
        conn,
        [scope.made(CT, contact_billing::Column::Id), None, None],
        None,
    )
    .await?;
    let all = [
        ("activity", "activities", activities),
        ("task", "tasks", tasks),
        ("deal link", "deal links", deal_links),
        ("deal", "deals", deals),
        ("contact", "contacts", contacts),
        ("form submission", "form submissions", submissions),
        ("payment", "payments", payments),
        ("subscription change", "subscription changes", subscriptions),
        ("Stripe customer", "Stripe customers", customers),
    ];
    Ok(all.into_iter().filter(|c| c.2 > 0).collect())
}

/// What now depends on the records of `scope` the import created, though the import
/// did not write it: e.g. "3 activities, 1 task and 1 deal link were added to or linked
/// with its records since"; None when nothing does.
pub(super) async fn added(
    conn: &impl ConnectionTrait,
    scope: Scope<'_>,
) -> Result<Option<String>, AppError> {
    let counts = counts(conn, scope).await?;
    Ok((!counts.is_empty()).then(|| describe(&counts)))
}

fn describe(counts: &[Count]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .map(|&(one, many, n)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
    let list = match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let total: u64 = counts.iter().map(|c| c.2).sum();
    let verb = if total == 1 { "was" } else { "were" };
    format!("{list} {verb} added to or linked with its records since")
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn the_refusal_names_each_kind_and_its_count() {
        let text = describe(&[
            ("activity", "activities", 3),
            ("task", "tasks", 1),
            ("deal link", "deal links", 1),
        ]);
        assert_eq!(
            text,
            "3 activities, 1 task and 1 deal link were added to or linked with its records since"
        );
        let one = describe(&[("contact", "contacts", 1)]);
        assert_eq!(
            one,
            "1 contact was added to or linked with its records since"
        );
    }
}
