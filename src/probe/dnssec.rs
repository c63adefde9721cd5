//! DNSSEC validation by mailcheck itself (never a resolver's AD bit): a top-down chain walk
//! from a trust anchor, DS → DNSKEY → RRSIG one zone cut at a time, on the records that
//! queries with the DO bit bring back ([`super::dns_source::Source::lookup_signed`]).
//!
//! Why our own walk over hickory-proto's primitives (`DNSKEY::verify_rrsig`, `DS::covers`,
//! canonical name order) rather than hickory's validating `DnssecDnsHandle`: the handle only
//! says secure/insecure/bogus per answer, while the evidence must show the chain (key tags,
//! algorithms, signature expiry per zone); it takes DNSKEY anchors only, where `--trust-anchor`
//! also takes DS records; and it walks from the root, where a lab serves a private tree under
//! its own anchor. The walk asks only for DS and DNSKEY (each once per run: [`Validator`]
//! caches every answer and every zone's result, shared by all checks and targets).
//!
//! Outcomes follow SPEC `dns.dnssec`: [`Security::Secure`], [`Security::Insecure`] (a signed
//! NSEC proves the delegation has no DS), [`Security::Bogus`] (a bad or expired signature, a DS
//! that matches no DNSKEY, a missing denial proof) and [`Security::Unknown`] (no answer: the
//! resolver failed, or does not serve the anchor's zone — said at once, with the reason).
//! NSEC3 denial is not implemented yet: such a zone's unsigned delegations are `Unknown`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, NSEC, RRSIG};
use hickory_resolver::proto::dnssec::{Algorithm, PublicKey, TrustAnchors, Verifier};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{DNSClass, Name, RData, Record, RecordType};
use tokio::sync::OnceCell;

use super::dns_source::{Signed, Source, normal};

/// Most RRSIGs tried per RRset: a real one has one or two (a key rollover).
const MAX_SIGNATURES_TRIED: usize = 8;
/// Most CNAMEs followed from a name (RFC 7672 §2.2.2 allows aliases for TLSA).
const MAX_ALIASES: usize = 8;

/// One trust anchor: a DS or a DNSKEY of a zone.
#[derive(Clone, Debug)]
enum AnchorKey {
    Ds(DS),
    Key(DNSKEY),
}

/// The trust anchors of a run: the IANA root keys by default, or `--trust-anchor FILE`.
#[derive(Clone, Debug)]
pub struct Anchors {
    anchors: Vec<(Name, AnchorKey)>,
    /// Where they come from, for evidence.
    pub origin: String,
}

impl Anchors {
    /// The IANA root KSKs (20326, and 38696 from its rollover), as compiled into hickory.
    pub fn iana() -> Anchors {
        let keys = TrustAnchors::default();
        let anchors = (0..keys.len())
            .filter_map(|i| keys.get(i))
            .map(|key| {
                (
                    Name::root(),
                    AnchorKey::Key(DNSKEY::with_flags(257, key.clone())),
                )
            })
            .collect();
        Anchors {
            anchors,
            origin: "the IANA root key".into(),
        }
    }

    /// DS and DNSKEY records in zone-file syntax (other records are refused): comments,
    /// parentheses, optional TTL and class. hickory's zone parser takes DS but refuses DNSKEY,
    /// its trust-anchor parser takes DNSKEY only: each record goes to the one that reads it.
    pub fn parse(text: &str, origin: &str) -> Result<Anchors, String> {
        use hickory_resolver::proto::serialize::txt::Parser;
        use hickory_resolver::proto::serialize::txt::trust_anchor::{Entry, Parser as KeyParser};
        let bad = |e: &dyn std::fmt::Display| format!("{origin}: {e}");
        let (mut ds_text, mut key_text) = (String::from("$TTL 3600\n"), String::new());
        for line in logical_lines(text) {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let Some(at) = tokens
                .iter()
                .position(|t| t.eq_ignore_ascii_case("DS") || t.eq_ignore_ascii_case("DNSKEY"))
            else {
                return Err(bad(&format!("{line:?} is not a DS or DNSKEY record")));
            };
            let owner = tokens[0];
            let between_ok = tokens[1..at]
                .iter()
                .all(|t| t.eq_ignore_ascii_case("IN") || t.bytes().all(|b| b.is_ascii_digit()));
            if at == 0 || !between_ok {
                return Err(bad(&format!(
                    "{line:?}: expected OWNER [TTL] [IN] DS|DNSKEY ..."
                )));
            }
            let owner = if owner.ends_with('.') {
                owner.to_string()
            } else {
                format!("{owner}.")
            };
            let record = format!("{owner} 3600 IN {}\n", tokens[at..].join(" "));
            if tokens[at].eq_ignore_ascii_case("DS") {
                ds_text.push_str(&record);
            } else {
                key_text.push_str(&record);
            }
        }
        let mut anchors = Vec::new();
        let (_, sets) = Parser::new(ds_text, None, Some(Name::root()))
            .parse()
            .map_err(|e| bad(&format!("a DS record does not parse: {e}")))?;
        for set in sets.values() {
            for record in set.records_without_rrsigs() {
                if let RData::DNSSEC(DNSSECRData::DS(ds)) = &record.data {
                    anchors.push((record.name.to_lowercase(), AnchorKey::Ds(ds.clone())));
                }
            }
        }
        let entries = KeyParser::new(key_text)
            .parse()
            .map_err(|e| bad(&format!("a DNSKEY record does not parse: {e}")))?;
        for entry in entries {
            // `Entry` is non-exhaustive: DNSKEY is all it holds today.
            #[allow(irrefutable_let_patterns)]
            if let Entry::DNSKEY(record) = entry {
                let key = AnchorKey::Key(record.data().clone());
                anchors.push((record.name().to_lowercase(), key));
            }
        }
        if anchors.is_empty() {
            return Err(bad(&"no DS or DNSKEY record"));
        }
        Ok(Anchors {
            anchors,
            origin: origin.to_string(),
        })
    }

