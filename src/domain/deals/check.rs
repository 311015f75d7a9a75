//! A deal's own fields checked against rules read once (`Rules`): title, pipeline and
//! stage, amount and currency, forecast, source, lost reason, custom values. `write`
//! adds the checks that read per deal (links, owner); an import checks thousands of
//! rows against one `Rules` and resolves links and owners in bulk itself.
use super::*;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::custom_fields::{self, Field};
use crate::domain::{Db, FieldErrorsExt, clean, has_control};
use crate::entities::{deal, user};
use crate::error::{AppError, FieldErrors};

pub(crate) const OWNER_MESSAGE: &str =
    "Owner must be an active user who can work deals (not a viewer).";

/// A deal's input that passed the checks, ready to store.
/// Serde: an import keeps its planned rows in a file until it writes them
/// (`import::apply::spill`), and reads back only what it wrote there.
#[derive(Serialize, Deserialize)]
pub(crate) struct Valid {
    pub(super) title: String,
    pub(super) pipeline_id: i64,
    pub(super) stage: Stage,
    pub(super) amount: i64,
    pub(super) currency: String,
    pub(super) company_id: Option<i64>,
    pub(super) contact_ids: Vec<i64>,
    pub(super) owner_id: i64,
    pub(super) expected_close: Option<NaiveDate>,
    pub(super) probability: Option<i32>,
    pub(super) source: String,
    pub(super) lost_reason: Option<String>,
    /// The custom values to store, as a JSON object.
    pub(super) custom: String,
}

/// What an import links and writes by (`domain::import::apply`).
impl Valid {
    pub(crate) fn stage(&self) -> &Stage {
        &self.stage
    }

    pub(crate) fn pipeline_id(&self) -> i64 {
        self.pipeline_id
    }

    /// Activities and tasks name their deal by its title.
    pub(crate) fn title(&self) -> &str {
        &self.title
    }

    /// A new deal's row: in its stage at `position`, entered at `at`, closed at `at`
    /// when the stage is won or lost; linked to `company`.
    pub(crate) fn new_model(
        &self,
        company: Option<i64>,
        position: i64,
        at: DateTime<Utc>,
    ) -> deal::ActiveModel {
        deal::ActiveModel {
            pipeline_id: Set(self.pipeline_id),
            stage_id: Set(self.stage.id),
            position: Set(position),
            closed_at: Set((self.stage.kind == "won" || self.stage.kind == "lost").then_some(at)),
            version: Set(1),
            stage_entered_at: Set(at),
            created_at: Set(at),
            ..self.edit_model(company, at)
        }
    }

    /// The columns an edit writes (not the stage: moves change that); a lost reason is
    /// kept only in a lost stage.
    pub(crate) fn edit_model(&self, company: Option<i64>, at: DateTime<Utc>) -> deal::ActiveModel {
        deal::ActiveModel {
            title: Set(self.title.clone()),
            amount_minor: Set(self.amount),
            currency: Set(self.currency.clone()),
            company_id: Set(company),
            owner_id: Set(self.owner_id),
            expected_close: Set(self.expected_close),
            probability: Set(self.probability),
            source: Set(self.source.clone()),
            lost_reason: Set((self.stage.kind == "lost")
                .then(|| self.lost_reason.clone())
                .flatten()),
            custom: Set(self.custom.clone()),
            updated_at: Set(at),
            ..Default::default()
        }
    }
}

/// What the checks read: the pipelines, the organisation's currency, the deals' custom
/// fields.
pub(crate) struct Rules {
    pub(crate) pipelines: Vec<Pipeline>,
    currency: String,
    defs: Vec<Field>,
}

impl Rules {
    pub(crate) async fn load(db: &Db) -> Result<Rules, AppError> {
        Ok(Rules {
            pipelines: pipelines(&db.read).await?,
            currency: org_currency(db).await?,
            defs: custom_fields::defs(db, "deal").await?,
        })
    }

    /// The currency a deal without one is in.
    pub(crate) fn currency(&self) -> &str {
        &self.currency
    }

