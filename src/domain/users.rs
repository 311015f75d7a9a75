//! Users: creation, lookup, password changes and deactivation. A password change ends the
//! user's other sessions; deactivation ends all of them and revokes their API tokens.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::domain::Action;
use crate::domain::Db;
use crate::domain::{
    Actor, FieldErrorsExt, Role, audit, normalise, now, passwords, sessions, tokens, valid_email,
};
use crate::entities::user;
use crate::error::{AppError, FieldErrors};

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: String,
}

/// A user as lists, pickers and settings show them: never the password hash.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Whether two-factor sign-in is on (set by `list_all`; an admin may reset it).
    pub two_factor: bool,
}

impl From<user::Model> for Person {
    fn from(u: user::Model) -> Person {
        Person {
            id: u.id,
            name: u.name,
            email: u.email,
            role: u.role,
            active: u.active,
            created_at: u.created_at,
            two_factor: false,
        }
    }
}

/// One user by id, as shown.
pub async fn person(conn: &impl ConnectionTrait, id: i64) -> Result<Person, AppError> {
    get(conn, id).await.map(Person::from)
}

impl From<&user::Model> for Actor {
    fn from(u: &user::Model) -> Actor {
        Actor {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
            role: Role::parse(&u.role).unwrap_or(Role::Viewer),
            ip: None,
        }
    }
}

pub fn validate_password(password: &str, fields: &mut FieldErrors) {
    let n = password.chars().count();
    if n < passwords::MIN_LEN {
        fields.set(
            "password",
            format!(
                "Password must be at least {} characters.",
                passwords::MIN_LEN
            ),
        );
    } else if n > passwords::MAX_LEN {
        fields.set(
            "password",
            format!(
                "Password must be at most {} characters.",
                passwords::MAX_LEN
            ),
        );
    } else if passwords::is_common(password) {
        fields.set(
            "password",
            "This password is on a list of the most common ones, which attackers try first; choose another.",
        );
    }
}

fn validate(input: &NewUser) -> Result<(String, String, Role), AppError> {
    let mut fields = FieldErrors::new();
    validate_password(&input.password, &mut fields);
    validate_profile(input, fields)
}

/// Email, name and role: what every new user needs, with a password or without one
/// (single sign-on).
fn validate_profile(
    input: &NewUser,
    mut fields: FieldErrors,
) -> Result<(String, String, Role), AppError> {
    let email = input.email.trim().to_string();
    if email.is_empty() {
        fields.set("email", "Email is required.");
    } else if !valid_email(&email) {
        fields.set(
            "email",
            "Enter a valid email address, like ana@example.com.",
        );
    }
    let name = input.name.trim().to_string();
    if super::has_control(&name) {
        fields.set("name", "Name cannot contain control characters.");
    } else if name.is_empty() {
        fields.set("name", "Name is required.");
    } else if name.chars().count() > 120 {
        fields.set("name", "Name must be at most 120 characters.");
    }
    let role = Role::parse(&input.role);
    if role.is_none() {
        fields.set("role", "Role must be one of admin, manager, rep, viewer.");
    }
    match role {
        Some(role) if fields.is_empty() => Ok((email, name, role)),
        _ => Err(AppError::validation(fields)),
    }
}

/// Creates a user inside the caller's transaction. Permission checks belong to callers:
/// the CLI and the setup page act without a signed-in user.
pub async fn create_in(
    conn: &impl ConnectionTrait,
    actor: Option<&Actor>,
    input: &NewUser,
) -> Result<user::Model, AppError> {
    let (email, name, role) = validate(input)?;
    let hash = passwords::hash(&input.password).await?;
    insert(conn, actor, (email, name, role), hash, None, true).await
}

