//! `dns.dmarc`: one DMARC record for the mail domain (or its organizational domain), with an
//! enforcing policy and valid report URIs (RFC 7489 §6).
//!
//! Records are parsed by mail-auth (`Dmarc::parse`: policies, alignment, tag syntax). It falls
//! short on three points (mail-auth 0.13.3, `src/dmarc/parse.rs`), which are read here from
//! the tags as written: it drops a `rua`/`ruf` URI it cannot read (`rua=dmarc@example.com`,
//! no scheme) and every non-`mailto` one without a word, so invalid URIs would go unseen; it
//! has no `pct` (DMARCbis removed it, RFC 7489 receivers still apply it); and it accepts
//! `v=dmarc1`, where RFC 7489 §6.4 wants exactly `DMARC1`.

use mail_auth::Error as AuthError;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::{Dmarc, Policy};

use crate::check::dns::{Findings, on_mail_domain};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::{Answer, Dns};

pub struct DnsDmarc;

static INFO: CheckInfo = CheckInfo {
    id: "dns.dmarc",
    title: "DMARC policy is published and enforcing",
    category: Category::Dns,
    severity: Severity::Medium,
    scope: Scope::Target,
    what: "Looks up TXT at `_dmarc.<domain>`, falling back to the organizational domain of the \
           public suffix list (RFC 7489 §6.6.3; there `sp=` applies): exactly one `v=DMARC1` \
           record; it parses and has the required `p=`; `p=reject` or `quarantine` pass, \
           `p=none` (or `pct` under 100) warns; every `rua`/`ruf` entry is a valid URI.",
    why: "DMARC tells receivers what to do with mail that fails SPF and DKIM alignment: without \
          an enforcing policy anyone can send as the domain and receivers deliver it; two \
          records or a missing `p=` make receivers ignore DMARC altogether.",
    fix: "Publish one record, e.g. `_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; \
          rua=mailto:dmarc@example.com; pct=100\"` (the course's final form; start with \
          `p=none` for a week while reading the reports, then `quarantine`, then `reject`). \
          Write URIs with their scheme (`rua=mailto:...`). Check with `dig +short \
          _dmarc.example.com TXT`.",
    opt_in: false,
    title_fr: Some("Une politique DMARC est publiée et appliquée"),
    fix_fr: Some(
        "Publiez un seul enregistrement, par exemple `_dmarc.example.com. IN TXT \
                  \"v=DMARC1; p=reject; rua=mailto:dmarc@example.com; pct=100\"` (la forme finale \
                  du cours ; commencez par `p=none` pendant une semaine en lisant les rapports, \
                  puis `quarantine`, puis `reject`). Écrivez les URI avec leur schéma \
                  (`rua=mailto:...`). Vérifiez avec `dig +short _dmarc.example.com TXT`.",
    ),
};

/// Whether a TXT string is a DMARC record: it starts with the version tag, exactly
/// `v=DMARC1` (RFC 7489 §6.4: `"v" *WSP "=" *WSP %x44.4d.41.52.43.31`).
pub fn is_dmarc(text: &str) -> bool {
    let Some(rest) = text.trim_start().strip_prefix('v') else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix('=') else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix("DMARC1") else {
        return false;
    };
    rest.is_empty() || rest.starts_with(';') || rest.starts_with(char::is_whitespace)
}

/// `tag=value` pairs as written (names lowercased), and the parts that are no `tag=value`.
pub fn tags(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut pairs = Vec::new();
    let mut malformed = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((name, value)) => {
                pairs.push((name.trim().to_ascii_lowercase(), value.trim().to_string()))
            }
            None => malformed.push(part.to_string()),
        }
    }
    (pairs, malformed)
}

