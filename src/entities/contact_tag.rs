//! A tag put on a contact, with copies of the contact's columns that lists filter on
//! beside a tag (migration 000055): kept by triggers, never written by the code. A link
//! is inserted with them unset.
tag_link!(
    "contact_tags",
    contact,
    contact_id,
    ContactId,
    Contact,
    source: Option<String>,
    owner_id: Option<i64>,
    company_id: Option<i64>,
    deleted_at: Option<ChronoDateTimeUtc>,
);