/// Creates a user who signs in through the identity provider (single sign-on), inside
/// the caller's transaction: no password (`passwords::DISABLED`) until they set one
/// through a password reset. `input.password` is ignored.
pub async fn create_external_in(
    conn: &impl ConnectionTrait,
    input: &NewUser,
    via: &str,
) -> Result<user::Model, AppError> {
    let (email, name, role) = validate_profile(input, FieldErrors::new())?;
    let hash = passwords::DISABLED.to_string();
    insert(conn, None, (email, name, role), hash, Some(via), true).await
}

/// Checks a user an import would create: email, name and role, as every new user.
pub fn check_imported(input: &NewUser) -> Result<(), AppError> {
    validate_profile(input, FieldErrors::new()).map(|_| ())
}

/// Creates a user an import's files name and Cairn lacks, inside the caller's
/// transaction: deactivated and without a password (`passwords::DISABLED`), so the
/// records the files give them keep their owner while nobody can sign in as them, not
/// even through a password reset (those go to active users only), until an admin
/// activates them or invites them (`invites::accept` then sets their password). Never
/// an admin: whoever wrote the file must not be able to grant every permission;
/// an admin gives that role knowingly in Settings → Users.
pub async fn create_imported_in(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    input: &NewUser,
) -> Result<user::Model, AppError> {
    let (email, name, role) = validate_profile(input, FieldErrors::new())?;
    if role == Role::Admin {
        return Err(AppError::field("role", "An import does not create admins."));
    }
    let hash = passwords::DISABLED.to_string();
    insert(
        conn,
        Some(actor),
        (email, name, role),
        hash,
        Some("import"),
        false,
    )
    .await
}

/// Whether `u` is a user an import created and nobody has taken up yet: deactivated,
/// without a password. An invitation to their address makes them a user (`claim_in`).
pub fn is_unclaimed(u: &user::Model) -> bool {
    !u.active && u.password_hash == passwords::DISABLED
}

/// Gives an unclaimed user (`is_unclaimed`) the name, password and role an invitation
/// brought, and activates them, inside the caller's transaction.
pub async fn claim_in(
    conn: &impl ConnectionTrait,
    u: user::Model,
    input: &NewUser,
) -> Result<user::Model, AppError> {
    let (_, name, role) = validate(input)?;
    let hash = passwords::hash(&input.password).await?;
    let id = u.id;
    let mut am: user::ActiveModel = u.into();
    am.name = Set(name);
    am.role = Set(role.as_str().to_string());
    am.password_hash = Set(hash);
    am.active = Set(true);
    am.updated_at = Set(now());
    let model = am.update(conn).await?;
    audit::record(conn, None, "claim", "user", id, None).await?;
    Ok(model)
}

async fn insert(
    conn: &impl ConnectionTrait,
    actor: Option<&Actor>,
    (email, name, role): (String, String, Role),
    hash: String,
    via: Option<&str>,
    active: bool,
) -> Result<user::Model, AppError> {
    let email_norm = normalise(&email);
    if user::Entity::find()
        .filter(user::Column::EmailNorm.eq(&email_norm))
        .one(conn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict_field(
            "email",
            "A user with this email already exists.",
        ));
    }
    let t = now();
    let model = user::ActiveModel {
        id: NotSet,
        email: Set(email),
        email_norm: Set(email_norm),
        name: Set(name),
        password_hash: Set(hash),
        role: Set(role.as_str().to_string()),
        active: Set(active),
        created_at: Set(t),
        updated_at: Set(t),
        time_zone: Set(crate::domain::organisation::default_time_zone(conn).await?),
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        actor,
        "create",
        "user",
        model.id,
        Some(match via {
            None => serde_json::json!({"email": model.email, "role": model.role}),
            Some(via) => serde_json::json!({"email": model.email, "role": model.role, "via": via}),
        }),
    )
    .await?;
    Ok(model)
}

pub async fn create(
    db: &Db,
    actor: Option<&Actor>,
    input: &NewUser,
) -> Result<user::Model, AppError> {
    if let Some(a) = actor {
        a.require(Action::ManageUsers)?;
    }
    let tx = db.begin_write().await?;
    let model = create_in(&tx, actor, input).await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(model)
}

