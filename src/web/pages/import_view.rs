//! What the import pages show (each file's columns with their choices, the progress bar,
//! the report) and the mapping form read back into the import's files and options.
use std::collections::HashMap;

use crate::domain::custom_fields;
use crate::domain::import::apply::integrity::Integrity;
use crate::domain::import::apply::{Options, Outcome, Report, RowReport, store};
use crate::domain::import::{FileSpec, ObjectKind, OnMatch, System, Target, presets};
use crate::domain::{Actor, Db};
use crate::error::AppError;

/// Every zone dates may be read in, by name.
pub fn zones() -> Vec<&'static str> {
    crate::domain::tasks::due::zone_names().collect()
}

/// The zone chosen in a form: none for UTC or an empty choice (the domain checks the
/// name: `Options::check`).
pub fn zone(name: Option<&str>) -> Option<String> {
    match name.map(str::trim) {
        None | Some("" | "UTC") => None,
        Some(z) => Some(z.to_string()),
    }
}

pub struct Choice {
    pub code: String,
    pub label: String,
}

pub struct ColumnView {
    pub header: String,
    pub code: String,
    pub choices: std::rc::Rc<Vec<Choice>>,
}

pub struct FileView {
    pub index: usize,
    pub name: String,
    pub encoding: String,
    pub delimiter: char,
    pub kind: &'static str,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub columns: Vec<ColumnView>,
    pub rows: Vec<Vec<String>>,
}

impl FileView {
    pub fn headers_len(&self) -> usize {
        self.columns.len()
    }
}

/// A target as the mapping form's `<select>` sends it.
pub fn code(t: &Target) -> String {
    match t {
        Target::Ignore => "ignore".into(),
        Target::SourceId => "source_id".into(),
        Target::Field(f) => format!("field:{f}"),
        Target::Custom(k) => format!("custom:{k}"),
        Target::NewCustom(_) => "new_custom".into(),
        Target::LinkId(k) => format!("link_id:{}", k.plural()),
        Target::LinkIds(k) => format!("link_ids:{}", k.plural()),
        Target::LinkName(k) => format!("link_name:{}", k.plural()),
        Target::Owner => "owner".into(),
        Target::Deleted => "deleted".into(),
        Target::Tags => "tags".into(),
    }
}

/// The target a form's code names; a new custom field takes the column's header as its
/// label. None for a code no choice sends.
pub fn target(code: &str, header: &str) -> Option<Target> {
    let kind = |k: &str| ObjectKind::from_plural(k);
    Some(match code.split_once(':') {
        None => match code {
            "ignore" => Target::Ignore,
            "source_id" => Target::SourceId,
            "new_custom" => Target::NewCustom(header.trim().to_string()),
            "owner" => Target::Owner,
            "deleted" => Target::Deleted,
            "tags" => Target::Tags,
            _ => return None,
        },
        Some(("field", f)) => Target::Field(f.to_string()),
        Some(("custom", k)) => Target::Custom(k.to_string()),
        Some(("link_id", k)) => Target::LinkId(kind(k)?),
        Some(("link_ids", k)) => Target::LinkIds(kind(k)?),
        Some(("link_name", k)) => Target::LinkName(kind(k)?),
        Some(_) => return None,
    })
}

/// What a column of a file holding `kind` may become, in the order the menu shows.
fn choices(kind: ObjectKind, custom: &[custom_fields::Field]) -> Vec<Choice> {
    let mut out = Vec::new();
    let mut add = |t: Target, label: String| {
        out.push(Choice {
            code: code(&t),
            label,
        })
    };
    add(Target::Ignore, "— not imported —".into());
    add(Target::SourceId, "Id in the source system".into());
    for name in presets::fields(kind) {
        add(Target::Field((*name).to_string()), field_label(name));
    }
    for (link, label) in links(kind) {
        add(link, label.to_string());
    }
    if !matches!(kind, ObjectKind::User | ObjectKind::DealContact) {
        let label = if kind == ObjectKind::Task {
            "Assignee (email, name or source id)"
        } else {
            "Owner (email, name or source id)"
        };
        add(Target::Owner, label.into());
    }
    if matches!(kind, ObjectKind::Contact | ObjectKind::Company) {
        add(Target::Tags, "Tags (separated by ; or ,)".into());
    }
    for f in custom {
        add(
            Target::Custom(f.key.clone()),
            format!("Custom: {}", f.label),
        );
    }
    if presets::custom_entity(kind).is_some() {
        add(
            Target::NewCustom(String::new()),
            "New custom field (named after the column)".into(),
        );
    }
    add(
        Target::Deleted,
        "Deleted in the source (such rows are skipped)".into(),
    );
    out
}

