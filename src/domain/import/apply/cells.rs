//! A row's cells by what they map to.
use std::collections::BTreeMap;

use serde_json::Value;

use crate::domain::import::{MappedRow, ObjectKind, Target};

pub(super) struct Cells<'a>(pub &'a MappedRow);

fn filled(v: &str) -> Option<&str> {
    let v = v.trim();
    (!v.is_empty()).then_some(v)
}

impl Cells<'_> {
    fn first(&self, want: impl Fn(&Target) -> bool) -> Option<&str> {
        self.0
            .values
            .iter()
            .filter(|(t, _)| want(t))
            .find_map(|(_, v)| filled(v))
    }

    /// A built-in field's value, trimmed; None when empty or absent.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.first(|t| matches!(t, Target::Field(f) if f == name))
    }

    /// A field several columns make up (HubSpot's street, city and country are one
    /// address), their values joined with ", ".
    pub fn joined(&self, name: &str) -> Option<String> {
        let parts: Vec<&str> = self
            .0
            .values
            .iter()
            .filter(|(t, _)| matches!(t, Target::Field(f) if f == name))
            .filter_map(|(_, v)| filled(v))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Every filled value of a field, in the file's order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .values
            .iter()
            .filter(|(t, _)| matches!(t, Target::Field(f) if f == name))
            .filter_map(|(_, v)| filled(v))
            .collect()
    }

    /// A text field several columns make up (a Salesforce event's subject and
    /// description are its body), their values a line each.
    pub fn lines(&self, name: &str) -> Option<String> {
        let parts = self.all(name);
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    /// Whether the file has a column for the field at all (an update leaves the fields
    /// the file does not have as they are).
    pub fn has_field(&self, name: &str) -> bool {
        self.0
            .values
            .iter()
            .any(|(t, _)| matches!(t, Target::Field(f) if f == name))
    }

    pub fn source_id(&self) -> Option<&str> {
        self.first(|t| *t == Target::SourceId)
    }

    pub fn owner(&self) -> Option<&str> {
        self.first(|t| *t == Target::Owner)
    }

    /// Marked deleted in the source: a true-ish value in a `Deleted` column.
    pub fn deleted(&self) -> bool {
        self.first(|t| *t == Target::Deleted)
            .is_some_and(|v| matches!(v.to_lowercase().as_str(), "1" | "true" | "yes" | "y"))
    }

    /// A related record's source id; of a list (`LinkIds`), the first, as a contact's one
    /// company is HubSpot's first associated company.
    pub fn link_id(&self, kind: ObjectKind) -> Option<&str> {
        self.first(|t| *t == Target::LinkId(kind)).or_else(|| {
            self.first(|t| *t == Target::LinkIds(kind))
                .and_then(|v| v.split(';').map(str::trim).find(|s| !s.is_empty()))
        })
    }

    /// Every related record's source id, from `LinkId` and `LinkIds` columns alike (a
    /// deal's contacts).
    pub fn link_ids(&self, kind: ObjectKind) -> Vec<&str> {
        self.0
            .values
            .iter()
            .filter(|(t, _)| *t == Target::LinkId(kind) || *t == Target::LinkIds(kind))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(filled)
            .collect()
    }

    pub fn link_name(&self, kind: ObjectKind) -> Option<&str> {
        self.first(|t| *t == Target::LinkName(kind))
    }

    /// Tags from every tag column, split on `;` or `,`. None when the file has no tag
    /// column (an update keeps the record's tags).
    pub fn tags(&self) -> Option<Vec<String>> {
        let cols: Vec<&str> = self
            .0
            .values
            .iter()
            .filter(|(t, _)| *t == Target::Tags)
            .map(|(_, v)| v.as_str())
            .collect();
        if cols.is_empty() {
            return None;
        }
        Some(
            cols.iter()
                .flat_map(|v| v.split([';', ',']))
                .filter_map(filled)
                .map(str::to_string)
                .collect(),
        )
    }

    /// Existing custom fields' values by key (empty cells too: they clear on update).
    pub fn custom(&self) -> BTreeMap<String, Value> {
        self.0
            .values
            .iter()
            .filter_map(|(t, v)| match t {
                Target::Custom(key) => Some((key.clone(), Value::String(v.trim().to_string()))),
                _ => None,
            })
            .collect()
    }

    /// Values of columns that become new custom fields, by label.
    pub fn new_custom(&self) -> Vec<(&str, &str)> {
        self.0
            .values
            .iter()
            .filter_map(|(t, v)| match t {
                Target::NewCustom(label) => Some((label.as_str(), v.trim())),
                _ => None,
            })
            .collect()
    }
}
