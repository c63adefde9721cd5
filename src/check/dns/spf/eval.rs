//! Evaluating SPF over [`Dns`]: a cache of look-ups (each asked once, each in the evidence),
//! the static walk that counts the RFC 7208 §4.6.4 limits over the whole policy tree, and
//! `check_host()` (§4) for one client address.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

use mail_auth::SpfResult;
use mail_auth::spf::{Macro, Mechanism, Qualifier, Variables};

use super::grammar::{Fetched, fetched};
use crate::probe::dns::{Answer, Dns, Exchange, normal};

/// Most DNS-querying terms and void look-ups (RFC 7208 §4.6.4).
pub(super) const MAX_TERMS: usize = 10;
pub(super) const MAX_VOIDS: usize = 2;
/// The static walk stops descending past this many terms: the record already fails.
pub(super) const WALK_LIMIT: usize = 25;
/// Most MX names an `mx` term may have (RFC 7208 §4.6.4).
const MAX_MX_NAMES: usize = 10;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
    // §4.3: a malformed or single-label domain has no SPF record to look for.
    if !is_domain_spec(domain) {
        return SpfResult::None;
    }
    // §5: an IPv4-mapped IPv6 client is an IPv4 client.
    let client = &Client {
        ip: client.ip.to_canonical(),
        ..client.clone()
    };
    let mut budget = Budget::default();
    check_host(lookups, &mut budget, client, normal(domain))
        .await
        .unwrap_or_else(|result| result)
}

/// RFC 7208 §7.1 `domain-spec` after expansion: at least two labels of 1-63 visible ASCII
/// characters, 253 in all, ending in a `toplabel` (letters, digits and inner hyphens, not all
/// digits); one trailing dot allowed.
fn is_domain_spec(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<&str> = name.split('.').collect();
    let Some(top) = labels.last() else {
        return false;
    };
    let toplabel = !top.is_empty()
        && top.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !top.starts_with('-')
        && !top.ends_with('-')
        && !top.bytes().all(|b| b.is_ascii_digit());
    name.len() <= 253
        && labels.len() >= 2
        && toplabel
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_graphic()))
}

/// A term's target that is no domain is a permerror (§4.6: a syntax error of the record).
fn valid_target(target: String) -> Result<String, SpfResult> {
    if is_domain_spec(&target) {
        Ok(target)
    } else {
        Err(SpfResult::PermError)
    }
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
                    let target = expand(spec, client, &domain);
                    if !is_domain_spec(&target) {
                        // A literal that is no domain is a syntax error of the record; an
                        // expansion that is none (a HELO literal in %{h}) matches nothing.
                        if matches!(spec, Macro::Literal(_)) {
                            return Err(SpfResult::PermError);
                        }
                        continue;
                    }
                    target
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
            let target = valid_target(expand(redirect, client, &domain))?;
            return match check_host(lookups, budget, client, target).await? {
                SpfResult::None => Err(SpfResult::PermError),
                other => Ok(other),
            };
        }
        Ok(SpfResult::Neutral)
    })
}