    pub fn from_file(path: &Path) -> Result<Anchors, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the trust anchor file {}: {e}", path.display()))?;
        Anchors::parse(&text, &path.display().to_string())
    }

    fn of_zone(&self, zone: &Name) -> Vec<&AnchorKey> {
        self.anchors
            .iter()
            .filter(|(name, _)| name == zone)
            .map(|(_, key)| key)
            .collect()
    }

    /// The anchored zones, for messages.
    fn zones(&self) -> String {
        let mut zones: Vec<String> = self.anchors.iter().map(|(n, _)| n.to_string()).collect();
        zones.dedup();
        zones.join(", ")
    }
}

/// Zone-file text as one line per record: comments dropped, parentheses joined.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut current, mut depth) = (String::new(), 0usize);
    for raw in text.lines() {
        let line = raw.split(';').next().unwrap_or_default();
        for c in line.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                c => current.push(c),
            }
        }
        current.push(' ');
        if depth == 0 {
            if !current.trim().is_empty() {
                lines.push(current.trim().to_string());
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        lines.push(current.trim().to_string());
    }
    lines
}

/// How a name's zone validates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Security {
    Secure,
    /// Provably unsigned: where and how it was proven.
    Insecure(String),
    /// Validation failed: why.
    Bogus(String),
    /// No answer, or none we can judge: why.
    Unknown(String),
}

/// What the walk found for one name: the deepest zone holding it, how that zone validates,
/// its validated keys (when secure), and the chain as evidence lines.
#[derive(Clone, Debug)]
pub struct ZoneState {
    pub zone: Name,
    pub security: Security,
    keys: Vec<DNSKEY>,
    /// The chain from the anchor down, one line per step.
    pub chain: Vec<String>,
    /// The queries asked for it (`Q:` lines, cached ones included).
    pub queries: Vec<String>,
}

#[cfg(test)]
impl ZoneState {
    pub fn for_tests(security: Security) -> ZoneState {
        ZoneState {
            zone: parse_name("example.test").unwrap(),
            security,
            keys: Vec::new(),
            chain: Vec::new(),
            queries: Vec::new(),
        }
    }
}

/// An RRset looked up through the validating path.
#[derive(Clone, Debug)]
pub struct Validated {
    /// The zone of the final owner (after CNAMEs).
    pub state: Arc<ZoneState>,
    pub outcome: Lookup,
    /// The query and answer lines, and what was verified.
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The records (their data); `verified`: signed by the zone's validated keys.
    Records { data: Vec<RData>, verified: bool },
    /// No such records (NODATA or NXDOMAIN); `proven` by a signed NSEC in a secure zone.
    Empty { proven: bool },
    /// The zone is secure and the answer does not validate: why.
    Bogus(String),
    /// No answer: why.
    Failed(String),
}

type Cell<T> = Arc<OnceCell<T>>;
/// A memo keyed by one query: name and type.
type QueryMemo<T> = Mutex<HashMap<(Name, RecordType), Cell<T>>>;

/// The validator of a run, with its caches: every signed query answered once, every name's
/// zone state computed once, for every check and target of the run.
pub struct Validator {
    source: Arc<dyn Source>,
    anchors: Anchors,
    answers: QueryMemo<Signed>,
    states: Mutex<HashMap<Name, Cell<Arc<ZoneState>>>>,
    lookups: QueryMemo<Arc<Validated>>,
}

fn cell<K: std::hash::Hash + Eq, T>(map: &Mutex<HashMap<K, Cell<T>>>, key: K) -> Cell<T> {
    map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .clone()
}

