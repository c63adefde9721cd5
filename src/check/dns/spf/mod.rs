//! `dns.spf`: exactly one SPF record that parses, stays within the RFC 7208 §4.6.4 limits,
//! ends in `-all` (after `redirect=`) and authorizes the mail host's addresses.
//!
//! Records are parsed by mail-auth (`Spf::parse`, the macro evaluator included); the look-ups
//! and the evaluation are ours, over [`Dns`]. mail-auth's own `check_host` falls short here
//! (mail-auth 0.13.3, `src/spf/verify.rs`): it queries through its own hickory resolver only
//! (no evidence lines, no fixture seam: its test mock only returns errors), keeps no count
//! of void lookups (its `LookupLimit` counts lookups only, RFC 7208 §4.6.4 wants both), and
//! `txt_lookup` takes the first of several `v=spf1` records instead of a permerror
//! (RFC 7208 §4.5). It also stops counting where the evaluation stops, while a published
//! record must stay within the limits for every sender: hence the static walk below.
//!
//! Split in three: [`grammar`] (which TXT strings are SPF, and the strict term check),
//! [`eval`] (look-ups, the limit walk, `check_host`) and this file (the check and its judge).

mod eval;
mod grammar;
#[cfg(test)]
mod rfc7208;

use std::net::{IpAddr, Ipv4Addr};

use mail_auth::SpfResult;
use mail_auth::spf::Qualifier;

use self::eval::{
    Analysis, Client, Lookups, MAX_TERMS, MAX_VOIDS, WALK_LIMIT, effective_all, evaluate, walk,
};
use self::grammar::Fetched;
use crate::check::dns::{Findings, on_mail_domain, target_addresses};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::{Dns, normal};

pub struct DnsSpf;

static INFO: CheckInfo = CheckInfo {
    id: "dns.spf",
    title: "SPF record is valid, strict and authorizes the mail host",
    category: Category::Dns,
    severity: Severity::High,
    scope: Scope::Target,
    what: "Looks up the TXT records of the mail domain (split strings joined): exactly one \
           `v=spf1` record; it parses; at most 10 DNS-querying terms (include, a, mx, ptr, \
           exists, redirect, counted through includes) and at most 2 void look-ups; the \
           effective record (after `redirect=`) ends in `-all` (`~all` warns, `+all`, `?all` \
           or no `all` fail); evaluated for each address of the mail host, it says `pass`.",
    why: "SPF tells receivers which servers may send for the domain. Two records, a syntax \
          error or too many look-ups make every receiver's result a permerror (as if there were \
          no SPF); `+all` lets anyone send as the domain; a record that forgets the server's \
          own address gets its mail rejected.",
    fix: "Publish one TXT record at the domain, e.g. `example.com. IN TXT \"v=spf1 mx a \
          ip4:203.0.113.10 -all\"` (the course's form: `v=spf1 mx -all` when the MX host is the \
          only sender); merge several `v=spf1` records into one; replace `include:`s by `ip4:` \
          to stay under 10 look-ups (the course: \"Maximum 10 lookups DNS\"); end with `-all`. \
          Check with `dig +short example.com TXT`.",
    opt_in: false,
    title_fr: Some("L'enregistrement SPF est valide, strict et autorise l'hôte de messagerie"),
    fix_fr: Some(
        "Publiez un seul enregistrement TXT sur le domaine, par exemple `example.com. IN \
                  TXT \"v=spf1 mx a ip4:203.0.113.10 -all\"` (la forme du cours : `v=spf1 mx \
                  -all` quand l'hôte MX est le seul expéditeur) ; fusionnez plusieurs \
                  enregistrements `v=spf1` en un seul ; remplacez des `include:` par des `ip4:` \
                  pour rester sous 10 requêtes DNS (le cours : « Maximum 10 lookups DNS ») ; \
                  terminez par `-all`. Vérifiez avec `dig +short example.com TXT`.",
    ),
};

