//! From what the user typed to the hosts and addresses to check (SPEC "CLI": `TARGET`).
//!
//! An address is checked as is; a domain with MX records is checked through its MX hosts (up
//! to 10); anything else is a host, checked directly, whose mail domain is `--domain` or its
//! parent (the host itself when it is a registered domain: mail to it goes to its address,
//! RFC 5321 §5.1). Every DNS exchange is kept as evidence for the report, and a note says
//! which mail domain the DNS checks use and why.

use std::net::IpAddr;

use crate::probe::dns::{Answer, Dns};

/// Most MX hosts checked for one domain (SPEC).
const MAX_MX_HOSTS: usize = 10;

/// What the user's TARGET turned out to be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetKind {
    /// An IP address: checked as is; its mail domain only comes from `--domain`.
    Address,
    /// A domain with MX records: checked through its MX hosts.
    MailDomain,
    /// A domain whose lone MX is the null MX (RFC 7505): it takes no mail, no host to check.
    NullMx,
    /// A host name (or a name that did not resolve), checked directly.
    #[default]
    Host,
}

#[derive(Clone, Debug, Default)]
pub struct ResolvedTarget {
    pub kind: TargetKind,
    /// Hosts to check with their addresses; the name is `None` for an address target.
    pub hosts: Vec<(Option<String>, Vec<IpAddr>)>,
    pub domain: Option<String>,
    /// Why nothing can be checked, when that is so.
    pub problem: Option<String>,
    /// The domain publishes a lone null MX (RFC 7505): it takes no mail.
    pub null_mx: bool,
    pub evidence: Vec<String>,
    /// `* mail domain ...: why`, for the DNS checks' evidence.
    pub domain_note: String,
    /// For an address target: the forward-confirmed PTR name its mail domain came from.
    pub ptr_name: Option<String>,
}

impl ResolvedTarget {
    /// Every address once, in the order found.
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.host_addresses()
            .into_iter()
            .map(|(_, ip)| ip)
            .collect()
    }

    /// Each address once, with the first host name it was found under.
    pub fn host_addresses(&self) -> Vec<(Option<String>, IpAddr)> {
        host_addresses(&self.hosts)
    }
}

/// Each address of `hosts` once, with the first host name it was found under (MX hosts may
/// share addresses).
pub fn host_addresses(hosts: &[(Option<String>, Vec<IpAddr>)]) -> Vec<(Option<String>, IpAddr)> {
    let mut pairs: Vec<(Option<String>, IpAddr)> = Vec::new();
    for (name, ips) in hosts {
        for ip in ips {
            if !pairs.iter().any(|(_, seen)| seen == ip) {
                pairs.push((name.clone(), *ip));
            }
        }
    }
    pairs
}

/// The mail domain of a host name: its parent (`mail.ref.test` → `ref.test`), or the host
/// itself when it is a registered domain (`example.com`, `example.co.uk`: the public suffix
/// list says where registered domains start). None for a public suffix or a bare label.
pub fn parent_domain(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let registered = psl::domain_str(&host)?;
    if registered == host {
        return Some(host);
    }
    host.split_once('.').map(|(_, parent)| parent.to_string())
}

/// An address's mail domain from its PTR name, when that name resolves back to the address
/// (an unconfirmed PTR is anyone's claim): `127.0.100.10` → `mail.ref.test` → `ref.test`.
async fn domain_from_ptr(resolved: &mut ResolvedTarget, ip: IpAddr, dns: &Dns) {
    let (names, exchange) = dns.ptr(ip).await;
    resolved.evidence.extend(exchange.lines);
    for name in names.records().iter().take(MAX_MX_HOSTS) {
        let (ips, exchange) = dns.addresses(name).await;
        resolved.evidence.extend(exchange.lines);
        if ips.records().contains(&ip)
            && let Some(domain) = parent_domain(name)
        {
            resolved.domain = Some(domain);
            resolved.ptr_name = Some(name.clone());
            return;
        }
    }
}

/// Says which mail domain the DNS checks use, and where it comes from.
fn domain_note(resolved: &ResolvedTarget, input: &str, given: bool) -> String {
    let Some(domain) = &resolved.domain else {
        return match resolved.kind {
            TargetKind::Address => {
                "* no mail domain: the target is an address without a forward-confirmed PTR name (give --domain)".into()
            }
            _ => format!(
                "* no mail domain: {input} is not under a registered domain (give --domain)"
            ),
        };
    };
    if given {
        return format!("* mail domain {domain}: from --domain");
    }
    if let Some(name) = &resolved.ptr_name {
        return format!(
            "* mail domain {domain}: the parent of {name}, the forward-confirmed PTR name of {input} (--domain sets another)"
        );
    }
    match resolved.kind {
        TargetKind::NullMx => {
            format!(
                "* mail domain {domain}: the target itself, which takes no mail (lone null MX, RFC 7505)"
            )
        }
        TargetKind::MailDomain => {
            format!(
                "* mail domain {domain}: the target itself, a domain with MX records (its MX hosts are checked)"
            )
        }
        _ if domain == input => format!(
            "* mail domain {domain}: the host itself, a registered domain without MX (mail goes to its address, RFC 5321 §5.1)"
        ),
        _ => format!(
            "* mail domain {domain}: the parent of the host {input} (--domain sets another)"
        ),
    }
}