fn now() -> u32 {
    // RRSIG times are serial numbers modulo 2^32 (RFC 4034 §3.1.5): truncation is the rule.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

/// A signature time for messages.
pub fn date(serial: u32) -> String {
    super::transcript::openssl_date(i64::from(serial))
}

impl Validator {
    pub fn new(source: Arc<dyn Source>, anchors: Anchors) -> Validator {
        Validator {
            source,
            anchors,
            answers: Mutex::default(),
            states: Mutex::default(),
            lookups: Mutex::default(),
        }
    }

    /// Where the trust anchors come from.
    pub fn anchors(&self) -> &str {
        &self.anchors.origin
    }

    /// One signed query, asked once per run.
    async fn ask(&self, name: &Name, rtype: RecordType) -> Signed {
        let key = (name.to_lowercase(), rtype);
        cell(&self.answers, key)
            .get_or_init(|| async {
                let text = name.to_string();
                self.source.lookup_signed(&text, rtype).await
            })
            .await
            .clone()
    }

    /// The zone state of `name` (a domain or host name, no final dot needed).
    pub async fn zone_state(&self, name: &str) -> Arc<ZoneState> {
        match parse_name(name) {
            Ok(name) => self.state(name).await,
            Err(why) => Arc::new(ZoneState {
                zone: Name::root(),
                security: Security::Unknown(why),
                keys: Vec::new(),
                chain: Vec::new(),
                queries: Vec::new(),
            }),
        }
    }

    fn state(&self, name: Name) -> BoxFuture<'_, Arc<ZoneState>> {
        Box::pin(async move {
            let cell = cell(&self.states, name.clone());
            cell.get_or_init(|| async { Arc::new(self.compute(name).await) })
                .await
                .clone()
        })
    }

    async fn compute(&self, name: Name) -> ZoneState {
        let anchors = self.anchors.of_zone(&name);
        if !anchors.is_empty() {
            return self.anchored(name, &anchors).await;
        }
        if name.is_root() {
            return ZoneState {
                zone: name,
                security: Security::Unknown(format!(
                    "no trust anchor covers this name (anchors: {} from {})",
                    self.anchors.zones(),
                    self.anchors.origin
                )),
                keys: Vec::new(),
                chain: Vec::new(),
                queries: Vec::new(),
            };
        }
        let parent = self.state(name.base_name()).await;
        if parent.security != Security::Secure {
            return (*parent).clone();
        }
        let mut state = (*parent).clone();
        let q = format!("Q: {name} DS +dnssec");
        state.queries.push(q);
        let ds_answer = self.ask(&name, RecordType::DS).await;
        let (rcode, answers, authorities) = match ds_answer {
            Signed::Failed(why) => {
                state.security = Security::Unknown(format!("{name} DS: {why}"));
                return state;
            }
            Signed::Response {
                rcode,
                answers,
                authorities,
            } => (rcode, answers, authorities),
        };
        let ds: Vec<DS> = answers
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds.clone()),
                _ => None,
            })
            .collect();
        if !ds.is_empty() {
            let sig = match verify_rrset(&name, RecordType::DS, &answers, &parent) {
                Ok(sig) => sig,
                Err(why) => {
                    state.security = Security::Bogus(format!("the DS of {name}: {why}"));
                    return state;
                }
            };
            return self.delegated(name, &ds, sig, state).await;
        }
        if answers
            .iter()
            .any(|r| r.name == name && r.record_type() == RecordType::CNAME)
        {
            // An alias is no zone cut: it lives in the parent's zone.
            return state;
        }
        // No DS: a signed denial must say whether this is an unsigned delegation.
        match denial(&name, RecordType::DS, &authorities, &parent) {
            Ok(Denial::Delegation(how)) => {
                state.chain.push(format!(
                    "{name}: no DS in {} ({how}): an unsigned delegation, insecure",
                    parent.zone
                ));
                state.security = Security::Insecure(format!(
                    "{name} is delegated without DS: {} proves it ({how})",
                    parent.zone
                ));
                state.zone = name;
                state.keys.clear();
            }
            Ok(Denial::NoCut) => {}
            Err(why) => {
                let what = if rcode == ResponseCode::NXDomain {
                    "NXDOMAIN"
                } else {
                    "no DS"
                };
                state.security = Security::Bogus(format!(
                    "{name}: {what} without a valid signed NSEC proof in {} ({why})",
                    parent.zone
                ));
            }
        }
        state
    }

    /// The anchor zone itself: its DNSKEY RRset must hold an anchored key and be signed by it.
    async fn anchored(&self, zone: Name, anchors: &[&AnchorKey]) -> ZoneState {
        let mut state = ZoneState {
            zone: zone.clone(),
            security: Security::Secure,
            keys: Vec::new(),
            chain: Vec::new(),
            queries: vec![format!("Q: {zone} DNSKEY +dnssec")],
        };
        let described: Vec<String> = anchors
            .iter()
            .map(|a| match a {
                AnchorKey::Ds(ds) => {
                    format!("DS {} {}", ds.key_tag(), algorithm_name(ds.algorithm()))
                }
                AnchorKey::Key(key) => format!(
                    "DNSKEY {} {}",
                    key.calculate_key_tag().unwrap_or(0),
                    algorithm_name(key.algorithm())
                ),
            })
            .collect();
        let keys = match self.dnskeys(&zone).await {
            Ok(keys) => keys,
            Err(why) => {
                state.security = Security::Unknown(format!(
                    "the trust anchor's zone {zone} cannot be validated: {why} (the resolver \
                     {} does not serve the tree of {}; a private tree needs --trust-anchor)",
                    self.source.describe(),
                    self.anchors.origin
                ));
                return state;
            }
        };
        let (records, all) = keys;
        let trusted: Vec<&DNSKEY> = records
            .iter()
            .filter(|key| {
                anchors.iter().any(|a| match a {
                    AnchorKey::Ds(ds) => ds.covers(&zone, key).unwrap_or(false),
                    AnchorKey::Key(anchor) => {
                        anchor.algorithm() == key.algorithm()
                            && anchor.public_key().public_bytes() == key.public_key().public_bytes()
                    }
                })
            })
            .collect();
        if trusted.is_empty() {
            state.security = Security::Bogus(format!(
                "no DNSKEY of {zone} matches the trust anchor ({}, from {})",
                described.join(", "),
                self.anchors.origin
            ));
            return state;
        }
        match self_signed(&zone, &all, &trusted) {
            Ok(line) => {
                state.chain.push(format!(
                    "{zone}: trust anchor {} ({}) → {line}",
                    described.join(", "),
                    self.anchors.origin
                ));
                state.keys = records;
            }
            Err(why) => state.security = Security::Bogus(format!("{zone} DNSKEY: {why}")),
        }
        state
    }

    /// A child zone with DS records (already verified in the parent: `ds_sig`).
    async fn delegated(
        &self,
        zone: Name,
        ds: &[DS],
        ds_sig: String,
        mut state: ZoneState,
    ) -> ZoneState {
        let parent = state.zone.clone();
        let usable: Vec<&DS> = ds
            .iter()
            .filter(|d| d.algorithm().is_supported() && d.digest_type().is_supported())
            .collect();
        let listed: Vec<String> = ds
            .iter()
            .map(|d| {
                format!(
                    "DS {} {} digest {:?}",
                    d.key_tag(),
                    algorithm_name(d.algorithm()),
                    d.digest_type()
                )
            })
            .collect();
        state.zone = zone.clone();
        state.keys.clear();
        if usable.is_empty() {
            // RFC 4035 §5.2: no DS with an algorithm we know makes the zone insecure.
            state.security = Security::Insecure(format!(
                "{zone}: no DS with a supported algorithm or digest ({})",
                listed.join(", ")
            ));
            return state;
        }
        state.queries.push(format!("Q: {zone} DNSKEY +dnssec"));
        let (records, all) = match self.dnskeys(&zone).await {
            Ok(keys) => keys,
            Err(why) => {
                state.security = if why.starts_with("no DNSKEY") {
                    Security::Bogus(format!("{zone} has DS in {parent} but {why}"))
                } else {
                    Security::Unknown(format!("{zone} DNSKEY: {why}"))
                };
                return state;
            }
        };
        let matching: Vec<&DNSKEY> = records
            .iter()
            .filter(|key| usable.iter().any(|d| d.covers(&zone, key).unwrap_or(false)))
            .collect();
        if matching.is_empty() {
            let tags: Vec<String> = records
                .iter()
                .map(|k| k.calculate_key_tag().unwrap_or(0).to_string())
                .collect();
            state.security = Security::Bogus(format!(
                "the DS of {zone} in {parent} ({}) matches no DNSKEY of the zone (key tags {})",
                listed.join(", "),
                tags.join(", ")
            ));
            return state;
        }
        match self_signed(&zone, &all, &matching) {
            Ok(line) => {
                state.chain.push(format!(
                    "{zone}: {} in {parent} ({ds_sig}) → {line}",
                    listed.join(", ")
                ));
                state.keys = records;
            }
            Err(why) => state.security = Security::Bogus(format!("{zone} DNSKEY: {why}")),
        }
        state
    }

    /// The DNSKEY records of a zone apex (and the whole answer, for their RRSIGs).
    async fn dnskeys(&self, zone: &Name) -> Result<(Vec<DNSKEY>, Vec<Record>), String> {
        match self.ask(zone, RecordType::DNSKEY).await {
            Signed::Failed(why) => Err(why),
            Signed::Response { rcode, answers, .. } => {
                if let Some(alias) = answers
                    .iter()
                    .find(|r| r.name == *zone && r.record_type() == RecordType::CNAME)
                {
                    return Err(format!(
                        "the DNSKEY answer is an alias ({} CNAME {}): a zone apex is no alias",
                        alias.name, alias.data
                    ));
                }
                let keys: Vec<DNSKEY> = answers
                    .iter()
                    .filter(|r| r.name == *zone)
                    .filter_map(|r| match &r.data {
                        RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key.clone()),
                        _ => None,
                    })
                    .collect();
                if keys.is_empty() {
                    let code = if rcode == ResponseCode::NXDomain {
                        "NXDOMAIN"
                    } else {
                        "NODATA"
                    };
                    return Err(format!("no DNSKEY record ({code})"));
                }
                Ok((keys, answers))
            }
        }
    }

    /// `rtype` records at `name` through the validating path, CNAMEs followed (bounded, loops
    /// refused), each answer asked and judged once per run.
    pub async fn lookup(&self, name: &str, rtype: RecordType) -> Arc<Validated> {
        let name = match parse_name(name) {
            Ok(name) => name,
            Err(why) => {
                return Arc::new(Validated {
                    state: self.zone_state(".").await,
                    outcome: Lookup::Failed(why),
                    evidence: Vec::new(),
                });
            }
        };
        let cell = cell(&self.lookups, (name.clone(), rtype));
        cell.get_or_init(|| async { Arc::new(self.follow(name, rtype).await) })
            .await
            .clone()
    }

    async fn follow(&self, start: Name, rtype: RecordType) -> Validated {
        let mut evidence = Vec::new();
        let mut seen = vec![start.clone()];
        let mut name = start;
        loop {
            let state = self.state(name.clone()).await;
            let secure = state.security == Security::Secure;
            evidence.push(format!("Q: {name} {rtype} +dnssec"));
            let done = |outcome, evidence| Validated {
                state: state.clone(),
                outcome,
                evidence,
            };
            let (answers, authorities) = match self.ask(&name, rtype).await {
                Signed::Failed(why) => {
                    evidence.push(format!("A: no answer: {why}"));
                    return done(Lookup::Failed(why), evidence);
                }
                Signed::Response {
                    answers,
                    authorities,
                    ..
                } => (answers, authorities),
            };
            for record in answers
                .iter()
                .filter(|r| r.record_type() != RecordType::RRSIG)
            {
                evidence.push(format!(
                    "A: {} {} {}",
                    record.name,
                    record.record_type(),
                    record.data
                ));
            }
            let data: Vec<RData> = answers
                .iter()
                .filter(|r| r.name == name && r.record_type() == rtype)
                .map(|r| r.data.clone())
                .collect();
            if !data.is_empty() {
                if !secure {
                    return done(
                        Lookup::Records {
                            data,
                            verified: false,
                        },
                        evidence,
                    );
                }
                return match verify_rrset(&name, rtype, &answers, &state) {
                    Ok(sig) => {
                        evidence.push(format!("* {name} {rtype}: {sig}"));
                        done(
                            Lookup::Records {
                                data,
                                verified: true,
                            },
                            evidence,
                        )
                    }
                    Err(why) => done(Lookup::Bogus(format!("{name} {rtype}: {why}")), evidence),
                };
            }
            let alias = answers.iter().find_map(|r| match &r.data {
                RData::CNAME(target) if r.name == name => Some(target.0.clone()),
                _ => None,
            });
            if let Some(target) = alias {
                if secure && let Err(why) = verify_rrset(&name, RecordType::CNAME, &answers, &state)
                {
                    return done(Lookup::Bogus(format!("{name} CNAME: {why}")), evidence);
                }
                let target = target.to_lowercase();
                if seen.contains(&target) {
                    let why = format!("CNAME loop: {name} points back to {target}");
                    return done(Lookup::Failed(why), evidence);
                }
                if seen.len() > MAX_ALIASES {
                    let why = format!("more than {MAX_ALIASES} CNAMEs from {}", seen[0]);
                    return done(Lookup::Failed(why), evidence);
                }
                seen.push(target.clone());
                name = target;
                continue;
            }
            evidence.push(format!("A: no {rtype} record"));
            if !secure {
                return done(Lookup::Empty { proven: false }, evidence);
            }
            return match denial(&name, rtype, &authorities, &state) {
                Ok(_) => done(Lookup::Empty { proven: true }, evidence),
                Err(why) => done(
                    Lookup::Bogus(format!(
                        "{name}: no {rtype} and no valid signed NSEC proof ({why})"
                    )),
                    evidence,
                ),
            };
        }
    }
}