pub(super) fn result_name(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// The whole check, over any [`Dns`]: what `run` does once it knows the domain and addresses.
pub async fn check(
    dns: &Dns,
    domain: &str,
    addresses: &[(Option<String>, IpAddr)],
    findings: &mut Findings,
) {
    let mut lookups = Lookups::new(dns);
    let text = match lookups.record(domain).await {
        Fetched::Record(_, text) => text,
        other => {
            findings.evidence.append(&mut lookups.evidence);
            return judge_missing(findings, domain, other);
        }
    };
    let first_ip = addresses
        .first()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |(_, ip)| *ip);
    let client_for = |ip: IpAddr, host: Option<&String>| Client {
        ip,
        sender: format!("postmaster@{domain}"),
        helo: host.cloned().unwrap_or_else(|| domain.to_string()),
    };
    let client = client_for(first_ip, addresses.first().and_then(|(h, _)| h.as_ref()));

    let mut analysis = Analysis::default();
    walk(
        &mut lookups,
        &mut analysis,
        &client,
        normal(domain),
        Vec::new(),
    )
    .await;
    let all = effective_all(&mut lookups, &client, domain).await;
    let mut results = Vec::new();
    for (host, ip) in addresses {
        let client = client_for(*ip, host.as_ref());
        results.push((*ip, evaluate(&mut lookups, &client, domain).await));
    }
    findings.evidence.append(&mut lookups.evidence);
    judge(findings, domain, &text, &analysis, all, &results);
}

/// The verdict when the domain has no one valid record.
fn judge_missing(findings: &mut Findings, domain: &str, fetched: Fetched) {
    match fetched {
        Fetched::Record(..) => {}
        Fetched::Failed(why) => {
            findings.error(format!("cannot look up the TXT records of {domain}: {why}"))
        }
        Fetched::Missing(why) => findings.fail(format!("no SPF record: {why}")),
        Fetched::Several(records) => findings.fail(format!(
            "{} v=spf1 records at {domain}: receivers must treat that as a permerror (RFC 7208 §4.5)",
            records.len()
        )),
        Fetched::Invalid(text, why) => {
            findings.fail(format!("`{text}` is not valid SPF: {why} (permerror)"))
        }
    }
}

/// The verdict from what `check` saw.
pub fn judge(
    findings: &mut Findings,
    domain: &str,
    text: &str,
    analysis: &Analysis,
    all: Option<(Qualifier, String)>,
    results: &[(IpAddr, SpfResult)],
) {
    let terms = analysis.terms.len();
    findings.note(format!(
        "{terms} DNS-querying term(s){}{}; {} void look-up(s){}",
        if terms > 0 { ": " } else { "" },
        analysis.terms.join(", "),
        analysis.voids.len(),
        if analysis.voids.is_empty() {
            String::new()
        } else {
            format!(": {}", analysis.voids.join(", "))
        }
    ));
    for problem in &analysis.permerrors {
        findings.fail(format!("{problem} (permerror)"));
    }
    if terms > MAX_TERMS {
        let shown = if terms > WALK_LIMIT {
            format!("more than {WALK_LIMIT}")
        } else {
            terms.to_string()
        };
        findings.fail(format!(
            "{shown} DNS-querying terms, more than {MAX_TERMS} (RFC 7208 §4.6.4: permerror)"
        ));
    }
    if analysis.voids.len() > MAX_VOIDS {
        findings.fail(format!(
            "{} void look-ups, more than {MAX_VOIDS} (RFC 7208 §4.6.4: permerror)",
            analysis.voids.len()
        ));
    }
    for problem in &analysis.temperrors {
        findings.error(format!("cannot evaluate {problem}"));
    }
    for advice in &analysis.warnings {
        findings.warn(advice.clone());
    }
    let from = |at: &str| {
        if at == domain {
            String::new()
        } else {
            format!(" (the record of {at}, by redirect)")
        }
    };
    match all {
        Some((Qualifier::Fail, at)) => findings.note(format!("ends in -all{}", from(&at))),
        Some((Qualifier::SoftFail, at)) => findings.warn(format!(
            "ends in ~all{}: mail from other hosts is only marked (softfail); -all makes receivers refuse it",
            from(&at)
        )),
        Some((Qualifier::Pass, at)) => findings.fail(format!(
            "ends in +all{}: every host on the Internet may send as {domain}",
            from(&at)
        )),
        Some((Qualifier::Neutral, at)) => findings.fail(format!(
            "ends in ?all{}: it says nothing about other hosts (neutral)",
            from(&at)
        )),
        None => findings.fail(
            "has no `all` (nor a redirect to one): other hosts get the default result neutral, as with ?all"
                .to_string(),
        ),
    }
    let mut authorized = Vec::new();
    for (ip, result) in results {
        match result {
            SpfResult::Pass => authorized.push(ip.to_string()),
            SpfResult::TempError => findings.error(format!(
                "evaluating for {ip} gave temperror (a look-up failed)"
            )),
            other => findings.fail(format!(
                "does not authorize the mail host's address {ip} (result {})",
                result_name(*other)
            )),
        }
    }
    if results.is_empty() {
        findings.note("no address of the mail host to evaluate the record for");
    }
    findings.pass(format!(
        "`{text}`: ends in -all, {terms} DNS-querying term(s){}",
        if authorized.is_empty() {
            String::new()
        } else {
            format!(", authorizes {}", authorized.join(", "))
        }
    ));
}

