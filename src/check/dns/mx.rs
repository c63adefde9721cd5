//! `dns.mx`: the mail domain has usable MX records (RFC 5321 §5.1, RFC 7505 for null MX).

use std::net::IpAddr;

use crate::check::dns::{Findings, on_mail_domain};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::Answer;
use crate::target::TargetKind;

pub struct DnsMx;

static INFO: CheckInfo = CheckInfo {
    id: "dns.mx",
    title: "The mail domain has valid MX records",
    category: Category::Dns,
    severity: Severity::High,
    scope: Scope::Target,
    what: "Looks up the MX records of the mail domain: there is at least one; the checked host \
           is one of them; every MX target (up to 10) is a host name (not an IP literal, not a \
           CNAME, RFC 2181 §10.3) with an address. A lone null MX (`0 .`, RFC 7505) says the \
           domain takes no mail: reported, and the mail-port checks are skipped; a null MX \
           beside other MX records fails.",
    why: "Senders look up MX to find where to deliver; a missing MX falls back to the domain's \
          own address, a CNAME or IP-literal target is refused by strict senders, and a stray \
          null MX makes some senders bounce everything.",
    fix: "Publish `example.com. IN MX 10 mail.example.com.` pointing at the host name of the \
          Postfix server (its `myhostname`, with an A record, not a CNAME), as in the course's \
          DNS module; remove any `0 .` record unless the domain must take no mail. Check with \
          `dig +short example.com MX`.",
    opt_in: false,
    title_fr: Some("Le domaine de messagerie a des enregistrements MX valides"),
    fix_fr: Some(
        "Publiez `example.com. IN MX 10 mail.example.com.` qui pointe vers le nom d'hôte \
                  du serveur Postfix (son `myhostname`, avec un enregistrement A, pas un CNAME), \
                  comme dans le module DNS du cours ; supprimez tout enregistrement `0 .` sauf si \
                  le domaine ne doit recevoir aucun courrier. Vérifiez avec `dig +short \
                  example.com MX`.",
    ),
};

/// One MX target as looked up.
#[derive(Debug)]
pub struct MxHost {
    pub name: String,
    pub cname: Answer<String>,
    pub addresses: Answer<IpAddr>,
}

/// Everything `judge` needs.
#[derive(Debug)]
pub struct MxObservation {
    pub domain: String,
    pub mx: Answer<(u16, String)>,
    pub hosts: Vec<MxHost>,
    pub kind: TargetKind,
    /// The target as given (a host name or an address).
    pub input: String,
    pub target_addresses: Vec<IpAddr>,
}

fn ip_literal(name: &str) -> bool {
    name.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok()
}

pub fn judge(seen: &MxObservation, findings: &mut Findings) {
    let domain = &seen.domain;
    let records = match &seen.mx {
        Answer::Failed(why) => {
            return findings.error(format!("cannot look up the MX records of {domain}: {why}"));
        }
        Answer::NxDomain => return findings.fail(format!("{domain} does not exist (NXDOMAIN)")),
        Answer::NoData => {
            return findings.fail(format!(
                "{domain} has no MX record (senders fall back to its address, RFC 5321 §5.1)"
            ));
        }
        Answer::Records(records) => records,
    };
    let nulls = records.iter().filter(|(_, host)| host.is_empty()).count();
    if nulls > 0 && records.len() == 1 {
        if seen.kind == TargetKind::NullMx {
            return findings.pass(format!(
                "{domain} publishes a lone null MX (RFC 7505): it takes no mail, so the mail-port checks are skipped"
            ));
        }
        return findings.fail(format!(
            "{domain} publishes a null MX (RFC 7505: it takes no mail), yet {} is checked as its mail server",
            seen.input
        ));
    }
    if nulls > 0 {
        findings.fail(format!(
            "a null MX (`0 .`) stands beside {} other MX record(s) of {domain} (RFC 7505 §3 forbids it)",
            records.len() - nulls
        ));
    }
    let mut described = Vec::new();
    for host in &seen.hosts {
        let name = &host.name;
        if ip_literal(name) {
            findings.fail(format!(
                "MX target {name} is an IP address, not a host name (RFC 5321 §5.1)"
            ));
            continue;
        }
        match &host.cname {
            Answer::Records(targets) => findings.fail(format!(
                "MX target {name} is a CNAME (to {}); RFC 2181 §10.3 forbids it",
                targets.join(", ")
            )),
            Answer::Failed(why) => findings.error(format!("cannot look up CNAME of {name}: {why}")),
            Answer::NoData | Answer::NxDomain => {}
        }
        match &host.addresses {
            Answer::Records(ips) => {
                let list: Vec<String> = ips.iter().map(ToString::to_string).collect();
                described.push(format!("{name} ({})", list.join(", ")));
            }
            Answer::NxDomain | Answer::NoData => {
                findings.fail(format!("MX target {name} has no A/AAAA record"))
            }
            Answer::Failed(why) => {
                findings.error(format!("cannot resolve MX target {name}: {why}"))
            }
        }
    }
    let names: Vec<&str> = seen.hosts.iter().map(|h| h.name.as_str()).collect();
    match seen.kind {
        TargetKind::Host if !names.contains(&seen.input.as_str()) => findings.fail(format!(
            "{} is not among the MX hosts of {domain} ({})",
            seen.input,
            names.join(", ")
        )),
        TargetKind::Address
            if !seen.hosts.iter().any(|h| {
                h.addresses
                    .records()
                    .iter()
                    .any(|ip| seen.target_addresses.contains(ip))
            }) =>
        {
            findings.fail(format!(
                "{} is not an address of any MX host of {domain}",
                seen.input
            ))
        }
        _ => {}
    }
    if !described.is_empty() {
        findings.pass(format!("{domain} MX → {}", described.join(", ")));
    }
}

