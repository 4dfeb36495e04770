//! Private-address safety: addresses found in content (item links, redirects, discovered
//! feeds) that point into loopback, private, link-local or otherwise internal ranges are not
//! fetched unless the source sets `allow_private = true`. A public feed must not be able to
//! make vigie request `http://127.0.0.1:8080/admin` or a cloud metadata endpoint.
//!
//! Literal IP addresses are checked before the request; host names are checked by the
//! resolver of the guarded client ([`GuardedResolver`]), so the address that is checked is
//! the address that is connected to (no second lookup to rebind).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// Whether an address is loopback, private, link-local, shared (CGNAT), unspecified,
/// multicast, broadcast or reserved: anything that is not a public unicast address.
pub fn is_private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (o[1] & 0xC0) == 64) // 100.64.0.0/10, shared address space
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24, protocol assignments
        || (o[0] == 198 && (o[1] & 0xFE) == 18) // 198.18.0.0/15, benchmarking
        || o[0] >= 240 // reserved
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    let s = ip.segments();
    // NAT64 well-known prefix 64:ff9b::/96 embeds an IPv4 address
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0) {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return is_private_v4(v4);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xFE00) == 0xFC00 // fc00::/7 unique local
        || (s[0] & 0xFFC0) == 0xFE80 // fe80::/10 link-local
        || (s[0] & 0xFFC0) == 0xFEC0 // fec0::/10 site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[..6].iter().all(|x| *x == 0) // ::/96 IPv4-compatible (deprecated)
}

/// What a URL's host says by itself: `Some(reason)` when it is a literal private address or
/// a name that always means this machine (`localhost`), `None` when it must be resolved (or
/// is a public literal).
pub fn literal_private(url: &Url) -> Option<String> {
    match url.host()? {
        Host::Ipv4(ip) if is_private_v4(ip) => Some(ip.to_string()),
        Host::Ipv6(ip) if is_private_v6(ip) => Some(ip.to_string()),
        Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            (d == "localhost" || d.ends_with(".localhost")).then_some(d)
        }
        _ => None,
    }
}

/// The error the guarded resolver returns; found again in the error chain of the request.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to loopback or private addresses")]
pub struct PrivateAddress {
    pub host: String,
}

/// A resolver that drops loopback and private addresses, and fails when nothing public is
/// left.
#[derive(Debug, Default, Clone, Copy)]
pub struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_private_ip(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(PrivateAddress { host }) as _);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Finds a [`PrivateAddress`] in an error's chain of causes.
pub fn private_in_chain(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(p) = err.downcast_ref::<PrivateAddress>() {
            return Some(p.host.clone());
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_ranges_are_private() {
        for s in [
            "127.0.0.1",
            "127.0.0.4",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert!(is_private_ip(ip(s)), "{s} should be private");
        }
        for s in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private_ip(ip(s)), "{s} should be public");
        }
    }

    #[test]
    fn literal_hosts() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(literal_private(&u("http://127.0.0.1:8080/admin")).is_some());
        assert!(literal_private(&u("http://[::1]/")).is_some());
        assert!(literal_private(&u("http://LOCALHOST./x")).is_some());
        assert!(literal_private(&u("http://api.localhost/x")).is_some());
        assert!(literal_private(&u("http://example.org/")).is_none());
        assert!(literal_private(&u("http://8.8.8.8/")).is_none());
    }

    #[test]
    fn guarded_resolver_refuses_loopback_names() {
        use reqwest::dns::Resolve;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = match rt.block_on(GuardedResolver.resolve(name)) {
            Ok(_) => panic!("localhost must not resolve through the guard"),
            Err(e) => e,
        };
        // either the guard refused it, or the machine cannot resolve localhost at all
        if let Some(host) = private_in_chain(err.as_ref()) {
            assert_eq!(host, "localhost");
        }
    }
}