/// Why one `rua`/`ruf` entry is not a DMARC URI (RFC 7489 §6.4: a URI, RFC 3986, with an
/// optional `!size`), or `None`.
pub fn uri_problem(entry: &str) -> Option<String> {
    let base = match entry.rsplit_once('!') {
        Some((base, size)) => {
            let digits = size.trim_end_matches(['k', 'm', 'g', 't', 'K', 'M', 'G', 'T']);
            if digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || size.len() > digits.len() + 1
            {
                return Some(format!("`{entry}` has an invalid size limit `!{size}`"));
            }
            base
        }
        None => entry,
    };
    let Some((scheme, rest)) = base.split_once(':') else {
        return Some(format!(
            "`{entry}` is not a URI (no scheme): write `mailto:{entry}`"
        ));
    };
    let mut chars = scheme.chars();
    let valid_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme || rest.is_empty() || base.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Some(format!("`{entry}` is not a valid URI"));
    }
    if scheme.eq_ignore_ascii_case("mailto") {
        let address = rest.split('?').next().unwrap_or("");
        match address.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() && domain.contains('.') => {}
            _ => return Some(format!("`{entry}` is not a mailto: URI with an address")),
        }
    }
    None
}

/// What is published at one `_dmarc` name.
#[derive(Debug)]
pub enum Published {
    Failed(String),
    /// No DMARC record; why.
    Nothing(String),
    Several(Vec<String>),
    One(String),
}

pub fn published(answer: Answer<String>, name: &str) -> Published {
    match answer {
        Answer::Failed(why) => Published::Failed(why),
        Answer::NxDomain => Published::Nothing(format!("{name} does not exist")),
        Answer::NoData => Published::Nothing(format!("{name} has no TXT record")),
        Answer::Records(texts) => {
            let records: Vec<String> = texts.iter().filter(|t| is_dmarc(t)).cloned().collect();
            match records.len() {
                0 if texts
                    .iter()
                    .any(|t| t.to_ascii_lowercase().starts_with("v=dmarc1")) =>
                {
                    Published::Nothing(format!(
                        "the TXT record of {name} starts with `v=dmarc1`: the version must be exactly `DMARC1`"
                    ))
                }
                0 => Published::Nothing(format!("no TXT record of {name} starts with v=DMARC1")),
                1 => Published::One(records[0].clone()),
                _ => Published::Several(records),
            }
        }
    }
}

/// Names the first tag mail-auth cannot parse.
fn syntax_problem(pairs: &[(String, String)]) -> String {
    for (name, value) in pairs.iter().skip(1) {
        if Dmarc::parse(format!("v=DMARC1; {name}={value}").as_bytes()).is_err() {
            return format!("`{name}={value}` is not valid");
        }
    }
    "it does not parse".into()
}

fn policy_name(policy: Policy) -> &'static str {
    match policy {
        Policy::None => "none",
        Policy::Quarantine => "quarantine",
        Policy::Reject => "reject",
        Policy::Unspecified => "unspecified",
    }
}

