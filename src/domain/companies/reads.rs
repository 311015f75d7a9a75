//! The raw SQL of the company list (read by `records::reads`, whose list statement builds
//! a page as one JSON value from `Kind::fields`, each an SQL expression on the record `c`).

/// How many live contacts work at company `c`: a correlated count inside that JSON object,
/// where the builders cannot reach (the object is SQL text).
pub const CONTACT_COUNT: &str =
    "(SELECT COUNT(*) FROM contacts x WHERE x.company_id = c.id AND x.deleted_at IS NULL)";
