//! What a deal row says: its fields over the deal it updates, its pipeline and stage by
//! name (a closed deal in a won or lost stage), its times.
use crate::domain::import::values::Dates;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::cells::Cells;
use crate::domain::deals::{DealInput, Pipeline, Rules, Stage};
use crate::domain::import::presets::norm;
use crate::domain::import::{System, values};
use crate::entities::deal;

/// Whether the source had the deal open, won or lost, when its file says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Won,
    Lost,
}

fn status(c: &Cells) -> Result<Option<Status>, String> {
    if let Some(s) = c.field("status") {
        return match norm(s).as_str() {
            "won" => Ok(Some(Status::Won)),
            "lost" => Ok(Some(Status::Lost)),
            "open" => Ok(None),
            _ => Err(format!("Status “{s}” is not open, won or lost.")),
        };
    }
    let flag = |name: &str| c.field(name).map(values::boolean).transpose();
    match (flag("won")?, flag("closed")?) {
        (Some(true), _) => Ok(Some(Status::Won)),
        (_, Some(true)) => Ok(Some(Status::Lost)),
        _ => Ok(None),
    }
}

fn names(list: impl Iterator<Item = String>) -> String {
    list.collect::<Vec<_>>().join(", ")
}

/// The pipeline and stage a row names (None: the default the deals' rules pick, or the
/// updated deal's own). A stage is found by name in any case; a closed deal whose stage
/// is not of its kind (Salesforce's "Closed Won", HubSpot's `closedwon`, Pipedrive's
/// won deal still in "Proposal") goes to the pipeline's won or lost stage.
pub(super) fn stage_of(
    all: &[Pipeline],
    c: &Cells,
    current: Option<&deal::Model>,
) -> Result<(Option<i64>, Option<i64>), String> {
    let status = status(c)?;
    let named = c.field("stage");
    let pipeline = match c.field("pipeline") {
        Some(p) => Some(
            all.iter()
                .find(|x| norm(&x.name) == norm(p))
                .ok_or_else(|| {
                    format!(
                        "Pipeline “{p}” is not in Cairn; its pipelines are {}.",
                        names(all.iter().map(|x| x.name.clone()))
                    )
                })?,
        ),
        None if named.is_none() && status.is_none() => {
            return Ok(current.map_or((None, None), |m| (Some(m.pipeline_id), Some(m.stage_id))));
        }
        None => named
            .and_then(|n| {
                all.iter()
                    .find(|x| x.stages.iter().any(|s| norm(&s.name) == norm(n)))
            })
            .or_else(|| current.and_then(|m| all.iter().find(|x| x.id == m.pipeline_id)))
            .or(all.first()),
    };
    let Some(pipeline) = pipeline else {
        return Ok((None, None));
    };
    let by_kind = |kind: &str| -> Result<&Stage, String> {
        pipeline
            .stages
            .iter()
            .find(|s| s.kind == kind)
            .ok_or_else(|| format!("The {} pipeline has no {kind} stage.", pipeline.name))
    };
    let found = named.and_then(|n| pipeline.stages.iter().find(|s| norm(&s.name) == norm(n)));
    let stage = match (found, status, named.map(norm).as_deref()) {
        (Some(s), Some(Status::Won), _) if s.kind != "won" => by_kind("won")?,
        (Some(s), Some(Status::Lost), _) if s.kind != "lost" => by_kind("lost")?,
        (Some(s), _, _) => s,
        (None, Some(Status::Won), _) | (None, None, Some("closedwon" | "won")) => by_kind("won")?,
        (None, Some(Status::Lost), _) | (None, None, Some("closedlost" | "lost")) => {
            by_kind("lost")?
        }
        (None, None, Some(_)) => {
            return Err(format!(
                "Stage “{}” is not in the {} pipeline; its stages are {}.",
                named.unwrap_or_default(),
                pipeline.name,
                names(pipeline.stages.iter().map(|s| s.name.clone()))
            ));
        }
        (None, None, None) => return Ok((Some(pipeline.id), None)),
    };
    Ok((Some(pipeline.id), Some(stage.id)))
}

/// The input a row gives over the current deal when updating (fields the file does not
/// have are kept); reasons for the values it cannot read.
pub(super) fn input(
    c: &Cells,
    current: Option<&deal::Model>,
    rules: &Rules,
    (dates, system): (Dates, System),
    reasons: &mut Vec<String>,
) -> DealInput {
    let mut i = current.map_or_else(
        || DealInput {
            source: Some("import".into()),
            ..DealInput::default()
        },
        |m| DealInput {
            title: m.title.clone(),
            amount: Some(Value::from(m.amount_minor)),
            currency: Some(m.currency.clone()),
            owner_id: Some(m.owner_id),
            expected_close: m.expected_close.map(|d| d.to_string()),
            probability: m.probability.map(Value::from),
            source: Some(m.source.clone()),
            lost_reason: m.lost_reason.clone(),
            ..DealInput::default()
        },
    );
    if c.has_field("title") {
        i.title = c.field("title").unwrap_or_default().to_string();
    }
    if c.has_field("currency") {
        i.currency = c.field("currency").map(str::to_uppercase);
    }
    if c.has_field("amount") {
        let currency = i
            .currency
            .clone()
            .unwrap_or_else(|| rules.currency().into());
        // Cairn's own export writes amounts as the API does, in minor units.
        let minor = |a: &str| match system {
            System::Cairn => a
                .parse::<i64>()
                .map_err(|_| format!("\"{a}\" is not a whole number of minor units")),
            _ => values::money(a, &currency),
        };
        i.amount = match c.field("amount").map(minor) {
            None => None,
            Some(Ok(minor)) => Some(Value::from(minor)),
            Some(Err(why)) => {
                reasons.push(format!("Amount: {why}."));
                None
            }
        };
    }
    if c.has_field("expected_close") {
        i.expected_close = match c.field("expected_close").map(|d| dates.date(d)) {
            None => None,
            Some(Ok(d)) => Some(d.to_string()),
            Some(Err(why)) => {
                reasons.push(format!("Expected close: {why}."));
                None
            }
        };
    }
    if c.has_field("probability") {
        // "50%" and "50.0" are how exports write a whole percentage.
        i.probability = c.field("probability").map(|p| {
            let p = p.trim_end_matches('%').trim();
            let whole = p
                .split_once('.')
                .map_or(p, |(w, f)| if f.chars().all(|d| d == '0') { w } else { p });
            Value::String(whole.to_string())
        });
    }
    if c.field("source").is_some() {
        i.source = c.field("source").map(str::to_string);
    }
    if c.has_field("lost_reason") {
        i.lost_reason = c.field("lost_reason").map(str::to_string);
    }
    i
}

/// A time the file gives (`created_at`, `closed_at`), read in the import's zone.
pub(super) fn time(
    c: &Cells,
    name: &str,
    dates: Dates,
    reasons: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    let v = c.field(name)?;
    dates
        .datetime(v)
        .map_err(|why| reasons.push(format!("{name}: {why}.")))
        .ok()
}
