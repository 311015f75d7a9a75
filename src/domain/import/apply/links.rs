//! Owners and links: who a row's owner is, and which record a source id or a name means.
use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::cells::Cells;
use super::matching;
use super::plan::{Ctx, Ref};
use crate::domain::import::{ObjectKind, System, values};
use crate::domain::normalise;
use crate::entities::{company, import_source, user};
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
            o.by_name.entry(name_key(&u.name)).or_default().push(u.id);
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
        match name.and_then(|n| self.by_name.get(&name_key(n))) {
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
        self.by_name.entry(name_key(name)).or_default().push(id);
        self.created.insert(id);
    }

    /// Whether `value` names no user at all (several of one name is another matter).
    pub fn names_nobody(&self, value: &str) -> bool {
        !self.by_source.contains_key(&source_key(self.system, value))
            && !self.by_email.contains_key(&normalise(value))
            && !self.by_name.contains_key(&name_key(value))
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
        match self.by_name.get(&name_key(value)) {
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

/// A person's name as owners are matched by it: an export may spell "José Núñez" without
/// its accents (older systems, ASCII-only fields), or the other way round.
fn name_key(name: &str) -> String {
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    normalise(name)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect()
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

/// Existing companies a chunk's rows name by source id or by name.
pub(super) struct Companies {
    by_source: HashMap<String, i64>,
    by_name: HashMap<String, company::Model>,
}

pub(super) async fn companies(ctx: &Ctx<'_>, cells: &[Cells<'_>]) -> Result<Companies, AppError> {
    let conn = &ctx.db.read;
    let keys: HashSet<String> = cells
        .iter()
        .filter_map(|c| c.link_id(ObjectKind::Company).map(|s| ctx.key(s)))
        .filter(|k| {
            !ctx.by_source
                .contains_key(&(ObjectKind::Company, k.clone()))
        })
        .collect();
    let mapped = sources(conn, ctx.options.system, ObjectKind::Company, &keys).await?;
    let ids: HashSet<i64> = mapped.values().copied().collect();
    let live = matching::companies_by_id(conn, &ids).await?;
    let by_source = mapped
        .into_iter()
        .filter(|(_, id)| live.get(id).is_some_and(|c| c.deleted_at.is_none()))
        .collect();
    let names: HashSet<String> = cells
        .iter()
        .filter_map(|c| c.link_name(ObjectKind::Company).or(c.field("company")))
        .map(normalise)
        .collect();
    let by_name = matching::companies_by(conn, company::Column::NameNorm, &names).await?;
    Ok(Companies { by_source, by_name })
}

/// The company a row links to: by source id (one not in Cairn yet waits: `Ctx::later`),
/// else by name.
pub(super) fn company_of(ctx: &Ctx, known: &Companies, c: &Cells) -> Result<Option<Ref>, String> {
    if let Some(raw) = c.link_id(ObjectKind::Company) {
        let key = ctx.key(raw);
        if let Some(&i) = ctx.by_source.get(&(ObjectKind::Company, key.clone())) {
            return Ok(Some(Ref::Planned(i)));
        }
        return match known.by_source.get(&key) {
            Some(&id) => Ok(Some(Ref::Id(id))),
            None => ctx.later(ObjectKind::Company, "Company", raw).map(Some),
        };
    }
    // A contact's company named by a name nothing has yet is new, as typing it on a
    // contact makes one (a plain contacts file's "Company" column); other records name
    // companies that must be there.
    let contact = ctx.files.get(c.0.file).map(|f| f.kind) == Some(ObjectKind::Contact);
    let (name, create) = match (c.link_name(ObjectKind::Company), c.field("company")) {
        (Some(n), _) => (n, contact),
        (None, Some(n)) => (n, true),
        (None, None) => return Ok(None),
    };
    let norm = normalise(name);
    if let Some(&i) = ctx.by_name.get(&(ObjectKind::Company, norm.clone())) {
        return Ok(Some(Ref::Planned(i)));
    }
    match known.by_name.get(&norm) {
        Some(m) if m.deleted_at.is_some() => Err(format!(
            "Company “{name}” is in the trash; restore it first."
        )),
        Some(m) => Ok(Some(Ref::Id(m.id))),
        None if create => Ok(Some(Ref::NewCompany(name.to_string()))),
        None => Err(format!(
            "Company “{name}” is in no file of this import and not in Cairn."
        )),
    }
}
