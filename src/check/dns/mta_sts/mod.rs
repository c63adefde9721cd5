//! `dns.mta-sts` (RFC 8461): the `_mta-sts` TXT record, the policy fetched over HTTPS from
//! `mta-sts.<domain>`, and every MX host of the domain matched against its `mx:` patterns.
//!
//! What is published (record and policy) is observed once per target ([`observe`], memoized):
//! port 25's certificate checks read the same observation to know whether senders must verify
//! (`tls::mx_policy::mx_cert_policy`). The judgement ([`judge`]) is a pure function of it and the MX list.

pub mod grammar;

use std::sync::Arc;

use crate::check::dns::{Findings, on_mail_domain};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::Answer;
use crate::probe::https::{self, FetchError, Response};
use crate::target::TargetKind;

pub use grammar::{Mode, Policy, StsRecord};

/// The cap on the policy body (SPEC: 64 KiB; real policies are a few hundred bytes).
pub const MAX_POLICY_BYTES: usize = 64 * 1024;
/// Below this `max_age` senders forget the policy within a day (RFC 8461 §3.2 suggests weeks).
pub const SHORT_MAX_AGE: u64 = 86_400;

pub struct DnsMtaSts;

static INFO: CheckInfo = CheckInfo {
    id: "dns.mta-sts",
    title: "MTA-STS policy is published and enforced",
    category: Category::Dns,
    severity: Severity::Low,
    scope: Scope::Target,
    what: "Looks up TXT at `_mta-sts.<domain>`: exactly one record starting `v=STSv1;` \
           (case-sensitive) with an `id` of 1 to 32 letters and digits. Then fetches \
           `https://mta-sts.<domain>/.well-known/mta-sts.txt` (certificate verified for that \
           name against the webpki roots and `--ca-file`, no redirects, at most 64 KiB, \
           `text/plain`) and parses it: `version: STSv1`, a `mode`, `max_age` up to 31557600, \
           and `mx:` patterns that every MX host of the domain matches (`*.` = one label). \
           `mode: enforce` passes; `testing`, `none` or a `max_age` under a day warn; a record \
           whose policy cannot be fetched, does not parse or misses an MX fails.",
    why: "Without MTA-STS (or DANE) a sender delivers over STARTTLS without checking the \
          certificate, so an attacker on the path can strip TLS or present any certificate. \
          A policy in `enforce` mode makes senders verify it; a broken policy behind a \
          published record makes senders that honour it defer or refuse the mail.",
    fix: "Serve `/.well-known/mta-sts.txt` from `https://mta-sts.example.com` (a certificate \
          valid for that name) as `text/plain`: `version: STSv1`, `mode: testing`, \
          `mx: mail.example.com`, `max_age: 604800`, one `key: value` line each. Publish \
          `_mta-sts.example.com. IN TXT \"v=STSv1; id=20240101T000000\"` (change the `id` \
          whenever the policy changes). Read the TLS-RPT reports for a few weeks, then switch \
          to `mode: enforce`. For Postfix as a sender, `postfix-mta-sts-resolver` provides \
          `smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix`.",
    opt_in: false,
    title_fr: Some("Une politique MTA-STS est publiée et appliquée"),
    fix_fr: Some(
        "Servez `/.well-known/mta-sts.txt` depuis `https://mta-sts.example.com` (un \
         certificat valide pour ce nom) en `text/plain` : `version: STSv1`, `mode: testing`, \
         `mx: mail.example.com`, `max_age: 604800`, une ligne `key: value` chacune. Publiez \
         `_mta-sts.example.com. IN TXT \"v=STSv1; id=20240101T000000\"` (changez l'`id` à \
         chaque changement de politique). Lisez les rapports TLS-RPT quelques semaines, puis \
         passez en `mode: enforce`. Pour Postfix émetteur, `postfix-mta-sts-resolver` fournit \
         `smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix`.",
    ),
};

/// What the `_mta-sts` TXT look-up found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// No answer: we cannot tell.
    Failed(String),
    /// No MTA-STS record (why).
    Absent(String),
    /// Something that means to be a record but is not (why).
    Invalid(String),
    /// Several `v=STSv1` records (senders then assume none, §3.1).
    Several(Vec<String>),
    One(StsRecord),
}

/// What fetching and parsing the policy gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    Failed(FetchError),
    Response {
        response: Response,
        policy: Result<Policy, String>,
    },
}

/// Everything observed about the domain's MTA-STS, with its evidence.
#[derive(Clone, Debug)]
pub struct StsObservation {
    pub domain: String,
    pub published: Published,
    /// Only when one record is published.
    pub fetched: Option<Fetched>,
    pub evidence: Vec<String>,
}

impl StsObservation {
    /// The policy senders apply: one valid record and a policy served and parsed.
    pub fn policy(&self) -> Option<&Policy> {
        match (&self.published, &self.fetched) {
            (
                Published::One(_),
                Some(Fetched::Response {
                    response,
                    policy: Ok(policy),
                }),
            ) if response_problem(response).is_none() => Some(policy),
            _ => None,
        }
    }