/// What a kind is called in the "Holds" menu.
fn kind_label(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Contact => "Contacts (people, leads)",
        ObjectKind::Company => "Companies (accounts, organisations)",
        ObjectKind::Deal => "Deals (opportunities)",
        ObjectKind::Activity => "Activities (notes, calls, meetings, emails)",
        ObjectKind::Task => "Tasks",
        ObjectKind::User => "Users (to find owners)",
        ObjectKind::DealContact => "Contacts on deals (contact roles)",
    }
}

/// A built-in field as the column menu names it.
fn field_label(name: &str) -> String {
    let label = match name {
        "first_name" => "First name",
        "last_name" => "Last name",
        "name" => "Name",
        "email" => "Email",
        "phone" => "Phone",
        "title" => "Title",
        "source" => "Source",
        "created_at" => "Created (date and time)",
        "domain" => "Domain",
        "industry" => "Industry",
        "size_band" => "Size (employees)",
        "website" => "Website",
        "address" => "Address",
        "amount" => "Amount",
        "currency" => "Currency",
        "pipeline" => "Pipeline (name)",
        "stage" => "Stage (name)",
        "expected_close" => "Expected close date",
        "probability" => "Probability (%)",
        "lost_reason" => "Lost reason",
        "kind" => "Kind (note, call, meeting, email)",
        "body" => "Text",
        "occurred_at" => "When (date and time)",
        "notes" => "Notes",
        "due_at" => "Due (date and time)",
        "due_date" => "Due date",
        "priority" => "Priority",
        "done" => "Done (yes/no)",
        "role" => "Role",
        "active" => "Active (yes/no)",
        other => return other.replace('_', " "),
    };
    label.to_string()
}

/// A target the menu of a kind does not offer, as the column's own menu names it.
fn extra_label(t: &Target) -> String {
    match t {
        Target::LinkId(k) => format!("Linked {} (source id)", k.plural()),
        Target::LinkIds(k) => format!("Linked {} (source ids, ; between)", k.plural()),
        Target::LinkName(k) => format!("Linked {} (by name)", k.plural()),
        Target::Field(f) => field_label(f),
        Target::Custom(k) => format!("Custom: {k}"),
        Target::NewCustom(label) => format!("New custom field {label}"),
        other => code(other),
    }
}

/// The records a file of `kind` may link to, as menu choices.
fn links(kind: ObjectKind) -> Vec<(Target, &'static str)> {
    use ObjectKind::{Company, Contact, Deal};
    let by_id = |k, label| (Target::LinkId(k), label);
    let by_name = |k, label| (Target::LinkName(k), label);
    match kind {
        ObjectKind::Contact => vec![
            by_id(Company, "Company (source id)"),
            (
                Target::LinkIds(Company),
                "Companies (source ids, ; between)",
            ),
            by_name(Company, "Company (name or domain)"),
        ],
        ObjectKind::Deal => vec![
            by_id(Company, "Company (source id)"),
            by_name(Company, "Company (name or domain)"),
            by_id(Contact, "Contact (source id)"),
            (Target::LinkIds(Contact), "Contacts (source ids, ; between)"),
            by_name(Contact, "Contact (email or name)"),
        ],
        ObjectKind::Activity | ObjectKind::Task => vec![
            by_id(Contact, "Contact (source id)"),
            by_name(Contact, "Contact (email or name)"),
            by_id(Company, "Company (source id)"),
            by_name(Company, "Company (name or domain)"),
            by_id(Deal, "Deal (source id)"),
            by_name(Deal, "Deal (title)"),
        ],
        ObjectKind::DealContact => vec![
            by_id(Deal, "Deal (source id)"),
            by_id(Contact, "Contact (source id)"),
        ],
        ObjectKind::Company | ObjectKind::User => Vec::new(),
    }
}

async fn custom_of(db: &Db, kind: ObjectKind) -> Result<Vec<custom_fields::Field>, AppError> {
    match presets::custom_entity(kind) {
        Some(entity) => custom_fields::defs(db, entity).await,
        None => Ok(Vec::new()),
    }
}

