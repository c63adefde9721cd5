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

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;
use std::sync::Arc;

use mail_auth::SpfResult;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::{Macro, Mechanism, Qualifier, Spf, Variables};

use crate::check::dns::{Findings, on_mail_domain, target_addresses};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::{Answer, Dns, Exchange, normal};

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

/// Most DNS-querying terms and void look-ups (RFC 7208 §4.6.4).
const MAX_TERMS: usize = 10;
const MAX_VOIDS: usize = 2;
/// The static walk stops descending past this many terms: the record already fails.
const WALK_LIMIT: usize = 25;
/// Most MX names an `mx` term may have (RFC 7208 §4.6.4).
const MAX_MX_NAMES: usize = 10;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An SPF record as fetched from DNS (RFC 7208 §4.4-4.5).
#[derive(Clone, Debug)]
pub enum Fetched {
    /// The TXT look-up failed (temperror).
    Failed(String),
    /// No `v=spf1` record (result none): why.
    Missing(String),
    /// Several `v=spf1` records (permerror): their texts.
    Several(Vec<String>),
    /// One record that does not parse (permerror): the text and the problem.
    Invalid(String, String),
    Record(Arc<Spf>, String),
}

/// Whether a TXT string is an SPF version 1 record (RFC 7208 §4.5: `v=spf1` then a space or
/// the end, case-insensitively).
fn is_spf(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower == "v=spf1" || lower.starts_with("v=spf1 ")
}

/// Where mail-auth 0.13.3's `Spf::parse` is too lenient (`src/spf/parse.rs`, observed): it
/// accepts an unknown mechanism by dropping it (`ip:192.0.2.1`; a bare word such as `foo`
/// even drops every term after it, `-all` included), an IPv4 octet above 255 (`ip4:300.1.1.1`
/// saturates to 255) and a CIDR length beyond 32 or 128 (`mx/33`). RFC 7208 §4.6 and §12 make
/// each a permerror, so every term is checked here against the grammar's names and ranges
/// before mail-auth's parse is used.
fn strict_problem(text: &str) -> Option<String> {
    let cidr = |text: &str, max: u8| text.parse::<u8>().ok().filter(|n| *n <= max).is_some();
    for term in text.split_ascii_whitespace().skip(1) {
        let body = term.strip_prefix(['+', '-', '~', '?']).unwrap_or(term);
        let qualified = body.len() != term.len();
        let bad = |why: &str| Some(format!("term `{term}` {why}"));
        let name_end = body.find([':', '/', '=']).unwrap_or(body.len());
        let (name, rest) = body.split_at(name_end);
        if let Some(value) = rest.strip_prefix('=') {
            // A modifier: name "=" macro-string (RFC 7208 §12).
            let mut chars = name.chars();
            let valid_name = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid_name || qualified {
                return bad("is not a valid modifier");
            }
            if matches!(name.to_ascii_lowercase().as_str(), "redirect" | "exp") && value.is_empty()
            {
                return bad("has no domain");
            }
            continue;
        }
        let needs_domain = |rest: &str| rest.len() > 1 && rest.starts_with(':');
        match name.to_ascii_lowercase().as_str() {
            "all" if rest.is_empty() => {}
            "all" => return bad("takes no argument"),
            "include" | "exists" if needs_domain(rest) => {}
            "include" | "exists" => return bad("needs a domain (`include:example.com`)"),
            "ip4" => {
                let value = rest.strip_prefix(':').unwrap_or("");
                let (addr, len) = value.split_once('/').unwrap_or((value, "32"));
                if addr.parse::<Ipv4Addr>().is_err() || !cidr(len, 32) {
                    return bad("is not an IPv4 address or network");
                }
            }
            "ip6" => {
                let value = rest.strip_prefix(':').unwrap_or("");
                let (addr, len) = value.split_once('/').unwrap_or((value, "128"));
                if addr.parse::<Ipv6Addr>().is_err() || !cidr(len, 128) {
                    return bad("is not an IPv6 address or network");
                }
            }
            "a" | "mx" | "ptr" => {
                // Dual CIDR lengths at the end: `/24`, `//64`, `/24//64`.
                let (v4, v6) = match rest.split_once("//") {
                    Some((head, v6)) => (head, Some(v6)),
                    None => (rest, None),
                };
                let v4 = v4.rsplit_once('/').map(|(_, len)| len);
                if name.eq_ignore_ascii_case("ptr") && (v4.is_some() || v6.is_some()) {
                    return bad("takes no CIDR length");
                }
                if v4.is_some_and(|len| !cidr(len, 32)) || v6.is_some_and(|len| !cidr(len, 128)) {
                    return bad("has a CIDR length out of range (IPv4 0-32, IPv6 0-128)");
                }
                if rest.starts_with(':') && rest.len() == 1 {
                    return bad("has an empty domain");
                }
            }
            _ => {
                return bad("is not an SPF mechanism (all, include, a, mx, ptr, ip4, ip6, exists)");
            }
        }
    }
    None
}

