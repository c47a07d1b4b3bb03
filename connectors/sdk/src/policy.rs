//! Which source URLs and addresses a connector may reach (SSRF guard).
//!
//! `https` only unless the operator allows `http`; every address a host
//! resolves to must be public unless it falls in an operator allow-listed CIDR.
//! Mapped and embedded IPv4 forms are judged by the IPv4 address they carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::{Host, Url};

use crate::{ConnectorError, Reason};

#[derive(Debug, Clone, Default)]
pub struct SourcePolicy {
    /// `--allow-http-sources`: accept `http://` besides `https://`.
    pub allow_http: bool,
    /// `--allow-source-cidr`: internal ranges the operator lets sources live in.
    pub allowed_cidrs: Vec<IpNet>,
}

impl SourcePolicy {
    /// Checks the scheme, and the address when the host is an IP literal
    /// (names are vetted when they resolve, on every connect).
    pub fn check_url(&self, url: &Url) -> Result<(), ConnectorError> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(not_allowed(
                    "must use https (the operator has not allowed http sources)",
                ));
            }
            _ => return Err(not_allowed("must be an https URL")),
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(_)) => return Ok(()),
            None => return Err(not_allowed("must name a host")),
        };
        self.check_ip(ip)
    }

    /// Refuses internal addresses unless allow-listed.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ConnectorError> {
        if self.allowed_cidrs.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        let canonical = canonical(ip);
        if self
            .allowed_cidrs
            .iter()
            .any(|net| net.contains(&canonical))
        {
            return Ok(());
        }
        match internal_range(canonical) {
            None => Ok(()),
            Some(range) => Err(not_allowed(&format!(
                "resolves to {ip}, a {range} address; the operator can allow it with --allow-source-cidr"
            ))),
        }
    }
}

fn not_allowed(message: &str) -> ConnectorError {
    ConnectorError::new(Reason::UrlNotAllowed, message)
}

/// The IPv4 address an IPv6 address carries (mapped, compatible, NAT64), else itself.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let segments = v6.segments();
    // NAT64 well-known prefix 64:ff9b::/96.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return IpAddr::V4(embedded_v4(v6));
    }
    // Deprecated IPv4-compatible ::a.b.c.d (but not :: and ::1).
    if segments[..6] == [0; 6] && v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST {
        return IpAddr::V4(embedded_v4(v6));
    }
    ip
}

fn embedded_v4(v6: Ipv6Addr) -> Ipv4Addr {
    let octets = v6.octets();
    Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15])
}

/// The name of the internal range `ip` is in, if any.
fn internal_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if a == 100 && (64..128).contains(&b) {
                Some("carrier-grade NAT")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_broadcast() || v4.is_multicast() || a >= 240 {
                Some("broadcast, multicast or reserved")
            } else if a == 192 && b == 0 && v4.octets()[2] == 0 {
                Some("IETF protocol")
            } else if a == 198 && (b == 18 || b == 19) {
                Some("benchmarking")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if first & 0xfe00 == 0xfc00 {
                Some("unique local")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &SourcePolicy, url: &str) -> bool {
        policy.check_url(&Url::parse(url).unwrap()).is_err()
    }

    #[test]
    fn internal_literals_are_refused_in_every_form() {
        let policy = SourcePolicy {
            allow_http: true,
            allowed_cidrs: vec![],
        };
        for url in [
            "http://127.0.0.1:9999",
            "http://169.254.169.254/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::a00:1]/",
            "http://0.0.0.0/",
        ] {
            assert!(refused(&policy, url), "{url} must be refused");
        }
        for url in [
            "https://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "https://acme.looker.com",
        ] {
            assert!(!refused(&policy, url), "{url} must be allowed");
        }
    }

    #[test]
    fn allow_listed_ranges_and_schemes() {
        let policy = SourcePolicy {
            allow_http: false,
            allowed_cidrs: vec!["127.0.0.0/8".parse().unwrap()],
        };
        assert!(
            refused(&policy, "http://127.0.0.1/"),
            "http is still refused"
        );
        assert!(!refused(&policy, "https://127.0.0.1/"));
        assert!(!refused(&policy, "https://[::ffff:127.0.0.1]/"));
        assert!(refused(&policy, "https://10.0.0.1/"));
        assert!(refused(&policy, "ftp://acme.looker.com/"));
        let error = policy
            .check_url(&Url::parse("https://10.0.0.1/").unwrap())
            .unwrap_err();
        assert_eq!(error.reason, Reason::UrlNotAllowed);
        assert!(error.message.contains("private"), "{}", error.message);
    }
}
