//! A record type's own fields, declared once in a table (`fields!`): each field's key,
//! its label, how a partial update lays it over the stored values, its CSV value and what
//! the merge table shows. The overlay of an update, the merge's choices and rows, and the
//! export's columns are all read from that table.
use chrono::{DateTime, Utc};

use super::{Overlay, Writes};

/// How a partial update lays a field over the stored input (see `Overlay`).
pub type Patcher<R> = fn(&mut Overlay, &mut <R as Writes>::Input, &mut <R as Writes>::Patch);

/// One row of a record type's field table.
pub struct Field<R: Writes> {
    /// The field's key: its JSON member, its CSV column and its merge choice.
    pub key: &'static str,
    /// What the merge table calls it.
    pub label: &'static str,
    /// None when a patch does not set it this way (the record type's update does, or
    /// nothing does).
    pub patch: Option<Patcher<R>>,
    /// Its CSV value; None when the export leaves it out.
    pub csv: Option<fn(&R) -> String>,
    /// Its value in the merge table; None when a merge cannot take it from the other.
    pub merge: Option<fn(&R) -> String>,
}

/// A record type's field table (declared with `fields!`).
pub trait Fields: Writes {
    const FIELDS: &'static [Field<Self>];

    /// The fields whose value a merge can take from the other record.
    fn merge_keys() -> Vec<&'static str> {
        Self::FIELDS
            .iter()
            .filter(|f| f.merge.is_some())
            .map(|f| f.key)
            .collect()
    }

    /// The export's own columns (tags and custom fields follow).
    fn csv_header() -> Vec<&'static str> {
        Self::FIELDS
            .iter()
            .filter(|f| f.csv.is_some())
            .map(|f| f.key)
            .collect()
    }

    /// This record's values for `csv_header`'s columns.
    fn csv_values(&self) -> Vec<String> {
        Self::FIELDS
            .iter()
            .filter_map(|f| f.csv.map(|value| value(self)))
            .collect()
    }

    /// The merge table: key, label, this record's value, the other's.
    fn merge_rows(&self, other: &Self) -> Vec<(&'static str, &'static str, String, String)> {
        Self::FIELDS
            .iter()
            .filter_map(|f| {
                f.merge
                    .map(|shown| (f.key, f.label, shown(self), shown(other)))
            })
            .collect()
    }

    /// `patch` laid over `input` (the stored values): the table's fields, then the owner,
    /// tags and custom values. A field the table leaves to the record type is still in
    /// `patch`, for it to lay over before `Overlay::finish`.
    fn overlay(input: &mut Self::Input, patch: &mut Self::Patch) -> Overlay {
        let mut o = Overlay::default();
        for apply in Self::FIELDS.iter().filter_map(|f| f.patch) {
            apply(&mut o, input, patch);
        }
        o.shared(input, patch);
        o
    }
}

/// A value as a CSV cell or a merge row shows it: none is "", a time is ISO 8601.
pub trait Cell {
    fn cell(&self) -> String;
}

impl Cell for String {
    fn cell(&self) -> String {
        self.clone()
    }
}

impl Cell for i64 {
    fn cell(&self) -> String {
        self.to_string()
    }
}

impl<T: Cell> Cell for Option<T> {
    fn cell(&self) -> String {
        self.as_ref().map(Cell::cell).unwrap_or_default()
    }
}

impl Cell for DateTime<Utc> {
    fn cell(&self) -> String {
        iso(self)
    }
}

/// A time as exports and pages write it: UTC, to the second (`2025-01-31T09:30:00Z`).
pub fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Declares `$record`'s field table (`Fields`). Each row is
/// `field [as "key"]: "Label", patch, csv, merge;` where
/// - patch is `optional` (absent keeps, `null` clears), `required` (`null` is refused) or
///   `-` (not laid over by the table);
/// - csv and merge are `cell` (the field's value as `Cell` writes it), `(expr)` (a
///   function of the record) or `-` (not in the export / not a merge choice).
///
/// The table starts with `id` and ends with what every record has: the owner (exported
/// by name and id, a merge choice shown by name) and the two timestamps.
macro_rules! fields {
    ($record:ident { $($field:ident $(as $key:literal)?: $label:literal, $patch:tt, $csv:tt, $merge:tt;)* }) => {
        impl crate::domain::records::Fields for $record {
            const FIELDS: &'static [crate::domain::records::Field<$record>] = &[
                crate::domain::records::fields!(@row $record, id, "id", "Id", -, cell, -),
                $(crate::domain::records::fields!(
                    @row $record, $field, crate::domain::records::fields!(@key $field $($key)?),
                    $label, $patch, $csv, $merge
                ),)*
                crate::domain::records::fields!(@row $record, owner_name, "owner", "Owner", -, cell, -),
                crate::domain::records::Field {
                    key: "owner_id",
                    label: "Owner",
                    patch: None,
                    csv: Some(|r: &$record| crate::domain::records::Cell::cell(&r.owner_id)),
                    merge: Some(|r: &$record| crate::domain::records::Cell::cell(&r.owner_name)),
                },
                crate::domain::records::fields!(@row $record, created_at, "created_at", "Created", -, cell, -),
                crate::domain::records::fields!(@row $record, updated_at, "updated_at", "Updated", -, cell, -),
            ];
        }
    };
    (@key $field:ident) => { stringify!($field) };
    (@key $field:ident $key:literal) => { $key };
    (@row $record:ident, $field:ident, $key:expr, $label:literal, $patch:tt, $csv:tt, $merge:tt) => {
        crate::domain::records::Field {
            key: $key,
            label: $label,
            patch: crate::domain::records::fields!(@patch $field, $key, $patch),
            csv: crate::domain::records::fields!(@value $record, $field, $csv),
            merge: crate::domain::records::fields!(@value $record, $field, $merge),
        }
    };
    (@patch $field:ident, $key:expr, -) => { None };
    (@patch $field:ident, $key:expr, $how:ident) => {
        Some(|o, input, patch| o.$how($key, &mut input.$field, patch.$field.take()))
    };
    (@value $record:ident, $field:ident, -) => { None };
    (@value $record:ident, $field:ident, cell) => {
        Some(|r: &$record| crate::domain::records::Cell::cell(&r.$field))
    };
    (@value $record:ident, $field:ident, ($f:expr)) => { Some($f) };
}

pub(crate) use fields;
