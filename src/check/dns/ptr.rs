//! `dns.ptr`: every address of the mail host has a forward-confirmed PTR (FCrDNS), and it
//! matches the name the server greets with on port 25.

use std::net::IpAddr;

use crate::check::dns::{Findings, on_addresses};
use crate::check::{Check, CheckInfo, Ctx, Endpoint, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::{Answer, normal};
use crate::probe::smtp::{OpenOptions, Session};

pub struct DnsPtr;

static INFO: CheckInfo = CheckInfo {
    id: "dns.ptr",
    title: "Addresses have a forward-confirmed PTR",
    category: Category::Dns,
    severity: Severity::Medium,
    scope: Scope::Target,
    what: "For each address of the mail host: looks up its PTR record, then the A/AAAA records \
           of that name, which must include the address (forward-confirmed reverse DNS). Then \
           reads the port-25 greeting: a PTR name that differs from the name the greeting \
           starts with is a warning (no greeting, no warning).",
    why: "Receivers (and the course: \"sans PTR correct, vos emails seront considérés comme \
          spam\") reject or score down mail from addresses without a matching reverse name; \
          Postfix's own `reject_unknown_client_hostname` does exactly this check.",
    fix: "Ask the hosting provider (who owns the reverse zone) to set the PTR of the server's \
          address to its host name, e.g. `10.113.0.203.in-addr.arpa. IN PTR mail.example.com.`, \
          make that name's A record point back to the address, and keep Postfix's \
          `myhostname` (hence the greeting `smtpd_banner = $myhostname ESMTP`) the same name. \
          Check with `dig -x 203.0.113.10 +short`.",
    opt_in: false,
    title_fr: Some("Les adresses ont un PTR confirmé dans les deux sens"),
    fix_fr: Some(
        "Demandez à l'hébergeur (qui gère la zone inverse) de régler le PTR de l'adresse \
                  du serveur sur son nom d'hôte, par exemple `10.113.0.203.in-addr.arpa. IN PTR \
                  mail.example.com.`, faites pointer l'enregistrement A de ce nom vers l'adresse, \
                  et gardez ce même nom comme `myhostname` dans Postfix (donc dans la bannière \
                  `smtpd_banner = $myhostname ESMTP`). Vérifiez avec `dig -x 203.0.113.10 \
                  +short`.",
    ),
};

/// What was seen for one address.
#[derive(Debug)]
pub struct PtrObservation {
    pub ip: IpAddr,
    pub ptr: Answer<String>,
    /// Each PTR name and the addresses it resolves to.
    pub forward: Vec<(String, Answer<IpAddr>)>,
    /// The first word of the port-25 greeting, when one was read.
    pub greeting_name: Option<String>,
}

impl PtrObservation {
    /// The PTR names that resolve back to the address.
    pub fn confirmed(&self) -> Vec<&str> {
        self.forward
            .iter()
            .filter(|(_, answer)| answer.records().contains(&self.ip))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

pub fn judge(seen: &PtrObservation, findings: &mut Findings) {
    let ip = seen.ip;
    let names = match &seen.ptr {
        Answer::Failed(why) => {
            return findings.error(format!("cannot look up the PTR of {ip}: {why}"));
        }
        Answer::NxDomain | Answer::NoData => {
            return findings.fail(format!("{ip} has no PTR record"));
        }
        Answer::Records(names) => names,
    };
    let confirmed = seen.confirmed();
    let Some(name) = confirmed.first() else {
        if let Some((name, Answer::Failed(why))) = seen
            .forward
            .iter()
            .find(|(_, answer)| matches!(answer, Answer::Failed(_)))
        {
            return findings.error(format!("cannot resolve {name} (the PTR of {ip}): {why}"));
        }
        return findings.fail(format!(
            "the PTR of {ip} ({}) does not resolve back to {ip} (not forward-confirmed)",
            names.join(", ")
        ));
    };
    match &seen.greeting_name {
        Some(greeting) if !confirmed.contains(&normal(greeting).as_str()) => findings.warn(
            format!("the PTR of {ip} is {name}, but port 25 greets as {greeting}"),
        ),
        Some(_) => findings.pass(format!(
            "{ip} → {name} → {ip}, and port 25 greets as {name}"
        )),
        None => findings.pass(format!("{ip} → {name} → {ip}")),
    }
}

/// The first word of the greeting on the address's port 25, bounded by the timeout.
async fn greeting_name(
    ctx: &Ctx<'_>,
    ip: IpAddr,
    host: Option<String>,
    findings: &mut Findings,
) -> Option<String> {
    let endpoint = Endpoint {
        ip,
        port: ctx.port(Role::Mx),
        role: Role::Mx,
        host,
    };
    let options = OpenOptions {
        addr: endpoint.addr(),
        server_name: endpoint.server_name(),
        implicit_tls: false,
        starttls: false,
        helo_name: ctx.settings.smtp.helo_name.clone(),
        retry_pause: ctx.settings.smtp.retry_pause,
    };
    let label = endpoint.label(Stage::Greeted);
    match tokio::time::timeout(ctx.net.timeout, Session::open(&options, ctx.net)).await {
        Ok(Ok(session)) => {
            findings
                .evidence
                .extend(session.greeting.wire_lines().map(|l| format!("S: {l}")));
            let name = session
                .greeting
                .first_line()
                .split_whitespace()
                .next()
                .map(normal);
            session.client.quit().await;
            name
        }
        Ok(Err(failure)) => {
            findings.note(format!(
                "no greeting from {label} ({}): the PTR is not compared with it",
                failure.kind.describe()
            ));
            None
        }
        Err(_) => {
            findings.note(format!(
                "no greeting from {label} within {} s: the PTR is not compared with it",
                ctx.net.timeout.as_secs_f64()
            ));
            None
        }
    }
}

#[async_trait::async_trait]
impl Check for DnsPtr {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        on_addresses(ctx, async |addresses, findings| {
            for (host, ip) in addresses {
                let (ptr, exchange) = ctx.dns.ptr(*ip).await;
                findings.exchange(exchange);
                let mut forward = Vec::new();
                for name in ptr.records().iter().take(10) {
                    let (answer, exchange) = ctx.dns.addresses(name).await;
                    findings.exchange(exchange);
                    forward.push((name.clone(), answer));
                }
                let mut seen = PtrObservation {
                    ip: *ip,
                    ptr,
                    forward,
                    greeting_name: None,
                };
                if !seen.confirmed().is_empty() {
                    seen.greeting_name = greeting_name(ctx, *ip, host.clone(), findings).await;
                }
                judge(&seen, findings);
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dns::tests::run_on;
    use crate::outcome::Status;
    use crate::probe::dns::fixture::Fixture;

    fn observe(ptr: Answer<String>, forward: &[(&str, &str)], greeting: Option<&str>) -> Verdict {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let seen = PtrObservation {
            ip,
            ptr,
            forward: forward
                .iter()
                .map(|(name, addr)| {
                    let answer = if addr.is_empty() {
                        Answer::NxDomain
                    } else {
                        Answer::Records(vec![addr.parse().unwrap()])
                    };
                    (name.to_string(), answer)
                })
                .collect(),
            greeting_name: greeting.map(String::from),
        };
        let mut findings = Findings::default();
        judge(&seen, &mut findings);
        findings.verdict()
    }

    #[test]
    fn forward_confirmed_matching_the_greeting_passes() {
        let names = || Answer::Records(vec!["mail.example.test".to_string()]);
        let v = observe(
            names(),
            &[("mail.example.test", "192.0.2.1")],
            Some("mail.example.test"),
        );
        assert_eq!(v.status, Status::Pass, "{v:?}");
        let v = observe(
            names(),
            &[("mail.example.test", "192.0.2.1")],
            Some("MAIL.example.test."),
        );
        assert_eq!(v.status, Status::Pass, "{v:?}");
        // No greeting read: nothing to compare, still a pass on DNS alone.
        let v = observe(names(), &[("mail.example.test", "192.0.2.1")], None);
        assert_eq!(v.status, Status::Pass);
        assert_eq!(v.message, "192.0.2.1 → mail.example.test → 192.0.2.1");
    }

    #[test]
    fn greeting_with_another_name_warns() {
        let v = observe(
            Answer::Records(vec!["mail.example.test".into()]),
            &[("mail.example.test", "192.0.2.1")],
            Some("localhost.localdomain"),
        );
        assert_eq!(v.status, Status::Warn);
        assert!(v.message.contains("greets as localhost.localdomain"));
    }

    #[test]
    fn missing_or_unconfirmed_ptr_fails_servfail_is_error() {
        assert_eq!(observe(Answer::NxDomain, &[], None).status, Status::Fail);
        let v = observe(
            Answer::Records(vec!["vps-1.provider.test".into()]),
            &[("vps-1.provider.test", "198.51.100.7")],
            None,
        );
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("not forward-confirmed"));
        let v = observe(
            Answer::Records(vec!["gone.provider.test".into()]),
            &[("gone.provider.test", "")],
            None,
        );
        assert_eq!(v.status, Status::Fail);
        assert_eq!(
            observe(Answer::Failed("SERVFAIL".into()), &[], None).status,
            Status::Error
        );
    }

    #[tokio::test]
    async fn ipv6_addresses_are_confirmed_through_aaaa() {
        // Both families of one host, each judged on its own: the IPv6 PTR is under ip6.arpa
        // and confirmed by the AAAA record.
        let dns = Fixture::new()
            .mx("example.test", 10, "mail.example.test")
            .a("mail.example.test", "127.0.100.249")
            .a("mail.example.test", "::1")
            .ptr("127.0.100.249", "mail.example.test")
            .ptr("::1", "mail.example.test")
            .dns();
        let v = run_on(&DnsPtr, "example.test", dns).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(
            v.message.contains("::1 → mail.example.test → ::1"),
            "{}",
            v.message
        );
        assert!(
            v.evidence.iter().any(|l| l.starts_with(
                "Q: 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR"
            )),
            "{:?}",
            v.evidence
        );
        // An IPv6 PTR that names a host without that AAAA is not confirmed.
        let dns = Fixture::new()
            .a("mail.example.test", "127.0.100.249")
            .a("mail.example.test", "::1")
            .ptr("127.0.100.249", "mail.example.test")
            .ptr("::1", "other.example.test")
            .a("other.example.test", "127.0.100.249")
            .dns();
        let v = run_on(&DnsPtr, "mail.example.test", dns).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.message.contains("the PTR of ::1"), "{}", v.message);
    }

    #[tokio::test]
    async fn through_the_resolver_seam_and_a_closed_port() {
        // A loopback address where nothing listens on the test's port: no greeting, no warning.
        let dns = Fixture::new()
            .mx("example.test", 10, "mail.example.test")
            .a("mail.example.test", "127.0.100.249")
            .ptr("127.0.100.249", "mail.example.test")
            .dns();
        let v = run_on(&DnsPtr, "example.test", dns).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(
            v.evidence
                .iter()
                .any(|l| l.starts_with("* no greeting from 127.0.100.249:1/smtp")),
            "{:?}",
            v.evidence
        );
    }
}