pub async fn resolve(input: &str, domain: Option<&str>, dns: &Dns) -> ResolvedTarget {
    let input = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut resolved = resolve_kind(&input, domain, dns).await;
    resolved.domain_note = domain_note(&resolved, &input, domain.is_some());
    resolved
}

/// Most characters of a host name (RFC 1035 §2.3.4) and of one of its labels.
const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

/// Checks that TARGET is something we can look up: an IP address (IPv6 in brackets or not)
/// or a host name of letters, digits, `-` and `_` in dot-separated labels. The error is the
/// reason, for the one line `run` prints (`mail.example.com:2525`, `exa mple`, a URL).
pub fn check_syntax(input: &str) -> Result<(), String> {
    let literal = input.trim_start_matches('[').trim_end_matches(']');
    if literal.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if input.is_empty() {
        return Err("the target is empty".into());
    }
    if input.contains("://") {
        return Err(format!(
            "{input:?} is a URL, not a host name: give the host alone (e.g. mail.example.com)"
        ));
    }
    if let Some((host, port)) = input.rsplit_once(':')
        && !host.contains(':')
        && port.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "{input:?} carries a port: give the host alone ({host}); ports come from the scenario's `ports:`"
        ));
    }
    if !input.is_ascii() {
        return Err(format!(
            "{input:?} is not an ASCII host name: give an internationalized name in its xn-- form"
        ));
    }
    if let Some(bad) = input
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{input:?} is not a host name or an IP address: {bad:?} cannot appear in one"
        ));
    }
    if input.len() > MAX_NAME {
        return Err(format!(
            "the target is {} characters long: a host name has at most {MAX_NAME}",
            input.len()
        ));
    }
    for label in input.split('.') {
        if label.is_empty() {
            return Err(format!("{input:?} has an empty label (two dots in a row?)"));
        }
        if label.len() > MAX_LABEL {
            return Err(format!(
                "{input:?} has a label of {} characters: at most {MAX_LABEL}",
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "{input:?} is not a host name: the label {label:?} starts or ends with `-`"
            ));
        }
    }
    Ok(())
}

async fn resolve_kind(input: &str, domain: Option<&str>, dns: &Dns) -> ResolvedTarget {
    let mut resolved = ResolvedTarget {
        domain: domain.map(str::to_ascii_lowercase),
        ..Default::default()
    };
    if let Err(problem) = check_syntax(input) {
        resolved.problem = Some(problem);
        return resolved;
    }
    let literal = input.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        resolved.kind = TargetKind::Address;
        resolved.hosts.push((None, vec![ip]));
        if resolved.domain.is_none() {
            domain_from_ptr(&mut resolved, ip, dns).await;
        }
        return resolved;
    }
    let (mx, exchange) = dns.mx(input).await;
    resolved.evidence.extend(exchange.lines);
    match mx {
        Answer::Records(records) => {
            resolved.kind = TargetKind::MailDomain;
            if records.iter().any(|(_, host)| host.is_empty()) {
                if records.len() == 1 {
                    resolved.kind = TargetKind::NullMx;
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
        Answer::NoData | Answer::NxDomain => {}
        // Without an answer we cannot know whether the domain has MX: say so, and still try
        // the name as a host (the dns checks report the failure itself as `error`).
        Answer::Failed(why) => resolved.evidence.push(format!(
            "* the MX look-up of {input} failed ({why}): checking it as a host"
        )),
    }
    let (ips, exchange) = dns.addresses(input).await;
    resolved.evidence.extend(exchange.lines);
    // A host's mail domain is its parent whether or not the host resolves: the DNS checks
    // of the domain still tell something when the host is missing.
    if resolved.domain.is_none() {
        resolved.domain = parent_domain(input);
    }
    match ips {
        Answer::Records(ips) => {
            resolved.hosts.push((Some(input.to_string()), ips));
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
        // A registered domain is its own mail domain (no going up to a public suffix).
        assert_eq!(parent_domain("example.com"), Some("example.com".into()));
        assert_eq!(parent_domain("example.co.uk"), Some("example.co.uk".into()));
        assert_eq!(
            parent_domain("mx.example.co.uk"),
            Some("example.co.uk".into())
        );
        assert_eq!(parent_domain("co.uk"), None);
        assert_eq!(parent_domain("localhost"), None);
    }

    #[test]
    fn targets_that_cannot_be_looked_up_say_why() {
        for good in [
            "mail.example.com",
            "example.com",
            "localhost",
            "_dmarc.example.com",
            "192.0.2.25",
            "2001:db8::25",
            "[2001:db8::25]",
            "xn--exmple-cua.com",
        ] {
            assert!(check_syntax(good).is_ok(), "{good}");
        }
        let cases = [
            ("exa mple", "' '"),
            ("mail.example.com:2525", "carries a port"),
            ("smtp://mail.example.com", "is a URL"),
            ("exämple.com", "xn--"),
            ("mail..example.com", "empty label"),
            ("-mail.example.com", "starts or ends with `-`"),
            ("", "empty"),
        ];
        for (bad, why) in cases {
            let err = check_syntax(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(check_syntax(&long).unwrap_err().contains("at most 63"));
        let longer = ["abcdefghij"; 30].join(".");
        assert!(check_syntax(&longer).unwrap_err().contains("at most 253"));
    }
}
