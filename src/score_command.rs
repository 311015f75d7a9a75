//! `cairn score`: train the deal score, list its runs, switch an earlier one back in.
use clap::Subcommand;

use crate::domain::Db;
use crate::domain::scoring::{self, Run};
use crate::error::AppError;

#[derive(Subcommand, Debug)]
pub enum ScoreCommand {
    /// Train the deal score on the closed deals now; it is switched in only when it
    /// beats the current one on the newest fifth of them.
    Train,
    /// List the training runs, newest first.
    Models,
    /// Switch the run of this version back in (a rollback); the server's job queue then
    /// scores the open deals with it.
    Activate { version: i32 },
    /// Score the open deals now with the model scoring deals.
    Deals,
}

pub async fn run(db: &Db, command: ScoreCommand) -> Result<(), AppError> {
    match command {
        ScoreCommand::Train => print(&scoring::train(db).await?),
        ScoreCommand::Models => {
            for r in scoring::runs(db).await? {
                print(&r);
            }
        }
        ScoreCommand::Activate { version } => print(&scoring::activate(db, None, version).await?),
        ScoreCommand::Deals => {
            let scored = scoring::scores::score_open(db).await?;
            println!("{scored} open deals scored");
        }
    }
    Ok(())
}

fn print(r: &Run) {
    println!(
        "version {} ({}): trained {} on {} won and {} lost deals, {} held out",
        r.version,
        r.status,
        r.trained_at.format("%Y-%m-%d %H:%M UTC"),
        r.won,
        r.lost,
        r.holdout
    );
    if let Some(m) = &r.metrics {
        println!(
            "  hold-out AUC {:.3} (stage probabilities {:.3}{}), log loss {:.3} (stages {:.3})",
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