pub async fn count(conn: &impl ConnectionTrait) -> Result<u64, AppError> {
    Ok(user::Entity::find().count(conn).await?)
}

pub async fn find_by_email(
    conn: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, AppError> {
    if super::has_control(email) {
        return Ok(None);
    }
    Ok(user::Entity::find()
        .filter(user::Column::EmailNorm.eq(normalise(email)))
        .one(conn)
        .await?)
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("User"))
}

/// Whether a user with `role` may own records (contacts, companies, deals) or be given
/// tasks: whoever may write them (viewers own nothing).
pub fn may_own(role: &str) -> bool {
    Role::parse(role).is_some_and(|r| crate::domain::permissions::allows(r, Action::WriteRecords))
}

/// The owners a record's form offers: the active users who may own, and the record's
/// current owner (`keep`) even if since deactivated or made a viewer, so saving the form
/// does not quietly hand the record to someone else.
pub async fn owner_choices(db: &Db, keep: Option<i64>) -> Result<Vec<Person>, AppError> {
    let mut owners: Vec<Person> = list_active(db)
        .await?
        .into_iter()
        .filter(|u| may_own(&u.role) || Some(u.id) == keep)
        .collect();
    if let Some(id) = keep
        && !owners.iter().any(|o| o.id == id)
        && let Ok(owner) = person(&db.read, id).await
    {
        owners.push(owner);
    }
    Ok(owners)
}

/// Active users, for owner pickers and filters.
pub async fn list_active(db: &Db) -> Result<Vec<Person>, AppError> {
    if let Some(users) = db.auth_cache.active_users.get(&()) {
        return Ok(users);
    }
    let users: Vec<Person> = user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Name)
        .all(&db.read)
        .await?
        .into_iter()
        .map(Person::from)
        .collect();
    db.auth_cache.active_users.insert((), users.clone());
    Ok(users)
}

/// Changes the actor's own password after checking the current one (throttled like a
/// sign-in from `ip`); every session but `keep` ends.
pub async fn change_password(
    db: &Db,
    actor: &Actor,
    current: &str,
    new: &str,
    ip: &str,
    keep: Option<i64>,
) -> Result<user::Model, AppError> {
    let mut fields = FieldErrors::new();
    validate_password(new, &mut fields);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let user = get(&db.read, actor.id).await?;
    if !crate::domain::auth::confirm_password(db, &user, current, ip).await? {
        return Err(AppError::field(
            "current_password",
            "Current password is incorrect.",
        ));
    }
    let hash = passwords::hash(new).await?;
    let tx = db.begin_write().await?;
    let mut am: user::ActiveModel = user.into();
    am.password_hash = Set(hash);
    am.updated_at = Set(now());
    let user = am.update(&tx).await?;
    let ended = sessions::end_all_of(&tx, user.id, keep).await?;
    audit::record(
        &tx,
        Some(actor),
        "change_password",
        "user",
        user.id,
        Some(serde_json::json!({"sessions_ended": ended})),
    )
    .await?;
    tx.commit().await?;
    db.auth_cache.forget();
    db.credentials.changed();
    Ok(user)
}

/// Every user, active first, for the admin's user list.
pub async fn list_all(db: &Db) -> Result<Vec<Person>, AppError> {
    let mut people: Vec<Person> = user::Entity::find()
        .order_by_desc(user::Column::Active)
        .order_by_asc(user::Column::Name)
        .all(&db.read)
        .await?
        .into_iter()
        .map(Person::from)
        .collect();
    let ids: Vec<i64> = people.iter().map(|p| p.id).collect();
    let on = crate::domain::two_factor::enabled_among(&db.read, &ids).await?;
    for p in &mut people {
        p.two_factor = on.contains(&p.id);
    }
    Ok(people)
}