    /// The record's id when the policy applies in enforce mode.
    pub fn enforced(&self) -> Option<&str> {
        match (&self.published, self.policy()) {
            (Published::One(record), Some(policy)) if policy.mode == Mode::Enforce => {
                Some(&record.id)
            }
            _ => None,
        }
    }
}

/// Classifies the TXT answer at `name` (§3.1: records not starting `v=STSv1;` are discarded;
/// look-alikes such as `v=STSV1` are reported, as their author meant a record).
pub fn published(answer: Answer<String>, name: &str) -> Published {
    let texts = match answer {
        Answer::Failed(why) => return Published::Failed(why),
        Answer::NxDomain => return Published::Absent(format!("{name} does not exist")),
        Answer::NoData => return Published::Absent(format!("{name} has no TXT record")),
        Answer::Records(texts) => texts,
    };
    let meant: Vec<&String> = texts
        .iter()
        .filter(|t| t.trim_start().to_ascii_lowercase().starts_with("v=stsv1"))
        .collect();
    match meant.as_slice() {
        [] => Published::Absent(format!("no TXT record of {name} starts with v=STSv1")),
        [one] => match grammar::parse_record(one) {
            Ok(record) => Published::One(record),
            Err(why) => Published::Invalid(format!(
                "the TXT record `{one}` at {name} is invalid: {why}"
            )),
        },
        several => Published::Several(several.iter().map(|s| s.to_string()).collect()),
    }
}

/// Why a response is not a servable policy, or `None` (§3.3: 200, no redirects, text/plain).
pub fn response_problem(response: &Response) -> Option<String> {
    let status = response.status;
    if (300..400).contains(&status) {
        return Some(format!(
            "the policy URL answers with a redirect (HTTP {status}{}): senders must not follow it (RFC 8461 §3.3)",
            response
                .location
                .as_deref()
                .map(|l| format!(" to {l}"))
                .unwrap_or_default()
        ));
    }
    if status != 200 {
        return Some(format!("the policy URL answers HTTP {status}, not 200"));
    }
    if response.truncated {
        return Some(format!(
            "the policy is larger than {} KiB: senders will not read it",
            MAX_POLICY_BYTES / 1024
        ));
    }
    let media = response.content_type.as_deref().map(|t| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match media.as_deref() {
        Some("text/plain") => None,
        Some(other) => Some(format!(
            "the policy is served as `{other}`, not `text/plain` (RFC 8461 §3.2)"
        )),
        None => Some(
            "the policy is served without a Content-Type (RFC 8461 §3.2 wants `text/plain`)".into(),
        ),
    }
}

/// Looks up the record and, when there is one, fetches and parses the policy.
async fn observe_now(ctx: &Ctx<'_>, domain: &str) -> StsObservation {
    let name = format!("_mta-sts.{domain}");
    let (answer, exchange) = ctx.dns.txt(&name).await;
    let mut evidence = exchange.lines;
    let published = published(answer, &name);
    let fetched = if let Published::One(_) = published {
        let host = format!("mta-sts.{domain}");
        let request = https::Request {
            host: &host,
            port: 443,
            path: "/.well-known/mta-sts.txt",
            max_body: MAX_POLICY_BYTES,
            tls: https::verifying_config(ctx.settings.tls.trust.root_store()),
        };
        evidence.push(format!("* fetching https://{host}/.well-known/mta-sts.txt"));
        let (result, lines) = https::get(&request, ctx.dns, ctx.net).await;
        evidence.extend(lines);
        Some(match result {
            Err(err) => Fetched::Failed(err),
            Ok(response) => {
                let policy = grammar::parse_policy(&String::from_utf8_lossy(&response.body));
                Fetched::Response { response, policy }
            }
        })
    } else {
        None
    };
    StsObservation {
        domain: domain.to_string(),
        published,
        fetched,
        evidence,
    }
}

/// The domain's MTA-STS, observed once per target for every check that asks.
pub async fn observe(ctx: &Ctx<'_>, domain: &str) -> Arc<StsObservation> {
    ctx.shared("dns.mta-sts", || observe_now(ctx, domain)).await
}

/// The MX hosts to match, as the look-up found them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MxHosts {
    Hosts(Vec<String>),
    /// No MX: mail goes to the domain itself (RFC 5321 §5.1), which the policy must list.
    Implicit(String),
    Failed(String),
}

