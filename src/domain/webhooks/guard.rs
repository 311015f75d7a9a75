//! Server-side request forgery: a webhook URL is typed by an admin, but a delivery must
//! never reach what only the server can reach (its loopback, the private network, the
//! cloud metadata address). The check is on the address actually connected to: names go
//! through `Resolver`, which drops refused addresses after resolving (so a name that
//! resolves to 127.0.0.1, or changes to it after the endpoint was saved, is refused at
//! connect time); a literal IP in the URL never reaches a resolver and is checked by
//! `check_url` before sending. Redirects are not followed at all (`deliver`).
//! `CAIRN_WEBHOOKS_ALLOW_PRIVATE=true` turns the check off (a receiver on the LAN).
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a delivery was refused before anything was sent.
#[derive(Debug, Clone)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// What kind of address `ip` is when a delivery may not go there; None when it may.
pub fn refused_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_kind(v4),
            None => v6_kind(v6),
        },
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address (the cloud metadata service lives there)")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("a multicast, broadcast or reserved address")
    } else {
        None
    }
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique local) address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else {
        None
    }
}

/// The refusal of a URL whose host is a literal IP a delivery may not reach.
pub fn check_url(url: &url::Url) -> Result<(), Refused> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(Refused("The URL has no host.".into())),
    };
    match refused_kind(ip) {
        Some(kind) => Err(Refused(format!(
            "Refused: {ip} is {kind}; webhooks are not sent there (set CAIRN_WEBHOOKS_ALLOW_PRIVATE=true to allow it)."
        ))),
        None => Ok(()),
    }
}

/// Resolves names as the system does, keeping only the addresses a delivery may reach.
pub struct Resolver;

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| refused_kind(a.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                let first = found.first().map(|a| a.ip());
                let what = first.and_then(refused_kind).unwrap_or("no address at all");
                let shown = first.map(|ip| format!(" ({ip})")).unwrap_or_default();
                let refusal = Refused(format!(
                    "Refused: {host} resolves to {what}{shown}; webhooks are not sent there (set CAIRN_WEBHOOKS_ALLOW_PRIVATE=true to allow it)."
                ));
                return Err(Box::new(refusal) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_addresses_only_the_server_reaches() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "ff02::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(refused_kind(ip).is_some(), "{ip} should be refused");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "100.128.0.1",
            "172.32.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(refused_kind(ip).is_none(), "{ip} should be allowed");
        }
    }
}
