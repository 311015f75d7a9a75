//! A list's request: its parameters as they arrive (a query string or a form), checked
//! once into a `ListQuery` that every list, export and bulk action reads.
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use sea_orm::DbBackend;
use sea_orm::sea_query::Condition;
use serde::de::DeserializeOwned;

use super::{Kind, SortKey, filters};
use crate::domain::access::Visible;
use crate::domain::{FieldErrorsExt, check_text, clean, normalise};
use crate::error::{AppError, FieldErrors};

/// A list's query parameters as they arrive: read from a query string, then validated.
pub trait Params: Default + serde::Serialize + Sized {
    fn from_query(query: &str) -> Result<Self, AppError>;
    fn validate(&self, default_per_page: u64) -> Result<ListQuery, AppError>;
    /// The custom field filters read (`cf.<key>` → value).
    fn custom(&self) -> &BTreeMap<String, String>;
}

/// The filters only one record type has, as a condition on the records aliased `t`.
pub trait OwnFilters: Debug + Send + Sync {
    /// `visible`: whose records the asker sees, for filters that look at linked records;
    /// `shape`: how those filters are written (see `filters::Shape`).
    fn condition(&self, backend: DbBackend, visible: Visible, shape: filters::Shape) -> Condition;
    fn is_set(&self) -> bool;
    /// Whether these filters' (or the owner's) matches sit in no index in the list's
    /// order (words, a linked record's name, a column indexed alone): how many there are
    /// and where they sit depends on the value, so PostgreSQL must plan the page for it
    /// (`ListQuery::plans_per_value`).
    fn scattered(&self) -> bool;
    /// Whether a filter looks at linked records, as a tag does: the list then counts
    /// first and picks its page's shape from the count (`list_row`).
    fn links(&self) -> bool {
        false
    }
    /// Whether every filter set here finds its matches from an index of their own (a
    /// contact's source, company id or company name): with one of them beside a tag
    /// with many links, the list reads its matches from that index and tests the tag on
    /// each (`reads::tags_tested`). Words and billing lookups have none.
    fn indexed(&self) -> bool {
        false
    }
    /// These filters as a condition on a tag link's copies of the record's columns
    /// (aliased `ct`, `Kind::link_copies`), when each one set has a copy there; None
    /// when one has not (words, billing).
    fn on_links(&self, _visible: Visible) -> Option<Condition> {
        None
    }
}

/// A validated list request: the filters every record type has, its own, sort and page.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub kind: &'static Kind,
    pub own: Arc<dyn OwnFilters>,
    pub owner: Option<i64>,
    /// Normalised tag names.
    pub tags: Vec<String>,
    /// (custom field key, value) pairs.
    pub custom: Vec<(String, String)>,
    pub sort: &'static SortKey,
    pub page: u64,
    pub per_page: u64,
    /// Keyset paging: the page starts after this record (see the params' `after`).
    pub after: Option<i64>,
    /// Whose records the asker may see; set by the domain from the actor (`scoped`),
    /// never from the request.
    pub visible: Visible,
    /// The tags' ids by normalised name, once the list has read them (`with_tag_ids`):
    /// written into its statements, so that PostgreSQL plans each for that tag's links
    /// (a subquery looking the name up left it assuming the average tag). Empty, the
    /// statements look the names up themselves.
    pub tag_ids: Arc<BTreeMap<String, i64>>,
}

impl ListQuery {
    pub fn is_filtered(&self) -> bool {
        self.own.is_set()
            || !self.visible.is_all()
            || self.owner.is_some()
            || !self.tags.is_empty()
            || !self.custom.is_empty()
    }

    /// Whether PostgreSQL must plan this list for its filter values and counts, so they
    /// stay bound: its filters are `scattered`, tags or custom fields. The plan kept for a
    /// company-name filter read its few hundred matches and sorted them (0.9 ms), where
    /// one made for "25" walked the newest contacts past thousands without that company
    /// (3.5 ms). Every other list has its counts written in (`sql::build`): its filters
    /// (a contact's source or company id, the owner, a rep's own records) have an index
    /// in each of its orders (migrations 000035, 000037), and with the counts bound the
    /// plan kept for them assumed a tenth of the table per page (a rep's own contacts: hash joins over every contact,
    /// 2.9 ms against 1.0) or was never kept (a source: planned at every request, 0.7 ms
    /// of planning for 0.7 of work).
    pub fn plans_per_value(&self) -> bool {
        self.own.scattered() || !self.tags.is_empty() || !self.custom.is_empty()
    }

