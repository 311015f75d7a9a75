//! Scoring (issue 17), two models of one kind (`Kind`), each learned from this
//! workspace's own history by an L2-regularised logistic regression (linfa), so each
//! score is exactly the sum of its factors (`model::Model::factors`):
//! - the deal score: the probability an open deal ends won, from the closed deals;
//! - the lead score: the probability a contact without a won deal gets one within the
//!   horizon (`leads`), from monthly snapshots of the contacts as they were then.
//!
//! - `facts`: each deal as it was when it closed (or now, while open): nothing the
//!   outcome itself caused is learned from.
//! - `model`: the stored model: its columns' encoding, weights and intercept.
//! - `train`: a run on the closed deals with the newest fifth held out, switched in only
//!   when it beats the current model (or the stage probabilities, at first).
//! - `metrics`: AUC, log loss and calibration on the hold-out.
//! - `job`: training nightly and on demand, through the job queue.
//! - `scores`: the open deals' stored scores and their explanations.
//! - `leads`, `lead_scores`: the contacts' facts, and their stored lead scores.
use serde::{Deserialize, Serialize};

pub mod facts;
pub mod features;
pub mod job;
pub mod lead_scores;
pub mod leads;
pub mod metrics;
pub mod model;
pub mod scores;
pub mod train;

pub use train::{MIN_OUTCOMES, Run, activate, runs, runs_seen_by, train};

/// Which score a model gives (deal by default: the only one before leads were scored).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The chance an open deal ends won.
    #[default]
    Deal,
    /// The chance a contact without a won deal gets one within the horizon.
    Lead,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Deal, Kind::Lead];

    /// As stored in `scoring_models.kind` and written in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deal => "deal",
            Kind::Lead => "lead",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What it scores: "deals", "leads".
    pub fn scores(self) -> &'static str {
        match self {
            Kind::Deal => "deals",
            Kind::Lead => "leads",
        }
    }
}