/// Names the first term mail-auth cannot parse, so the message points at it.
fn syntax_problem(text: &str) -> String {
    for term in text.split_ascii_whitespace().skip(1) {
        if Spf::parse(format!("v=spf1 {term}").as_bytes()).is_err() {
            return format!("term `{term}` does not parse");
        }
    }
    "the terms do not parse together (a modifier given twice?)".into()
}

/// Every answer the checks needed, each asked once: the evidence lists each query once,
/// whether the static walk or an evaluation asked it first.
pub struct Lookups<'a> {
    dns: &'a Dns,
    records: HashMap<String, Fetched>,
    v4: HashMap<String, Answer<Ipv4Addr>>,
    v6: HashMap<String, Answer<Ipv6Addr>>,
    mx: HashMap<String, Answer<(u16, String)>>,
    ptr: HashMap<IpAddr, Answer<String>>,
    pub evidence: Vec<String>,
}

impl<'a> Lookups<'a> {
    pub fn new(dns: &'a Dns) -> Lookups<'a> {
        Lookups {
            dns,
            records: HashMap::new(),
            v4: HashMap::new(),
            v6: HashMap::new(),
            mx: HashMap::new(),
            ptr: HashMap::new(),
            evidence: Vec::new(),
        }
    }

    pub async fn record(&mut self, domain: &str) -> Fetched {
        let domain = normal(domain);
        let dns = self.dns;
        let ask = async {
            let (answer, exchange) = dns.txt(&domain).await;
            (fetched(&domain, answer), exchange)
        };
        remember(&mut self.records, &mut self.evidence, domain.clone(), ask).await
    }

    async fn v4(&mut self, name: &str) -> Answer<Ipv4Addr> {
        let ask = self.dns.ipv4(name);
        remember(&mut self.v4, &mut self.evidence, name.to_string(), ask).await
    }

    async fn v6(&mut self, name: &str) -> Answer<Ipv6Addr> {
        let ask = self.dns.ipv6(name);
        remember(&mut self.v6, &mut self.evidence, name.to_string(), ask).await
    }

    /// The addresses of `name` in the family of `ip` (what an `a` term asks for that client).
    async fn addresses_like(&mut self, name: &str, ip: IpAddr) -> Answer<IpAddr> {
        match ip {
            IpAddr::V4(_) => self
                .v4(name)
                .await
                .map(|v| v.into_iter().map(IpAddr::V4).collect()),
            IpAddr::V6(_) => self
                .v6(name)
                .await
                .map(|v| v.into_iter().map(IpAddr::V6).collect()),
        }
    }

    async fn mx(&mut self, name: &str) -> Answer<(u16, String)> {
        let ask = self.dns.mx(name);
        remember(&mut self.mx, &mut self.evidence, name.to_string(), ask).await
    }

    async fn ptr(&mut self, ip: IpAddr) -> Answer<String> {
        let ask = self.dns.ptr(ip);
        remember(&mut self.ptr, &mut self.evidence, ip, ask).await
    }
}

/// The answer known for `key`, or the one `ask` gets, remembered, its exchange added to the
/// evidence. A future does nothing until awaited: a known answer asks nothing.
async fn remember<K: Eq + Hash, V: Clone>(
    known: &mut HashMap<K, V>,
    evidence: &mut Vec<String>,
    key: K,
    ask: impl Future<Output = (V, Exchange)>,
) -> V {
    if let Some(value) = known.get(&key) {
        return value.clone();
    }
    let (value, exchange) = ask.await;
    evidence.extend(exchange.lines);
    known.insert(key, value.clone());
    value
}

/// What a domain's TXT answer says of its SPF record (RFC 7208 §4.5).
fn fetched(domain: &str, answer: Answer<String>) -> Fetched {
    match answer {
        Answer::Failed(why) => Fetched::Failed(why),
        Answer::NxDomain => Fetched::Missing(format!("{domain} does not exist (NXDOMAIN)")),
        Answer::NoData => Fetched::Missing(format!("{domain} has no TXT record")),
        Answer::Records(texts) => {
            let spf: Vec<String> = texts.into_iter().filter(|t| is_spf(t)).collect();
            match spf.as_slice() {
                [] => Fetched::Missing(format!("no TXT record of {domain} starts with v=spf1")),
                [one] => match (Spf::parse(one.as_bytes()), strict_problem(one)) {
                    (Ok(parsed), None) => Fetched::Record(Arc::new(parsed), one.clone()),
                    (_, Some(problem)) => Fetched::Invalid(one.clone(), problem),
                    (Err(_), None) => Fetched::Invalid(one.clone(), syntax_problem(one)),
                },
                _ => Fetched::Several(spf),
            }
        }
    }
}

/// Who is asking, for macros (RFC 7208 §7): the client address, `postmaster@<domain>` as the
/// sender (what a bounce or a probe would use) and the mail host as the HELO name.
#[derive(Clone, Debug)]
pub struct Client {
    pub ip: IpAddr,
    pub sender: String,
    pub helo: String,
}

/// A macro-string expanded for `domain` (the domain of the record it appears in).
fn expand(macro_string: &Macro, client: &Client, domain: &str) -> String {
    let mut vars = Variables::new();
    vars.set_ip(&client.ip);
    vars.set_sender(client.sender.clone().into_bytes());
    vars.set_domain(domain.as_bytes().to_vec());
    vars.set_helo_domain(client.helo.clone().into_bytes());
    vars.set_host_domain(b"mailcheck.invalid".to_vec());
    normal(&macro_string.eval(&vars, domain, true))
}

fn masked_v4(ip: IpAddr, addr: &Ipv4Addr, mask: u32) -> bool {
    matches!(ip, IpAddr::V4(ip) if u32::from(ip) & mask == u32::from(*addr) & mask)
}

fn masked_v6(ip: IpAddr, addr: &Ipv6Addr, mask: u128) -> bool {
    matches!(ip, IpAddr::V6(ip) if u128::from(ip) & mask == u128::from(*addr) & mask)
}

fn masked(ip: IpAddr, candidate: &IpAddr, ip4_mask: u32, ip6_mask: u128) -> bool {
    match candidate {
        IpAddr::V4(addr) => masked_v4(ip, addr, ip4_mask),
        IpAddr::V6(addr) => masked_v6(ip, addr, ip6_mask),
    }
}

/// The whole policy tree, whatever the sender: what RFC 7208 §4.6.4 limits.
#[derive(Debug, Default)]
pub struct Analysis {
    /// DNS-querying terms, as `term (in domain)`.
    pub terms: Vec<String>,
    /// Terms whose look-up found nothing.
    pub voids: Vec<String>,
    /// Problems that make the result a permerror.
    pub permerrors: Vec<String>,
    /// Look-ups that failed: the result cannot be told.
    pub temperrors: Vec<String>,
    /// Advice that is not an error (the `ptr` mechanism).
    pub warnings: Vec<String>,
}

impl Analysis {
    /// Counts what the look-up of `term` found: a failure, or a void (nothing at all).
    fn looked_up<T>(&mut self, term: String, answer: &Answer<T>) {
        match answer {
            Answer::Failed(why) => self.temperrors.push(format!("{term}: {why}")),
            answer if answer.is_empty() => self.voids.push(term),
            _ => {}
        }
    }
}

/// The host names of MX records, the null MX (`0 .`) left out.
fn mx_names(records: &[(u16, String)]) -> Vec<String> {
    records
        .iter()
        .map(|(_, host)| host.clone())
        .filter(|host| !host.is_empty())
        .collect()
}

/// The domain-spec of a mechanism that queries DNS (include, a, mx, ptr, exists); `None` for
/// all, ip4 and ip6, which ask nothing.
fn domain_spec(mechanism: &Mechanism) -> Option<&Macro> {
    match mechanism {
        Mechanism::Include { macro_string }
        | Mechanism::A { macro_string, .. }
        | Mechanism::Mx { macro_string, .. }
        | Mechanism::Ptr { macro_string }
        | Mechanism::Exists { macro_string } => Some(macro_string),
        Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => None,
    }
}

fn describe(mechanism: &Mechanism, target: &str, domain: &str) -> String {
    let name = match mechanism {
        Mechanism::Include { .. } => "include",
        Mechanism::A { .. } => "a",
        Mechanism::Mx { .. } => "mx",
        Mechanism::Ptr { .. } => "ptr",
        Mechanism::Exists { .. } => "exists",
        _ => "?",
    };
    if target == domain {
        format!("{name} (in {domain})")
    } else {
        format!("{name}:{target} (in {domain})")
    }
}

/// Walks every record reachable from `domain` through include and redirect, counting.
pub fn walk<'a>(
    lookups: &'a mut Lookups<'_>,
    analysis: &'a mut Analysis,
    client: &'a Client,
    domain: String,
    stack: Vec<String>,
) -> BoxFuture<'a, ()> {
    Box::pin(async move {
        let Fetched::Record(record, _) = lookups.record(&domain).await else {
            return;
        };
        let mut stack = stack;
        stack.push(domain.clone());
        let has_all = record
            .directives
            .iter()
            .any(|d| d.mechanism == Mechanism::All);
        for directive in record.directives.iter() {
            if analysis.terms.len() > WALK_LIMIT {
                return;
            }
            let mechanism = &directive.mechanism;
            let Some(spec) = domain_spec(mechanism) else {
                continue;
            };
            let target = expand(spec, client, &domain);
            let term = describe(mechanism, &target, &domain);
            analysis.terms.push(term.clone());
            match mechanism {
                Mechanism::Include { .. } => {
                    if stack.contains(&target) {
                        analysis.permerrors.push(format!(
                            "include loop: {} → {target}",
                            stack.join(" → ")
                        ));
                        continue;
                    }
                    match lookups.record(&target).await {
                        Fetched::Record(..) => {
                            walk(lookups, analysis, client, target, stack.clone()).await
                        }
                        other => judge_fetched_below(analysis, &term, other),
                    }
                }
                Mechanism::A { .. } => {
                    let answer = lookups.addresses_like(&target, client.ip).await;
                    analysis.looked_up(term, &answer);
                }
                Mechanism::Exists { .. } => {
                    let answer = lookups.v4(&target).await;
                    analysis.looked_up(term, &answer);
                }
                Mechanism::Mx { .. } => {
                    let answer = lookups.mx(&target).await;
                    analysis.looked_up(term.clone(), &answer);
                    let names = mx_names(answer.records());
                    if names.len() > MAX_MX_NAMES {
                        analysis.permerrors.push(format!(
                            "{term}: {} MX names, more than {MAX_MX_NAMES}",
                            names.len()
                        ));
                    }
                    for name in names.iter().take(MAX_MX_NAMES) {
                        if let Answer::Failed(why) = lookups.addresses_like(name, client.ip).await
                        {
                            analysis.temperrors.push(format!("{term} → {name}: {why}"));
                        }
                    }
                }
                Mechanism::Ptr { .. } => analysis.warnings.push(format!(
                    "{term}: the ptr mechanism is slow and unreliable; RFC 7208 §5.5 says do not use it"
                )),
                _ => {}
            }
        }
        // RFC 7208 §6.1: redirect is ignored when the record has an `all`.
        if let (Some(redirect), false) = (&record.redirect, has_all) {
            let target = expand(redirect, client, &domain);
            let term = format!("redirect={target} (in {domain})");
            analysis.terms.push(term.clone());
            if stack.contains(&target) {
                analysis
                    .permerrors
                    .push(format!("redirect loop: {} → {target}", stack.join(" → ")));
                return;
            }
            match lookups.record(&target).await {
                Fetched::Record(..) => walk(lookups, analysis, client, target, stack).await,
                other => judge_fetched_below(analysis, &term, other),
            }
        }
    })
}

