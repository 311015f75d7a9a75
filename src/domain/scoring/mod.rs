//! Deal scoring (issue 17): the probability an open deal ends won, learned from this
//! workspace's own closed deals by an L2-regularised logistic regression (linfa), so each
//! score is exactly the sum of its factors (`model::Model::factors`).
//!
//! - `facts`: each deal as it was when it closed (or now, while open): nothing the
//!   outcome itself caused is learned from.
//! - `model`: the stored model: its columns' encoding, weights and intercept.
//! - `train`: a run on the closed deals with the newest fifth held out, switched in only
//!   when it beats the current model (or the stage probabilities, at first).
//! - `metrics`: AUC, log loss and calibration on the hold-out.
//! - `job`: training nightly and on demand, through the job queue.
//! - `scores`: the open deals' stored scores and their explanations.
pub mod facts;
pub mod features;
pub mod job;
pub mod metrics;
pub mod model;
pub mod scores;
pub mod train;

pub use train::{MIN_OUTCOMES, Run, activate, runs, runs_seen_by, train};
