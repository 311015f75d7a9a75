//! Owners and links: who a row's owner is, and which record a source id or a name means.
use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::import::{ObjectKind, System, values};
use crate::domain::normalise;
use crate::entities::{import_source, user};
use crate::error::AppError;

/// The key a source id is kept under: Salesforce's 15- and 18-character ids of one
/// record are one key (`values::salesforce_id`); other systems' ids are kept as written.
pub(super) fn source_key(system: System, raw: &str) -> String {
    match system {
        System::Salesforce => match values::salesforce_id(raw) {
            Ok(Some(id)) => id,
            _ => raw.trim().to_string(),
        },
        _ => raw.trim().to_string(),
    }
}

/// Cairn's users, to resolve owners by email, by name, or by the source id of a row of
/// the import's users file. An owner that resolves to nobody fails its row (rather than
/// going to the importing admin): a silent change of owner is a loss nobody would see,
/// and unmapping the owner column gives the admin's ownership on purpose.
pub(super) struct Owners {
    by_email: HashMap<String, i64>,
    by_name: HashMap<String, Vec<i64>>,
    by_source: HashMap<String, i64>,
    system: System,
    /// Users this import creates (in a dry run, stand-in ids below zero).
    created: HashSet<i64>,
}

impl Owners {
    pub async fn load(conn: &impl ConnectionTrait, system: System) -> Result<Owners, AppError> {
        let mut o = Owners {
            by_email: HashMap::new(),
            by_name: HashMap::new(),
            by_source: HashMap::new(),
            system,
            created: HashSet::new(),
        };
        for u in user::Entity::find().all(conn).await? {
            o.by_email.insert(normalise(&u.email), u.id);
            o.by_name.entry(normalise(&u.name)).or_default().push(u.id);
        }
        // Users mapped by an earlier import of the same system.
        for s in import_source::Entity::find()
            .filter(import_source::Column::System.eq(system.name()))
            .filter(import_source::Column::Kind.eq(ObjectKind::User.plural()))
            .all(conn)
            .await?
        {
            o.by_source.insert(s.source_id, s.record_id);
        }
        Ok(o)
    }

    /// The user with this email, else the one user with this name.
    pub fn by_person(&self, email: Option<&str>, name: Option<&str>) -> Option<i64> {
        if let Some(id) = email.and_then(|e| self.by_email.get(&normalise(e))) {
            return Some(*id);
        }
        match name.and_then(|n| self.by_name.get(&normalise(n))) {
            Some(ids) if ids.len() == 1 => Some(ids[0]),
            _ => None,
        }
    }

    /// A source user id (from the users file) now known to be Cairn user `id`.
    pub fn learn(&mut self, source: String, id: i64) {
        self.by_source.insert(source, id);
    }

    /// A user this import creates (`id` below zero in a dry run: they do not exist yet),
    /// found by their email and name from now on.
    pub fn add_created(&mut self, id: i64, email: &str, name: &str) {
        self.by_email.insert(normalise(email), id);
        self.by_name.entry(normalise(name)).or_default().push(id);
        self.created.insert(id);
    }

    /// Whether user `id` is one this import creates.
    pub fn created(&self, id: i64) -> bool {
        self.created.contains(&id)
    }

    /// The owner a cell names: a source user id, an email, or a name.
    pub fn find(&self, value: &str) -> Result<i64, String> {
        if let Some(id) = self.by_source.get(&source_key(self.system, value)) {
            return Ok(*id);
        }
        if let Some(id) = self.by_email.get(&normalise(value)) {
            return Ok(*id);
        }
        match self.by_name.get(&normalise(value)) {
            Some(ids) if ids.len() == 1 => Ok(ids[0]),
            Some(_) => Err(format!(
                "Owner “{value}”: several users have this name; use their email."
            )),
            None => Err(format!(
                "Owner “{value}” is not a Cairn user (by email, name or the users file)."
            )),
        }
    }
}

/// The records earlier imports of `system` made of `keys` (source keys of `kind`).
pub(super) async fn sources(
    conn: &impl ConnectionTrait,
    system: System,
    kind: ObjectKind,
    keys: &HashSet<String>,
) -> Result<HashMap<String, i64>, AppError> {
    let keys: Vec<&String> = keys.iter().collect();
    let mut out = HashMap::new();
    for part in keys.chunks(500) {
        let found = import_source::Entity::find()
            .filter(import_source::Column::System.eq(system.name()))
            .filter(import_source::Column::Kind.eq(kind.plural()))
            .filter(import_source::Column::SourceId.is_in(part.iter().map(|k| k.as_str())))
            .all(conn)
            .await?;
        out.extend(found.into_iter().map(|s| (s.source_id, s.record_id)));
    }
    Ok(out)
}