/// An include or redirect target without one valid record: a permerror (RFC 7208 §5.2, §6.1).
fn judge_fetched_below(analysis: &mut Analysis, term: &str, fetched: Fetched) {
    match fetched {
        Fetched::Failed(why) => analysis.temperrors.push(format!("{term}: {why}")),
        Fetched::Missing(why) => analysis.permerrors.push(format!("{term}: {why}")),
        Fetched::Several(records) => analysis
            .permerrors
            .push(format!("{term}: {} v=spf1 records", records.len())),
        Fetched::Invalid(_, why) => analysis.permerrors.push(format!("{term}: {why}")),
        Fetched::Record(..) => {}
    }
}

/// The `all` of the effective record: the domain's own, or its redirect target's (RFC 7208
/// §6.1); `None` when there is none (the default result is then neutral).
pub async fn effective_all(
    lookups: &mut Lookups<'_>,
    client: &Client,
    domain: &str,
) -> Option<(Qualifier, String)> {
    let mut domain = normal(domain);
    let mut seen = Vec::new();
    while !seen.contains(&domain) && seen.len() <= MAX_TERMS {
        seen.push(domain.clone());
        let Fetched::Record(record, _) = lookups.record(&domain).await else {
            return None;
        };
        if let Some(all) = record
            .directives
            .iter()
            .find(|d| d.mechanism == Mechanism::All)
        {
            return Some((all.qualifier.clone(), domain));
        }
        let redirect = record.redirect.as_ref()?;
        domain = expand(redirect, client, &domain);
    }
    None
}

