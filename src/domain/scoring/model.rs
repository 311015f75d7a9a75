//! A trained model as stored: how each column of its input is made from a deal's facts
//! (numbers scaled by the training rows' mean and spread, categories one column each,
//! a column for "unknown" where training saw missing values), its weights and intercept.
//! A score is the logistic of the intercept plus each column's value times its weight,
//! so each of those products is exactly one factor of the explanation.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::facts::{CustomFact, DealFacts};
use super::features::CustomValue;

/// Categories seen fewer times than this in training get no column of their own: a
/// weight learned from two deals says nothing.
const MIN_SEEN: usize = 3;

/// One input column.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Column {
    /// A number (after `ln(1 + x)` for counts, days and amounts), centred and scaled.
    Number {
        key: String,
        label: String,
        mean: f64,
        spread: f64,
    },
    /// 1 when the number is unknown.
    Unknown { key: String, label: String },
    /// 1 when the category `key` is `value`.
    Is {
        key: String,
        value: String,
        label: String,
    },
}

impl Column {
    pub fn label(&self) -> &str {
        match self {
            Column::Number { label, .. }
            | Column::Unknown { label, .. }
            | Column::Is { label, .. } => label,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Model {
    pub columns: Vec<Column>,
    pub weights: Vec<f64>,
    pub intercept: f64,
    /// A lead model's horizon (days), which its scores are the chance of a won deal
    /// within: the setting when it was trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_days: Option<i64>,
}

/// One factor of a score: a column's value times its weight, in log-odds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Factor {
    pub label: String,
    pub log_odds: f64,
}

/// What a model reads of a record: its numbers and its categories. Keys starting
/// `activities.` are counts, absent meaning none (0) rather than unknown.
pub trait Features {
    /// Each number by key, with its label; `None` when unknown.
    fn numbers(&self) -> Vec<(String, String, Option<f64>)>;
    /// Each category: (key, how its label begins, value).
    fn categories(&self) -> Vec<(String, String, Option<String>)>;
}

impl Features for DealFacts {
    fn numbers(&self) -> Vec<(String, String, Option<f64>)> {
        numbers(self)
    }

    fn categories(&self) -> Vec<(String, String, Option<String>)> {
        categories(self)
    }
}

/// `ln(1 + x)` of a count, a number of days or an amount (none below 0): a few huge
/// values do not flatten the rest.
pub fn ln(x: f64) -> f64 {
    x.max(0.0).ln_1p()
}

/// The numbers of a deal, by key, with their labels; `None` when unknown.
fn numbers(f: &DealFacts) -> Vec<(String, String, Option<f64>)> {
    let mut out = vec![
        (
            "amount".to_string(),
            "Amount".to_string(),
            Some(ln(f.amount_minor as f64 / 100.0)),
        ),
        (
            "age".into(),
            "Days since the deal was created".into(),
            Some(ln(f.age_days)),
        ),
        (
            "days_in_stage".into(),
            "Days in its stage".into(),
            f.days_in_stage.map(ln),
        ),
        (
            "days_since_activity".into(),
            "Days since the last activity".into(),
            f.days_since_activity.map(ln),
        ),
        (
            "tasks_done".into(),
            "Tasks done".into(),
            Some(ln(f.tasks_done as f64)),
        ),
        (
            "tasks_open".into(),
            "Tasks open".into(),
            Some(ln(f.tasks_open as f64)),
        ),
        (
            "payments".into(),
            "Payments from its contacts".into(),
            Some(ln(f.payments as f64)),
        ),
    ];
    activity_numbers(&f.activities, &mut out);
    custom_numbers(&f.custom, &mut out);
    out
}

/// The marked custom fields that are numbers: `custom.<key>`.
pub fn custom_numbers(custom: &[CustomFact], out: &mut Vec<(String, String, Option<f64>)>) {
    for c in custom.iter().filter(|c| c.number) {
        let v = match c.value {
            // Signed, so a negative number keeps its side; logged, so a few huge values
            // do not flatten the rest.
            Some(CustomValue::Number(x)) => Some(x.signum() * x.abs().ln_1p()),
            _ => None,
        };
        out.push((format!("custom.{}", c.key), c.label.clone(), v));
    }
}

/// The marked custom fields whose values are categories: `custom.<key>`.
pub fn custom_categories(custom: &[CustomFact], out: &mut Vec<(String, String, Option<String>)>) {
    for c in custom.iter().filter(|c| !c.number) {
        let v = match &c.value {
            Some(CustomValue::Category(s)) => Some(s.clone()),
            _ => None,
        };
        out.push((format!("custom.{}", c.key), c.label.clone(), v));
    }
}

/// One number per activity kind logged: `activities.<kind>`.
pub fn activity_numbers(
    counts: &BTreeMap<String, i64>,
    out: &mut Vec<(String, String, Option<f64>)>,
) {
    for (kind, n) in counts {
        out.push((
            format!("activities.{kind}"),
            format!("Activities: {kind}"),
            Some(ln(*n as f64)),
        ));
    }
}

/// The categories of a deal: (key, how its label begins, value).
fn categories(f: &DealFacts) -> Vec<(String, String, Option<String>)> {
    let mut out: Vec<(String, String, Option<String>)> = [
        ("stage", "Stage", f.stage.as_ref().map(|s| s.name.clone())),
        ("currency", "Currency", Some(f.currency.clone())),
        ("source", "Source", Some(f.source.clone())),
        ("owner", "Owner", Some(f.owner.clone())),
        ("industry", "Industry", f.industry.clone()),
        ("size", "Company size", f.size_band.clone()),
        (
            "subscription",
            "Contacts' subscription",
            f.subscription.clone(),
        ),
    ]
    .into_iter()
    .map(|(k, l, v)| (k.to_string(), l.to_string(), v))
    .collect();
    custom_categories(&f.custom, &mut out);
    out
}

/// The columns for `rows` (the training rows): every number seen, with an unknown column
/// where one was missing, and every category value seen `MIN_SEEN` times.
pub fn columns<F: Features>(rows: &[&F]) -> Vec<Column> {
    let mut sums: BTreeMap<String, (String, f64, f64, usize, bool)> = BTreeMap::new();
    let mut seen: BTreeMap<(String, String), (String, usize)> = BTreeMap::new();
    for f in rows {
        for (key, label, v) in f.numbers() {
            let e = sums.entry(key).or_insert((label, 0.0, 0.0, 0, false));
            match v.filter(|v| v.is_finite()) {
                Some(v) => {
                    e.1 += v;
                    e.2 += v * v;
                    e.3 += 1;
                }
                None => e.4 = true,
            }
        }
        for (key, label, v) in f.categories() {
            if let Some(v) = v {
                seen.entry((key, v)).or_insert((label, 0)).1 += 1;
            }
        }
    }
    let mut out = Vec::new();
    for (key, (label, sum, squares, n, missing)) in sums {
        // Absent from a row counts as zero for activity kinds (none logged).
        let n_all = if key.starts_with("activities.") {
            rows.len()
        } else {
            n
        };
        if n_all == 0 {
            continue;
        }
        let mean = sum / n_all as f64;
        let variance = (squares / n_all as f64 - mean * mean).max(0.0);
        let spread = if variance > 1e-12 {
            variance.sqrt()
        } else {
            1.0
        };
        if missing && !key.starts_with("activities.") {
            out.push(Column::Unknown {
                key: key.clone(),
                label: format!("{label}: unknown"),
            });
        }
        out.push(Column::Number {
            key,
            label,
            mean,
            spread,
        });
    }
    for ((key, value), (label, n)) in seen {
        if n >= MIN_SEEN {
            out.push(Column::Is {
                key,
                label: format!("{label}: {value}"),
                value,
            });
        }
    }
    out
}

/// A deal's input row for `columns`. Every value is finite: an unknown or non-finite
/// number is the training mean (0 once centred) with its unknown column set.
pub fn encode<F: Features>(columns: &[Column], f: &F) -> Vec<f64> {
    let nums: BTreeMap<String, Option<f64>> = f
        .numbers()
        .into_iter()
        .map(|(k, _, v)| (k, v.filter(|v| v.is_finite())))
        .collect();
    let cats: BTreeMap<String, Option<String>> =
        f.categories().into_iter().map(|(k, _, v)| (k, v)).collect();
    columns
        .iter()
        .map(|c| match c {
            Column::Number {
                key, mean, spread, ..
            } => {
                let v = match nums.get(key) {
                    Some(v) => *v,
                    // An activity kind this deal has none of.
                    None if key.starts_with("activities.") => Some(0.0),
                    None => None,
                };
                v.map_or(0.0, |v| (v - mean) / spread)
            }
            Column::Unknown { key, .. } => match nums.get(key) {
                Some(Some(_)) => 0.0,
                _ => 1.0,
            },
            Column::Is { key, value, .. } => {
                let hit = cats
                    .get(key.as_str())
                    .is_some_and(|v| v.as_deref() == Some(value));
                if hit { 1.0 } else { 0.0 }
            }
        })
        .collect()
}

pub fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Model {
    /// The keys of the custom fields it learned from (its `custom.<key>` columns).
    pub fn custom_keys(&self) -> std::collections::BTreeSet<String> {
        self.columns
            .iter()
            .filter_map(|c| {
                let key = match c {
                    Column::Number { key, .. }
                    | Column::Unknown { key, .. }
                    | Column::Is { key, .. } => key,
                };
                key.strip_prefix("custom.").map(str::to_string)
            })
            .collect()
    }

    /// The log-odds of a win for `f`.
    pub fn log_odds<F: Features>(&self, f: &F) -> f64 {
        let x = encode(&self.columns, f);
        self.intercept + x.iter().zip(&self.weights).map(|(x, w)| x * w).sum::<f64>()
    }

    pub fn probability<F: Features>(&self, f: &F) -> f64 {
        logistic(self.log_odds(f))
    }

    /// Every column that moves `f`'s score, largest first: with the intercept they sum
    /// to its log-odds.
    pub fn factors<F: Features>(&self, f: &F) -> Vec<Factor> {
        let x = encode(&self.columns, f);
        let mut out: Vec<Factor> = self
            .columns
            .iter()
            .zip(x.iter().zip(&self.weights))
            .map(|(c, (x, w))| Factor {
                label: c.label().to_string(),
                log_odds: x * w,
            })
            .filter(|f| f.log_odds != 0.0)
            .collect();
        out.sort_by(|a, b| b.log_odds.abs().total_cmp(&a.log_odds.abs()));
        out
    }
}
