//! `cairn import FILE…`: the files read, described (their kind from `--type` or guessed
//! from their names and headers, their columns from the preset of `--preset` or of the
//! system their headers show), then dry-run or imported as the `import.run` job would,
//! in this process. Prints the report; the caller exits non-zero when a row failed.
use std::path::PathBuf;

use clap::Args;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::import::apply::{Options, Outcome, Report, job, store};
use crate::domain::import::read::CsvFile;
use crate::domain::import::{FileSpec, ObjectKind, OnMatch, System, presets};
use crate::domain::{Actor, Db, Role};
use crate::entities::user;
use crate::error::AppError;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The CSV files (one kind of record each), and a Cairn export's workspace.json.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// What every file holds; guessed per file when absent.
    #[arg(long = "type", value_parser = ["contacts", "companies", "deals", "activities", "tasks"])]
    pub kind: Option<String>,
    /// The product the files come from; guessed from their headers when absent.
    #[arg(long, value_parser = ["hubspot", "salesforce", "pipedrive", "cairn", "generic"])]
    pub preset: Option<String>,
    /// Report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// What to do with a row matching an existing record.
    #[arg(long, default_value = "skip", value_parser = ["skip", "update", "create"])]
    pub on_match: String,
    /// Import the valid rows and report the rest (otherwise one bad row stops all).
    #[arg(long)]
    pub valid_rows: bool,
    /// The time zone of dates written without one (e.g. Europe/Berlin).
    #[arg(long)]
    pub zone: Option<String>,
    /// Fail deal rows whose pipeline or stage Cairn lacks, instead of adding them.
    #[arg(long)]
    pub no_new_stages: bool,
    /// Read a row whose owner is no Cairn user as naming none (a new record is the
    /// importing admin's), instead of failing it.
    #[arg(long)]
    pub unknown_owners_to_me: bool,
    /// The admin the import is made by (owner of rows without one); default the first.
    #[arg(long = "as")]
    pub as_email: Option<String>,
}

/// The admin the import acts as.
async fn admin(db: &Db, email: Option<&str>) -> Result<Actor, AppError> {
    let mut q = user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.eq("admin"));
    if let Some(e) = email {
        q = q.filter(user::Column::Email.eq(e.trim().to_lowercase()));
    }
    let u = q
        .order_by_asc(user::Column::Id)
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::BadRequest("No active admin to import as (--as).".into()))?;
    Ok(Actor {
        id: u.id,
        name: u.name,
        email: u.email,
        role: Role::Admin,
        ip: None,
    })
}

/// Runs the command; whether every row went through.
pub async fn run(db: &Db, args: ImportArgs) -> Result<bool, AppError> {
    let actor = admin(db, args.as_email.as_deref()).await?;
    let on_match = match args.on_match.as_str() {
        "update" => OnMatch::Update,
        "create" => OnMatch::Create,
        _ => OnMatch::Skip,
    };
    let named = args.preset.as_deref().and_then(System::from_name);
    let kind = args.kind.as_deref().and_then(ObjectKind::from_plural);
    let mut uploads = Vec::new();
    let mut specs: Vec<FileSpec> = Vec::new();
    let custom = store::custom_fields(db).await?;
    let mut read = Vec::new();
    for path in &args.files {
        let bytes = std::fs::read(path)
            .map_err(|e| AppError::BadRequest(format!("{}: {e}", path.display())))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().to_string(),
        );
        read.push(store::Upload { name, bytes });
    }
    // A ZIP (Cairn's export, a zipped Salesforce export) stands for the files in it, as
    // on the import page.
    for store::Upload { name, bytes } in store::unzipped(db, read).await? {
        // A Cairn export's description of its files goes along as it is (see
        // `store::create`): it holds no rows.
        if name.eq_ignore_ascii_case("workspace.json") {
            uploads.push(store::Upload { name, bytes });
            continue;
        }
        let headers = CsvFile::open(std::io::Cursor::new(bytes.clone()))
            .map_err(|e| AppError::BadRequest(format!("{name}: {e}")))?
            .headers()
            .to_vec();
        let spec = presets::describe(&name, &headers, named, kind, &custom).ok_or_else(|| {
            AppError::BadRequest(format!(
                "{name}: cannot tell which records it holds; say so with --type."
            ))
        })?;
        specs.push(spec);
        uploads.push(store::Upload { name, bytes });
    }
    let options = Options {
        on_match,
        valid_rows_only: args.valid_rows,
        zone: args.zone.clone(),
        system: presets::import_system(named, specs.iter().map(|s| s.system)),
        add_stages: !args.no_new_stages,
        unknown_owners_to_me: args.unknown_owners_to_me,
    };
    let id = store::upload(db, &actor, uploads, named, &options).await?;
    store::set_files(db, &actor, id, &specs, &options).await?;
    let report = if args.dry_run {
        store::dry_run(db, &actor, id).await?
    } else {
        job::run(db, id).await?
    };
    print(id, &report, args.dry_run);
    Ok(report.failed() == 0)
}

fn print(id: i64, report: &Report, dry: bool) {
    let head = if dry { "Dry run of import" } else { "Import" };
    println!(
        "{head} {id}: {}",
        if report.written {
            "written"
        } else {
            "nothing written"
        }
    );
    for (kind, c) in report.counts() {
        println!(
            "  {kind}: {} rows, {} created, {} updated, {} skipped, {} failed",
            c.rows, c.created, c.updated, c.skipped, c.failed
        );
    }
    let w = &report.workspace;
    let added = if dry { "would be added" } else { "added" };
    for (what, names) in [
        ("custom fields", &w.custom_fields),
        ("pipelines", &w.pipelines),
        ("stages", &w.stages),
        ("tags", &w.tags),
    ] {
        if !names.is_empty() {
            println!("  {what} {added}: {}", names.join(", "));
        }
    }
    if report.linked > 0 {
        let done = if dry { "would complete" } else { "completed" };
        println!(
            "  {done} {} links of earlier imports that waited for these records",
            report.linked
        );
    }
    for r in report.rows.iter().filter(|r| r.outcome == Outcome::Failed) {
        println!("  {} row {}: {}", r.file, r.row, r.reasons.join(" "));
    }
    for r in report.rows.iter().filter(|r| r.noted()) {
        println!("  {} row {} (note): {}", r.file, r.row, r.reasons.join(" "));
    }
}
