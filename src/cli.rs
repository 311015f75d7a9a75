//! The command line: `serve` (the default, in `serve`), `migrate`, `user`, `token`,
//! `healthcheck`, `seed`, `report`, `jobs`, `backup`, `restore`, `doctor`.
use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::{Config, Settings};
use crate::domain::Db;
use crate::domain::{backup, seed, seed_year, tokens, users};
use crate::error::AppError;
use crate::jobs;

#[derive(Parser, Debug)]
#[command(
    name = "cairn",
    version,
    about = "Cairn, a self-hosted CRM for startups"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Exit 0 when the server at CAIRN_BIND answers /healthz.
    Healthcheck,
    /// Check this deployment (database, migrations, data folder, disk, SMTP, base URL,
    /// backups, jobs) and print what is wrong; exit 1 when something failed.
    Doctor,
    /// Fill the database with realistic, deterministic demo data.
    Seed {
        /// How many contacts to create (default 1000; with --year 1000000).
        #[arg(long)]
        contacts: Option<u64>,
        /// A year of history for the reports (issue 15): the contacts created over the
        /// last 365 days, growing and busier on weekdays, with five activities, a fifth
        /// of a deal (with its stage history), a tenth of a task and a tenth of a Stripe
        /// payment each, in proportion (--contacts 1000000: 5 000 000 activities,
        /// 200 000 deals, 100 000 tasks, 100 000 payments). Not with --tasks; --deals
        /// sets the year's deals instead (e.g. 360 000 for about 200 000 closed ones to
        /// train the deal score on).
        #[arg(long, conflicts_with_all = ["tasks"])]
        year: bool,
        /// How many deals to create (spread over the first pipeline's stages; with
        /// --year, over the year, each with its history).
        #[arg(long, default_value_t = 0)]
        deals: u64,
        /// How many tasks to create, all for the first user (My tasks' worst case).
        #[arg(long, default_value_t = 0)]
        tasks: u64,
        /// The seed: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many audit log rows to add (spread over the past year).
        #[arg(long, default_value_t = 0)]
        audit: u64,
    },
    /// Print a report (the numbers of the /reports pages), e.g. for a cron job to mail.
    Report {
        /// Which report: funnel, pipeline, win-rate, …
        #[arg(value_parser = report_names())]
        name: String,
        #[command(flatten)]
        filters: ReportFilters,
    },
    /// Write the whole workspace to FILE as the ZIP Settings → Export downloads
    /// (docs/export-format.md); `-` writes it to standard output.
    Export { file: std::path::PathBuf },
    /// Import CSV files (HubSpot, Salesforce, Pipedrive or Cairn exports, or any CSV);
    /// exits non-zero when a row could not be imported.
    Import(crate::import_command::ImportArgs),
    /// Train the deal score and look at its models.
    Score {
        #[command(subcommand)]
        command: crate::score_command::ScoreCommand,
    },
    /// Look at the background job queue and run failed jobs again.
    Jobs {
        #[command(subcommand)]
        command: jobs::command::JobsCommand,
    },
    /// Copy the SQLite database to FILE while the server runs (a consistent snapshot).
    /// On PostgreSQL it says how to use pg_dump instead, and fails.
    Backup { file: PathBuf },
    /// Replace the SQLite database with backup FILE: checked first; the server must be
    /// stopped, and --force given.
    Restore {
        file: PathBuf,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user; the password comes from CAIRN_PASSWORD or the first line of stdin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "manager", "rep", "viewer"])]
        role: String,
    },
    /// Deactivate a user: their sessions end and their API tokens stop working.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Turn a user's two-factor sign-in off (a lost phone and no recovery code left).
    ResetTwoFactor {
        #[arg(long)]
        email: String,
    },
}

/// The filters every report takes (those of the pages and the API).
#[derive(clap::Args, Debug)]
pub struct ReportFilters {
    /// The last this many days, today included (1 to 730; default 90).
    #[arg(long)]
    days: Option<String>,
    /// The first day (YYYY-MM-DD, in the organisation's time zone); not with --days.
    #[arg(long)]
    from: Option<String>,
    /// The last day, included (default today).
    #[arg(long)]
    to: Option<String>,
    /// Only records this user owns (their id).
    #[arg(long)]
    owner: Option<String>,
    /// Only deals of this pipeline (its id).
    #[arg(long)]
    pipeline: Option<String>,
    /// Only contacts and deals from this source.
    #[arg(long)]
    source: Option<String>,
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json"])]
    format: String,
}

impl ReportFilters {
    fn params(&self) -> crate::domain::reports::Params {
        crate::domain::reports::Params {
            days: self.days.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            owner: self.owner.clone(),
            pipeline: self.pipeline.clone(),
            source: self.source.clone(),
        }
    }
}

/// The reports' names, each with what it shows (`cairn report --help`).
fn report_names() -> clap::builder::PossibleValuesParser {
    use crate::domain::reports::report::INDEX;
    clap::builder::PossibleValuesParser::new(
        INDEX
            .iter()
            .map(|e| clap::builder::PossibleValue::new(e.slug).help(e.about)),
    )
}

