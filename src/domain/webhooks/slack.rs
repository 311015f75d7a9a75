//! What a Slack incoming webhook gets instead of the JSON event: `{"text": "…"}`, one
//! readable line with a link to the record (Slack's `<url|label>` link syntax).
use serde_json::Value;

use super::events::EventType;

/// The line for `kind` about `data` (the record as the API shows it).
pub fn text(kind: EventType, data: &Value, base_url: &str) -> String {
    let name = name_of(kind, data);
    let link = match (path_of(kind, data), name.is_empty()) {
        (Some(path), false) => format!("<{base_url}{path}|{}>", escape(&name)),
        (Some(path), true) => format!("<{base_url}{path}>"),
        (None, _) => escape(&name),
    };
    match kind {
        EventType::ContactCreated => format!("New contact: {link}"),
        EventType::ContactUpdated => format!("Contact updated: {link}"),
        EventType::ContactDeleted => format!("Contact deleted: {}", escape(&name)),
        EventType::CompanyCreated => format!("New company: {link}"),
        EventType::CompanyUpdated => format!("Company updated: {link}"),
        EventType::CompanyDeleted => format!("Company deleted: {}", escape(&name)),
        EventType::DealCreated => format!("New deal: {link}{}", amount(data)),
        EventType::DealUpdated => format!("Deal updated: {link}"),
        EventType::DealDeleted => format!("Deal deleted: {}", escape(&name)),
        EventType::DealStageChanged => format!("Deal {link} moved to {}", str_of(data, "stage")),
        EventType::DealWon => format!(":tada: Deal won: {link}{}", amount(data)),
        EventType::DealLost => {
            let why = data["lost_reason"]
                .as_str()
                .map(|r| format!(" ({})", escape(r)));
            format!("Deal lost: {link}{}", why.unwrap_or_default())
        }
        EventType::TaskCreated => format!("New task: {link}"),
        EventType::TaskUpdated => format!("Task updated: {link}"),
        EventType::TaskDeleted => format!("Task deleted: {}", escape(&name)),
        EventType::PaymentReceived => format!("Payment received from {link}{}", amount(data)),
        EventType::FormSubmitted => {
            format!("Form “{}” submitted by {link}", str_of(data, "form_name"))
        }
        EventType::WebhookTest => {
            "Test event from Cairn: this endpoint receives Cairn's webhooks.".into()
        }
    }
}

/// The record's page, from the event's type and data.
fn path_of(kind: EventType, data: &Value) -> Option<String> {
    let (base, id) = match kind {
        EventType::PaymentReceived | EventType::FormSubmitted => ("contacts", "contact_id"),
        EventType::WebhookTest => return None,
        _ => match kind.entity() {
            "contact" => ("contacts", "id"),
            "company" => ("companies", "id"),
            "deal" => ("deals", "id"),
            "task" => ("tasks", "id"),
            _ => return None,
        },
    };
    data[id].as_i64().map(|id| format!("/{base}/{id}"))
}

fn name_of(kind: EventType, data: &Value) -> String {
    match kind.entity() {
        "contact" => format!(
            "{} {}",
            str_of(data, "first_name"),
            str_of(data, "last_name")
        )
        .trim()
        .to_string(),
        "company" => str_of(data, "name"),
        "deal" | "task" => str_of(data, "title"),
        _ => str_of(data, "contact_name"),
    }
}

fn str_of(data: &Value, key: &str) -> String {
    data[key].as_str().unwrap_or_default().to_string()
}

/// ", 1,200.00 EUR"-like, from minor units; empty without an amount.
fn amount(data: &Value) -> String {
    match (data["amount"].as_i64(), data["currency"].as_str()) {
        (Some(minor), Some(cur)) => format!(" ({}.{:02} {cur})", minor / 100, (minor % 100).abs()),
        _ => String::new(),
    }
}

/// Slack's three control characters in text.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
