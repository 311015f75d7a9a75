//! Single sign-on with an OpenID Connect provider (Settings → Sign-in).
//!
//! - `config`: the provider (issuer, client id and secret, button label) and the rules
//!   (create unknown users from allowed domains, password sign-in for admins only), kept
//!   in the `settings` table; the secret is never shown again in full nor logged.
//! - `flow`: discovery, the authorization request (code flow with PKCE, state and nonce)
//!   and, when the browser comes back, the code exchange and the ID token's checks.
//! - `signin`: who the verified identity is in Cairn (matched by verified email, or
//!   created), the session, and the audit row of every sign-in and every refusal.
pub mod config;
pub mod flow;
pub mod signin;