/// Counters of one evaluation (RFC 7208 §4.6.4).
#[derive(Default)]
struct Budget {
    lookups: usize,
    voids: usize,
}

impl Budget {
    fn lookup(&mut self) -> Result<(), SpfResult> {
        self.lookups += 1;
        if self.lookups > MAX_TERMS {
            Err(SpfResult::PermError)
        } else {
            Ok(())
        }
    }

    /// The records of a look-up's answer; none for a void (counted); a failure cuts the
    /// evaluation short (temperror).
    fn answered<T>(&mut self, answer: Answer<T>) -> Result<Vec<T>, SpfResult> {
        match answer {
            Answer::Records(records) => Ok(records),
            Answer::Failed(_) => Err(SpfResult::TempError),
            Answer::NoData | Answer::NxDomain => {
                self.voids += 1;
                if self.voids > MAX_VOIDS {
                    Err(SpfResult::PermError)
                } else {
                    Ok(Vec::new())
                }
            }
        }
    }
}

/// RFC 7208 §4 `check_host()` for one client address.
pub async fn evaluate(lookups: &mut Lookups<'_>, client: &Client, domain: &str) -> SpfResult {
    let mut budget = Budget::default();
    check_host(lookups, &mut budget, client, normal(domain))
        .await
        .unwrap_or_else(|result| result)
}