    /// Checks `input`'s own fields for a deal owned by `owner_id` (whether that user may
    /// own deals is the caller's check), gathering messages in `fields`. None when the
    /// asked-for pipeline or stage is not there: nothing further can be checked then.
    /// The deal's contacts are left empty for the caller's link checks.
    pub(crate) fn check(
        &self,
        input: &DealInput,
        owner_id: i64,
        current_custom: &BTreeMap<String, Value>,
        fields: &mut FieldErrors,
    ) -> Option<Valid> {
        let title = input.title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            fields.set("title", "Title is required.");
        } else if title.chars().count() > 200 || has_control(&title) {
            fields.set("title", "Title is at most 200 characters of text.");
        }
        let (pipeline_id, stage) = pick_stage(&self.pipelines, input, fields)?;
        let amount = check_amount(input.amount.as_ref(), fields);
        let currency = match clean(input.currency.as_deref()) {
            None => self.currency.clone(),
            Some(c) => c.to_uppercase(),
        };
        if !CURRENCIES.contains(&currency.as_str()) {
            fields.set(
                "currency",
                "Currency must be an ISO code such as USD or EUR.",
            );
        }
        let (expected_close, probability) = check_forecast(input, fields);
        let source = clean(input.source.as_deref()).unwrap_or_else(|| "organic".into());
        if !crate::domain::contacts::SOURCES.contains(&source.as_str()) {
            fields.set(
                "source",
                format!(
                    "Source must be one of: {}.",
                    crate::domain::contacts::SOURCES.join(", ")
                ),
            );
        }
        let lost_reason = check_lost_reason(&stage, input, fields);
        // The one check every record type's custom values go through.
        let custom = custom_fields::validate(
            &self.defs,
            current_custom,
            input.custom_fields.as_ref(),
            fields,
        );
        Some(Valid {
            title,
            pipeline_id,
            stage,
            amount,
            currency,
            company_id: input.company_id,
            contact_ids: Vec::new(),
            owner_id,
            expected_close,
            probability,
            source,
            lost_reason,
            custom: serde_json::to_string(&custom).unwrap_or_else(|_| "{}".into()),
        })
    }
}

/// Whether a user may be given deals: active, and not a viewer.
pub(super) fn may_own(u: &user::Model) -> bool {
    u.active && crate::domain::users::may_own(&u.role)
}

/// Every user who may be given deals (an import checks its owners against these).
pub(crate) async fn deal_owners(conn: &impl ConnectionTrait) -> Result<HashSet<i64>, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .all(conn)
        .await?
        .iter()
        .filter(|u| may_own(u))
        .map(|u| u.id)
        .collect())
}

/// The deal's pipeline and stage: the ones asked for, or the pipeline of the stage, or the
/// first pipeline and its first open stage. None (with the field's message) when the
/// asked-for one is not there: nothing further can be checked then.
fn pick_stage(
    all: &[Pipeline],
    input: &DealInput,
    fields: &mut FieldErrors,
) -> Option<(i64, Stage)> {
    let pipeline = match (input.pipeline_id, input.stage_id) {
        (Some(id), _) => all.iter().find(|p| p.id == id),
        // A stage alone says which pipeline.
        (None, Some(stage)) => all
            .iter()
            .find(|p| p.stages.iter().any(|s| s.id == stage))
            .or(all.first()),
        (None, None) => all.first(),
    };
    let Some(pipeline) = pipeline else {
        fields.set("pipeline_id", "No pipeline has this id.");
        return None;
    };
    let stage = match input.stage_id {
        // Stages can be dragged into any order: a new deal starts in the first open one.
        None => pipeline
            .stages
            .iter()
            .find(|s| s.kind == "open")
            .or(pipeline.stages.first()),
        Some(id) => pipeline.stages.iter().find(|s| s.id == id),
    };
    let Some(stage) = stage else {
        fields.set(
            "stage_id",
            format!("The stage must be one of the {} pipeline's.", pipeline.name),
        );
        return None;
    };
    Some((pipeline.id, stage.clone()))
}

fn check_amount(amount: Option<&Value>, fields: &mut FieldErrors) -> i64 {
    let amount = match amount {
        None | Some(Value::Null) => Some(0),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match amount {
        Some(a) if (0..=MAX_AMOUNT).contains(&a) => a,
        _ => {
            fields.set(
                "amount",
                "Amount is a whole number of minor units (cents) from 0 to 10 000 000 000 000.",
            );
            0
        }
    }
}

/// The expected close date and the deal's own probability, if given.
fn check_forecast(input: &DealInput, fields: &mut FieldErrors) -> (Option<NaiveDate>, Option<i32>) {
    let expected_close = match clean(input.expected_close.as_deref()) {
        None => None,
        Some(d) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                fields.set(
                    "expected_close",
                    "Expected close must be a date like 2026-12-31.",
                );
                None
            }
        },
    };
    let probability = match &input.probability {
        None | Some(Value::Null) => None,
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        {
            Some(p) if (0..=100).contains(&p) => Some(p as i32),
            _ => {
                fields.set(
                    "probability",
                    "Probability is a whole number from 0 to 100.",
                );
                None
            }
        },
    };
    (expected_close, probability)
}

/// A lost stage needs a reason; any reason is short text.
fn check_lost_reason(stage: &Stage, input: &DealInput, fields: &mut FieldErrors) -> Option<String> {
    let lost_reason = clean(input.lost_reason.as_deref());
    if stage.kind == "lost" && lost_reason.is_none() {
        fields.set("lost_reason", "Say why the deal was lost.");
    }
    if lost_reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500 || has_control(r))
    {
        fields.set(
            "lost_reason",
            "The reason is at most 500 characters of text.",
        );
    }
    lost_reason
}
