//! Importing other CRMs' exports (HubSpot, Salesforce, Pipedrive) and Cairn's own export.
//!
//! Two halves meet in the types below. Reading turns a file's bytes into [`MappedRow`]s:
//! whatever its encoding, delimiter and quoting, its headers mapped to [`Target`]s by a
//! [`System`]'s preset or by the user. Applying takes the rows of one or several files and
//! plans, checks and writes them: matching existing records, linking records across files
//! by the source system's ids, and reporting every row it could not take.
pub mod apply;

use serde::{Deserialize, Serialize};

pub mod presets;
pub mod read;
pub mod values;

/// The kinds of record an import file can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Contact,
    Company,
    Deal,
    Activity,
    Task,
    /// Users of the source system, only to resolve owners (Salesforce's `User.csv`).
    User,
    /// Contacts' roles on deals (Salesforce's `OpportunityContactRole.csv`).
    DealContact,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 7] = [
        ObjectKind::Contact,
        ObjectKind::Company,
        ObjectKind::Deal,
        ObjectKind::Activity,
        ObjectKind::Task,
        ObjectKind::User,
        ObjectKind::DealContact,
    ];

    /// The name used in the command line (`--type contacts`), URLs and stored reports.
    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::Contact => "contacts",
            ObjectKind::Company => "companies",
            ObjectKind::Deal => "deals",
            ObjectKind::Activity => "activities",
            ObjectKind::Task => "tasks",
            ObjectKind::User => "users",
            ObjectKind::DealContact => "deal_contacts",
        }
    }

    pub fn from_plural(name: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.plural() == name)
    }
}

/// Where a file comes from: decides the preset that maps its headers and how its ids,
/// dates and lists are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// Cairn's own export (`cairn export`): headers are Cairn's field names.
    Cairn,
    HubSpot,
    Salesforce,
    Pipedrive,
    /// Any other CSV: the user maps the columns.
    Generic,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Cairn => "cairn",
            System::HubSpot => "hubspot",
            System::Salesforce => "salesforce",
            System::Pipedrive => "pipedrive",
            System::Generic => "generic",
        }
    }

    pub fn from_name(name: &str) -> Option<System> {
        [
            System::Cairn,
            System::HubSpot,
            System::Salesforce,
            System::Pipedrive,
            System::Generic,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// What one column of a file becomes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "name")]
pub enum Target {
    /// Not imported.
    Ignore,
    /// The record's id in the source system. Kept, so related files imported in any order,
    /// or the same file imported again, link up instead of duplicating.
    SourceId,
    /// A built-in field, by the name the JSON API uses for it (`first_name`, `email`,
    /// `amount`, `currency`, `occurred_at`, `due_date`, …).
    Field(String),
    /// An existing custom field, by its key.
    Custom(String),
    /// A custom field the import creates (text), by its label.
    NewCustom(String),
    /// The source id of a related record (`AccountId` on a Salesforce contact).
    LinkId(ObjectKind),
    /// Several such ids separated by `;` (HubSpot's `Associated Company IDs`).
    LinkIds(ObjectKind),
    /// A related record by name rather than id (a company name, a deal title).
    LinkName(ObjectKind),
    /// The owner (or a task's assignee): a user's email or name, or a source user id when
    /// the system exports users separately (Salesforce's `OwnerId`).
    Owner,
    /// A flag marking rows deleted in the source (Salesforce's `IsDeleted`): those rows
    /// are skipped and reported.
    Deleted,
    /// Tags, separated by `;` or `,`.
    Tags,
}

/// One data row of a file, its cells paired with their targets (ignored columns left out).
/// Values are text exactly as the source wrote them (decoded to UTF-8, formula escaping
/// of Cairn's export undone); applying parses them, so a bad value is reported with its
/// row rather than lost while reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedRow {
    /// The file's index among the files of one import.
    pub file: usize,
    /// The row's number as a spreadsheet shows it (the header is row 1); a row with quoted
    /// newlines counts once, at the line it starts on.
    pub row: u64,
    pub values: Vec<(Target, String)>,
}

/// One file of an import as the user (or the preset) described it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    /// The name as uploaded, for reports (`Contact.csv`).
    pub name: String,
    pub kind: ObjectKind,
    pub system: System,
    /// One target per column, in the file's order.
    pub columns: Vec<Target>,
}

/// What to do with a row that matches a record already in Cairn (by source id, else by
/// email for contacts, domain or name for companies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMatch {
    Skip,
    Update,
    Create,
}
