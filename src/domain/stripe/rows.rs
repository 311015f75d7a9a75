//! The billing rows a transaction's events change, read in one statement and written in
//! one. Most events of a burst are payments of customers Cairn knows already; reading and
//! then updating each one's row alone cost two statements an event, each a hand-off to
//! SQLite's one writer thread, held meanwhile against the acknowledgements waiting for
//! it (bench case (sw)). A group reads its customers' rows first (`read`), its events
//! change them here (`billing::find_or_create`, `billing::save`), and `write` upserts
//! the changed ones at the end.
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter};

use crate::entities::contact_billing::{self, Column};
use crate::error::AppError;

/// What is known of one customer's row.
pub enum Known<'a> {
    /// Its row (as changed so far in this transaction).
    Row(&'a contact_billing::Model),
    /// Read, and no row has its customer id.
    Absent,
    /// Not read here: ask the database.
    Unread,
}

#[derive(Default)]
pub struct Rows {
    /// By contact id: the rows read and those changed since.
    rows: HashMap<i64, contact_billing::Model>,
    by_customer: HashMap<String, i64>,
    /// Customers whose row was looked for (found or not).
    read: HashSet<String>,
    /// Rows to write (sorted, so two transactions write shared rows in one order).
    changed: BTreeSet<i64>,
}

impl Rows {
    /// The rows of `customers`, read in one statement. The caller holds their locks
    /// (PostgreSQL) or the one writer (SQLite), so a customer not found stays absent
    /// until this transaction adds it.
    pub async fn read(
        conn: &impl ConnectionTrait,
        customers: HashSet<String>,
    ) -> Result<Rows, AppError> {
        let mut rows = Rows::default();
        if customers.is_empty() {
            return Ok(rows);
        }
        let found = contact_billing::Entity::find()
            .filter(Column::StripeCustomerId.is_in(customers.iter().map(String::as_str)))
            .all(conn)
            .await?;
        for b in found {
            rows.remember(b);
        }
        rows.read = customers;
        Ok(rows)
    }

    pub fn customer(&self, customer: &str) -> Known<'_> {
        if let Some(row) = self
            .by_customer
            .get(customer)
            .and_then(|id| self.rows.get(id))
        {
            Known::Row(row)
        } else if self.read.contains(customer) {
            Known::Absent
        } else {
            Known::Unread
        }
    }

    /// Contact `id`'s row, if this transaction read or changed it.
    pub fn contact(&self, id: i64) -> Option<&contact_billing::Model> {
        self.rows.get(&id)
    }

    /// Keeps `row` as changed, to be written by `write`.
    pub fn keep(&mut self, mut row: contact_billing::Model, at: DateTime<Utc>) {
        row.updated_at = at;
        self.changed.insert(row.id);
        self.remember(row);
    }

    fn remember(&mut self, row: contact_billing::Model) {
        if let Some(c) = &row.stripe_customer_id {
            self.by_customer.insert(c.clone(), row.id);
        }
        self.rows.insert(row.id, row);
    }

    /// Writes the changed rows in one statement (new ones inserted, others replaced).
    pub async fn write(&mut self, conn: &impl ConnectionTrait) -> Result<(), AppError> {
        let changed: Vec<contact_billing::ActiveModel> = std::mem::take(&mut self.changed)
            .into_iter()
            .filter_map(|id| self.rows.get(&id).cloned())
            .map(Into::into)
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let every_but_id = Column::iter().filter(|c| !matches!(c, Column::Id));
        contact_billing::Entity::insert_many(changed)
            .on_conflict(
                OnConflict::column(Column::Id)
                    .update_columns(every_but_id)
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }
}
