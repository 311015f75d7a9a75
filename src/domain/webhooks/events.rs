//! The event types an endpoint can subscribe to, and the body of every delivery:
//! `{"id": "evt_…", "type": "deal.won", "created": <unix seconds>, "data": {…}}`, where
//! `data` is the record as the JSON API shows it (an admin's view: endpoints are set up
//! by admins, who see every record). `id` is the same for every endpoint the event goes
//! to, and for every retry and redelivery: the receiver's idempotency key.
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::now;
use crate::error::AppError;

macro_rules! event_types {
    ($($variant:ident => $name:literal, $label:literal;)+) => {
        /// What happened. `WebhookTest` is Settings → Webhooks' "Send a test event": it
        /// goes to the one endpoint asked, whatever it subscribed to.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum EventType { $($variant,)+ WebhookTest }

        impl EventType {
            /// Every type an endpoint can subscribe to, in the form's order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)+
                    EventType::WebhookTest => "webhook.test",
                }
            }

            /// How the form's checkbox reads.
            pub fn label(self) -> &'static str {
                match self {
                    $(EventType::$variant => $label,)+
                    EventType::WebhookTest => "Test event",
                }
            }
        }
    };
}

event_types! {
    ContactCreated => "contact.created", "Contact created";
    ContactUpdated => "contact.updated", "Contact updated";
    ContactDeleted => "contact.deleted", "Contact deleted";
    CompanyCreated => "company.created", "Company created";
    CompanyUpdated => "company.updated", "Company updated";
    CompanyDeleted => "company.deleted", "Company deleted";
    DealCreated => "deal.created", "Deal created";
    DealUpdated => "deal.updated", "Deal updated";
    DealDeleted => "deal.deleted", "Deal deleted";
    DealStageChanged => "deal.stage_changed", "Deal moved to another stage";
    DealWon => "deal.won", "Deal won";
    DealLost => "deal.lost", "Deal lost";
    TaskCreated => "task.created", "Task created";
    TaskUpdated => "task.updated", "Task updated";
    TaskDeleted => "task.deleted", "Task deleted";
    PaymentReceived => "payment.received", "Payment received (Stripe)";
    FormSubmitted => "form.submitted", "Web form submitted";
}

impl EventType {
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// The record type an event is about (`contact`, `deal`…), from its name.
    pub fn entity(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or("")
    }
}

/// One event, ready to queue.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: EventType,
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    pub data: Value,
}

impl Event {
    /// `kind` about `record` (serialised as the API shows it).
    pub fn new(kind: EventType, record: &impl Serialize) -> Result<Event, AppError> {
        let data = serde_json::to_value(record)
            .map_err(|e| AppError::Internal(format!("webhook event data: {e}")))?;
        Ok(Event::of_value(kind, data))
    }

    pub fn of_value(kind: EventType, data: Value) -> Event {
        let id = crate::domain::random_bytes::<12>()
            .map(hex::encode)
            .unwrap_or_else(|_| format!("{:x}", now().timestamp_nanos_opt().unwrap_or(0)));
        Event {
            kind,
            id: format!("evt_{id}"),
            created: now().timestamp(),
            data,
        }
    }

    /// The JSON body every JSON endpoint gets.
    pub fn body(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "created": self.created,
            "data": self.data,
        })
    }
}

/// `payment.received`'s `data` (emitted by the Stripe integration): the payment as
/// recorded on the contact. Amounts are in minor units (cents), as everywhere in Cairn.
#[derive(Clone, Debug, Serialize)]
pub struct PaymentReceived {
    pub contact_id: i64,
    /// The contact's name, for a readable message.
    pub contact_name: String,
    pub amount: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub invoice_id: Option<String>,
    /// The Stripe event it came from.
    pub stripe_event_id: String,
    /// Unix seconds, as Stripe dated it.
    pub paid_at: i64,
}

/// `form.submitted`'s `data` (emitted by web-to-lead forms): the form, the contact it
/// created or updated, and the fields as sent (honeypot removed).
#[derive(Clone, Debug, Serialize)]
pub struct FormSubmitted {
    pub form_id: i64,
    pub form_name: String,
    pub contact_id: i64,
    pub contact_name: String,
    /// Whether the submission made a new contact (false: it matched one by email).
    pub created_contact: bool,
    pub fields: serde_json::Map<String, Value>,
}