/// Judges the observation: one record, a policy served and parsed, every MX matched.
pub fn judge(observation: &StsObservation, mx: &MxHosts, findings: &mut Findings) {
    let domain = &observation.domain;
    let record = match &observation.published {
        Published::Failed(why) => {
            return findings.error(format!("the _mta-sts TXT look-up failed: {why}"));
        }
        Published::Absent(why) => {
            return findings.warn(format!(
                "no MTA-STS policy for {domain} ({why}): senders deliver without verifying the MX certificate (optional, low)"
            ));
        }
        Published::Invalid(why) => {
            return findings.fail(format!(
                "{why}: senders ignore it, and an MTA-STS policy meant for {domain} does not apply"
            ));
        }
        Published::Several(records) => {
            return findings.fail(format!(
                "{} `v=STSv1` TXT records at _mta-sts.{domain}: senders must then assume there is no policy (RFC 8461 §3.1)",
                records.len()
            ));
        }
        Published::One(record) => record,
    };
    findings.note(format!("record id {}", record.id));
    let (response, policy) = match &observation.fetched {
        None => return findings.error("the policy was not fetched"),
        Some(Fetched::Failed(err)) => {
            let message =
                format!("the MTA-STS record is published but its policy cannot be fetched: {err}");
            // A server that never answered (or a DNS look-up that failed) leaves us unable to
            // tell; one that answered wrongly, or refused, is the server's fault.
            return match err {
                FetchError::Timeout { .. } => findings.error(message),
                FetchError::Resolve(why) if why.starts_with("cannot resolve") => {
                    findings.error(message)
                }
                _ => findings.fail(message),
            };
        }
        Some(Fetched::Response { response, policy }) => (response, policy),
    };
    if let Some(problem) = response_problem(response) {
        return findings.fail(problem);
    }
    let policy = match policy {
        Ok(policy) => policy,
        Err(why) => return findings.fail(format!("the policy does not parse: {why}")),
    };
    findings.note(format!(
        "policy: mode {}, max_age {}, mx {}",
        policy.mode.as_str(),
        policy.max_age,
        if policy.mx.is_empty() {
            "(none)".to_string()
        } else {
            policy.mx.join(", ")
        }
    ));
    let hosts = match mx {
        MxHosts::Hosts(hosts) => hosts.clone(),
        MxHosts::Implicit(domain) => vec![domain.clone()],
        MxHosts::Failed(why) => {
            findings.error(format!("the MX hosts to match are unknown: {why}"));
            Vec::new()
        }
    };
    let mut unmatched = Vec::new();
    for host in &hosts {
        match grammar::matching_pattern(policy, host) {
            Some(pattern) => findings.note(format!("MX {host} matches `mx: {pattern}`")),
            None => {
                findings.note(format!("MX {host} matches no `mx:` pattern"));
                unmatched.push(host.as_str());
            }
        }
    }
    if !unmatched.is_empty() {
        if policy.mode == Mode::None {
            findings.note("mode none: senders apply no policy, so the unmatched MX is moot");
        } else {
            findings.fail(format!(
                "MX {} not matched by the policy's `mx:` patterns: senders that honour the policy ({} mode) will not deliver there",
                unmatched.join(", "),
                policy.mode.as_str()
            ));
        }
    }
    match policy.mode {
        Mode::Enforce => {}
        Mode::Testing => findings.warn(
            "the policy is in testing mode: senders report failures (TLS-RPT) but still deliver without verifying; switch to enforce",
        ),
        Mode::None => findings.warn("the policy is in mode none: it withdraws MTA-STS"),
    }
    if policy.max_age < SHORT_MAX_AGE {
        findings.warn(format!(
            "max_age {} is under a day: senders forget the policy quickly (weeks are usual)",
            policy.max_age
        ));
    }
    if policy.mode == Mode::Enforce && policy.max_age >= SHORT_MAX_AGE {
        findings.pass(format!(
            "MTA-STS policy in enforce mode (id {}, max_age {}), every MX matched",
            record.id, policy.max_age
        ));
    }
}

/// The MX hosts of the domain (the target's own look-up when the target is that domain).
async fn mx_hosts(ctx: &Ctx<'_>, domain: &str, findings: &mut Findings) -> MxHosts {
    let (answer, exchange) = ctx.dns.mx(domain).await;
    findings.exchange(exchange);
    match answer {
        Answer::Records(records) => MxHosts::Hosts(
            records
                .into_iter()
                .map(|(_, host)| host)
                .filter(|host| !host.is_empty())
                .collect(),
        ),
        Answer::NoData | Answer::NxDomain => MxHosts::Implicit(domain.to_string()),
        Answer::Failed(why) => MxHosts::Failed(why),
    }
}

#[async_trait::async_trait]
impl Check for DnsMtaSts {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let ctx = &*ctx;
        on_mail_domain(ctx, async |domain, findings| {
            if ctx.target.kind == TargetKind::NullMx {
                findings.skip(format!(
                    "{domain} takes no mail (null MX): MTA-STS does not apply"
                ));
                return;
            }
            let observation = observe(ctx, domain).await;
            findings
                .evidence
                .extend(observation.evidence.iter().cloned());
            let mx = if matches!(observation.published, Published::One(_)) {
                mx_hosts(ctx, domain, findings).await
            } else {
                MxHosts::Hosts(Vec::new())
            };
            judge(&observation, &mx, findings);
        })
        .await
    }
}

#[cfg(test)]
mod tests;