/// Refuses a change that would leave the install without an active admin (nobody could
/// manage users any more without the command line).
async fn keep_an_admin(conn: &impl ConnectionTrait, target: &user::Model) -> Result<(), AppError> {
    if target.role != Role::Admin.as_str() || !target.active {
        return Ok(());
    }
    // Lock the admins' rows: two admins demoting each other at once would otherwise
    // each count two and both succeed. The second waits, then counts what the first left.
    // (SQLite has no row locks, and sea-query leaves the clause out there: its single
    // writer already serialises these transactions.)
    let admins = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Active.eq(true))
        .lock_exclusive()
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .len();
    if admins <= 1 {
        return Err(AppError::Conflict {
            message: "This is the last active admin; make someone else admin first.".into(),
            fields: FieldErrors::new(),
        });
    }
    Ok(())
}

/// Changes a user's role. Every request reads the role afresh, so the new permissions
/// apply to their open sessions at once.
pub async fn set_role(
    db: &Db,
    actor: &Actor,
    id: i64,
    role: &str,
) -> Result<user::Model, AppError> {
    actor.require(Action::ManageUsers)?;
    let role = Role::parse(role).ok_or_else(|| {
        AppError::field("role", "Role must be one of admin, manager, rep, viewer.")
    })?;
    let tx = db.begin_write().await?;
    let target = user::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("User"))?;
    if target.role == role.as_str() {
        return Ok(target);
    }
    if role != Role::Admin {
        keep_an_admin(&tx, &target).await?;
    }
    let before = target.role.clone();
    let mut am: user::ActiveModel = target.into();
    am.role = Set(role.as_str().to_string());
    am.updated_at = Set(now());
    let updated = am.update(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "change_role",
        "user",
        id,
        Some(serde_json::json!({"from": before, "to": updated.role,
            "changes": {"role": {"old": before, "new": updated.role}}})),
    )
    .await?;
    tx.commit().await?;
    db.auth_cache.forget();
    db.credentials.changed();
    Ok(updated)
}

/// Deactivating ends every session and revokes the user's API tokens, so reactivating
/// brings none of them back: the user signs in again and makes new tokens.
pub async fn set_active(
    db: &Db,
    actor: Option<&Actor>,
    id: i64,
    active: bool,
) -> Result<(), AppError> {
    if let Some(a) = actor {
        a.require(Action::ManageUsers)?;
        if a.id == id && !active {
            return Err(AppError::BadRequest(
                "You cannot deactivate yourself.".into(),
            ));
        }
    }
    let tx = db.begin_write().await?;
    let target = user::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("User"))?;
    if !active {
        keep_an_admin(&tx, &target).await?;
    }
    let res = user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(active))
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("User"));
    }
    if !active {
        sessions::end_all_of(&tx, id, None).await?;
        tokens::revoke_all_of(&tx, id).await?;
    }
    let action = if active { "activate" } else { "deactivate" };
    audit::record(&tx, actor, action, "user", id, None).await?;
    tx.commit().await?;
    db.auth_cache.forget();
    db.credentials.changed();
    Ok(())
}

/// Sets the IANA time zone `actor` works in (their own account): task dues are typed and
/// shown in it, and My tasks counts its days. A name the tz database does not know is a
/// 422 on `time_zone`.
pub async fn set_time_zone(db: &Db, actor: &Actor, name: &str) -> Result<String, AppError> {
    let name = name.trim();
    let Ok(tz) = name.parse::<chrono_tz::Tz>() else {
        return Err(AppError::field(
            "time_zone",
            "Pick a time zone from the list (an IANA name such as Europe/Paris).",
        ));
    };
    let tx = db.begin_write().await?;
    user::Entity::update_many()
        .col_expr(user::Column::TimeZone, Expr::value(tz.name()))
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(actor.id))
        .exec(&tx)
        .await?;
    audit::record(
        &tx,
        Some(actor),
        "update",
        "user",
        actor.id,
        Some(serde_json::json!({"time_zone": tz.name()})),
    )
    .await?;
    tx.commit().await?;
    db.forget_task_counts();
    // Kept sessions hold the zone.
    db.credentials.changed();
    Ok(tz.name().to_string())
}