/// The files of an import not started yet: their first rows and each column's target,
/// as stored, or as the preset suggests for a file not mapped yet.
pub async fn files(db: &Db, actor: &Actor, imp: &store::Import) -> Result<Vec<FileView>, AppError> {
    let previews = store::preview(db, actor, imp.id).await?;
    let mut out = Vec::with_capacity(previews.len());
    let mut menus: HashMap<ObjectKind, std::rc::Rc<Vec<Choice>>> = HashMap::new();
    for (index, p) in previews.into_iter().enumerate() {
        let spec = match imp.files.get(index) {
            Some(spec) => spec.clone(),
            None => suggest(db, imp.options.system, &p.name, &p.headers, None).await?,
        };
        let menu = match menus.get(&spec.kind) {
            Some(m) => m.clone(),
            None => {
                let m = std::rc::Rc::new(choices(spec.kind, &custom_of(db, spec.kind).await?));
                menus.insert(spec.kind, m.clone());
                m
            }
        };
        let columns = p
            .headers
            .iter()
            .enumerate()
            .map(|(i, header)| {
                let target = spec.columns.get(i).cloned().unwrap_or(Target::Ignore);
                let code = code(&target);
                // A preset may choose a target the menu does not offer for this kind
                // (a contact's deal ids): the column's menu gets it, so it is kept.
                let choices = if menu.iter().any(|c| c.code == code) {
                    menu.clone()
                } else {
                    let mut own: Vec<Choice> = menu
                        .iter()
                        .map(|c| Choice {
                            code: c.code.clone(),
                            label: c.label.clone(),
                        })
                        .collect();
                    own.push(Choice {
                        code: code.clone(),
                        label: extra_label(&target),
                    });
                    std::rc::Rc::new(own)
                };
                ColumnView {
                    header: header.clone(),
                    code,
                    choices,
                }
            })
            .collect();
        out.push(FileView {
            index,
            name: p.name,
            encoding: p.encoding,
            delimiter: p.delimiter,
            kind: spec.kind.plural(),
            kinds: ObjectKind::ALL
                .iter()
                .map(|k| (k.plural(), kind_label(*k)))
                .collect(),
            columns,
            rows: p.rows,
        });
    }
    Ok(out)
}

/// A file's kind and columns as the preset of `system` (or, for Generic, the system the
/// headers show) reads them; `kind` when the user chose it.
async fn suggest(
    db: &Db,
    system: System,
    name: &str,
    headers: &[String],
    kind: Option<ObjectKind>,
) -> Result<FileSpec, AppError> {
    // Generic stands for "tell from the headers" (the upload's first choice).
    let system = (system != System::Generic).then_some(system);
    let guessed = presets::guess_kind(
        system.unwrap_or_else(|| presets::guess_system(headers)),
        name,
        headers,
    );
    let kind = kind.or(guessed).unwrap_or(ObjectKind::Contact);
    let custom = custom_of(db, kind).await?;
    presets::describe(name, headers, system, Some(kind), &custom)
        .ok_or_else(|| AppError::Internal("a file with its kind given is described".into()))
}

/// The mapping form read back: each file's kind and its columns' targets (a file whose
/// kind changed gets the preset's targets for its new kind), and the options.
pub async fn mapping_from_form(
    db: &Db,
    pairs: &[(String, String)],
    previews: &[store::FilePreview],
    imp: &store::Import,
) -> Result<(Vec<FileSpec>, Options), AppError> {
    let form: HashMap<&str, &str> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut files = Vec::with_capacity(previews.len());
    for (i, p) in previews.iter().enumerate() {
        let kind = form
            .get(format!("kind_{i}").as_str())
            .and_then(|k| ObjectKind::from_plural(k))
            .ok_or_else(|| AppError::field(&format!("kind_{i}"), "Say what the file holds."))?;
        // The kind and system the page showed: as stored, or as suggested before the
        // first save.
        let shown = match imp.files.get(i) {
            Some(spec) => spec.clone(),
            None => suggest(db, imp.options.system, &p.name, &p.headers, None).await?,
        };
        if shown.kind != kind {
            files.push(suggest(db, shown.system, &p.name, &p.headers, Some(kind)).await?);
            continue;
        }
        let mut columns = Vec::with_capacity(p.headers.len());
        for (c, header) in p.headers.iter().enumerate() {
            let field = format!("col_{i}_{c}");
            let sent = form.get(field.as_str()).copied().unwrap_or("ignore");
            let t = target(sent, header).ok_or_else(|| {
                AppError::field(&field, format!("Choose what “{header}” becomes."))
            })?;
            columns.push(t);
        }
        files.push(FileSpec {
            name: p.name.clone(),
            kind,
            system: shown.system,
            columns,
        });
    }
    let on_match = match form.get("on_match").copied() {
        Some("update") => OnMatch::Update,
        Some("create") => OnMatch::Create,
        _ => OnMatch::Skip,
    };
    let options = Options {
        on_match,
        valid_rows_only: form.contains_key("valid_rows_only"),
        zone: zone(form.get("zone").copied()),
        system: imp.options.system,
        add_stages: form.contains_key("add_stages"),
        unknown_owners_to_me: form.contains_key("unknown_owners_to_me"),
    };
    Ok((files, options))
}