fn parse_name(name: &str) -> Result<Name, String> {
    let text = format!("{}.", normal(name));
    let text = if text == "." { ".".to_string() } else { text };
    Name::from_ascii(&text)
        .map(|n| n.to_lowercase())
        .map_err(|e| format!("{name:?} is not a valid DNS name: {e}"))
}

/// What a signed denial says about a name.
#[derive(Debug, PartialEq, Eq)]
enum Denial {
    /// The name is a delegation without DS (NS in the NSEC bitmap, no DS, no SOA): how.
    Delegation(String),
    /// The name is no zone cut (it is inside the zone, or does not exist).
    NoCut,
}

/// Reads the NSEC records of an authority section, each verified with the zone's keys.
fn denial(
    name: &Name,
    rtype: RecordType,
    authorities: &[Record],
    zone: &ZoneState,
) -> Result<Denial, String> {
    let nsecs: Vec<(&Name, &NSEC)> = authorities
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC(nsec)) => Some((&r.name, nsec)),
            _ => None,
        })
        .collect();
    if nsecs.is_empty() {
        if authorities
            .iter()
            .any(|r| r.record_type() == RecordType::NSEC3)
        {
            return Err("NSEC3 denial, which mailcheck does not validate yet".into());
        }
        return Err("no NSEC record in the answer".into());
    }
    let mut reasons = Vec::new();
    for (owner, nsec) in nsecs {
        let covers = owner == name || covered(owner, nsec.next_domain_name(), name);
        if !covers {
            continue;
        }
        if let Err(why) = verify_rrset(owner, RecordType::NSEC, authorities, zone) {
            reasons.push(format!("NSEC {owner}: {why}"));
            continue;
        }
        if owner != name {
            return Ok(Denial::NoCut);
        }
        let types: Vec<RecordType> = nsec.type_bit_maps().collect();
        if types.contains(&rtype) {
            reasons.push(format!("the NSEC of {owner} lists {rtype}"));
            continue;
        }
        let shown: Vec<String> = types.iter().map(ToString::to_string).collect();
        return Ok(
            if rtype == RecordType::DS
                && types.contains(&RecordType::NS)
                && !types.contains(&RecordType::SOA)
            {
                Denial::Delegation(format!(
                    "signed NSEC {owner} → {}: {}",
                    nsec.next_domain_name(),
                    shown.join(" ")
                ))
            } else {
                Denial::NoCut
            },
        );
    }
    if reasons.is_empty() {
        Err(format!("no NSEC covers {name}"))
    } else {
        Err(reasons.join("; "))
    }
}

