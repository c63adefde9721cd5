//! From what the user typed to the hosts and addresses to check (SPEC "CLI": `TARGET`).
//!
//! An address is checked as is; a domain with MX records is checked through its MX hosts (up
//! to 10); anything else is a host, checked directly, whose mail domain is `--domain` or its
//! parent. Every DNS exchange is kept as evidence for the report.

use std::net::IpAddr;

use crate::probe::dns::{Answer, Dns};

/// Most MX hosts checked for one domain (SPEC).
const MAX_MX_HOSTS: usize = 10;

#[derive(Clone, Debug, Default)]
pub struct ResolvedTarget {
    /// Hosts to check with their addresses; the name is `None` for an address target.
    pub hosts: Vec<(Option<String>, Vec<IpAddr>)>,
    pub domain: Option<String>,
    /// Why nothing can be checked, when that is so.
    pub problem: Option<String>,
    /// The domain publishes a lone null MX (RFC 7505): it takes no mail.
    pub null_mx: bool,
    pub evidence: Vec<String>,
}

impl ResolvedTarget {
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut all: Vec<IpAddr> = self
            .hosts
            .iter()
            .flat_map(|(_, ips)| ips.iter().copied())
            .collect();
        all.dedup();
        all
    }

    /// Each (host name, address) pair once.
    pub fn host_addresses(&self) -> Vec<(Option<String>, IpAddr)> {
        let mut pairs: Vec<(Option<String>, IpAddr)> = Vec::new();
        for (name, ips) in &self.hosts {
            for ip in ips {
                if !pairs.iter().any(|(_, seen)| seen == ip) {
                    pairs.push((name.clone(), *ip));
                }
            }
        }
        pairs
    }
}

/// The parent of a host name: `mail.example.com` → `example.com` (none for a bare label or TLD+1).
pub fn parent_domain(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.');
    let (_, parent) = host.split_once('.')?;
    parent.contains('.').then(|| parent.to_ascii_lowercase())
}

pub async fn resolve(input: &str, domain: Option<&str>, dns: &Dns) -> ResolvedTarget {
    let input = input.trim().trim_end_matches('.');
    let mut resolved = ResolvedTarget {
        domain: domain.map(str::to_ascii_lowercase),
        ..Default::default()
    };
    let literal = input.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        resolved.hosts.push((None, vec![ip]));
        return resolved;
    }
    let (mx, exchange) = dns.mx(input).await;
    resolved.evidence.extend(exchange.lines);
    match mx {
        Answer::Records(records) => {
            if records.iter().any(|(_, host)| host.is_empty()) {
                if records.len() == 1 {
                    resolved.null_mx = true;
                    resolved.problem = Some(format!(
                        "{input} publishes a null MX (RFC 7505): it takes no mail"
                    ));
                    resolved
                        .domain
                        .get_or_insert_with(|| input.to_ascii_lowercase());
                    return resolved;
                }
                resolved.evidence.push(
                    "* a null MX stands beside other MX records (RFC 7505 §3 forbids it)".into(),
                );
            }
            resolved
                .domain
                .get_or_insert_with(|| input.to_ascii_lowercase());
            for (_, host) in records
                .into_iter()
                .filter(|(_, host)| !host.is_empty())
                .take(MAX_MX_HOSTS)
            {
                let (ips, exchange) = dns.addresses(&host).await;
                resolved.evidence.extend(exchange.lines);
                if let Answer::Records(ips) = ips {
                    resolved.hosts.push((Some(host), ips));
                }
            }
            if resolved.hosts.is_empty() {
                resolved.problem = Some(format!(
                    "none of the MX hosts of {input} resolves to an address"
                ));
            }
            return resolved;
        }
        Answer::NoData | Answer::NxDomain | Answer::Failed(_) => {}
    }
    let (ips, exchange) = dns.addresses(input).await;
    resolved.evidence.extend(exchange.lines);
    match ips {
        Answer::Records(ips) => {
            resolved.hosts.push((Some(input.to_ascii_lowercase()), ips));
            if resolved.domain.is_none() {
                resolved.domain = parent_domain(input);
            }
        }
        Answer::NxDomain => {
            resolved.problem = Some(format!("{input} does not exist in DNS (NXDOMAIN)"))
        }
        Answer::NoData => {
            resolved.problem = Some(format!("{input} has neither MX nor A/AAAA records"))
        }
        Answer::Failed(why) => resolved.problem = Some(format!("cannot resolve {input}: {why}")),
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_domain_of_hosts() {
        assert_eq!(parent_domain("mail.ref.test"), Some("ref.test".into()));
        assert_eq!(
            parent_domain("MX1.Example.COM."),
            Some("example.com".into())
        );
        assert_eq!(parent_domain("example.com"), None);
        assert_eq!(parent_domain("localhost"), None);
    }
}