pub struct ProgressView {
    pub status: String,
    pub done: i64,
    pub total: i64,
    pub percent: i64,
    pub running: bool,
}

impl From<store::Progress> for ProgressView {
    fn from(p: store::Progress) -> ProgressView {
        ProgressView {
            running: matches!(p.status.as_str(), "queued" | "running"),
            percent: (p.done * 100).checked_div(p.total).unwrap_or(0),
            status: p.status,
            done: p.done,
            total: p.total,
        }
    }
}

pub struct KindLine {
    pub kind: String,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
}

pub struct Problem {
    pub file: String,
    pub row: u64,
    pub outcome: &'static str,
    pub reasons: String,
}

pub struct IntegrityLine {
    pub kind: String,
    pub rows: u64,
    pub written: u64,
    pub present: u64,
    pub links: u64,
}

pub struct IntegrityView {
    pub ok: bool,
    pub kinds: Vec<IntegrityLine>,
    pub broken: Vec<String>,
    /// Links that wait for a later import (the first listed), how many in all, and
    /// how many of earlier imports' this one filled.
    pub pending: Vec<String>,
    pub pending_total: u64,
    pub completed: u64,
}

pub struct ReportView {
    pub dry_run: bool,
    pub written: bool,
    pub kinds: Vec<KindLine>,
    pub problems: Vec<Problem>,
    pub problems_more: usize,
    /// Rows imported (or that would be) with a note: a link that waits, an owner read as
    /// none, a type made a note.
    pub noted: Vec<Problem>,
    pub noted_more: usize,
    /// Links of earlier imports filled by this run (a dry run: that wait for its records).
    pub linked: u64,
    pub integrity: Option<IntegrityView>,
    /// What the export's `workspace.json` made (or would make): a line per sort.
    pub setup: Vec<(&'static str, String)>,
}

/// Rows listed as failed or skipped at the most; the rest are counted.
const PROBLEMS_SHOWN: usize = 500;

pub fn report(imp: &store::Import) -> Option<ReportView> {
    let r: &Report = imp.report.as_ref()?;
    let kinds = r
        .counts()
        .into_iter()
        .map(|(kind, c)| KindLine {
            kind,
            rows: c.rows,
            created: c.created,
            updated: c.updated,
            skipped: c.skipped,
            failed: c.failed,
        })
        .collect();
    let all: Vec<_> = r
        .rows
        .iter()
        .filter(|row| matches!(row.outcome, Outcome::Failed | Outcome::Skipped))
        .collect();
    let problem = |row: &&RowReport| Problem {
        file: row.file.clone(),
        row: row.row,
        outcome: row.outcome.as_str(),
        reasons: row.reasons.join(" "),
    };
    let problems = all.iter().take(PROBLEMS_SHOWN).map(problem).collect();
    let noted: Vec<_> = r.rows.iter().filter(|row| row.noted()).collect();
    Some(ReportView {
        dry_run: imp.status == "dry_run_done",
        written: r.written,
        kinds,
        problems,
        problems_more: all.len().saturating_sub(PROBLEMS_SHOWN),
        noted: noted.iter().take(PROBLEMS_SHOWN).map(problem).collect(),
        noted_more: noted.len().saturating_sub(PROBLEMS_SHOWN),
        linked: r.linked,
        integrity: imp.integrity.as_ref().map(integrity),
        setup: [
            ("Custom fields", &r.workspace.custom_fields),
            ("Pipelines", &r.workspace.pipelines),
            ("Stages", &r.workspace.stages),
            ("Tags", &r.workspace.tags),
        ]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(what, names)| (what, names.join(", ")))
        .collect(),
    })
}

fn integrity(i: &Integrity) -> IntegrityView {
    IntegrityView {
        ok: i.ok(),
        kinds: i
            .kinds
            .iter()
            .map(|(kind, k)| IntegrityLine {
                kind: kind.clone(),
                rows: k.rows,
                written: k.written,
                present: k.present,
                links: k.links,
            })
            .collect(),
        broken: i
            .broken
            .iter()
            .map(|b| {
                format!(
                    "{} {}: {} points to {}, which does not exist",
                    b.kind.plural(),
                    b.record_id,
                    b.link,
                    b.points_to
                )
            })
            .collect(),
        pending: i
            .pending
            .iter()
            .map(|p| {
                format!(
                    "{} {}: {} waits for {} {}",
                    p.kind.plural(),
                    p.record_id,
                    p.link,
                    p.waits_for,
                    p.source_id
                )
            })
            .collect(),
        pending_total: i.pending_total,
        completed: i.completed,
    }
}