/// `owner < name < next` in canonical order; the last NSEC of a zone wraps to the apex.
fn covered(owner: &Name, next: &Name, name: &Name) -> bool {
    if owner < next {
        owner < name && name < next
    } else {
        owner < name && next.zone_of(name)
    }
}

/// The DNSKEY RRset must be signed by one of `by` (a key the anchor or the DS vouches for).
fn self_signed(zone: &Name, answers: &[Record], by: &[&DNSKEY]) -> Result<String, String> {
    let keys: Vec<DNSKEY> = by.iter().map(|k| (*k).clone()).collect();
    let signer = ZoneState {
        zone: zone.clone(),
        security: Security::Secure,
        keys,
        chain: Vec::new(),
        queries: Vec::new(),
    };
    let sig = verify_rrset(zone, RecordType::DNSKEY, answers, &signer)?;
    let all: Vec<String> = answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(key)) if r.name == *zone => Some(describe_key(key)),
            _ => None,
        })
        .collect();
    Ok(format!("DNSKEY {}; DNSKEY RRset {sig}", all.join(", ")))
}

fn describe_key(key: &DNSKEY) -> String {
    let role = if key.revoke() {
        "revoked"
    } else if key.secure_entry_point() {
        "KSK"
    } else {
        "ZSK"
    };
    format!(
        "{} ({role}, {})",
        key.calculate_key_tag().unwrap_or(0),
        algorithm_name(key.algorithm())
    )
}

fn algorithm_name(algorithm: Algorithm) -> String {
    format!("alg {} {algorithm}", u8::from(algorithm))
}

