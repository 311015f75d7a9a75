//! Which existing company a typed company means, and which it may mean. One function
//! (`matching`) answers the form's suggestions, its "creates a new company" hint, and
//! every save (pages and API), so all three agree on what counts as the same company:
//! the same name in any case, spacing or punctuation ("northwind traders" and
//! "Northwind Traders, Inc."), a chosen suggestion ("Acme (#12)"), or the company's
//! domain (typed as `northwind.com`, a URL, or an email at that domain).
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::domain::{Actor, Db, has_control, normalise, pick, search};
use crate::entities::company;
use crate::error::AppError;

use super::normalise_domain;

/// Legal forms that do not tell two companies apart ("Acme Inc." is "Acme").
const LEGAL_FORMS: [&str; 20] = [
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "sarl",
    "srl",
    "bv",
    "nv",
    "plc",
    "pty",
    "llp",
];

/// A name reduced to what tells companies apart: lower-case letters and digits in words,
/// without punctuation or a trailing legal form. "Northwind Traders, Inc." →
/// "northwind traders".
pub fn name_key(name: &str) -> String {
    let lowered = name.to_lowercase();
    let mut words: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// The domain `text` names, when it is a domain, a URL or an email (not a name with
/// spaces, and not a bare word).
fn domain_in(text: &str) -> Option<String> {
    if text.contains(char::is_whitespace) || !text.contains('.') {
        return None;
    }
    normalise_domain(text)
}

/// A company the typed text may mean.
#[derive(Debug, Clone)]
pub struct CompanyMatch {
    pub id: i64,
    pub name: String,
    /// Its domain and phone, shown beside the name.
    pub hint: String,
    /// The text means this company: saving it links this one instead of adding another.
    pub same: bool,
}

impl CompanyMatch {
    fn of(c: company::Model) -> CompanyMatch {
        CompanyMatch {
            id: c.id,
            name: c.name,
            hint: [c.domain, c.phone]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            same: true,
        }
    }
}

/// How much `matching` looks for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only the company the text means (saving): stops at the first indexed hit.
    Same,
    /// Also the companies it may mean (suggestions), up to `search::PER_KIND`.
    Suggestions,
}

/// The companies `text` may mean, those it means (`same`) first: several only when
/// names differing in punctuation or legal form were stored apart. Exact lookups come
/// first (id, name, domain: each one index probe); the search index then finds names
/// that differ only in punctuation or a legal form, and, for suggestions, names that
/// contain the typed words.
pub async fn matching(
    db: &Db,
    actor: &Actor,
    text: &str,
    scope: Scope,
) -> Result<Vec<CompanyMatch>, AppError> {
    let text = text.trim();
    if text.is_empty() || has_control(text) || text.chars().count() > 200 {
        return Ok(Vec::new());
    }
    let mut found: Vec<CompanyMatch> = Vec::new();
    // Suggestions show only what the asker may see (`access`); saving still finds the
    // company the text means, so a rep cannot add a second one of the same name.
    let visible = crate::domain::access::visible(db, actor).await?;
    let shown = |c: &company::Model| {
        scope == Scope::Same || visible.owner().is_none_or(|o| c.owner_id == Some(o))
    };
    if let Some(c) = exact(db, text).await?.filter(shown) {
        let hidden = visible.owner().is_some_and(|o| c.owner_id != Some(o));
        let mut m = CompanyMatch::of(c);
        if hidden {
            // Saving links it (or refuses it), but its name is not the rep's to read.
            m.name = crate::domain::access::OTHERS_COMPANY.into();
            m.hint = String::new();
        }
        found.push(m);
        if scope == Scope::Same {
            return Ok(found);
        }
    }
    let key = name_key(text);
    // An email is searched by its domain: "ann@northwind.com" finds Northwind.
    let words = match text.rsplit_once('@') {
        Some((_, domain)) => domain.to_string(),
        None => key.clone(),
    };
    if words.is_empty() {
        return Ok(found);
    }
    let hits = search::search(db, actor, &words).await?.companies;
    let same_seen = !found.is_empty();
    for h in hits {
        if found.iter().any(|f| f.id == h.id) {
            continue;
        }
        let same = !same_seen && !key.is_empty() && name_key(&h.title) == key;
        if scope == Scope::Same && !same {
            continue;
        }
        let m = CompanyMatch {
            id: h.id,
            name: h.title,
            hint: h.subtitle,
            same,
        };
        if same {
            // After the other names meaning the same, before those it only may mean.
            let at = found.iter().take_while(|f| f.same).count();
            found.insert(at, m);
        } else {
            found.push(m);
        }
    }
    Ok(found)
}

/// The company `text` names exactly: a chosen suggestion's id, its name in any case or
/// spacing, or its domain (one index probe each).
async fn exact(db: &Db, text: &str) -> Result<Option<company::Model>, AppError> {
    let exact = if let Some(id) = pick::trailing_id(text) {
        company::Entity::find_by_id(id)
            .filter(company::Column::DeletedAt.is_null())
            .one(&db.read)
            .await?
    } else {
        by_column(db, company::Column::NameNorm, normalise(text)).await?
    };
    Ok(match (exact, domain_in(text)) {
        (Some(c), _) => Some(c),
        (None, Some(domain)) => by_column(db, company::Column::Domain, domain).await?,
        (None, None) => None,
    })
}

/// The company `text` means, if any (see `matching`). An exact name is answered by its
/// one lookup: saving a contact at a known company costs no more than before matching.
pub async fn the_one(
    db: &Db,
    actor: &Actor,
    text: &str,
) -> Result<Option<company::Model>, AppError> {
    let trimmed = text.trim();
    if !trimmed.is_empty()
        && !has_control(trimmed)
        && let Some(c) = exact(db, trimmed).await?
    {
        return Ok(Some(c));
    }
    let Some(m) = matching(db, actor, text, Scope::Same)
        .await?
        .into_iter()
        .find(|m| m.same)
    else {
        return Ok(None);
    };
    Ok(company::Entity::find_by_id(m.id)
        .filter(company::Column::DeletedAt.is_null())
        .one(&db.read)
        .await?)
}

async fn by_column(
    db: &Db,
    column: company::Column,
    value: String,
) -> Result<Option<company::Model>, AppError> {
    Ok(company::Entity::find()
        .filter(column.eq(value))
        .filter(company::Column::DeletedAt.is_null())
        .one(&db.read)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::{domain_in, name_key};

    #[test]
    fn names_differing_in_case_punctuation_or_legal_form_share_a_key() {
        assert_eq!(name_key("Northwind Traders, Inc."), "northwind traders");
        assert_eq!(name_key("  northwind   TRADERS "), "northwind traders");
        assert_eq!(name_key("Smith & Co."), "smith");
        assert_eq!(name_key("Inc."), "inc", "a legal form alone stays");
        assert_eq!(name_key("A.C.M.E"), "a c m e");
    }

    #[test]
    fn a_domain_is_a_dotted_word_a_url_or_an_email() {
        assert_eq!(domain_in("northwind.com").as_deref(), Some("northwind.com"));
        assert_eq!(
            domain_in("ann@Northwind.com").as_deref(),
            Some("northwind.com")
        );
        assert_eq!(
            domain_in("https://www.northwind.com/x").as_deref(),
            Some("northwind.com")
        );
        assert_eq!(domain_in("Northwind Traders, Inc."), None);
        assert_eq!(domain_in("northwind"), None);
    }
}