#[async_trait::async_trait]
impl Check for DnsSpf {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        on_mail_domain(ctx, async |domain, findings| {
            check(ctx.dns, domain, &target_addresses(ctx), findings).await
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
    use hickory_resolver::proto::rr::RecordType;

    /// A domain whose MX host is 192.0.2.10, with these TXT records at the apex.
    fn domain(txt: &[&[&str]]) -> Fixture {
        let mut fixture = Fixture::new()
            .mx("example.test", 10, "mail.example.test")
            .a("mail.example.test", "192.0.2.10");
        for strings in txt {
            fixture = fixture.txt("example.test", strings);
        }
        fixture
    }

    async fn verdict(fixture: Fixture) -> Verdict {
        run_on(&DnsSpf, "example.test", fixture.dns()).await
    }

    #[tokio::test]
    async fn a_strict_record_that_authorizes_the_host_passes() {
        let v = verdict(domain(&[
            &["v=spf1 mx -all"],
            &["google-site-verification=abc"],
        ]))
        .await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert_eq!(
            v.message,
            "`v=spf1 mx -all`: ends in -all, 1 DNS-querying term(s), authorizes 192.0.2.10"
        );
    }

    #[tokio::test]
    async fn txt_split_into_several_strings_is_joined() {
        let v = verdict(domain(&[&[
            "v=spf1 ip4:192.0.2.10",
            " ip4:198.51.100.0/24 -all",
        ]]))
        .await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(
            v.message
                .contains("`v=spf1 ip4:192.0.2.10 ip4:198.51.100.0/24 -all`")
        );
    }

    #[tokio::test]
    async fn two_spf_records_fail() {
        let v = verdict(domain(&[
            &["v=spf1 mx -all"],
            &["v=spf1 ip4:192.0.2.10 ~all"],
        ]))
        .await;
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("2 v=spf1 records"), "{}", v.message);
    }

    #[tokio::test]
    async fn qualifiers_of_all() {
        let v = verdict(domain(&[&["v=spf1 mx ~all"]])).await;
        assert_eq!(v.status, Status::Warn, "{v:?}");
        for (record, part) in [
            ("v=spf1 +all", "ends in +all"),
            ("v=spf1 mx ?all", "ends in ?all"),
            ("v=spf1 mx", "has no `all`"),
        ] {
            let v = verdict(domain(&[&[record]])).await;
            assert_eq!(v.status, Status::Fail, "{record}: {v:?}");
            assert!(v.message.contains(part), "{record}: {}", v.message);
        }
    }

    #[tokio::test]
    async fn redirect_gives_the_effective_all() {
        let base = || domain(&[&["v=spf1 redirect=_spf.example.test"]]);
        // After a redirect, <domain> is the target: a bare `mx` would mean _spf's MX.
        let v = verdict(base().txt("_spf.example.test", &["v=spf1 mx -all"])).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.message.contains("does not authorize"), "{}", v.message);
        let v = verdict(base().txt("_spf.example.test", &["v=spf1 mx:example.test -all"])).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        let v = verdict(base().txt("_spf.example.test", &["v=spf1 mx:example.test ~all"])).await;
        assert_eq!(v.status, Status::Warn, "{v:?}");
        assert!(
            v.message
                .contains("the record of _spf.example.test, by redirect")
        );
        // A redirect to a domain without SPF is a permerror.
        let v = verdict(base()).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(
            v.message.contains("redirect=_spf.example.test"),
            "{}",
            v.message
        );
        // With an `all` in the record the redirect is ignored (RFC 7208 §6.1), not followed.
        let fixture = domain(&[&["v=spf1 mx -all redirect=_spf.example.test"]])
            .txt("_spf.example.test", &["v=spf1 +all"]);
        let v = verdict(fixture).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(
            !v.evidence
                .iter()
                .any(|l| l.starts_with("Q: _spf.example.test."))
        );
    }