/// Verifies the `rtype` RRset at `owner` in `records` with the zone's keys: the first RRSIG
/// that verifies and is within its validity wins; otherwise every reason, in words.
fn verify_rrset(
    owner: &Name,
    rtype: RecordType,
    records: &[Record],
    zone: &ZoneState,
) -> Result<String, String> {
    let rrset: Vec<&Record> = records
        .iter()
        .filter(|r| r.name == *owner && r.record_type() == rtype)
        .collect();
    let sigs: Vec<&RRSIG> = records
        .iter()
        .filter(|r| r.name == *owner)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) if sig.input().type_covered == rtype => {
                Some(sig)
            }
            _ => None,
        })
        .collect();
    if sigs.is_empty() {
        return Err(format!("no RRSIG over the {rtype} RRset"));
    }
    let now = now();
    let mut reasons = Vec::new();
    for sig in sigs.iter().take(MAX_SIGNATURES_TRIED) {
        let input = sig.input();
        let tag = input.key_tag;
        if input.signer_name != zone.zone {
            reasons.push(format!(
                "RRSIG {tag} is by {}, not {}",
                input.signer_name, zone.zone
            ));
            continue;
        }
        let expiry = input.sig_expiration.get();
        let inception = input.sig_inception.get();
        if (now.wrapping_sub(inception) as i32) < 0 {
            reasons.push(format!(
                "RRSIG {tag} is not valid before {}",
                date(inception)
            ));
            continue;
        }
        if (expiry.wrapping_sub(now) as i32) < 0 {
            reasons.push(format!("RRSIG {tag} expired on {}", date(expiry)));
            continue;
        }
        let candidates: Vec<&DNSKEY> = zone
            .keys
            .iter()
            .filter(|k| {
                k.zone_key()
                    && !k.revoke()
                    && k.algorithm() == input.algorithm
                    && k.calculate_key_tag().ok() == Some(tag)
            })
            .collect();
        if candidates.is_empty() {
            reasons.push(format!(
                "RRSIG {tag} ({}) names no validated key of {}",
                algorithm_name(input.algorithm),
                zone.zone
            ));
            continue;
        }
        let verified = candidates.iter().any(|key| {
            key.verify_rrsig(owner, DNSClass::IN, sig, rrset.iter().copied())
                .is_ok()
        });
        if verified {
            return Ok(format!(
                "signed by {} key {tag} ({}), RRSIG valid {} → {}",
                zone.zone,
                algorithm_name(input.algorithm),
                date(inception),
                date(expiry)
            ));
        }
        reasons.push(format!("RRSIG {tag} does not verify"));
    }
    if sigs.len() > MAX_SIGNATURES_TRIED {
        reasons.push(format!(
            "{} more RRSIGs not tried (at most {MAX_SIGNATURES_TRIED})",
            sigs.len() - MAX_SIGNATURES_TRIED
        ));
    }
    Err(reasons.join("; "))
}