/// Judges one record found at `name`; `inherited`: it is the organizational domain's, whose
/// `sp=` applies to the mail domain.
pub fn judge_record(findings: &mut Findings, name: &str, text: &str, inherited: bool) {
    let (pairs, malformed) = tags(text);
    let dmarc = match Dmarc::parse(text.as_bytes()) {
        Ok(dmarc) => dmarc,
        Err(AuthError::ParseError) => {
            return findings.fail(format!(
                "the record at {name} is malformed: {}",
                syntax_problem(&pairs)
            ));
        }
        Err(other) => {
            return findings.fail(format!("the record at {name} is not valid DMARC: {other}"));
        }
    };
    for part in &malformed {
        findings.warn(format!(
            "`{part}` in {name} is no tag=value: receivers ignore it"
        ));
    }
    if dmarc.p == Policy::Unspecified {
        return findings.fail(format!(
            "the record at {name} has no `p=` tag, which RFC 7489 §6.3 requires (receivers treat it as p=none at best)"
        ));
    }
    for (tag, value) in pairs.iter().filter(|(t, _)| t == "rua" || t == "ruf") {
        for entry in value.split(',').map(str::trim) {
            if let Some(problem) = uri_problem(entry) {
                findings.fail(format!("{tag} in {name}: {problem}"));
            } else if !entry.to_ascii_lowercase().starts_with("mailto:") {
                findings.warn(format!(
                    "{tag} in {name}: `{entry}` is not a mailto: URI, the only kind receivers must support (RFC 7489 §6.2)"
                ));
            }
        }
    }
    if let Some((_, pct)) = pairs.iter().find(|(t, _)| t == "pct") {
        match pct.parse::<u8>() {
            Ok(100) => {}
            Ok(n) if n < 100 => findings.warn(format!(
                "pct={n} in {name}: the policy applies to {n}% of failing mail only"
            )),
            _ => findings.warn(format!("pct={pct} in {name} is not a number from 0 to 100")),
        }
    }
    let (policy, tag) = if inherited {
        (dmarc.sp, "sp")
    } else {
        (dmarc.p, "p")
    };
    let reports = pairs
        .iter()
        .find(|(t, _)| t == "rua")
        .map(|(_, v)| format!(", reports to {v}"))
        .unwrap_or_default();
    let how = if inherited {
        format!("{name} (organizational domain) applies with its {tag}=")
    } else {
        format!("{name}: p=")
    };
    match policy {
        Policy::Reject | Policy::Quarantine => {
            findings.pass(format!("{how}{}{reports}", policy_name(policy)))
        }
        _ => findings.warn(format!(
            "{how}none: receivers deliver mail that fails DMARC and only report it; move to quarantine, then reject"
        )),
    }
}

/// The whole check over any [`Dns`].
pub async fn check(dns: &Dns, domain: &str, findings: &mut Findings) {
    let name = format!("_dmarc.{domain}");
    let (answer, exchange) = dns.txt(&name).await;
    findings.exchange(exchange);
    let (name, found, inherited) = match published(answer, &name) {
        Published::Nothing(why) => {
            let org = psl::domain_str(domain).map(str::to_string);
            match org {
                Some(org) if org != domain => {
                    findings.note(format!(
                        "{why}; trying the organizational domain {org} (RFC 7489 §6.6.3)"
                    ));
                    let org_name = format!("_dmarc.{org}");
                    let (answer, exchange) = dns.txt(&org_name).await;
                    findings.exchange(exchange);
                    match published(answer, &org_name) {
                        Published::Nothing(org_why) => {
                            return findings.fail(format!("no DMARC record: {why}, and {org_why}"));
                        }
                        other => (org_name, other, true),
                    }
                }
                _ => return findings.fail(format!("no DMARC record: {why}")),
            }
        }
        other => (name, other, false),
    };
    match found {
        Published::Failed(why) => findings.error(format!("cannot look up {name}: {why}")),
        Published::Several(records) => findings.fail(format!(
            "{} DMARC records at {name}: receivers apply none of them (RFC 7489 §6.6.3)",
            records.len()
        )),
        Published::One(text) => judge_record(findings, &name, &text, inherited),
        Published::Nothing(_) => unreachable!("handled above"),
    }
}

