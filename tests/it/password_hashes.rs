//! The password hash's settings (`passwords::PARAMS`): new hashes name them, and a hash
//! made with the settings of before (the crate's default, 19 MiB and 2 passes) still
//! verifies with its own.
use cairn::domain::passwords;

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
    let old = "$argon2id$v=19$m=19456,t=2,p=1$b2xkc2FsdG9sZHNhbHQxNg$D8DkXQFfJKGsVUUH6d8oE23xZAwHxCzqR9ebPUEpasY";
    assert!(
        passwords::verify("correct horse battery", Some(old)).await,
        "the stored password matches"
    );
    assert!(
        !passwords::verify("correct horse batterY", Some(old)).await,
        "another does not"
    );
}
