//! Pieces the `dns.*` checks share: how a check of the mail domain or of the target's
//! addresses starts and ends ([`on_mail_domain`], [`on_addresses`]: the evidence note that
//! says where the domain comes from, the skip when there is nothing to look at), and
//! [`Findings`], which adds several observations (one per host, address, selector or zone) up
//! to one verdict.

pub mod a;
pub mod dkim;
pub mod dmarc;
pub mod dnssec;
pub mod mta_sts;
pub mod mx;
pub mod ptr;
pub mod rbl;
pub mod spf;
pub mod tls_rpt;
pub mod tlsa;

use std::net::IpAddr;

use crate::check::{Ctx, Verdict};
use crate::outcome::Status;
use crate::probe::dns::Exchange;
use crate::target::TargetKind;

/// Runs a check of the mail domain: `observe` gets the domain and the findings (which open
/// with the note saying where the domain comes from) and the verdict is theirs. Without a
/// mail domain the check is skipped (see [`mail_domain`]).
pub async fn on_mail_domain(
    ctx: &Ctx<'_>,
    observe: impl AsyncFnOnce(&str, &mut Findings),
) -> Verdict {
    let domain = match mail_domain(ctx) {
        Ok(domain) => domain,
        Err(verdict) => return verdict,
    };
    let mut findings = Findings::new(ctx);
    observe(&domain, &mut findings).await;
    findings.verdict()
}

/// Runs a check of the target's addresses ([`target_addresses`]): `observe` gets them and the
/// findings, and the verdict is theirs. Without any address the check is skipped: dns.a and
/// dns.mx say why there is none.
pub async fn on_addresses(
    ctx: &Ctx<'_>,
    observe: impl AsyncFnOnce(&[(Option<String>, IpAddr)], &mut Findings),
) -> Verdict {
    let mut findings = Findings::new(ctx);
    let addresses = target_addresses(ctx);
    if addresses.is_empty() {
        findings.skip("no address to look up (see dns.a and dns.mx)");
    } else {
        observe(&addresses, &mut findings).await;
    }
    findings.verdict()
}

/// Every address of the target's hosts once, with the first host name it was found under.
pub fn target_addresses(ctx: &Ctx<'_>) -> Vec<(Option<String>, IpAddr)> {
    crate::target::host_addresses(&ctx.target.hosts)
}

/// The mail domain of the target, or the verdict to give when there is none: a `skip`, as
/// the domain's records are not applicable to a bare address (`--domain` names one).
fn mail_domain(ctx: &Ctx<'_>) -> Result<String, Verdict> {
    match &ctx.target.domain {
        Some(domain) => Ok(domain.clone()),
        None => Err(Verdict::skip(match ctx.target.kind {
            TargetKind::Address => {
                "no mail domain: the target is an address; give --domain".to_string()
            }
            _ => format!("no mail domain for {}; give --domain", ctx.target.input),
        })
        .with_evidence([ctx.target.domain_note.clone()])),
    }
}

/// What a DNS check saw: the queries and answers, and what each part of the check found.
/// The verdict is the worst finding: fail, then error (could not tell), then warn, then pass;
/// a [`Findings::skip`] overrides them all.
#[derive(Default)]
pub struct Findings {
    pub evidence: Vec<String>,
    skipped: Option<Vec<String>>,
    fails: Vec<String>,
    errors: Vec<String>,
    warns: Vec<String>,
    passes: Vec<String>,
}

impl Findings {
    /// Starts with the note saying which mail domain is used, and why.
    pub fn new(ctx: &Ctx<'_>) -> Findings {
        let mut findings = Findings::default();
        if !ctx.target.domain_note.is_empty() {
            findings.evidence.push(ctx.target.domain_note.clone());
        }
        findings
    }

    pub fn exchange(&mut self, exchange: Exchange) {
        self.evidence.extend(exchange.lines);
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.evidence.push(format!("* {}", line.into()));
    }

    pub fn fail(&mut self, what: impl Into<String>) {
        self.fails.push(what.into());
    }

    pub fn error(&mut self, what: impl Into<String>) {
        self.errors.push(what.into());
    }

    pub fn warn(&mut self, what: impl Into<String>) {
        self.warns.push(what.into());
    }

    pub fn pass(&mut self, what: impl Into<String>) {
        self.passes.push(what.into());
    }

    /// The check does not apply after all (no address to look up, a parked domain that needs
    /// no key): the verdict is a skip saying why, whatever else was found.
    pub fn skip(&mut self, why: impl Into<String>) {
        self.skipped = Some(vec![why.into()]);
    }

