//! Sign-in throttling: per (account, address) and per address, a growing wait instead of a
//! lock, refused tries not counted, and nobody elsewhere can lock the owner out.
use cairn::entities::login_attempt;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, QueryFilter};

use crate::support::*;

/// Moves every recorded failure `seconds` into the past, as if that time had passed.
async fn age_failures(app: &TestApp, seconds: i64) {
    login_attempt::Entity::update_many()
        .col_expr(
            login_attempt::Column::CreatedAt,
            Expr::value(cairn::domain::now() - chrono::Duration::seconds(seconds)),
        )
        .filter(Expr::value(true))
        .exec(&app.db.write)
        .await
        .expect("age the failures");
}

/// Fails `n` sign-ins to `email` from `client`, each one answered 401.
async fn fail(c: &mut Client<impl TestService>, email: &str, n: usize) {
    for i in 0..n {
        let res = c.sign_in(email, &format!("wrong {i}")).await;
        assert_eq!(res.status, 401, "failure {i} of {n} for {email}");
    }
}

fn retry_after(res: &Response) -> i64 {
    res.header("retry-after")
        .expect("a 429 says when to retry")
        .parse()
        .expect("Retry-After in seconds")
}

#[actix_web::test]
async fn guesses_from_elsewhere_never_lock_the_owner_out() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let mut attacker = app.client().await;
    attacker.peer = "203.0.113.9:4000".parse().unwrap();
    fail(&mut attacker, "admin@example.com", 5).await;
    for _ in 0..5 {
        let res = attacker
            .sign_in("admin@example.com", "still guessing")
            .await;
        assert_eq!(res.status, 429, "the attacker's address is slowed down");
    }
    let mut owner = app.client().await;
    owner.peer = "198.51.100.20:4000".parse().unwrap();
    let res = owner.sign_in("admin@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "the owner signs in from their own address");
}

#[actix_web::test]
async fn after_five_failures_each_try_waits_twice_as_long() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    fail(&mut c, "rep@example.com", 5).await;
    let res = c.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(res.status, 429, "even the right password waits its turn");
    assert!(res.text().contains("Too many failed attempts"));
    let first = retry_after(&res);
    assert!((1..=2).contains(&first), "first wait {first}s");

    age_failures(&app, 3).await;
    fail(&mut c, "rep@example.com", 1).await;
    let second = retry_after(&c.sign_in("rep@example.com", PASSWORD).await);
    assert!((3..=4).contains(&second), "the wait doubled: {second}s");

    age_failures(&app, 5).await;
    assert_eq!(
        c.sign_in("rep@example.com", PASSWORD).await.status,
        303,
        "once the wait is over the right password works"
    );
}

#[actix_web::test]
async fn tries_refused_while_waiting_are_not_counted() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    fail(&mut c, "rep@example.com", 5).await;
    let mut waits = Vec::new();
    for _ in 0..10 {
        let res = c.sign_in("rep@example.com", "hammering").await;
        assert_eq!(res.status, 429);
        waits.push(retry_after(&res));
    }
    assert_eq!(
        app.count("login_attempts").await,
        5,
        "refused tries left no trace"
    );
    assert!(
        waits.iter().all(|w| *w <= 2),
        "hammering must not lengthen the wait: {waits:?}"
    );
}

#[actix_web::test]
async fn one_address_guessing_many_accounts_is_slowed_down() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    for i in 0..20 {
        fail(&mut c, &format!("guess{i}@example.com"), 1).await;
    }
    assert_eq!(
        c.sign_in("rep@example.com", PASSWORD).await.status,
        429,
        "the guessing address waits, whatever account it tries"
    );
    let mut colleague = app.client().await;
    colleague.peer = "192.0.2.50:4000".parse().unwrap();
    assert_eq!(
        colleague.sign_in("rep@example.com", PASSWORD).await.status,
        303,
        "another address is not affected"
    );
}

#[actix_web::test]
async fn the_right_password_clears_the_failures_of_that_account_and_address() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    fail(&mut c, "rep@example.com", 4).await;
    assert_eq!(c.sign_in("rep@example.com", PASSWORD).await.status, 303);
    assert_eq!(app.count("login_attempts").await, 0);
}

#[actix_web::test]
async fn the_current_password_check_counts_with_the_sign_in_failures() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    c.get("/account").await;
    let change = |current: &'static str| {
        [
            ("current_password", current),
            ("new_password", "a brand new password"),
            ("new_password_confirm", "a brand new password"),
        ]
    };
    for i in 0..5 {
        let res = c.post_form("/account/password", &change("a guess")).await;
        assert_eq!(res.status, 422, "guess {i} is a field error");
    }
    let res = c.post_form("/account/password", &change(PASSWORD)).await;
    assert_eq!(
        res.status, 429,
        "a stolen session cannot keep guessing the password"
    );
}