#[async_trait::async_trait]
impl Check for DnsMx {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        on_mail_domain(ctx, async |domain, findings| {
            let (mx, exchange) = ctx.dns.mx(domain).await;
            findings.exchange(exchange);
            let mut hosts = Vec::new();
            for (_, name) in mx.records().iter().filter(|(_, h)| !h.is_empty()).take(10) {
                if ip_literal(name) {
                    hosts.push(MxHost {
                        name: name.clone(),
                        cname: Answer::NoData,
                        addresses: Answer::NoData,
                    });
                    continue;
                }
                let (cname, exchange) = ctx.dns.cname(name).await;
                findings.exchange(exchange);
                let (addresses, exchange) = ctx.dns.addresses(name).await;
                findings.exchange(exchange);
                hosts.push(MxHost {
                    name: name.clone(),
                    cname,
                    addresses,
                });
            }
            let seen = MxObservation {
                domain: domain.to_string(),
                mx,
                hosts,
                kind: ctx.target.kind,
                input: ctx.target.input.trim_end_matches('.').to_ascii_lowercase(),
                target_addresses: ctx
                    .target
                    .hosts
                    .iter()
                    .flat_map(|(_, ips)| ips.iter().copied())
                    .collect(),
            };
            judge(&seen, findings);
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

    #[tokio::test]
    async fn a_good_mx_passes() {
        let dns = Fixture::new()
            .mx("example.test", 10, "mail.example.test")
            .a("mail.example.test", "192.0.2.1")
            .dns();
        let verdict = run_on(&DnsMx, "example.test", dns).await;
        assert_eq!(verdict.status, Status::Pass, "{verdict:?}");
        assert_eq!(
            verdict.message,
            "example.test MX → mail.example.test (192.0.2.1)"
        );
        assert!(
            verdict
                .evidence
                .iter()
                .any(|l| l.starts_with("* mail domain example.test"))
        );
    }

    #[tokio::test]
    async fn null_mx_alone_is_reported_beside_others_fails() {
        let dns = Fixture::new().mx("nomail.test", 0, ".").dns();
        let verdict = run_on(&DnsMx, "nomail.test", dns).await;
        assert_eq!(verdict.status, Status::Pass, "{verdict:?}");
        assert!(verdict.message.contains("lone null MX"));

        let dns = Fixture::new()
            .mx("mixed.test", 0, ".")
            .mx("mixed.test", 10, "mail.mixed.test")
            .a("mail.mixed.test", "192.0.2.1")
            .dns();
        let verdict = run_on(&DnsMx, "mixed.test", dns).await;
        assert_eq!(verdict.status, Status::Fail, "{verdict:?}");
        assert!(verdict.message.contains("RFC 7505 §3"));
    }

    #[tokio::test]
    async fn cname_ip_literal_and_unresolved_targets_fail() {
        let dns = Fixture::new()
            .mx("example.test", 10, "alias.example.test")
            .mx("example.test", 20, "192.0.2.9")
            .mx("example.test", 30, "gone.example.test")
            .cname("alias.example.test", "real.example.test")
            .a("real.example.test", "192.0.2.1")
            .a("192.0.2.9", "192.0.2.9")
            .dns();
        let verdict = run_on(&DnsMx, "example.test", dns).await;
        assert_eq!(verdict.status, Status::Fail);
        for part in [
            "alias.example.test is a CNAME",
            "192.0.2.9 is an IP address",
            "gone.example.test has no A/AAAA",
        ] {
            assert!(
                verdict.message.contains(part),
                "{part}: {}",
                verdict.message
            );
        }
    }

    #[tokio::test]
    async fn the_checked_host_must_be_an_mx() {
        let dns = Fixture::new()
            .mx("example.test", 10, "mx.example.test")
            .a("mx.example.test", "192.0.2.1")
            .a("other.example.test", "192.0.2.2")
            .dns();
        let verdict = run_on(&DnsMx, "other.example.test", dns).await;
        assert_eq!(verdict.status, Status::Fail, "{verdict:?}");
        assert!(
            verdict
                .message
                .contains("other.example.test is not among the MX hosts")
        );
    }

    #[tokio::test]
    async fn missing_mx_fails_and_servfail_is_an_error() {
        let dns = Fixture::new().a("example.test", "192.0.2.1").dns();
        let verdict = run_on(&DnsMx, "example.test", dns).await;
        assert_eq!(verdict.status, Status::Fail, "{verdict:?}");
        let dns = Fixture::new()
            .a("mail.example.test", "192.0.2.1")
            .fail(
                "example.test",
                hickory_resolver::proto::rr::RecordType::MX,
                "SERVFAIL",
            )
            .dns();
        let verdict = run_on(&DnsMx, "mail.example.test", dns).await;
        assert_eq!(verdict.status, Status::Error, "{verdict:?}");
        assert!(verdict.message.contains("SERVFAIL"));
    }
}
