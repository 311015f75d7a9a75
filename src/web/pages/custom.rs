//! Custom fields on forms and record pages, shared by contacts and companies.
use std::collections::BTreeMap;

use serde_json::Value;

use crate::app::AppState;
use crate::domain::custom_fields::{self, Field};
use crate::error::{AppError, FieldErrors};

/// Reads `cf.<key>` inputs by their definitions: a multi select sends one value per
/// choice, a checkbox sends "false" and maybe "true".
pub async fn from_pairs(
    state: &AppState,
    entity: &str,
    pairs: &[(String, String)],
) -> Result<BTreeMap<String, Value>, AppError> {
    let defs = custom_fields::defs(&state.db, entity).await?;
    let mut out = BTreeMap::new();
    for def in &defs {
        let name = format!("cf.{}", def.key);
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        let value = match def.kind.as_str() {
            "multiselect" => Value::Array(
                values
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| Value::String(v.to_string()))
                    .collect(),
            ),
            "checkbox" if values.is_empty() => continue,
            "checkbox" => Value::Bool(values.contains(&"true")),
            _ => match values.last() {
                Some(v) => Value::String(v.to_string()),
                None => continue,
            },
        };
        out.insert(def.key.clone(), value);
    }
    Ok(out)
}

/// The fixed fields of a posted form, deserialised as usual (the `cf.` inputs are
/// ignored there).
pub fn fixed<T: serde::de::DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, AppError> {
    let encoded = serde_html_form::to_string(pairs)
        .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))?;
    serde_html_form::from_str(&encoded)
        .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))
}

/// What `templates/_custom_inputs.html` needs: the definitions, the values, the errors.
pub struct Inputs {
    pub defs: Vec<Field>,
    pub values: BTreeMap<String, Value>,
    pub errors: FieldErrors,
}

impl Inputs {
    pub async fn load(
        state: &AppState,
        entity: &str,
        values: BTreeMap<String, Value>,
        errors: &FieldErrors,
    ) -> Result<Inputs, AppError> {
        Ok(Inputs {
            defs: custom_fields::defs(&state.db, entity).await?,
            values,
            errors: errors.clone(),
        })
    }

    pub fn value(&self, key: &str) -> String {
        match self.values.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    pub fn has(&self, key: &str, option: &str) -> bool {
        match self.values.get(key) {
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(option)),
            Some(Value::String(s)) => s == option,
            _ => false,
        }
    }

    pub fn checked(&self, key: &str) -> bool {
        matches!(self.values.get(key), Some(Value::Bool(true)))
    }

    pub fn err(&self, key: &str) -> &str {
        self.errors
            .get(&format!("custom_fields.{key}"))
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// A custom value as text: choices joined, yes/no for checkboxes, empty when unset.
pub fn display(values: &BTreeMap<String, Value>, key: &str) -> String {
    match values.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => if *b { "Yes" } else { "No" }.to_string(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}