#[async_trait::async_trait]
impl Check for DnsDmarc {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        on_mail_domain(ctx, async |domain, findings| {
            check(ctx.dns, domain, findings).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::dns::fixture::Fixture;
    use hickory_resolver::proto::rr::RecordType;

    async fn verdict(fixture: Fixture, domain: &str) -> Verdict {
        let dns = fixture.dns();
        let mut findings = Findings::default();
        check(&dns, domain, &mut findings).await;
        findings.verdict()
    }

    fn one(text: &str) -> Fixture {
        Fixture::new().txt("_dmarc.example.test", &[text])
    }

    #[tokio::test]
    async fn policies() {
        let v = verdict(
            one("v=DMARC1; p=reject; rua=mailto:dmarc@example.test"),
            "example.test",
        )
        .await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert_eq!(
            v.message,
            "_dmarc.example.test: p=reject, reports to mailto:dmarc@example.test"
        );
        let v = verdict(one("v=DMARC1; p=quarantine"), "example.test").await;
        assert_eq!(v.status, Status::Pass);
        let v = verdict(
            one("v=DMARC1; p=none; rua=mailto:d@example.test"),
            "example.test",
        )
        .await;
        assert_eq!(v.status, Status::Warn);
        let v = verdict(one("v=DMARC1; p=reject; pct=20"), "example.test").await;
        assert_eq!(v.status, Status::Warn);
        assert!(v.message.contains("pct=20"));
    }

    #[tokio::test]
    async fn a_missing_p_fails() {
        let v = verdict(
            one("v=DMARC1; rua=mailto:dmarc@example.test"),
            "example.test",
        )
        .await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.message.contains("no `p=` tag"));
    }

    #[tokio::test]
    async fn two_records_and_malformed_ones_fail() {
        let fixture = one("v=DMARC1; p=reject").txt("_dmarc.example.test", &["v=DMARC1; p=none"]);
        let v = verdict(fixture, "example.test").await;
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("2 DMARC records"));
        let v = verdict(one("v=DMARC1; p=rejekt"), "example.test").await;
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.message.contains("`p=rejekt` is not valid"),
            "{}",
            v.message
        );
        // The course's typo: a tag without `=` is ignored, the policy still stands.
        let v = verdict(
            one("v=DMARC1; p=reject; ruamailto:dmarc@example.test"),
            "example.test",
        )
        .await;
        assert_eq!(v.status, Status::Warn, "{v:?}");
        // Lowercase version: not a DMARC record at all (RFC 7489 §6.4).
        let v = verdict(one("v=dmarc1; p=reject"), "example.test").await;
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("exactly `DMARC1`"), "{}", v.message);
    }

    #[tokio::test]
    async fn report_uris_must_be_uris() {
        let v = verdict(
            one("v=DMARC1; p=reject; rua=dmarc@example.test"),
            "example.test",
        )
        .await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.message.contains("write `mailto:dmarc@example.test`"));
        let v = verdict(
            one("v=DMARC1; p=reject; rua=mailto:a@example.test!10m, mailto:b@example.test; ruf=mailto:c@example.test"),
            "example.test",
        )
        .await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(uri_problem("mailto:a@example.test!10x").is_some());
        assert!(uri_problem("mailto:nobody").is_some());
        assert_eq!(uri_problem("https://reports.example.test/dmarc"), None);
    }

    #[tokio::test]
    async fn the_organizational_domain_applies_with_sp() {
        // Checked domain mail.example.co.uk has no record; example.co.uk has one (the public
        // suffix list knows co.uk), whose sp= governs subdomains.
        let fixture = Fixture::new().txt("_dmarc.example.co.uk", &["v=DMARC1; p=reject; sp=none"]);
        let v = verdict(fixture, "mail.example.co.uk").await;
        assert_eq!(v.status, Status::Warn, "{v:?}");
        assert!(
            v.message
                .contains("organizational domain) applies with its sp=none")
        );
        assert!(
            v.evidence
                .iter()
                .any(|l| l.starts_with("Q: _dmarc.mail.example.co.uk. TXT"))
        );
        let fixture = Fixture::new().txt("_dmarc.example.co.uk", &["v=DMARC1; p=reject"]);
        let v = verdict(fixture, "mail.example.co.uk").await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        // No record anywhere.
        let v = verdict(Fixture::new(), "mail.example.co.uk").await;
        assert_eq!(v.status, Status::Fail);
    }

    #[tokio::test]
    async fn servfail_is_an_error() {
        let fixture = Fixture::new().fail("_dmarc.example.test", RecordType::TXT, "SERVFAIL");
        let v = verdict(fixture, "example.test").await;
        assert_eq!(v.status, Status::Error, "{v:?}");
    }
}
