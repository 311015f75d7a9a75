//! A company's input checked: name, domain (normalised), website, industry, size,
//! phone, address, owner, tags and custom fields; and the uniqueness of name and domain.
use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::{ADDRESS_MAX, CompanyInput, INDUSTRIES, NAME_MAX, SIZE_BANDS, WEBSITE_MAX};
use crate::domain::{
    Actor, Db, FieldErrorsExt, check_one_of, clean, has_control, normalise, valid_phone,
};
use crate::domain::{access, records};
use crate::entities::company;
use crate::error::{AppError, FieldErrors};

/// `https://www.Acme.com/pricing` → `acme.com`. None when it is not a host name.
pub fn normalise_domain(raw: &str) -> Option<String> {
    let mut s = raw.trim().to_lowercase();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest.to_string();
        }
    }
    let host = s.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    let host = host
        .strip_prefix("www.")
        .unwrap_or(host)
        .trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').collect();
    let valid = host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    valid.then(|| host.to_string())
}

/// Serde: an import keeps its planned rows in a file until it writes them
/// (`import::apply::spill`), and reads back only what it wrote there.
#[derive(Clone, Serialize, Deserialize)]
pub struct Valid {
    pub(super) name: String,
    pub(super) domain: Option<String>,
    pub(super) industry: Option<String>,
    pub(super) size_band: Option<String>,
    pub(super) website: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) address: Option<String>,
    pub(super) owner_id: Option<i64>,
    pub(super) tags: Option<Vec<String>>,
    pub(super) custom: String,
}

/// What an import compares and links by (`domain::import::apply`).
impl Valid {
    pub(crate) fn name_norm(&self) -> String {
        normalise(&self.name)
    }

    pub(crate) fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    pub(crate) fn tags(&self) -> Option<&[String]> {
        self.tags.as_deref()
    }
}

/// Checks a company's input and gathers every message before refusing. Long on purpose:
/// one short check per field, in the form's order, so the form's rules read in one place.
pub(crate) async fn validate(
    db: &Db,
    actor: &Actor,
    input: &CompanyInput,
    current_owner: Option<i64>,
    current_custom: &BTreeMap<String, serde_json::Value>,
) -> Result<Valid, AppError> {
    let mut fields = FieldErrors::new();
    for (field, value) in [
        ("name", Some(input.name.as_str())),
        ("domain", input.domain.as_deref()),
        ("industry", input.industry.as_deref()),
        ("size_band", input.size_band.as_deref()),
        ("website", input.website.as_deref()),
        ("phone", input.phone.as_deref()),
    ] {
        if value.is_some_and(has_control) {
            fields.set(field, format!("{field} cannot contain control characters."));
        }
    }
    // Addresses span lines; other control characters are still refused.
    if input.address.as_deref().is_some_and(|a| {
        a.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    }) {
        fields.set("address", "address cannot contain control characters.");
    }
    let name = input.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        fields.set("name", "Name is required.");
    } else if normalise(&name).chars().count() > NAME_MAX || name.chars().count() > NAME_MAX {
        fields.set(
            "name",
            format!("Name must be at most {NAME_MAX} characters."),
        );
    }
    // "northwind.test" is how people type an address: it is stored as https://northwind.test.
    let website = clean(input.website.as_deref()).map(|w| {
        if !w.contains("://") && w.contains('.') && !w.contains(char::is_whitespace) {
            format!("https://{w}")
        } else {
            w
        }
    });
    if let Some(w) = &website {
        let ok = w.chars().count() <= WEBSITE_MAX
            && url::Url::parse(w)
                .ok()
                .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !ok {
            fields.set(
                "website",
                "Enter a web address, like acme.com or https://acme.com.",
            );
        }
    }
    // The domain, or else the website's, so companies are found by domain either way.
    let domain = match clean(input.domain.as_deref()) {
        Some(d) => match normalise_domain(&d) {
            Some(n) => Some(n),
            None => {
                fields.set("domain", "Enter a domain like acme.com.");
                None
            }
        },
        None => website.as_deref().and_then(normalise_domain),
    };
    let industry = clean(input.industry.as_deref()).map(|i| i.to_lowercase());
    check_one_of(
        &mut fields,
        "industry",
        "Industry",
        industry.as_deref(),
        &industry_keys(),
    );
    let size_band = clean(input.size_band.as_deref());
    check_one_of(
        &mut fields,
        "size_band",
        "Size",
        size_band.as_deref(),
        &SIZE_BANDS,
    );
    let phone = clean(input.phone.as_deref());
    if let Some(p) = &phone
        && !valid_phone(p)
    {
        fields.set(
            "phone",
            "Phone may hold up to 30 digits, spaces and + - ( ) . x / only.",
        );
    }
    let address = clean(input.address.as_deref());
    if address
        .as_ref()
        .is_some_and(|a| a.chars().count() > ADDRESS_MAX)
    {
        fields.set(
            "address",
            format!("Address must be at most {ADDRESS_MAX} characters."),
        );
    }
    let own = records::check_owned(db, actor, input, current_owner, current_custom, fields).await?;
    Ok(Valid {
        custom: own.custom,
        name,
        domain,
        industry,
        size_band,
        website,
        phone,
        address,
        owner_id: Some(own.owner_id),
        tags: own.tags,
    })
}

pub(crate) fn industry_keys() -> Vec<&'static str> {
    INDUSTRIES.iter().map(|(k, _)| *k).collect()
}

/// Turns a unique-index violation into the field it concerns. `visible`: what the actor
/// sees; a holder they may not see is not named (not even as being in the trash).
pub(super) async fn conflict(
    conn: &impl ConnectionTrait,
    v: &Valid,
    except: Option<i64>,
    visible: access::Visible,
) -> Result<(), AppError> {
    let mut q = company::Entity::find().filter(company::Column::NameNorm.eq(normalise(&v.name)));
    if let Some(id) = except {
        q = q.filter(company::Column::Id.ne(id));
    }
    match q.one(conn).await? {
        Some(c) if access::hides(visible, c.owner_id) => return Err(access::taken("name")),
        Some(c) if c.deleted_at.is_some() => {
            return Err(AppError::conflict_field("name", super::in_trash(&c.name)));
        }
        Some(_) => {
            return Err(AppError::conflict_field(
                "name",
                "A company with this name already exists.",
            ));
        }
        None => {}
    }
    if let Some(d) = &v.domain {
        let mut q = company::Entity::find().filter(company::Column::Domain.eq(d.as_str()));
        if let Some(id) = except {
            q = q.filter(company::Column::Id.ne(id));
        }
        match q.one(conn).await? {
            Some(c) if access::hides(visible, c.owner_id) => return Err(access::taken("domain")),
            Some(_) => {
                return Err(AppError::conflict_field(
                    "domain",
                    "Another company already has this domain.",
                ));
            }
            None => {}
        }
    }
    Ok(())
}