#[cfg(test)]
pub mod signed {
    //! A signed tree in memory, for the validator's and the checks' unit tests: zones with
    //! ECDSA P-256 keys made on the spot, RRSIGs and NSEC records made by hickory's signer.
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use hickory_resolver::proto::dnssec::crypto::EcdsaSigningKey;
    use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, NSEC, RRSIG, SigInput};
    use hickory_resolver::proto::dnssec::{Algorithm, DigestType, SigningKey, TBS};
    use hickory_resolver::proto::op::ResponseCode;
    use hickory_resolver::proto::rr::{DNSClass, Name, RData, Record, RecordType, SerialNumber};

    use super::super::dns_source::{Answer, Rr, Signed, Source};

    pub fn name(text: &str) -> Name {
        super::parse_name(text).unwrap()
    }

    pub struct Zone {
        pub apex: Name,
        key: EcdsaSigningKey,
        pub dnskey: DNSKEY,
    }

    impl Zone {
        pub fn new(apex: &str) -> Zone {
            let pkcs8 = EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP256SHA256).unwrap();
            let key = EcdsaSigningKey::from_pkcs8(&pkcs8, Algorithm::ECDSAP256SHA256).unwrap();
            let dnskey = DNSKEY::with_flags(257, key.to_public_key().unwrap());
            Zone {
                apex: name(apex),
                key,
                dnskey,
            }
        }

        pub fn tag(&self) -> u16 {
            self.dnskey.calculate_key_tag().unwrap()
        }

        pub fn ds(&self) -> DS {
            let digest = self
                .dnskey
                .to_digest(&self.apex, DigestType::SHA256)
                .unwrap();
            DS::new(
                self.tag(),
                Algorithm::ECDSAP256SHA256,
                DigestType::SHA256,
                digest.as_ref().to_vec(),
            )
        }

        /// An RRSIG over `records` (one RRset), valid from `inception` to `expiry` (unix).
        pub fn sign_at(&self, records: &[Record], inception: u32, expiry: u32) -> Record {
            let first = &records[0];
            let input = SigInput {
                type_covered: first.record_type(),
                algorithm: Algorithm::ECDSAP256SHA256,
                num_labels: first.name.num_labels(),
                original_ttl: first.ttl,
                sig_expiration: SerialNumber::new(expiry),
                sig_inception: SerialNumber::new(inception),
                key_tag: self.tag(),
                signer_name: self.apex.clone(),
            };
            let tbs = TBS::from_input(&first.name, DNSClass::IN, &input, records.iter()).unwrap();
            let sig = self.key.sign(&tbs).unwrap();
            Record::from_rdata(
                first.name.clone(),
                first.ttl,
                RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, sig))),
            )
        }

        pub fn sign(&self, records: &[Record]) -> Record {
            let now = super::now();
            self.sign_at(records, now - 3600, now + 30 * 86400)
        }
    }

    pub fn record(owner: &str, data: RData) -> Record {
        Record::from_rdata(name(owner), 3600, data)
    }

    pub fn nsec(owner: &str, next: &str, types: &[RecordType]) -> Record {
        let data = NSEC::new(name(next), types.to_vec());
        record(owner, RData::DNSSEC(DNSSECRData::NSEC(data)))
    }

    /// The rcode, answer and authority sections of one canned response.
    type Sections = (ResponseCode, Vec<Record>, Vec<Record>);

    /// Canned signed answers: (name, type) → sections; anything else is REFUSED.
    #[derive(Default)]
    pub struct Tree {
        answers: BTreeMap<(Name, RecordType), Sections>,
        pub asked: Mutex<Vec<String>>,
    }

    impl Tree {
        pub fn answer(mut self, owner: &str, rtype: RecordType, records: Vec<Record>) -> Tree {
            self.answers.insert(
                (name(owner), rtype),
                (ResponseCode::NoError, records, vec![]),
            );
            self
        }

        pub fn empty(
            mut self,
            owner: &str,
            rtype: RecordType,
            rcode: ResponseCode,
            authority: Vec<Record>,
        ) -> Tree {
            self.answers
                .insert((name(owner), rtype), (rcode, vec![], authority));
            self
        }

        /// The zone's DNSKEY RRset, self-signed.
        pub fn keys(self, zone: &Zone) -> Tree {
            let key = record(
                &zone.apex.to_string(),
                RData::DNSSEC(DNSSECRData::DNSKEY(zone.dnskey.clone())),
            );
            let sig = zone.sign(std::slice::from_ref(&key));
            self.answer(&zone.apex.to_string(), RecordType::DNSKEY, vec![key, sig])
        }

        /// The child's DS in the parent, signed by the parent.
        pub fn delegate(self, parent: &Zone, child: &Zone) -> Tree {
            let ds = record(
                &child.apex.to_string(),
                RData::DNSSEC(DNSSECRData::DS(child.ds())),
            );
            let sig = parent.sign(std::slice::from_ref(&ds));
            self.answer(&child.apex.to_string(), RecordType::DS, vec![ds, sig])
        }

        /// An RRset signed by `zone`.
        pub fn signed(self, zone: &Zone, owner: &str, data: Vec<RData>) -> Tree {
            let rtype = data[0].record_type();
            self.signed_for(zone, owner, rtype, data)
        }

        /// An RRset signed by `zone`, as the answer to an `asked` query (a CNAME for any type).
        pub fn signed_for(
            self,
            zone: &Zone,
            owner: &str,
            asked: RecordType,
            data: Vec<RData>,
        ) -> Tree {
            let records: Vec<Record> = data.into_iter().map(|d| record(owner, d)).collect();
            let sig = zone.sign(&records);
            let mut all = records;
            all.push(sig);
            self.answer(owner, asked, all)
        }

        /// NODATA for `rtype` at `owner`, with `zone`'s signed NSEC listing `types`.
        pub fn nodata(
            self,
            zone: &Zone,
            owner: &str,
            rtype: RecordType,
            next: &str,
            types: &[RecordType],
        ) -> Tree {
            let nsec = nsec(owner, next, types);
            let sig = zone.sign(std::slice::from_ref(&nsec));
            self.empty(owner, rtype, ResponseCode::NoError, vec![nsec, sig])
        }

        pub fn dns(self) -> super::super::dns::Dns {
            super::super::dns::Dns::with_source(std::sync::Arc::new(self))
        }
    }

    #[async_trait::async_trait]
    impl Source for Tree {
        async fn lookup(&self, _: &str, _: RecordType) -> Answer<Rr> {
            Answer::Failed("REFUSED".into())
        }

        fn describe(&self) -> String {
            "signed fixture".into()
        }

        async fn lookup_signed(&self, owner: &str, rtype: RecordType) -> Signed {
            let owner = name(owner);
            self.asked
                .lock()
                .unwrap()
                .push(format!("{} {rtype}", super::normal(&owner.to_string())));
            match self.answers.get(&(owner, rtype)) {
                Some((rcode, answers, authorities)) => Signed::Response {
                    rcode: *rcode,
                    answers: answers.clone(),
                    authorities: authorities.clone(),
                },
                None => Signed::Failed("REFUSED".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use hickory_resolver::proto::dnssec::rdata::DNSSECRData;
    use hickory_resolver::proto::op::ResponseCode;
    use hickory_resolver::proto::rr::rdata::{A, CNAME};
    use hickory_resolver::proto::rr::{RData, RecordType};

    use super::signed::{Tree, Zone, name, record};
    use super::*;

    fn anchor(zone: &Zone) -> Anchors {
        let text = format!("{} 3600 IN DS {}", zone.apex, zone.ds());
        Anchors::parse(&text, "test anchor").unwrap()
    }

    /// test. (anchor) → ref.test. (signed, DS) ; weak.test. (no DS) ; bogus.test. (DS of
    /// another key).
    fn tree() -> (Zone, Zone, Zone, Tree) {
        let root = Zone::new("test");
        let reference = Zone::new("ref.test");
        let bogus = Zone::new("bogus.test");
        let impostor = Zone::new("bogus.test");
        let tree = Tree::default()
            .keys(&root)
            .keys(&reference)
            .keys(&bogus)
            .delegate(&root, &reference)
            .delegate(&root, &impostor)
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
            );
        (root, reference, bogus, tree)
    }

    #[tokio::test]
    async fn secure_insecure_and_bogus_zones() {
        let (root, reference, _, tree) = tree();
        let tree = Arc::new(tree);
        let validator = Validator::new(tree.clone(), anchor(&root));
        let state = validator.zone_state("mail.ref.test").await;
        assert_eq!(state.security, Security::Secure, "{state:?}");
        assert_eq!(state.zone, name("ref.test"));
        assert!(
            state.chain[0].contains(&format!("trust anchor DS {}", root.tag())),
            "{:?}",
            state.chain
        );
        assert!(
            state.chain[1].contains(&format!("DS {} alg", reference.tag())),
            "{:?}",
            state.chain
        );
        assert!(state.chain[1].contains("RRSIG valid"), "{:?}", state.chain);

        let weak = validator.zone_state("mail.weak.test").await;
        assert!(
            matches!(&weak.security, Security::Insecure(why) if why.contains("weak.test")),
            "{weak:?}"
        );
        let bogus = validator.zone_state("bogus.test").await;
        assert!(
            matches!(&bogus.security, Security::Bogus(why) if why.contains("matches no DNSKEY")),
            "{bogus:?}"
        );
        // Each DS and DNSKEY was asked once, whatever was asked twice.
        validator.zone_state("ref.test").await;
        let asked = tree.asked.lock().unwrap().clone();
        let mut unique = asked.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(asked.len(), unique.len(), "{asked:?}");
    }

    #[tokio::test]
    async fn expired_signatures_and_missing_proofs_are_bogus() {
        let root = Zone::new("test");
        let child = Zone::new("old.test");
        let key = record(
            "old.test",
            RData::DNSSEC(DNSSECRData::DNSKEY(child.dnskey.clone())),
        );
        let now = super::now();
        let expired = child.sign_at(std::slice::from_ref(&key), now - 90 * 86400, now - 86400);
        let tree = Tree::default()
            .keys(&root)
            .delegate(&root, &child)
            .answer("old.test", RecordType::DNSKEY, vec![key, expired])
            // No NSEC at all for this one.
            .empty("bare.test", RecordType::DS, ResponseCode::NoError, vec![]);
        let validator = Validator::new(Arc::new(tree), anchor(&root));
        let old = validator.zone_state("old.test").await;
        assert!(
            matches!(&old.security, Security::Bogus(why) if why.contains("expired on")),
            "{old:?}"
        );
        let bare = validator.zone_state("bare.test").await;
        assert!(
            matches!(&bare.security, Security::Bogus(why) if why.contains("no NSEC record")),
            "{bare:?}"
        );
    }

    #[tokio::test]
    async fn a_resolver_without_the_anchor_zone_fails_at_once() {
        let tree = Tree::default().empty(".", RecordType::DNSKEY, ResponseCode::NXDomain, vec![]);
        let validator = Validator::new(Arc::new(tree), Anchors::iana());
        let started = std::time::Instant::now();
        let state = validator.zone_state("ref.test").await;
        assert!(
            matches!(&state.security, Security::Unknown(why)
                if why.contains("NXDOMAIN") && why.contains("--trust-anchor")),
            "{state:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        // The IANA anchors are the root KSKs.
        assert!(
            state.chain.is_empty() && !Anchors::iana().anchors.is_empty(),
            "{state:?}"
        );
    }

    #[tokio::test]
    async fn lookups_verify_records_follow_aliases_and_refuse_loops() {
        let (root, reference, _, tree) = tree();
        let a = RData::A(A("127.0.100.10".parse().unwrap()));
        let tree = tree
            .signed(&reference, "mail.ref.test", vec![a.clone()])
            .signed(
                &reference,
                "alias.ref.test",
                vec![RData::CNAME(CNAME(name("mail.ref.test")))],
            )
            .signed_for(
                &reference,
                "alias.ref.test",
                RecordType::A,
                vec![RData::CNAME(CNAME(name("mail.ref.test")))],
            )
            .signed_for(
                &reference,
                "loop.ref.test",
                RecordType::TLSA,
                vec![RData::CNAME(CNAME(name("loop.ref.test")))],
            )
            .nodata(
                &reference,
                "alias.ref.test",
                RecordType::DS,
                "loop.ref.test",
                &[RecordType::CNAME, RecordType::RRSIG, RecordType::NSEC],
            )
            .nodata(
                &reference,
                "loop.ref.test",
                RecordType::DS,
                "mail.ref.test",
                &[RecordType::CNAME, RecordType::RRSIG, RecordType::NSEC],
            );
        let validator = Validator::new(Arc::new(tree), anchor(&root));
        let found = validator.lookup("mail.ref.test", RecordType::A).await;
        assert_eq!(
            found.outcome,
            Lookup::Records {
                data: vec![a],
                verified: true
            },
            "{found:?}"
        );
        let through = validator.lookup("alias.ref.test", RecordType::A).await;
        assert_eq!(through.outcome, found.outcome, "{through:?}");
        let looped = validator.lookup("loop.ref.test", RecordType::TLSA).await;
        assert!(
            matches!(&looped.outcome, Lookup::Failed(why) if why.contains("CNAME loop")),
            "{looped:?}"
        );
        // No record and no signed proof in a secure zone: bogus, not "none".
        let missing = validator.lookup("mail.ref.test", RecordType::TXT).await;
        assert!(matches!(missing.outcome, Lookup::Failed(_)), "{missing:?}");
    }

    #[test]
    fn anchor_files_take_ds_and_dnskey_and_refuse_the_rest() {
        let zone = Zone::new("test");
        let text = format!(
            "; the lab root\ntest. IN DS {}\ntest 60 DNSKEY ( {} ) ; the key\n",
            zone.ds(),
            zone.dnskey
        );
        let anchors = Anchors::parse(&text, "lab").unwrap();
        assert_eq!(anchors.anchors.len(), 2);
        assert_eq!(anchors.zones(), "test.");
        let err = Anchors::parse("test. IN A 192.0.2.1", "x").unwrap_err();
        assert!(err.contains("not a DS or DNSKEY"), "{err}");
        assert!(Anchors::parse("", "empty").is_err());
        assert!(Anchors::parse("garbage (", "junk").is_err());
    }

    #[test]
    fn nsec_coverage_wraps_at_the_apex() {
        let (a, c, b) = (name("a.test"), name("c.test"), name("b.test"));
        assert!(covered(&a, &c, &b));
        assert!(!covered(&a, &c, &name("d.test")));
        // The last NSEC of the zone points back to the apex.
        assert!(covered(&c, &name("test"), &name("d.test")));
        assert!(!covered(&c, &name("test"), &name("other")));
    }
}