    /// One verdict: the worst status, its findings as the message, every finding in the
    /// evidence after the DNS exchanges.
    pub fn verdict(self) -> Verdict {
        let (status, top) = if let Some(why) = &self.skipped {
            (Status::Skip, why)
        } else if !self.fails.is_empty() {
            (Status::Fail, &self.fails)
        } else if !self.errors.is_empty() {
            (Status::Error, &self.errors)
        } else if !self.warns.is_empty() {
            (Status::Warn, &self.warns)
        } else if !self.passes.is_empty() {
            (Status::Pass, &self.passes)
        } else {
            (Status::Error, &vec!["nothing was observed".to_string()])
        };
        let message = top.join("; ");
        let mut evidence = self.evidence;
        for (label, list) in [
            ("fail", &self.fails),
            ("error", &self.errors),
            ("warn", &self.warns),
        ] {
            if !std::ptr::eq(list, top) {
                evidence.extend(list.iter().map(|what| format!("* also {label}: {what}")));
            }
        }
        Verdict::new(status, message).with_evidence(evidence)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::check::{Check, EndpointState, Settings, Stage, TargetInfo, TargetMemo};
    use crate::probe::dns::Dns;
    use crate::probe::net::NetOptions;

    /// Resolves `input` through `dns` (a fixture) as a run does, then runs a target check.
    pub async fn run_on(check: &dyn Check, input: &str, dns: Dns) -> Verdict {
        run_with(check, input, dns, &Settings::default()).await
    }

    pub async fn run_with(
        check: &dyn Check,
        input: &str,
        dns: Dns,
        settings: &Settings,
    ) -> Verdict {
        let resolved = crate::target::resolve(input, None, &dns).await;
        let target = TargetInfo {
            input: input.to_string(),
            domain: resolved.domain.clone(),
            hosts: resolved.hosts.clone(),
            evidence: resolved.evidence.clone(),
            kind: resolved.kind,
            domain_note: resolved.domain_note.clone(),
        };
        let state = EndpointState::default();
        let memo = TargetMemo::default();
        // Checks that connect (dns.ptr reads the port-25 greeting) go to port 1, where nothing
        // listens: tests that let them connect use loopback addresses only.
        let ports = std::collections::BTreeMap::from([(crate::check::Role::Mx, 1)]);
        let net = NetOptions {
            timeout: std::time::Duration::from_secs(2),
            bind: Vec::new(),
        };
        let mut ctx = Ctx {
            endpoint: None,
            stage: Stage::Own,
            target: &target,
            settings,
            net: &net,
            dns: &dns,
            ports: &ports,
            state: &state,
            memo: &memo,
            permits: None,
            slot: None,
        };
        check.run(&mut ctx).await
    }

    #[test]
    fn the_worst_finding_wins_and_the_rest_stays_in_evidence() {
        let mut findings = Findings::default();
        findings.pass("a passes");
        findings.warn("b warns");
        findings.error("c could not be told");
        let verdict = findings.verdict();
        assert_eq!(verdict.status, Status::Error);
        assert_eq!(verdict.message, "c could not be told");
        assert!(
            verdict
                .evidence
                .contains(&"* also warn: b warns".to_string())
        );

        let mut findings = Findings::default();
        findings.error("c could not be told");
        findings.fail("d is wrong");
        findings.fail("e is wrong too");
        let verdict = findings.verdict();
        assert_eq!(verdict.status, Status::Fail);
        assert_eq!(verdict.message, "d is wrong; e is wrong too");
        assert!(
            verdict
                .evidence
                .contains(&"* also error: c could not be told".to_string())
        );

        // Nothing seen is never a pass.
        assert_eq!(Findings::default().verdict().status, Status::Error);
    }

    #[test]
    fn a_skip_overrides_the_findings_and_keeps_the_evidence() {
        let mut findings = Findings::default();
        findings.note("asked");
        findings.warn("b warns");
        findings.skip("does not apply");
        let verdict = findings.verdict();
        assert_eq!(verdict.status, Status::Skip);
        assert_eq!(verdict.message, "does not apply");
        assert_eq!(verdict.evidence, ["* asked", "* also warn: b warns"]);
    }

    #[tokio::test]
    async fn checks_skip_what_they_have_nothing_to_look_at() {
        use crate::check::dns::{dkim::DnsDkim, ptr::DnsPtr, rbl::DnsRbl, spf::DnsSpf};
        use crate::probe::dns::fixture::Fixture;

        // No address: dns.ptr and dns.rbl ask nothing.
        for check in [&DnsPtr as &dyn Check, &DnsRbl] {
            let fixture = std::sync::Arc::new(Fixture::new());
            let dns = Dns::with_source(fixture.clone());
            let verdict = run_on(check, "gone.example.test", dns).await;
            assert_eq!(verdict.status, Status::Skip, "{verdict:?}");
            assert_eq!(
                verdict.message,
                "no address to look up (see dns.a and dns.mx)"
            );
            // Only the target's own resolution was asked: no PTR, no DNSBL zone.
            let asked = fixture.asked.lock().unwrap().clone();
            assert!(
                asked.iter().all(|q| q.starts_with("gone.example.test ")),
                "{asked:?}"
            );
        }
        // No mail domain: an address target without --domain.
        let verdict = run_on(&DnsSpf, "192.0.2.1", Fixture::new().dns()).await;
        assert_eq!(verdict.status, Status::Skip, "{verdict:?}");
        assert_eq!(
            verdict.message,
            "no mail domain: the target is an address; give --domain"
        );
        // A parked domain (lone null MX) needs no DKIM key.
        let verdict = run_on(
            &DnsDkim,
            "nomail.test",
            Fixture::new().mx("nomail.test", 0, ".").dns(),
        )
        .await;
        assert_eq!(verdict.status, Status::Skip, "{verdict:?}");
        assert!(
            verdict.message.contains("takes no mail"),
            "{}",
            verdict.message
        );
        assert!(
            verdict
                .evidence
                .iter()
                .any(|l| l.starts_with("Q: mail._domainkey.nomail.test. TXT")),
            "{:?}",
            verdict.evidence
        );
    }
}