    #[tokio::test]
    async fn include_loops_fail_and_stop() {
        let fixture = domain(&[&["v=spf1 include:a.example.test -all"]])
            .txt("a.example.test", &["v=spf1 include:b.example.test -all"])
            .txt("b.example.test", &["v=spf1 include:a.example.test -all"]);
        let v = verdict(fixture).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.message.contains("include loop"), "{}", v.message);
        // Each record was asked once.
        let asked = v
            .evidence
            .iter()
            .filter(|l| l.starts_with("Q: a.example.test. TXT"))
            .count();
        assert_eq!(asked, 1, "{:?}", v.evidence);
    }

    #[tokio::test]
    async fn more_than_ten_lookups_fail() {
        let mut record = "v=spf1".to_string();
        let mut fixture = Fixture::new()
            .mx("example.test", 10, "mail.example.test")
            .a("mail.example.test", "192.0.2.10");
        for i in 0..11 {
            record.push_str(&format!(" include:i{i}.example.test"));
            fixture = fixture.txt(
                &format!("i{i}.example.test"),
                &["v=spf1 ip4:198.51.100.1 -all"],
            );
        }
        record.push_str(" ip4:192.0.2.10 -all");
        let v = verdict(fixture.txt("example.test", &[&record])).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.message.contains("11 DNS-querying terms"), "{}", v.message);
        // The evaluation stops at the 11th look-up too: permerror for the host.
        assert!(v.message.contains("result permerror"), "{}", v.message);
    }

    #[tokio::test]
    async fn void_lookups_are_counted() {
        let v = verdict(domain(&[&[
            "v=spf1 a:gone1.example.test a:gone2.example.test mx:gone3.example.test mx -all",
        ]]))
        .await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.message.contains("3 void look-ups"), "{}", v.message);
        // Two are allowed.
        let v = verdict(domain(&[&[
            "v=spf1 a:gone1.example.test a:gone2.example.test mx -all",
        ]]))
        .await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
    }

    #[tokio::test]
    async fn a_record_that_forgets_the_host_fails() {
        let v = verdict(domain(&[&["v=spf1 ip4:198.51.100.7 -all"]])).await;
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.message
                .contains("does not authorize the mail host's address 192.0.2.10 (result fail)")
        );
    }

    #[tokio::test]
    async fn syntax_errors_name_the_term() {
        let v = verdict(domain(&[&["v=spf1 mx ip4:192.0.2 -all"]])).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(
            v.message
                .contains("term `ip4:192.0.2` is not an IPv4 address"),
            "{}",
            v.message
        );
        // What mail-auth rejects (an unknown macro letter) is named too.
        let v = verdict(domain(&[&["v=spf1 a:%{z}.example.test -all"]])).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(
            v.message
                .contains("term `a:%{z}.example.test` does not parse"),
            "{}",
            v.message
        );
    }

    #[tokio::test]
    async fn missing_record_fails_servfail_is_an_error() {
        let v = verdict(domain(&[&["some other text"]])).await;
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.message
                .contains("no TXT record of example.test starts with v=spf1")
        );
        let v = verdict(domain(&[]).fail("example.test", RecordType::TXT, "SERVFAIL")).await;
        assert_eq!(v.status, Status::Error, "{v:?}");
        let fixture = domain(&[&["v=spf1 include:broken.example.test -all"]]).fail(
            "broken.example.test",
            RecordType::TXT,
            "timed out",
        );
        let v = verdict(fixture).await;
        assert_eq!(v.status, Status::Error, "{v:?}");
    }

    #[tokio::test]
    async fn macros_are_expanded_with_the_client() {
        let fixture = domain(&[&["v=spf1 exists:%{i}._spf.example.test -all"]])
            .a("192.0.2.10._spf.example.test", "127.0.0.2");
        let v = verdict(fixture).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(
            v.evidence
                .iter()
                .any(|l| l.starts_with("Q: 192.0.2.10._spf.example.test. A"))
        );
    }
}
