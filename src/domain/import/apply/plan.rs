//! The plan of an import: every row checked, matched and linked, nothing written.
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cells::Cells;
use super::links::{Owners, source_key};
use super::spill::Spill;
use super::{
    Options, Outcome, Report, RowReport, about, activity, company, contact, deal, deal_contact,
    rows, stages, task, user, workspace,
};
use crate::domain::custom_fields::{self, Field};
use crate::domain::deals;
use crate::domain::export::Workspace;
use crate::domain::import::read::RowError;
use crate::domain::import::values::{self, Dates};
use crate::domain::import::{FileSpec, MappedRow, ObjectKind, System, Target};
use crate::domain::{Actor, Db, normalise};
use crate::error::AppError;

/// The order kinds are planned and written in: what a row links to comes first.
pub(super) const ORDER: [ObjectKind; 7] = [
    ObjectKind::User,
    ObjectKind::Company,
    ObjectKind::Contact,
    ObjectKind::Deal,
    ObjectKind::DealContact,
    ObjectKind::Activity,
    ObjectKind::Task,
];

/// A record a row links to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(super) enum Ref {
    /// A record already in Cairn.
    Id(i64),
    /// The record planned at this index of its kind's list in this import.
    Planned(usize),
    /// A company named by a contact's company column, in neither Cairn nor the import:
    /// created with the contact, as a contact's company name does everywhere.
    NewCompany(String),
    /// A record named by this source key that is in neither Cairn nor the import: the
    /// link is left empty and waits for a later import (`pending`).
    Later(String),
}

#[derive(Serialize, Deserialize)]
pub(super) enum Action {
    Create,
    Update(i64),
}

/// A row that will be written.
#[derive(Serialize, Deserialize)]
pub(super) struct Planned<T> {
    /// Its row in the report.
    pub report: usize,
    pub source: Option<String>,
    pub action: Action,
    pub data: T,
    /// The record's id once written.
    pub id: Option<i64>,
}

pub(super) struct Plan {
    pub report: Report,
    pub system: System,
    /// The planned rows of every kind (companies, contacts, deals, deal contacts,
    /// activities, tasks), in a temporary file until they are written.
    pub rows: Spill,
    /// The links of the deal contacts files (a link named twice is added once).
    pub deal_links: HashSet<deal_contact::Link>,
    /// The contacts each planned deal's own row names, as (deal, contact): read back
    /// when the deal contacts files are planned (`deal_contact`).
    pub deal_row_contacts: Option<HashSet<(usize, Ref)>>,
    /// Planned contacts by name and deals by title, once a row names one (`about`).
    pub names: about::PlannedNames,
    /// Source user ids of the users file and the Cairn users they are.
    pub users: Vec<(String, i64)>,
    /// Users this run created, with their source ids (`user::plan`).
    pub new_users: Vec<(Option<String>, i64)>,
    /// Custom fields this run created (for `NewCustom` columns).
    pub new_fields: Vec<i64>,
    /// What `workspace.json` made, or in a dry run would make.
    pub workspace: workspace::Prepared,
    /// The source ids of the planned records that a link may wait for (companies,
    /// contacts, deals): a dry run counts the waiting links they would complete.
    pub sources: Vec<(ObjectKind, String)>,
}

impl Plan {
    pub fn rows_to_write(&self) -> u64 {
        self.rows.total() as u64
    }
}

/// What planning a chunk needs besides its rows.
pub(super) struct Ctx<'a> {
    pub db: &'a Db,
    pub actor: &'a Actor,
    pub options: &'a Options,
    pub files: &'a [FileSpec],
    pub owners: Owners,
    /// Planned records by kind and source key, and by kind and normalised name (or
    /// email for contacts): links within the import, and duplicates.
    pub by_source: HashMap<(ObjectKind, String), usize>,
    pub by_name: HashMap<(ObjectKind, String), usize>,
    /// The custom field each `NewCustom` label of a record kind stands for: created
    /// already in a real run, only described in a dry run.
    pub new_fields: HashMap<(String, String), Field>,
    /// Rows whose owner cell names no Cairn user, planned as naming none because the
    /// user chose so (`Options::unknown_owners_to_me`), and what their report says of it.
    pub owner_notes: HashMap<(usize, u64), String>,
    /// Rows of this import that failed or were skipped as deleted, by kind and source
    /// key: a row linking to one is told so, not that the record is in no file.
    pub not_planned: HashMap<(ObjectKind, String), (usize, u64)>,
    /// Whether the files write slash dates day first (`values::day_first_in`).
    pub day_first: bool,
    /// A dry run: the report says what would be.
    pub dry: bool,
    /// Source keys earlier imports made records now in the trash, by kind: a link to
    /// one fails rather than wait (`Ctx::see_trashed`).
    pub trashed: HashSet<(ObjectKind, String)>,
}

