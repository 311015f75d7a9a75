//! `cairn score`: train the deal or lead score, list its runs, switch an earlier one
//! back in, score now.
use clap::Subcommand;
use sea_orm::EntityTrait;

use crate::domain::Db;
use crate::domain::scoring::{self, Kind, Run};
use crate::error::AppError;

#[derive(Subcommand, Debug)]
pub enum ScoreCommand {
    /// Train a score now (the deal score on the closed deals, the lead score on monthly
    /// snapshots of the contacts); it is switched in only when it beats the current one
    /// on the newest fifth of them.
    Train {
        #[arg(long, value_parser = kind, default_value = "deal")]
        kind: Kind,
    },
    /// List the training runs, newest first.
    Models {
        #[arg(long, value_parser = kind, default_value = "deal")]
        kind: Kind,
    },
    /// Switch the run of this version back in (a rollback); the server's job queue then
    /// scores the open deals (or leads) with it.
    Activate {
        version: i32,
        #[arg(long, value_parser = kind, default_value = "deal")]
        kind: Kind,
    },
    /// Score the leads (contacts without a won deal) now with the lead model.
    Leads,
    /// Score these contacts now, one at a time as changes do, and show each one's lead
    /// score, what moves it and how long that took.
    Lead {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Score the open deals now with the model scoring deals.
    Deals,
    /// Score these deals now, one at a time as changes do, and show each one's score,
    /// what moves it and how long that took (the first includes the connection's warm-up).
    Deal {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

pub async fn run(db: &Db, command: ScoreCommand) -> Result<(), AppError> {
    match command {
        ScoreCommand::Train { kind } => print(&scoring::train(db, kind).await?),
        ScoreCommand::Models { kind } => {
            for r in scoring::runs(db, kind).await? {
                print(&r);
            }
        }
        ScoreCommand::Activate { version, kind } => {
            print(&scoring::activate(db, None, kind, version).await?)
        }
        ScoreCommand::Leads => {
            let scored = scoring::lead_scores::score_all(db).await?;
            println!("{scored} leads scored");
        }
        ScoreCommand::Deals => {
            let scored = scoring::scores::score_open(db).await?;
            println!("{scored} open deals scored");
        }
        ScoreCommand::Deal { ids } => {
            for id in ids {
                one(db, id).await?;
            }
        }
        ScoreCommand::Lead { ids } => {
            for id in ids {
                one_lead(db, id).await?;
            }
        }
    }
    Ok(())
}

/// Scores deal `id` as a change would (`scores::score_deals`), timed, and shows the
/// stored score with its factors.
async fn one(db: &Db, id: i64) -> Result<(), AppError> {
    let Some((version, model)) = scoring::train::active(db, Kind::Deal).await? else {
        return Err(AppError::BadRequest(
            "No model scores deals yet: run `cairn score train` first.".into(),
        ));
    };
    let started = std::time::Instant::now();
    let custom = scoring::features::of_model(db, Kind::Deal, &model).await?;
    let facts = scoring::facts::open_among(db, crate::domain::now(), &[id], &custom).await?;
    let Some(f) = facts.first() else {
        return Err(AppError::BadRequest(format!(
            "Deal {id} is not an open deal: only open deals are scored."
        )));
    };
    let p = model.probability(f);
    let computed = started.elapsed();
    let started = std::time::Instant::now();
    scoring::scores::score_deals(db, &[id]).await?;
    let stored = started.elapsed();
    let actor = crate::domain::Actor::command_line();
    let score = scoring::scores::for_deal(db, &actor, id)
        .await?
        .ok_or_else(|| AppError::Internal("the score just stored is gone".into()))?;
    println!(
        "deal {id}: {}% (model {version}; {:.1}%); its facts read and scored in {:.2} ms, scored and stored in {:.2} ms",
        score.percent,
        p * 100.0,
        computed.as_secs_f64() * 1000.0,
        stored.as_secs_f64() * 1000.0
    );
    for f in score.up.iter().chain(&score.down) {
        println!("  {:+.2}  {}", f.log_odds, f.label);
    }
    Ok(())
}

/// Scores contact `id` as a change would (`lead_scores::score_contacts`), timed, and
/// shows the stored score with its factors.
async fn one_lead(db: &Db, id: i64) -> Result<(), AppError> {
    let Some((version, model)) = scoring::train::active(db, Kind::Lead).await? else {
        return Err(AppError::BadRequest(
            "No model scores leads yet: run `cairn score train --kind lead` first.".into(),
        ));
    };
    let started = std::time::Instant::now();
    let marked = scoring::features::of_model(db, Kind::Lead, &model).await?;
    let mut reader = scoring::leads::now_reader(crate::domain::now(), Some(vec![id]), marked);
    let facts = reader.next(db).await?.unwrap_or_default();
    let Some(f) = facts.first() else {
        return Err(AppError::BadRequest(format!(
            "Contact {id} is no lead: only live contacts without a won deal are scored."
        )));
    };
    let p = model.probability(f);
    let computed = started.elapsed();
    let started = std::time::Instant::now();
    scoring::lead_scores::score_contacts(db, &[id]).await?;
    let stored = started.elapsed();
    let row = crate::entities::contact_score::Entity::find_by_id(id)
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the score just stored is gone".into()))?;
    let score = scoring::scores::shown(row.probability, row.model_version, &row.factors)?;
    println!(
        "contact {id}: {}% (model {version}; {:.1}%); its facts read and scored in {:.2} ms, scored and stored in {:.2} ms",
        score.percent,
        p * 100.0,
        computed.as_secs_f64() * 1000.0,
        stored.as_secs_f64() * 1000.0
    );
    for f in score.up.iter().chain(&score.down) {
        println!("  {:+.2}  {}", f.log_odds, f.label);
    }
    Ok(())
}

fn kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| "the kind is deal or lead".to_string())
}

fn print(r: &Run) {
    let (won, lost, baseline) = match r.kind {
        Kind::Deal => ("won", "lost deals", "stage probabilities"),
        Kind::Lead => ("won in time", "not (snapshots of leads)", "base rate"),
    };
    println!(
        "{} version {} ({}): trained {} on {} {won} and {} {lost}, {} held out",
        r.kind.as_str(),
        r.version,
        r.status,
        r.trained_at.format("%Y-%m-%d %H:%M UTC"),
        r.won,
        r.lost,
        r.holdout
    );
    if let Some(m) = &r.metrics {
        println!(
            "  hold-out AUC {:.3} ({baseline} {:.3}{}), log loss {:.3} ({baseline} {:.3})",
            m.model.auc,
            m.stage.auc,
            m.current
                .as_ref()
                .map(|c| format!(", model before {:.3}", c.auc))
                .unwrap_or_default(),
            m.model.log_loss,
            m.stage.log_loss
        );
    }
    if let Some(why) = &r.message {
        println!("  {why}");
    }
}
