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
                one(db, Kind::Deal, id).await?;
            }
        }
        ScoreCommand::Lead { ids } => {
            for id in ids {
                one(db, Kind::Lead, id).await?;
            }
        }
    }
    Ok(())
}

/// Scores record `id` (a deal, or a contact for the lead score) as a change would
/// (`scores::score_deals`, `lead_scores::score_contacts`), timed, and shows the stored
/// score with its factors.
async fn one(db: &Db, kind: Kind, id: i64) -> Result<(), AppError> {
    let Some((version, model)) = scoring::train::active(db, kind).await? else {
        return Err(AppError::BadRequest(format!(
            "No model scores {} yet: run `cairn score train --kind {}` first.",
            kind.scores(),
            kind.as_str()
        )));
    };
    let started = std::time::Instant::now();
    let custom = scoring::features::of_model(db, kind, &model).await?;
    let now = crate::domain::now();
    let p = match kind {
        Kind::Deal => {
            let facts = scoring::facts::open_among(db, now, &[id], &custom).await?;
            facts.first().map(|f| model.probability(f))
        }
        Kind::Lead => {
            let mut reader = scoring::leads::now_reader(now, Some(vec![id]), custom);
            let facts = reader.next(db).await?.unwrap_or_default();
            facts.first().map(|f| model.probability(f))
        }
    };
    let Some(p) = p else {
        return Err(AppError::BadRequest(match kind {
            Kind::Deal => format!("Deal {id} is not an open deal: only open deals are scored."),
            Kind::Lead => format!(
                "Contact {id} is no lead: only live contacts without a won deal are scored."
            ),
        }));
    };
    let computed = started.elapsed();
    let started = std::time::Instant::now();
    match kind {
        Kind::Deal => scoring::scores::score_deals(db, &[id]).await?,
        Kind::Lead => scoring::lead_scores::score_contacts(db, &[id]).await?,
    };
    let stored = started.elapsed();
    let score = match kind {
        Kind::Deal => {
            let actor = crate::domain::Actor::command_line();
            scoring::scores::for_deal(db, &actor, id).await?
        }
        Kind::Lead => match crate::entities::contact_score::Entity::find_by_id(id)
            .one(&db.read)
            .await?
        {
            Some(r) => Some(scoring::scores::shown(
                r.probability,
                r.model_version,
                &r.factors,
            )?),
            None => None,
        },
    }
    .ok_or_else(|| AppError::Internal("the score just stored is gone".into()))?;
    let noun = match kind {
        Kind::Deal => "deal",
        Kind::Lead => "contact",
    };
    println!(
        "{noun} {id}: {}% (model {version}; {:.1}%); its facts read and scored in {:.2} ms, scored and stored in {:.2} ms",
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