fn result_of(qualifier: &Qualifier) -> SpfResult {
    match qualifier {
        Qualifier::Pass => SpfResult::Pass,
        Qualifier::Fail => SpfResult::Fail,
        Qualifier::SoftFail => SpfResult::SoftFail,
        Qualifier::Neutral => SpfResult::Neutral,
    }
}

/// `Ok(result)` when evaluation ended normally, `Err(result)` when it was cut short
/// (temperror, permerror); both are the result.
fn check_host<'a>(
    lookups: &'a mut Lookups<'_>,
    budget: &'a mut Budget,
    client: &'a Client,
    domain: String,
) -> BoxFuture<'a, Result<SpfResult, SpfResult>> {
    Box::pin(async move {
        let record = match lookups.record(&domain).await {
            Fetched::Record(record, _) => record,
            Fetched::Failed(_) => return Err(SpfResult::TempError),
            Fetched::Missing(_) => return Ok(SpfResult::None),
            Fetched::Several(_) | Fetched::Invalid(..) => return Err(SpfResult::PermError),
        };
        let ip = client.ip;
        for directive in record.directives.iter() {
            // A term that queries DNS counts before it is evaluated (RFC 7208 §4.6.4).
            let target = match domain_spec(&directive.mechanism) {
                Some(spec) => {
                    budget.lookup()?;
                    expand(spec, client, &domain)
                }
                None => String::new(),
            };
            let matched = match &directive.mechanism {
                Mechanism::All => true,
                Mechanism::Ip4 { addr, mask } => masked_v4(ip, addr, *mask),
                Mechanism::Ip6 { addr, mask } => masked_v6(ip, addr, *mask),
                Mechanism::A {
                    ip4_mask, ip6_mask, ..
                } => {
                    let ips = budget.answered(lookups.addresses_like(&target, ip).await)?;
                    ips.iter().any(|c| masked(ip, c, *ip4_mask, *ip6_mask))
                }
                Mechanism::Mx {
                    ip4_mask, ip6_mask, ..
                } => {
                    let names = mx_names(&budget.answered(lookups.mx(&target).await)?);
                    if names.len() > MAX_MX_NAMES {
                        return Err(SpfResult::PermError);
                    }
                    let mut matched = false;
                    for name in names {
                        match lookups.addresses_like(&name, ip).await {
                            Answer::Failed(_) => return Err(SpfResult::TempError),
                            Answer::Records(ips)
                                if ips.iter().any(|c| masked(ip, c, *ip4_mask, *ip6_mask)) =>
                            {
                                matched = true;
                                break;
                            }
                            _ => {}
                        }
                    }
                    matched
                }
                Mechanism::Ptr { .. } => {
                    // RFC 7208 §5.5: DNS errors here only mean "no match".
                    let names = lookups.ptr(ip).await.records().to_vec();
                    let mut matched = false;
                    for name in names.iter().take(MAX_MX_NAMES) {
                        let validated = lookups
                            .addresses_like(name, ip)
                            .await
                            .records()
                            .contains(&ip);
                        if validated && (*name == target || name.ends_with(&format!(".{target}"))) {
                            matched = true;
                            break;
                        }
                    }
                    matched
                }
                Mechanism::Exists { .. } => !budget.answered(lookups.v4(&target).await)?.is_empty(),
                Mechanism::Include { .. } => {
                    match check_host(lookups, budget, client, target).await? {
                        SpfResult::Pass => true,
                        SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => false,
                        SpfResult::TempError => return Err(SpfResult::TempError),
                        SpfResult::PermError | SpfResult::None => {
                            return Err(SpfResult::PermError);
                        }
                    }
                }
            };
            if matched {
                return Ok(result_of(&directive.qualifier));
            }
        }
        if let Some(redirect) = &record.redirect {
            budget.lookup()?;
            let target = expand(redirect, client, &domain);
            return match check_host(lookups, budget, client, target).await? {
                SpfResult::None => Err(SpfResult::PermError),
                other => Ok(other),
            };
        }
        Ok(SpfResult::Neutral)
    })
}