impl Ctx<'_> {
    pub fn key(&self, raw: &str) -> String {
        source_key(self.options.system, raw)
    }

    /// The import's zone (checked when the import was made), for times written without one.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.options
            .zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::Tz::UTC)
    }

    /// How the import reads dates: in its zone, day first when its files say so.
    pub fn dates(&self) -> Dates {
        Dates {
            zone: self.zone(),
            day_first: self.day_first,
        }
    }

    /// A time from the row's `name` columns, read in the import's zone: of several (an
    /// event's date and its date and time), the first with a time of day.
    pub fn time(
        &self,
        c: &Cells,
        name: &str,
        reasons: &mut Vec<String>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let all = c.all(name);
        let v = all.iter().find(|v| v.contains(':')).or(all.first())?;
        match self.dates().datetime(v) {
            Ok(t) => Some(t),
            Err(why) => {
                reasons.push(why);
                None
            }
        }
    }

    /// Empties the owner cells that name no Cairn user (after the users file is
    /// planned: its users are known by then), so each such row is read as naming no
    /// owner: a new record is the importing user's, an updated one keeps its owner.
    fn unknown_owners_to_me(&mut self, chunk: &mut [MappedRow]) {
        for row in chunk {
            for (target, value) in &mut row.values {
                if *target != Target::Owner
                    || value.trim().is_empty()
                    || !self.owners.names_nobody(value)
                {
                    continue;
                }
                let note = format!(
                    "Owner “{}” is not a Cairn user: imported as if the file named no owner (a new record is {}’s).",
                    value.trim(),
                    self.actor.name
                );
                self.owner_notes.insert((row.file, row.row), note);
                value.clear();
            }
        }
    }

    /// Why a row's link by source id `raw` to a `noun` (of `kind`) finds nothing.
    pub fn no_source(&self, kind: ObjectKind, noun: &str, raw: &str) -> String {
        match self.not_planned.get(&(kind, self.key(raw))) {
            Some((file, row)) => format!(
                "{noun} with source id {raw} is not imported: its row ({}, row {row}) is not.",
                self.files.get(*file).map_or("", |f| f.name.as_str())
            ),
            None => format!(
                "{noun} with source id {raw} is in no file of this import and not in Cairn."
            ),
        }
    }

    /// Adds the row to the report.
    pub fn report(
        &self,
        report: &mut Report,
        row: &MappedRow,
        kind: ObjectKind,
        outcome: Outcome,
        record_id: Option<i64>,
        mut reasons: Vec<String>,
    ) -> usize {
        if outcome != Outcome::Failed
            && let Some(note) = self.owner_notes.get(&(row.file, row.row))
        {
            reasons.push(note.clone());
        }
        report.rows.push(RowReport {
            file: self
                .files
                .get(row.file)
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            row: row.row,
            kind,
            outcome,
            record_id,
            reasons,
        });
        report.rows.len() - 1
    }

    /// Sets `owner` (the input's) to the owner the row names; answers the owner the
    /// domain's check is to take as the record's own: `current` (the stored one when
    /// updating), or a user this import creates. Those are deactivated until an admin
    /// takes them up, and the check refuses to give a record to an inactive user, but an
    /// imported record's owner is a fact of the source, as a record keeps an owner
    /// deactivated since. In a dry run such a user does not exist yet: the check runs
    /// with the input's owner as it was.
    pub fn owner(
        &self,
        c: &Cells,
        owner: &mut Option<i64>,
        current: Option<i64>,
        reasons: &mut Vec<String>,
    ) -> Option<i64> {
        let Some(cell) = c.owner() else {
            return current;
        };
        match self.owners.find(cell) {
            Ok(id) if id < 0 => current,
            Ok(id) => {
                *owner = Some(id);
                if self.owners.created(id) {
                    Some(id)
                } else {
                    current
                }
            }
            Err(why) => {
                reasons.push(why);
                current
            }
        }
    }

    /// The values of a row's `NewCustom` columns as custom values by key, and (in a dry
    /// run, where the fields do not exist yet) the domain's verdict on them.
    pub fn new_custom(
        &self,
        entity: &str,
        cells: &Cells,
        dry: bool,
        reasons: &mut Vec<String>,
    ) -> BTreeMap<String, Value> {
        let mut values = BTreeMap::new();
        let mut defs = Vec::new();
        for (label, value) in cells.new_custom() {
            if let Some(def) = self
                .new_fields
                .get(&(entity.to_string(), label.to_string()))
            {
                values.insert(def.key.clone(), Value::String(value.to_string()));
                defs.push(def.clone());
            }
        }
        if dry && !values.is_empty() {
            let mut fields = BTreeMap::new();
            custom_fields::validate(&defs, &BTreeMap::new(), Some(&values), &mut fields);
            reasons.extend(fields.into_values());
            return BTreeMap::new();
        }
        values
    }
}

