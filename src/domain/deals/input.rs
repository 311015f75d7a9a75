//! What a form or a POST sends to create a deal or change one; `write` checks and
//! stores it.
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// What a form or a POST supplies.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealInput {
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 200)]
    pub title: String,
    /// Default: the pipeline of `stage_id`, or the first pipeline.
    pub pipeline_id: Option<i64>,
    /// Default: the pipeline's first stage.
    pub stage_id: Option<i64>,
    /// In minor units (cents): a whole number, 0 or more.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000000000.0)]
    pub amount: Option<Value>,
    /// ISO 4217; default the organisation's currency.
    #[schema(value_type = Option<crate::domain::schema::Currency>)]
    pub currency: Option<String>,
    pub company_id: Option<i64>,
    #[schema(max_items = 50)]
    pub contact_ids: Option<Vec<i64>>,
    pub owner_id: Option<i64>,
    /// YYYY-MM-DD.
    #[schema(format = Date)]
    pub expected_close: Option<String>,
    /// 0–100, overriding the stage's.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100)]
    pub probability: Option<Value>,
    #[schema(value_type = Option<crate::domain::schema::Source>)]
    pub source: Option<String>,
    /// Required when the stage is a lost one.
    #[schema(max_length = 500)]
    pub lost_reason: Option<String>,
    /// Custom field values by key.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<BTreeMap<String, Value>>,
}

/// A partial update. `version` is the version the change was made from.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    pub version: Option<i32>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000000000.0)]
    pub amount: Option<Value>,
    #[schema(value_type = Option<crate::domain::schema::Currency>)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    #[schema(max_items = 50)]
    pub contact_ids: Option<Vec<i64>>,
    pub owner_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub expected_close: Option<Option<String>>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100)]
    pub probability: Option<Value>,
    #[schema(value_type = Option<crate::domain::schema::Source>)]
    pub source: Option<String>,
    #[schema(max_length = 500)]
    pub lost_reason: Option<String>,
    /// Custom field values to change, by key (`null` clears one; others are kept).
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<BTreeMap<String, Value>>,
}
