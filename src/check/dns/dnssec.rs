//! `dns.dnssec`: the mail domain's zone and each MX host's zone validate as DNSSEC-secure from
//! the trust anchor, validated by mailcheck itself ([`crate::probe::dnssec`]).

use crate::check::dns::{Findings, on_mail_domain};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dnssec::{Security, ZoneState};

pub struct DnsDnssec;

static INFO: CheckInfo = CheckInfo {
    id: "dns.dnssec",
    title: "Mail domain and MX zones are DNSSEC-signed",
    category: Category::Dns,
    severity: Severity::Medium,
    scope: Scope::Target,
    what: "Walks the DNSSEC chain from the trust anchor (the IANA root key, or `--trust-anchor \
           FILE`) down to the zone of the mail domain and of each MX host: DS in the parent → \
           DNSKEY of the zone → RRSIG over it, every signature verified by mailcheck itself \
           (a resolver's AD bit is not trusted). Secure passes; a delegation that a signed NSEC \
           proves unsigned warns; a bad or expired signature, a DS that matches no key or a \
           missing proof fails.",
    why: "Without DNSSEC anyone on the path can forge the MX, SPF and DMARC answers a sender \
          relies on, and DANE (dns.tlsa) cannot work: senders ignore TLSA records of an \
          unsigned zone. A bogus zone is worse than none: validating resolvers answer SERVFAIL \
          and mail to the domain stops.",
    fix: "Sign the zone (BIND `dnssec-policy default;`, Knot `dnssec-signing: on`, or \
          `ldns-signzone`/`dnssec-signzone`) and publish its DS at the registrar (the parent \
          zone); re-sign before the RRSIGs expire (automatic with dnssec-policy). Check with \
          `delv @resolver example.com SOA +rtrace` or `dig +dnssec example.com DNSKEY`. On the \
          Postfix side, `smtp_dns_support_level = dnssec` (with a validating resolver in \
          /etc/resolv.conf) lets Postfix use the signed answers, and is what \
          `smtp_tls_security_level = dane` needs.",
    opt_in: false,
    title_fr: Some("Le domaine de messagerie et les zones des MX sont signés DNSSEC"),
    fix_fr: Some(
        "Signez la zone (BIND `dnssec-policy default;`, Knot `dnssec-signing: on`, ou \
         `ldns-signzone`/`dnssec-signzone`) et publiez son DS chez le registraire (la zone \
         parente) ; resignez avant l'expiration des RRSIG (automatique avec dnssec-policy). \
         Vérifiez avec `delv @resolver example.com SOA +rtrace` ou `dig +dnssec example.com \
         DNSKEY`. Côté Postfix, `smtp_dns_support_level = dnssec` (avec un résolveur validant \
         dans /etc/resolv.conf) fait utiliser les réponses signées, et c'est ce qu'exige \
         `smtp_tls_security_level = dane`.",
    ),
};

/// One finding for a name and its zone's state.
pub fn judge(findings: &mut Findings, what: &str, name: &str, state: &ZoneState) {
    let zone = state.zone.to_string();
    match &state.security {
        Security::Secure => {
            let top = state.chain.last().map(String::as_str).unwrap_or_default();
            findings.pass(format!("{what} {name}: zone {zone} is secure ({top})"));
        }
        Security::Insecure(why) => findings.warn(format!(
            "{what} {name}: insecure, the zone is not signed ({why})"
        )),
        Security::Bogus(why) => findings.fail(format!(
            "{what} {name}: bogus ({why}): validating resolvers answer SERVFAIL"
        )),
        Security::Unknown(why) => findings.error(format!("{what} {name}: cannot validate: {why}")),
    }
}

#[async_trait::async_trait]
impl Check for DnsDnssec {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        on_mail_domain(ctx, async |domain, findings| {
            let validator = ctx.dns.dnssec();
            findings.note(format!("trust anchor: {}", validator.anchors()));
            let mut names = vec![("mail domain", domain.to_string())];
            for (host, _) in &ctx.target.hosts {
                if let Some(host) = host
                    && !names.iter().any(|(_, n)| n == host)
                {
                    names.push(("MX host", host.clone()));
                }
            }
            let mut zones_shown: Vec<String> = Vec::new();
            for (what, name) in names {
                let state = validator.zone_state(&name).await;
                let zone = state.zone.to_string();
                if !zones_shown.contains(&zone) {
                    findings.evidence.extend(state.queries.iter().cloned());
                    for line in &state.chain {
                        findings.note(line.clone());
                    }
                    zones_shown.push(zone);
                }
                judge(findings, what, &name, &state);
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dns::tests::run_with;
    use crate::check::{Settings, Verdict};
    use crate::outcome::Status;
    use crate::probe::dnssec::Anchors;
    use crate::probe::dnssec::signed::{Tree, Zone};
    use hickory_resolver::proto::op::ResponseCode;
    use hickory_resolver::proto::rr::RecordType;

    async fn run(tree: Tree, root: &Zone, input: &str) -> Verdict {
        let anchors = Anchors::parse(&format!("test. IN DS {}", root.ds()), "lab").unwrap();
        let dns = tree.dns().with_trust_anchors(anchors);
        let settings = Settings::default();
        // `--domain`-less host target: the domain is the parent.
        run_with(&DnsDnssec, input, dns, &settings).await
    }

    #[tokio::test]
    async fn verdicts_follow_the_chain() {
        let root = Zone::new("test");
        let reference = Zone::new("ref.test");
        let other = Zone::new("bogus.test");
        let tree = || {
            Tree::default()
                .keys(&root)
                .keys(&reference)
                .delegate(&root, &reference)
                .nodata(
                    &root,
                    "weak.test",
                    RecordType::DS,
                    "zz.test",
                    &[RecordType::NS, RecordType::RRSIG, RecordType::NSEC],
                )
                .nodata(
                    &reference,
                    "mail.ref.test",
                    RecordType::DS,
                    "ref.test",
                    &[RecordType::A, RecordType::RRSIG, RecordType::NSEC],
                )
                .delegate(&root, &other)
                .empty(
                    "bogus.test",
                    RecordType::DNSKEY,
                    ResponseCode::NoError,
                    vec![],
                )
        };
        // The fixture answers no address queries: the host target's domain is its parent.
        let secure = run(tree(), &root, "mail.ref.test").await;
        assert_eq!(secure.status, Status::Pass, "{secure:?}");
        assert!(
            secure.message.contains("zone ref.test. is secure"),
            "{secure:?}"
        );
        assert!(
            secure
                .evidence
                .iter()
                .any(|l| l.contains(&format!("DS {} alg 13", reference.tag()))),
            "{:?}",
            secure.evidence
        );
        let weak = run(tree(), &root, "mail.weak.test").await;
        assert_eq!(weak.status, Status::Warn, "{weak:?}");
        assert!(weak.message.contains("insecure"), "{weak:?}");
        let bogus = run(tree(), &root, "mail.bogus.test").await;
        assert_eq!(bogus.status, Status::Fail, "{bogus:?}");
        assert!(bogus.message.contains("no DNSKEY"), "{bogus:?}");
    }

    #[tokio::test]
    async fn no_chain_is_an_error_with_the_reason() {
        let root = Zone::new("test");
        // The resolver refuses every DNSKEY query.
        let verdict = run(Tree::default(), &root, "mail.ref.test").await;
        assert_eq!(verdict.status, Status::Error, "{verdict:?}");
        assert!(verdict.message.contains("REFUSED"), "{verdict:?}");
    }
}