/// `cairn report …`: the report over every record (the command line is not a user, and
/// whoever runs it can read the whole database anyway), printed as asked.
async fn report(db: &Db, name: &str, filters: &ReportFilters) -> Result<(), Failure> {
    use crate::domain::reports::{self, report::Form};
    let f = reports::filters(db, &filters.params()).await?;
    let everyone = crate::domain::Actor::command_line();
    let form = match filters.format.as_str() {
        "csv" => Form::Csv,
        "json" => Form::Json,
        _ => Form::Table,
    };
    let text = reports::report::text_of(name, db, &everyone, &f, form).await?;
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| fail(format!("cannot write the report: {e}")))
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token for a user; prints only the token.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// `read` (GET only) or `write`.
        #[arg(long, default_value = "write")]
        scope: String,
        /// Stop working after this many days (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

/// A failure reported as one line; `code` 2 means a bad setting.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

pub(crate) fn fail(message: impl Into<String>) -> Failure {
    Failure {
        code: 1,
        message: message.into(),
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        let message = match &e {
            AppError::Validation { fields, .. } | AppError::Conflict { fields, .. }
                if !fields.is_empty() =>
            {
                fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            AppError::Internal(detail) => detail.clone(),
            other => other.to_string(),
        };
        fail(message)
    }
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.settings.validate() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cairn: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = crate::serve::init_tracing(&config) {
        eprintln!("cairn: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cairn: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    let result = match command {
        Command::Healthcheck => healthcheck(&config),
        Command::Doctor => runtime.block_on(doctor(&config)),
        Command::Serve => runtime.block_on(crate::serve::serve(config)),
        Command::Backup { file } => runtime.block_on(backup(&config, &file)),
        Command::Restore { file, force } => runtime.block_on(restore(&config, &file, force)),
        other => runtime.block_on(tool(config, other)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("cairn: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

pub(crate) async fn open(config: &Config) -> Result<Db, Failure> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| Failure {
            code: 2,
            message: format!("invalid CAIRN_DATABASE_URL: {e}"),
        })?;
    if let Some(why) = crate::doctor::newer_database(&db).await {
        return Err(fail(why));
    }
    db.migrate()
        .await
        .map_err(|e| fail(format!("database migration failed: {e}")))?;
    Ok(db)
}

/// The SQLite file of `config`, or the pg_dump advice as the failure.
fn sqlite_file(config: &Config) -> Result<PathBuf, Failure> {
    backup::sqlite_path(&config.database_url).ok_or_else(|| fail(backup::PG_ADVICE))
}

/// `cairn backup FILE`: no migration runs (the copy is of the database as it is).
async fn backup(config: &Config, file: &Path) -> Result<(), Failure> {
    sqlite_file(config)?;
    if file.exists() {
        return Err(fail(format!(
            "{} exists: choose a new file",
            file.display()
        )));
    }
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| fail(format!("cannot open the database: {e}")))?;
    let size = backup::copy_to(&db, file).await?;
    println!("backed up to {} ({size} bytes)", file.display());
    Ok(())
}

/// `cairn restore FILE --force`: never opens the live database (nothing may write to
/// the file being replaced).
async fn restore(config: &Config, file: &Path, force: bool) -> Result<(), Failure> {
    let live = sqlite_file(config)?;
    let checked = backup::restore(file, &live, force).await?;
    println!(
        "restored {} from {} ({} migrations); start the server to apply any newer ones",
        live.display(),
        file.display(),
        checked.migrations
    );
    Ok(())
}

async fn doctor(config: &Config) -> Result<(), Failure> {
    let findings = crate::doctor::examine(config).await;
    match crate::doctor::report(&findings) {
        true => Ok(()),
        false => Err(fail("something above failed")),
    }
}

/// Runs one command-line tool. Long on purpose: one short arm per command, so every
/// command's work can be found from this one match.
/// `cairn export FILE`: the ZIP written as it is made; a file left by a failed export is
/// removed rather than left looking whole.
async fn export(db: &Db, file: &std::path::Path) -> Result<(), Failure> {
    use std::io::Write;
    let started = std::time::Instant::now();
    let to_stdout = file.as_os_str() == "-";
    let mut out: Box<dyn Write + Send> = if to_stdout {
        Box::new(std::io::BufWriter::new(std::io::stdout()))
    } else {
        let f = std::fs::File::create(file)
            .map_err(|e| fail(format!("cannot create {}: {e}", file.display())))?;
        Box::new(std::io::BufWriter::new(f))
    };
    let export =
        crate::domain::export::start(db, None, crate::domain::export::Via::CommandLine).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(crate::domain::export::QUEUE);
    let writing = async move {
        let result = export.write(&tx).await;
        drop(tx);
        result
    };
    let saving = async move {
        while let Some(chunk) = rx.recv().await {
            let bytes: Vec<u8> = chunk?;
            out.write_all(&bytes)
                .map_err(|e| fail(format!("writing the export: {e}")))?;
        }
        out.flush()
            .map_err(|e| fail(format!("writing the export: {e}")))
    };
    let (written, saved) = tokio::join!(writing, saving);
    let result = written
        .map_err(Failure::from)
        .and_then(|w| saved.map(|()| w));
    match result {
        Ok(info) if !to_stdout => {
            let rows: u64 = info.counts.values().sum();
            println!(
                "exported {rows} rows to {} in {:.1}s",
                file.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) => {
            if !to_stdout {
                let _ = std::fs::remove_file(file);
            }
            Err(e)
        }
    }
}

async fn tool(config: Config, command: Command) -> Result<(), Failure> {
    let db = open(&config).await?;
    match command {
        Command::Migrate => {
            println!("migrations are up to date");
        }
        Command::User {
            command: UserCommand::Create { email, name, role },
        } => {
            let password = read_password()?;
            let user = users::create(
                &db,
                None,
                &users::NewUser {
                    email,
                    name,
                    password,
                    role,
                },
            )
            .await?;
            println!("created user {} ({}, {})", user.id, user.email, user.role);
        }
        Command::User {
            command: UserCommand::Deactivate { email },
        } => {
            let user = users::find_by_email(&db.read, &email)
                .await?
                .ok_or_else(|| fail(format!("no user has the email {email}")))?;
            users::set_active(&db, None, user.id, false).await?;
            println!("deactivated {}", user.email);
        }
        Command::User {
            command: UserCommand::ResetTwoFactor { email },
        } => {
            let user = users::find_by_email(&db.read, &email)
                .await?
                .ok_or_else(|| fail(format!("no user has the email {email}")))?;
            crate::domain::two_factor::reset_for(&db, None, user.id).await?;
            println!("two-factor sign-in is off for {}", user.email);
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    email,
                    name,
                    scope,
                    expires_in_days,
                },
        } => {
            let req = tokens::Request {
                name,
                scope,
                expires_in_days: expires_in_days.map(|d| d.to_string()).unwrap_or_default(),
            };
            let token = tokens::create_for_email(&db, None, &email, &req).await?;
            println!("{}", token.token);
        }
        Command::Seed {
            contacts,
            year,
            deals,
            tasks,
            seed,
            audit,
        } => {
            let started = std::time::Instant::now();
            crate::db::bulk_load(&db.write)
                .await
                .map_err(AppError::from)?;
            if year {
                let mut year = seed_year::Year::for_contacts(contacts.unwrap_or(1_000_000));
                if deals > 0 {
                    year.deals = deals;
                }
                for m in seed_year::run(&db, &year, seed).await? {
                    println!("seeded {:>9} {:<34} in {:6.1}s", m.count, m.what, m.seconds);
                }
                println!(
                    "seeded a year of history in {:.1}s",
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            let contacts = contacts.unwrap_or(1000);
            let done = seed::run(&db, contacts, seed).await?;
            let made = seed::deals(&db, deals, seed).await?;
            let to_do = seed::tasks(&db, tasks, seed).await?;
            // Last: by then the users that act in the rows are sure to exist.
            let logged = crate::domain::seed_audit::run(&db, audit, seed).await?;
            if logged > 0 {
                println!("seeded {logged} audit log rows");
            }
            seed::refresh_statistics(&db).await?;
            println!(
                "seeded {} contacts across {} companies, {made} deals and {to_do} tasks in {:.1}s",
                done.contacts,
                done.companies,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Report { name, filters } => report(&db, &name, &filters).await?,
        Command::Jobs { command } => jobs::command::run(&db, command).await?,
        Command::Score { command } => crate::score_command::run(&db, command).await?,
        Command::Export { file } => export(&db, &file).await?,
        Command::Import(args) => {
            if !crate::import_command::run(&db, args).await? {
                return Err(fail("some rows could not be imported (see above)"));
            }
        }
        // `run` starts these itself; they never reach here.
        Command::Serve
        | Command::Healthcheck
        | Command::Doctor
        | Command::Backup { .. }
        | Command::Restore { .. } => {
            return Err(fail("serve and healthcheck are not tools"));
        }
    }
    Ok(())
}

fn read_password() -> Result<String, Failure> {
    if let Ok(p) = std::env::var("CAIRN_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| fail(format!("cannot read the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(fail("no password: set CAIRN_PASSWORD or pipe it on stdin"));
    }
    Ok(password)
}

/// A plain HTTP/1.0 GET of /healthz, so the container's HEALTHCHECK needs no curl.
fn healthcheck(config: &Config) -> Result<(), Failure> {
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        addr = match addr {
            SocketAddr::V4(a) => SocketAddr::from(([127, 0, 0, 1], a.port())),
            SocketAddr::V6(a) => SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], a.port())),
        };
    }
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| fail(format!("cannot reach {addr}: {e}")))?;
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    stream
        .write_all(format!("GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .map_err(|e| fail(format!("cannot send to {addr}: {e}")))?;
    let mut response = String::new();
    let _ = stream.take(4096).read_to_string(&mut response);
    let status = response.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        println!("healthy");
        Ok(())
    } else {
        Err(fail(format!("unhealthy: /healthz answered {status:?}")))
    }
}
