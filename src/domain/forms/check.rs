//! A form's settings checked before they are stored, every message gathered at once.
use std::collections::BTreeSet;

use crate::domain::contacts::SOURCES;
use crate::domain::{Db, FieldErrorsExt, check_one_of, has_control, tags, users};
use crate::error::{AppError, FieldErrors};

use super::{FormField, FormInput, available_fields};

pub const NAME_MAX: usize = 120;
pub const LABEL_MAX: usize = 120;
pub const URL_MAX: usize = 2000;
pub const MESSAGE_MAX: usize = 2000;
pub const ORIGINS_MAX: usize = 20;

/// Settings that passed `check`.
pub struct Valid {
    pub name: String,
    pub fields: Vec<FormField>,
    pub source: String,
    pub owner_id: i64,
    pub tags: Vec<String>,
    pub thank_you_url: Option<String>,
    pub thank_you_message: Option<String>,
    pub allowed_origins: Vec<String>,
    pub notify_owner: bool,
    pub active: bool,
}

pub async fn check(db: &Db, input: &FormInput) -> Result<Valid, AppError> {
    let mut errors = FieldErrors::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.set("name", "Give the form a name.");
    } else if name.chars().count() > NAME_MAX || has_control(&name) {
        errors.set("name", format!("A name is at most {NAME_MAX} characters."));
    }
    let fields = check_fields(db, &input.fields, &mut errors).await?;
    check_one_of(
        &mut errors,
        "source",
        "Source",
        Some(input.source.trim()),
        &SOURCES,
    );
    check_owner(db, input.owner_id, &mut errors).await?;
    let tags = match tags::clean_names(&input.tags, "tags") {
        Ok(names) => names,
        Err(e) => {
            errors.set("tags", e.to_string());
            Vec::new()
        }
    };
    let thank_you_url = crate::domain::clean(Some(&input.thank_you_url));
    if let Some(u) = &thank_you_url
        && !is_web_address(u)
    {
        errors.set(
            "thank_you_url",
            "Give a whole web address, like https://www.example.com/thanks.",
        );
    }
    let thank_you_message = crate::domain::clean(Some(&input.thank_you_message));
    if thank_you_message
        .as_deref()
        .is_some_and(|m| m.chars().count() > MESSAGE_MAX)
    {
        errors.set(
            "thank_you_message",
            format!("At most {MESSAGE_MAX} characters."),
        );
    }
    let allowed_origins = check_origins(&input.allowed_origins, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    Ok(Valid {
        name,
        fields,
        source: input.source.trim().to_string(),
        owner_id: input.owner_id,
        tags,
        thank_you_url,
        thank_you_message,
        allowed_origins,
        notify_owner: input.notify_owner,
        active: input.active,
    })
}

/// Known fields only, each once; the email is always there and required, since
/// submissions find their contact by it.
async fn check_fields(
    db: &Db,
    sent: &[FormField],
    errors: &mut FieldErrors,
) -> Result<Vec<FormField>, AppError> {
    let known = available_fields(db).await?;
    let mut seen = BTreeSet::new();
    let mut fields = Vec::new();
    for f in sent {
        let Some((_, usual)) = known.iter().find(|(k, _)| *k == f.key) else {
            errors.set("fields", format!("There is no contact field “{}”.", f.key));
            continue;
        };
        if !seen.insert(f.key.clone()) {
            continue;
        }
        let label = f.label.split_whitespace().collect::<Vec<_>>().join(" ");
        if label.chars().count() > LABEL_MAX || has_control(&label) {
            errors.set(
                "fields",
                format!("A label is at most {LABEL_MAX} characters."),
            );
        }
        let label = if label.is_empty() {
            usual.clone()
        } else {
            label
        };
        let required = f.required || f.key == "email";
        fields.push(FormField {
            key: f.key.clone(),
            label,
            required,
        });
    }
    // A contact without a required custom field cannot be stored: a form leaving one
    // out would refuse every submission.
    for def in crate::domain::custom_fields::defs(db, "contact").await? {
        let key = format!("{}{}", super::CUSTOM_PREFIX, def.key);
        if def.required
            && !fields
                .iter()
                .any(|f: &FormField| f.key == key && f.required)
        {
            errors.set(
                "fields",
                format!(
                    "“{}” is required on every contact: ask for it, required.",
                    def.label
                ),
            );
        }
    }
    if !seen.contains("email") {
        fields.insert(
            0,
            FormField {
                key: "email".into(),
                label: "Email".into(),
                required: true,
            },
        );
    }
    Ok(fields)
}

async fn check_owner(db: &Db, owner_id: i64, errors: &mut FieldErrors) -> Result<(), AppError> {
    match users::person(&db.read, owner_id).await {
        Ok(p) if p.active && users::may_own(&p.role) => {}
        Ok(p) if p.active => errors.set(
            "owner_id",
            format!("{} is a viewer; viewers cannot own records.", p.name),
        ),
        _ => errors.set("owner_id", "Owner must be an active user."),
    }
    Ok(())
}

/// An absolute http(s) address.
fn is_web_address(s: &str) -> bool {
    s.chars().count() <= URL_MAX
        && !has_control(s)
        && url::Url::parse(s)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Origins exactly as browsers send them (`https://www.example.com`, a port when not
/// the usual one, no path): what an `Origin` header is compared with.
fn check_origins(sent: &[String], errors: &mut FieldErrors) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in sent.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let origin = raw.trim_end_matches('/');
        let parsed = url::Url::parse(origin)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.origin().ascii_serialization());
        match parsed {
            Some(o) if o == origin => {
                if !out.contains(&o) {
                    out.push(o);
                }
            }
            _ => errors.set(
                "allowed_origins",
                format!(
                    "“{}” is not an origin; write it as https://www.example.com (no path).",
                    raw.chars().take(100).collect::<String>()
                ),
            ),
        }
    }
    if out.len() > ORIGINS_MAX {
        errors.set("allowed_origins", format!("At most {ORIGINS_MAX} origins."));
    }
    out
}