    /// Whether a filter looks at linked records (a tag, a company's name).
    pub fn filters_links(&self) -> bool {
        !self.tags.is_empty() || self.own.links()
    }
}

/// The parameters every list reads, as they arrive.
pub struct Common<'a> {
    pub q: &'a Option<String>,
    pub owner: &'a Option<String>,
    pub tags: &'a Option<String>,
    pub sort: &'a Option<String>,
    pub page: &'a Option<String>,
    pub per_page: &'a Option<String>,
    pub after: &'a Option<String>,
    pub custom: &'a BTreeMap<String, String>,
}

/// The common parameters checked (messages on `fields`); `q` comes back cleaned.
pub struct Checked {
    pub q: Option<String>,
    owner: Option<i64>,
    tags: Vec<String>,
    custom: Vec<(String, String)>,
    sort: &'static SortKey,
    page: u64,
    per_page: u64,
    after: Option<i64>,
}

impl Common<'_> {
    /// Unknown or out-of-range values are a field message naming the parameter.
    pub fn check(
        &self,
        kind: &'static Kind,
        default_per_page: u64,
        fields: &mut FieldErrors,
    ) -> Checked {
        let (page, per_page) =
            crate::domain::paging(self.page, self.per_page, default_per_page, fields);
        let owner = match clean(self.owner.as_deref()) {
            None => None,
            Some(o) => o.parse::<i64>().map(Some).unwrap_or_else(|_| {
                fields.set("owner", "owner must be a user id.");
                None
            }),
        };
        let sort = match clean(self.sort.as_deref()) {
            None => kind.default_sort(),
            Some(s) => kind.sort(&s).unwrap_or_else(|| {
                let keys: Vec<&str> = kind.sorts.iter().map(|s| s.key).collect();
                fields.set("sort", format!("sort must be one of {}.", keys.join(", ")));
                kind.default_sort()
            }),
        };
        let after = match clean(self.after.as_deref()) {
            None => None,
            Some(a) => a.parse::<i64>().map(Some).unwrap_or_else(|_| {
                fields.set("after", "after must be a record id.");
                None
            }),
        };
        let q = clean(self.q.as_deref());
        if check_text(fields, "q", q.as_deref().unwrap_or(""))
            && q.as_ref().is_some_and(|q| q.chars().count() > 200)
        {
            fields.set("q", "Search is limited to 200 characters.");
        }
        check_text(fields, "tags", self.tags.as_deref().unwrap_or(""));
        let custom = crate::domain::filters::custom_pairs(self.custom, fields);
        let tags = crate::domain::tags::split(self.tags.as_deref().unwrap_or(""))
            .iter()
            .map(|n| normalise(n))
            .filter(|n| !n.is_empty())
            .take(10)
            .collect();
        Checked {
            q,
            owner,
            tags,
            custom,
            sort,
            page,
            per_page,
            after,
        }
    }
}

impl Checked {
    pub fn query(self, kind: &'static Kind, own: impl OwnFilters + 'static) -> ListQuery {
        ListQuery {
            kind,
            own: Arc::new(own),
            owner: self.owner,
            tags: self.tags,
            custom: self.custom,
            sort: self.sort,
            page: self.page,
            per_page: self.per_page,
            after: self.after,
            visible: Visible::All,
            tag_ids: Arc::default(),
        }
    }
}

/// For the `cf` member of a list's params: it stands in the API document for the
/// `cf.<key>` filters, which `params_from_query` collects; a bare `cf=…` means nothing.
pub fn not_read<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    <serde::de::IgnoredAny as serde::Deserialize>::deserialize(d)?;
    Ok(BTreeMap::new())
}

/// Reads a list's query string into its params `P`, custom field filters (`cf.<key>`)
/// collected by `set_custom`.
pub fn params_from_query<P: DeserializeOwned>(
    query: &str,
    set_custom: impl FnOnce(&mut P, BTreeMap<String, String>),
) -> Result<P, AppError> {
    let bad = |e: serde_html_form::de::Error| AppError::Validation {
        message: format!("The query string is not valid: {e}"),
        fields: FieldErrors::new(),
    };
    let mut params: P = serde_html_form::from_str(query).map_err(bad)?;
    let pairs: Vec<(String, String)> = serde_html_form::from_str(query).map_err(bad)?;
    set_custom(
        &mut params,
        pairs
            .into_iter()
            .filter(|(k, _)| k.starts_with("cf."))
            .collect(),
    );
    Ok(params)
}