fn result_name(result: SpfResult) -> &'static str {
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

    #[test]
    fn terms_mail_auth_lets_through_are_caught() {
        for (record, term) in [
            ("v=spf1 foo -all", "foo"),
            ("v=spf1 ip:192.0.2.1 -all", "ip:192.0.2.1"),
            ("v=spf1 ip4:300.1.1.1 -all", "ip4:300.1.1.1"),
            ("v=spf1 mx/33 -all", "mx/33"),
            ("v=spf1 a//129 -all", "a//129"),
            ("v=spf1 ptr/24 -all", "ptr/24"),
            ("v=spf1 include: -all", "include:"),
            ("v=spf1 -all/8", "-all/8"),
            ("v=spf1 +redirect=x.example -all", "+redirect=x.example"),
        ] {
            let problem = strict_problem(record).unwrap_or_else(|| panic!("{record} passed"));
            assert!(
                problem.starts_with(&format!("term `{term}`")),
                "{record}: {problem}"
            );
        }
        for record in [
            "v=spf1 mx a:mail.example.test/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all",
            "v=spf1 a/24//64 mx:example.test//48 ptr:example.test ~all",
            "v=spf1 include:_spf.example.test exists:%{i}._spf.%{d} ?all",
            "v=spf1 redirect=_spf.example.test exp=explain.%{d} custom-modifier=x",
            "V=SPF1 -ALL",
        ] {
            assert_eq!(strict_problem(record), None, "{record}");
        }
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
