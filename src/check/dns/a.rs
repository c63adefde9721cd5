//! `dns.a`: the mail host(s) have A/AAAA records.

use crate::check::dns::Findings;
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::{Answer, Dns};
use crate::target::TargetKind;

pub struct DnsA;

static INFO: CheckInfo = CheckInfo {
    id: "dns.a",
    title: "Mail hosts have A/AAAA records",
    category: Category::Dns,
    severity: Severity::High,
    scope: Scope::Target,
    what: "Looks up the A and AAAA records of the mail host: every MX host of a domain target \
           (up to 10), or the host given as the target.",
    why: "Senders deliver to the addresses of the MX hosts; a host name without an address \
          cannot receive mail, and `myhostname` must resolve for HELO checks to pass elsewhere.",
    fix: "Publish an A record (and AAAA if the server has IPv6) for the mail host, e.g. \
          `mail.example.com. IN A 203.0.113.10`, the name Postfix uses as `myhostname`; \
          check with `dig +short mail.example.com A`.",
    opt_in: false,
    title_fr: Some("Les hôtes de messagerie ont des enregistrements A/AAAA"),
    fix_fr: Some(
        "Publiez un enregistrement A (et AAAA si le serveur a de l'IPv6) pour l'hôte de \
                  messagerie, par exemple `mail.example.com. IN A 203.0.113.10`, le nom que \
                  Postfix utilise comme `myhostname` ; vérifiez avec `dig +short mail.example.com \
                  A`.",
    ),
};

/// How one host name resolved.
#[derive(Debug, PartialEq)]
pub enum HostAddresses {
    Found(Vec<std::net::IpAddr>),
    Missing(&'static str),
    Failed(String),
}

pub fn judge(findings: &mut Findings, host: &str, addresses: &HostAddresses) {
    match addresses {
        HostAddresses::Found(ips) => {
            let list: Vec<String> = ips.iter().map(ToString::to_string).collect();
            findings.pass(format!("{host} → {}", list.join(", ")));
        }
        HostAddresses::Missing(why) => {
            findings.fail(format!("{host} has no A/AAAA record ({why})"))
        }
        HostAddresses::Failed(why) => findings.error(format!("cannot resolve {host}: {why}")),
    }
}

/// The host names to look up: the MX hosts of a domain target, or the target host itself.
async fn hosts(ctx: &Ctx<'_>, dns: &Dns, findings: &mut Findings) -> Result<Vec<String>, Verdict> {
    match ctx.target.kind {
        TargetKind::Address => Err(Verdict::skip(
            "the target is an address: there is no host name to look up",
        )),
        TargetKind::Host => Ok(vec![
            ctx.target.input.trim_end_matches('.').to_ascii_lowercase(),
        ]),
        TargetKind::NullMx => Err(Verdict::skip(format!(
            "{} publishes a lone null MX (RFC 7505): it has no mail host",
            ctx.target.input
        ))),
        TargetKind::MailDomain => {
            let domain = ctx.target.input.trim_end_matches('.').to_ascii_lowercase();
            let (mx, exchange) = dns.mx(&domain).await;
            findings.exchange(exchange);
            match mx {
                Answer::Records(records) => {
                    let names: Vec<String> = records
                        .into_iter()
                        .map(|(_, host)| host)
                        .filter(|host| !host.is_empty())
                        .take(10)
                        .collect();
                    if names.is_empty() {
                        return Err(Verdict::skip(format!(
                            "{domain} publishes a null MX (RFC 7505): it has no mail host"
                        )));
                    }
                    Ok(names)
                }
                Answer::Failed(why) => Err(Verdict::error(format!(
                    "cannot look up the MX records of {domain}: {why}"
                ))),
                Answer::NoData | Answer::NxDomain => Err(Verdict::error(format!(
                    "the MX records of {domain} vanished while checking"
                ))),
            }
        }
    }
}

#[async_trait::async_trait]
impl Check for DnsA {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let mut findings = Findings::new(ctx);
        let names = match hosts(ctx, ctx.dns, &mut findings).await {
            Ok(names) => names,
            Err(verdict) => return verdict.with_evidence(findings.evidence),
        };
        for host in names {
            let (answer, exchange) = ctx.dns.addresses(&host).await;
            findings.exchange(exchange);
            let addresses = match answer {
                Answer::Records(ips) => HostAddresses::Found(ips),
                Answer::NxDomain => HostAddresses::Missing("NXDOMAIN"),
                Answer::NoData => HostAddresses::Missing("the name exists without addresses"),
                Answer::Failed(why) => HostAddresses::Failed(why),
            };
            judge(&mut findings, &host, &addresses);
        }
        findings.verdict()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;

    fn verdict(cases: &[(&str, HostAddresses)]) -> Verdict {
        let mut findings = Findings::default();
        for (host, addresses) in cases {
            judge(&mut findings, host, addresses);
        }
        findings.verdict()
    }

    #[test]
    fn every_host_needs_an_address() {
        let found = || HostAddresses::Found(vec!["192.0.2.1".parse().unwrap()]);
        let ok = verdict(&[("mx1.example.test", found())]);
        assert_eq!(ok.status, Status::Pass);
        assert_eq!(ok.message, "mx1.example.test → 192.0.2.1");
        let one_missing = verdict(&[
            ("mx1.example.test", found()),
            ("mx2.example.test", HostAddresses::Missing("NXDOMAIN")),
        ]);
        assert_eq!(one_missing.status, Status::Fail);
        assert!(
            one_missing
                .message
                .contains("mx2.example.test has no A/AAAA")
        );
        let servfail = verdict(&[("mx1.example.test", HostAddresses::Failed("SERVFAIL".into()))]);
        assert_eq!(servfail.status, Status::Error);
    }
}