/// The messages of a refusal: a field's message per field, or the error's own.
pub(super) fn reasons_of(e: AppError, reasons: &mut Vec<String>) -> Result<(), AppError> {
    match e {
        AppError::Validation { fields, message } | AppError::Conflict { fields, message } => {
            if fields.is_empty() {
                reasons.push(message);
            } else {
                reasons.extend(fields.into_values());
            }
            Ok(())
        }
        AppError::Forbidden(m) | AppError::NotFound(m) | AppError::BadRequest(m) => {
            reasons.push(m);
            Ok(())
        }
        other => Err(other),
    }
}

/// Plans every row. `create_fields`: a real run creates the custom fields of
/// `NewCustom` columns first, so the domain checks their values like any other.
pub(super) async fn plan(
    db: &Db,
    actor: &Actor,
    (files, ws): (&[FileSpec], Option<&Workspace>),
    (rows, unreadable): (Vec<MappedRow>, Vec<RowError>),
    options: &Options,
    create_fields: bool,
) -> Result<Plan, AppError> {
    if rows.is_empty() && unreadable.is_empty() {
        return Err(AppError::BadRequest(
            "The files hold no rows to import: a header and nothing under it.".into(),
        ));
    }
    // What the rows need of the workspace first (a real run creates it now).
    let named;
    let ws = if options.add_stages && files.iter().any(|f| f.kind == ObjectKind::Deal) {
        named = stages::with_named(
            ws,
            &deals::pipelines(&db.read).await?,
            (files, options.system),
            &rows,
        );
        named.as_ref()
    } else {
        ws
    };
    let prepared = workspace::prepare(db, actor, ws, create_fields).await?;
    let mut plan = Plan {
        report: Report::default(),
        system: options.system,
        rows: Spill::new(
            !create_fields,
            &files.iter().map(|f| f.kind).collect::<Vec<_>>(),
        ),
        deal_links: HashSet::new(),
        deal_row_contacts: None,
        names: about::PlannedNames::default(),
        users: Vec::new(),
        new_users: Vec::new(),
        new_fields: Vec::new(),
        workspace: prepared,
        sources: Vec::new(),
    };
    plan.report.workspace = plan.workspace.setup.clone();
    let planned = &plan.workspace.described;
    let new_fields = new_fields(db, actor, files, planned, create_fields).await?;
    plan.new_fields = new_fields.1;
    let new_fields = new_fields.0;
    let mut ctx = Ctx {
        db,
        actor,
        options,
        files,
        owners: Owners::load(&db.read, options.system).await?,
        by_source: HashMap::new(),
        by_name: HashMap::new(),
        new_fields,
        owner_notes: HashMap::new(),
        not_planned: HashMap::new(),
        day_first: values::day_first_in(
            rows.iter()
                .flat_map(|r| r.values.iter().map(|(_, v)| v.as_str())),
        ),
        dry: !create_fields,
        trashed: HashSet::new(),
    };
    for e in unreadable {
        let kind = files.get(e.file).map_or(ObjectKind::Contact, |f| f.kind);
        let row = MappedRow {
            file: e.file,
            row: e.row,
            values: Vec::new(),
        };
        ctx.report(
            &mut plan.report,
            &row,
            kind,
            Outcome::Failed,
            None,
            vec![e.reason],
        );
    }
    let mut by_kind: BTreeMap<usize, Vec<MappedRow>> = BTreeMap::new();
    for row in rows {
        let Some(file) = files.get(row.file) else {
            return Err(AppError::Internal(format!(
                "row of unknown file {}",
                row.file
            )));
        };
        let at = ORDER.iter().position(|k| *k == file.kind).unwrap_or(0);
        by_kind.entry(at).or_default().push(row);
    }
    let dry = !create_fields;
    // Sized once: a vector grown by doubling holds up to twice its rows.
    plan.report
        .rows
        .reserve_exact(by_kind.values().map(Vec::len).sum());
    for (at, rows) in by_kind {
        // Each chunk's cells are freed once it is planned: the rows and their plan are
        // never all held at once.
        let mut rows = rows.into_iter();
        loop {
            let mut chunk: Vec<MappedRow> = rows.by_ref().take(super::CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            if options.unknown_owners_to_me {
                ctx.unknown_owners_to_me(&mut chunk);
            }
            ctx.see_trashed(&chunk).await?;
            let chunk = &chunk[..];
            match ORDER[at] {
                ObjectKind::User => user::plan(&mut ctx, &mut plan, chunk, dry).await?,
                ObjectKind::Company => {
                    rows::plan::<company::Company>(&mut ctx, &mut plan, chunk, dry).await?
                }
                ObjectKind::Contact => {
                    rows::plan::<contact::Contact>(&mut ctx, &mut plan, chunk, dry).await?
                }
                ObjectKind::Deal => {
                    rows::plan::<deal::Deal>(&mut ctx, &mut plan, chunk, dry).await?
                }
                ObjectKind::DealContact => deal_contact::plan(&mut ctx, &mut plan, chunk).await?,
                ObjectKind::Activity => {
                    rows::plan::<activity::Activity>(&mut ctx, &mut plan, chunk, dry).await?
                }
                ObjectKind::Task => {
                    rows::plan::<task::Task>(&mut ctx, &mut plan, chunk, dry).await?
                }
            }
        }
    }
    if dry {
        let waited = [ObjectKind::Company, ObjectKind::Contact, ObjectKind::Deal];
        plan.sources = (ctx.by_source.into_keys())
            .filter(|(k, _)| waited.contains(k))
            .collect();
    }
    Ok(plan)
}

/// The custom field each `NewCustom` column stands for: an existing field of the same
/// label (or key: Cairn's export names its columns by key), or in a dry run one that
/// `workspace.json` would create, else a new text field (created now in a real run);
/// and the fields created.
async fn new_fields(
    db: &Db,
    actor: &Actor,
    files: &[FileSpec],
    planned: &[Field],
    create: bool,
) -> Result<(HashMap<(String, String), Field>, Vec<i64>), AppError> {
    let mut out = HashMap::new();
    let mut created = Vec::new();
    for f in files {
        let entity = match f.kind {
            ObjectKind::Contact => "contact",
            ObjectKind::Company => "company",
            ObjectKind::Deal => "deal",
            _ => continue,
        };
        for t in &f.columns {
            let Target::NewCustom(label) = t else {
                continue;
            };
            let key = (entity.to_string(), label.clone());
            if out.contains_key(&key) {
                continue;
            }
            let mut defs = custom_fields::for_entity(&db.read, entity).await?;
            defs.extend(planned.iter().filter(|d| d.entity == entity).cloned());
            let field = match defs
                .into_iter()
                .find(|d| normalise(&d.label) == normalise(label) || d.key == *label)
            {
                Some(d) => d,
                None if create => {
                    let d =
                        custom_fields::create(db, actor, entity, label, "text", &[], false).await?;
                    created.push(d.id);
                    d
                }
                None => Field {
                    id: 0,
                    entity: entity.to_string(),
                    key: custom_fields::key_of(label),
                    label: label.clone(),
                    kind: "text".into(),
                    options: Vec::new(),
                    required: false,
                    version: 1,
                },
            };
            out.insert(key, field);
        }
    }
    Ok((out, created))
}
