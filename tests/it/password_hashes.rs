//! The password hash's settings (`passwords::PARAMS`): new hashes name them, and a hash
//! made with the settings of before (the crate's default, 19 MiB and 2 passes) still
//! verifies with its own.
use cairn::domain::passwords;
use cairn::entities::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::support::*;

const OLD_PASSWORD: &str = "correct horse battery";

#[actix_web::test]
async fn a_new_hash_is_argon2id_with_12_mib_and_3_passes_and_verifies() {
    let hash = passwords::hash("correct horse battery").await;
    let hash = hash.map_err(|e| e.to_string());
    assert!(
        hash.as_deref()
            .is_ok_and(|h| h.starts_with("$argon2id$v=19$m=12288,t=3,p=1$")),
        "the hash names the settings: {hash:?}"
    );
    let hash = hash.unwrap_or_default();
    assert!(
        passwords::verify("correct horse battery", Some(&hash)).await,
        "the password matches"
    );
    assert!(
        !passwords::verify("correct horse battery!", Some(&hash)).await,
        "another does not"
    );
}

/// Made by the reference implementation (`argon2 … -id -k 19456 -t 2 -p 1`), as the
/// hashes stored before the settings changed were.
#[actix_web::test]
async fn a_hash_with_the_earlier_settings_still_verifies() {
    let old = OLD_HASH;
    assert!(
        passwords::verify("correct horse battery", Some(old)).await,
        "the stored password matches"
    );
    assert!(
        !passwords::verify("correct horse batterY", Some(old)).await,
        "another does not"
    );
}

const OLD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$b2xkc2FsdG9sZHNhbHQxNg$D8DkXQFfJKGsVUUH6d8oE23xZAwHxCzqR9ebPUEpasY";

/// A user whose stored hash was made with the settings of before, for `OLD_PASSWORD`.
async fn user_with_old_hash(app: &TestApp, email: &str) {
    app.user(email, "rep").await;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(OLD_HASH))
        .filter(user::Column::Email.eq(email))
        .exec(&app.db.write)
        .await
        .expect("give the user a hash made before the settings changed");
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&app.db.read)
        .await
        .expect("read the user")
        .expect("the user exists")
        .password_hash
}

#[actix_web::test]
async fn signing_in_stores_an_earlier_hash_again_with_todays_settings() {
    let app = TestApp::new().await;
    user_with_old_hash(&app, "old@example.com").await;
    assert!(passwords::outdated(OLD_HASH), "19 MiB hashes are outdated");

    let res = app
        .client()
        .await
        .sign_in("old@example.com", OLD_PASSWORD)
        .await;
    assert_eq!(res.status, 303, "the old hash signs in");
    let now = stored_hash(&app, "old@example.com").await;
    assert!(
        now.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"),
        "the hash was stored again with today's settings: {now}"
    );
    let again = app
        .client()
        .await
        .sign_in("old@example.com", OLD_PASSWORD)
        .await;
    assert_eq!(
        again.status, 303,
        "the new hash signs in with the same password"
    );
    assert!(!passwords::outdated(&now), "today's hash is not outdated");
}

#[actix_web::test]
async fn a_wrong_password_leaves_an_earlier_hash_alone() {
    let app = TestApp::new().await;
    user_with_old_hash(&app, "old@example.com").await;
    let res = app
        .client()
        .await
        .sign_in("old@example.com", "not the password")
        .await;
    assert_eq!(res.status, 401, "a wrong password is refused");
    assert_eq!(
        stored_hash(&app, "old@example.com").await,
        OLD_HASH,
        "nothing stored"
    );
}
