//! DNS look-ups as typed answers that say NXDOMAIN, NODATA and failure apart, each with the
//! query, its answer (or rcode) and its timing rendered for the evidence.
//!
//! [`Dns`] asks a [`Source`]: in a run, hickory's (0.26) name-server pool — the servers of the
//! system's resolver configuration unless `--resolver` names some — or, in unit tests, a
//! fixture of records ([`fixture::Fixture`]). Everything above the seam (joining split TXT
//! strings, PTR names, CNAME detection, the evidence lines) is the same for both, so the tests
//! exercise it.
//!
//! The pool is asked directly, not through hickory's `Resolver`: the resolver answers some
//! names itself (RFC 6761/6303: `localhost`, the reverse of 127/8 as `localhost.`, `/etc/hosts`)
//! and caches, where a checker must show what the DNS servers say — the lab's PTR records live
//! in 100.0.127.in-addr.arpa.
//!
//! SERVFAIL, REFUSED, timeouts and a truncated answer that could not be fetched again over
//! TCP are [`Answer::Failed`]: the checks turn that into `error`, never `pass` or `fail`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::DnsHandle;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{DnsRequestOptions, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{NameServerPool, PoolContext, TlsConfig};

pub use super::dns_source::{Answer, Exchange, MAX_SIGNED_RECORDS, Rr, Signed, Source, normal};

/// The real thing: hickory's pool of name servers (UDP, then TCP when an answer is
/// truncated), one query per look-up, no cache.
///
/// Like the endpoints' first-contact gate, a resolver that never answered and let a query
/// time out is taken for dead: later queries fail at once instead of costing a timeout each
/// (a run against an unreachable `--resolver` ends in about one timeout). Only a timeout
/// counts: a malformed answer, or a truncated one that TCP could not fetch again, came at
/// once and says something about that one answer, so the next query is sent as usual. A
/// resolver that has answered once keeps being asked: its later timeouts are about the names
/// asked.
struct Pool {
    pool: NameServerPool<TokioRuntimeProvider>,
    timeout: Duration,
    described: String,
    answered: AtomicBool,
    dead: AtomicBool,
}

#[async_trait::async_trait]
impl Source for Pool {
    async fn lookup(&self, name: &str, rtype: RecordType) -> Answer<Rr> {
        if self.dead.load(Ordering::Relaxed) {
            return Answer::Failed(self.not_asked());
        }
        let name = match Name::from_str_relaxed(name) {
            Ok(name) => name,
            Err(err) => return Answer::Failed(format!("{name:?} is not a valid DNS name: {err}")),
        };
        let mut responses = self
            .pool
            .lookup(Query::query(name, rtype), DnsRequestOptions::default());
        // The pool keeps to the timeout itself; this only guards against a pool that would not.
        let first = tokio::time::timeout(self.timeout * 2, responses.next()).await;
        let response = match first {
            Err(_) => return self.timed_out(Answer::Failed("timed out".into())),
            Ok(None) => return Answer::Failed("the resolver pool gave no response".into()),
            Ok(Some(Err(err))) => {
                let answer = classify(&err);
                // An rcode (SERVFAIL, REFUSED, NXDOMAIN...) is an answer; only a timeout says
                // the resolver may be dead.
                return match err {
                    NetError::Dns(_) => {
                        self.answered.store(true, Ordering::Relaxed);
                        answer
                    }
                    NetError::Timeout => self.timed_out(answer),
                    _ => answer,
                };
            }
            Ok(Some(Ok(response))) => response,
        };
        self.answered.store(true, Ordering::Relaxed);
        match response.metadata.response_code {
            ResponseCode::NXDomain => Answer::NxDomain,
            ResponseCode::NoError if response.answers.is_empty() => Answer::NoData,
            ResponseCode::NoError => Answer::Records(
                response
                    .answers
                    .iter()
                    .map(|r| (normal(&r.name.to_string()), r.data.clone()))
                    .collect(),
            ),
            code => Answer::Failed(code.to_string()),
        }
    }

    fn describe(&self) -> String {
        self.described.clone()
    }

    async fn lookup_signed(&self, name: &str, rtype: RecordType) -> Signed {
        if self.dead.load(Ordering::Relaxed) {
            return Signed::Failed(self.not_asked());
        }
        let name = match Name::from_str_relaxed(name) {
            Ok(name) => name,
            Err(err) => return Signed::Failed(format!("{name:?} is not a valid DNS name: {err}")),
        };
        let mut options = DnsRequestOptions::default();
        options.edns_set_dnssec_ok = true;
        let mut responses = self.pool.lookup(Query::query(name, rtype), options);
        let first = tokio::time::timeout(self.timeout * 2, responses.next()).await;
        let response = match first {
            Err(_) => {
                self.timed_out(Answer::Failed(String::new()));
                return Signed::Failed("timed out".into());
            }
            Ok(None) => return Signed::Failed("the resolver pool gave no response".into()),
            Ok(Some(Err(NetError::Dns(DnsError::NoRecordsFound(no))))) => {
                self.answered.store(true, Ordering::Relaxed);
                return match no.response_code {
                    code @ (ResponseCode::NoError | ResponseCode::NXDomain) => Signed::bounded(
                        code,
                        Vec::new(),
                        no.authorities.map(|a| a.to_vec()).unwrap_or_default(),
                    ),
                    code => Signed::Failed(code.to_string()),
                };
            }
            Ok(Some(Err(err))) => {
                let why = match classify(&err) {
                    Answer::Failed(why) => why,
                    other => format!("{other:?}"),
                };
                match err {
                    NetError::Dns(_) => self.answered.store(true, Ordering::Relaxed),
                    NetError::Timeout => {
                        self.timed_out(Answer::Failed(String::new()));
                    }
                    _ => {}
                }
                return Signed::Failed(why);
            }
            Ok(Some(Ok(response))) => response,
        };
        self.answered.store(true, Ordering::Relaxed);
        match response.metadata.response_code {
            code @ (ResponseCode::NoError | ResponseCode::NXDomain) => {
                Signed::bounded(code, response.answers.clone(), response.authorities.clone())
            }
            code => Signed::Failed(code.to_string()),
        }
    }
}

impl Pool {
    /// A query timed out: if the resolver never answered, it is dead.
    fn timed_out(&self, answer: Answer<Rr>) -> Answer<Rr> {
        if !self.answered.load(Ordering::Relaxed) {
            self.dead.store(true, Ordering::Relaxed);
        }
        answer
    }

    /// Why a query was not sent to a dead resolver: what happened, and when.
    fn not_asked(&self) -> String {
        format!(
            "not asked: an earlier query to {} timed out after {} s, and it has never answered",
            self.described,
            self.timeout.as_secs_f64()
        )
    }
}

#[derive(Clone)]
pub struct Dns {
    source: Arc<dyn Source>,
    /// Who answers, for messages.
    pub servers: String,
    /// The servers given with `--resolver` (empty: the system's), for libraries that resolve
    /// on their own (mail-auth's DKIM verifier) so they ask the same servers.
    pub addresses: Vec<SocketAddr>,
    /// The DNSSEC validator and its run-wide chain cache (shared by every clone).
    dnssec: Arc<super::dnssec::Validator>,
}

impl Dns {
    /// Look-ups through the given servers, or the system's (resolv.conf) when there are none.
    pub fn new(servers: &[SocketAddr], timeout: Duration) -> Result<Dns, String> {
        let (configs, described): (Vec<NameServerConfig>, String) = if servers.is_empty() {
            let (config, _) = hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("cannot read the system's resolver configuration: {e}"))?;
            let list: Vec<String> = config
                .name_servers()
                .iter()
                .map(|s| s.ip.to_string())
                .collect();
            (
                config.name_servers().to_vec(),
                format!("the system resolver ({})", list.join(", ")),
            )
        } else {
            let configs = servers.iter().map(name_server).collect();
            let list: Vec<String> = servers.iter().map(ToString::to_string).collect();
            (configs, list.join(", "))
        };
        if configs.is_empty() {
            return Err("no DNS server configured (give --resolver)".into());
        }
        // Each query is bounded by `--timeout`: the pool retransmits over UDP inside that
        // window (at 1.2 × the server's smoothed RTT) and gives up at its end.
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 0;
        let tls = TlsConfig::new().map_err(|e| format!("cannot set up the resolver: {e}"))?;
        let context = Arc::new(PoolContext::new(options, tls));
        let pool = NameServerPool::from_config(configs, context, TokioRuntimeProvider::default());
        let mut dns = Dns::with_source(Arc::new(Pool {
            pool,
            timeout,
            described,
            answered: AtomicBool::new(false),
            dead: AtomicBool::new(false),
        }));
        dns.addresses = servers.to_vec();
        Ok(dns)
    }

    /// Look-ups over any source (a fixture in tests).
    pub fn with_source(source: Arc<dyn Source>) -> Dns {
        Dns {
            servers: source.describe(),
            dnssec: Arc::new(super::dnssec::Validator::new(
                source.clone(),
                super::dnssec::Anchors::iana(),
            )),
            source,
            addresses: Vec::new(),
        }
    }

    /// The same look-ups, validated from these trust anchors (`--trust-anchor`).
    pub fn with_trust_anchors(mut self, anchors: super::dnssec::Anchors) -> Dns {
        self.dnssec = Arc::new(super::dnssec::Validator::new(self.source.clone(), anchors));
        self
    }

    /// The DNSSEC validator of this run: every check asks the same one, so each DS and DNSKEY
    /// is fetched and each zone validated once per run.
    pub fn dnssec(&self) -> &super::dnssec::Validator {
        &self.dnssec
    }

    /// One query, with the records of `rtype` (not the CNAME chain) as the answer.
    async fn query(&self, name: &str, rtype: RecordType) -> (Answer<Rr>, Exchange) {
        let fqdn = format!("{}.", normal(name));
        let started = Instant::now();
        let answer = self.source.lookup(&fqdn, rtype).await;
        let took = started.elapsed().as_millis();
        let mut lines = vec![format!("Q: {fqdn} {rtype}  ({took} ms, {})", self.servers)];
        match &answer {
            Answer::Records(records) => {
                for (owner, data) in records {
                    lines.push(format!("A: {owner}. {} {}", data.record_type(), show(data)));
                }
            }
            Answer::NxDomain => lines.push("A: NXDOMAIN".into()),
            Answer::NoData => lines.push(format!("A: NOERROR, no {rtype} record")),
            Answer::Failed(why) => lines.push(format!("A: no answer: {why}")),
        }
        let answer = match cname_loop(&fqdn, rtype, answer.records()) {
            Some(why) => {
                lines.push(format!("A: no answer: {why}"));
                Answer::Failed(why)
            }
            None => answer,
        };
        let answer = answer.map(|records| {
            records
                .into_iter()
                .filter(|(_, data)| data.record_type() == rtype)
                .collect()
        });
        (answer, Exchange { lines })
    }

    /// A records of a name.
    pub async fn ipv4(&self, name: &str) -> (Answer<Ipv4Addr>, Exchange) {
        let (answer, exchange) = self.query(name, RecordType::A).await;
        let answer = answer.map(|records| {
            records
                .into_iter()
                .filter_map(|(_, data)| match data {
                    RData::A(a) => Some(a.0),
                    _ => None,
                })
                .collect()
        });
        (answer, exchange)
    }

    /// AAAA records of a name.
    pub async fn ipv6(&self, name: &str) -> (Answer<Ipv6Addr>, Exchange) {
        let (answer, exchange) = self.query(name, RecordType::AAAA).await;
        let answer = answer.map(|records| {
            records
                .into_iter()
                .filter_map(|(_, data)| match data {
                    RData::AAAA(a) => Some(a.0),
                    _ => None,
                })
                .collect()
        });
        (answer, exchange)
    }

    /// A and AAAA records of a host (asked side by side).
    pub async fn addresses(&self, host: &str) -> (Answer<IpAddr>, Exchange) {
        let ((v4, mut exchange), (v6, more)) = futures::join!(self.ipv4(host), self.ipv6(host));
        exchange.extend(more);
        let mut ips: Vec<IpAddr> = v4.records().iter().copied().map(IpAddr::V4).collect();
        ips.extend(v6.records().iter().copied().map(IpAddr::V6));
        let answer = if !ips.is_empty() {
            Answer::Records(ips)
        } else {
            match (v4, v6) {
                (Answer::Failed(why), _) | (_, Answer::Failed(why)) => Answer::Failed(why),
                (Answer::NxDomain, _) => Answer::NxDomain,
                _ => Answer::NoData,
            }
        };
        (answer, exchange)
    }

    /// MX records as (preference, exchange host without the final dot), sorted by preference.
    /// A null MX (`0 .`, RFC 7505) has the empty string as its host.
    pub async fn mx(&self, domain: &str) -> (Answer<(u16, String)>, Exchange) {
        let (answer, exchange) = self.query(domain, RecordType::MX).await;
        let answer = answer.map(|records| {
            let mut mx: Vec<(u16, String)> = records
                .into_iter()
                .filter_map(|(_, data)| match data {
                    RData::MX(mx) => Some((mx.preference, normal(&mx.exchange.to_string()))),
                    _ => None,
                })
                .collect();
            mx.sort();
            mx
        });
        (answer, exchange)
    }

    /// TXT records, each one's character-strings joined into one text (RFC 7208 §3.3 and
    /// RFC 6376 §3.6.2.2: a record split into several strings is read as their concatenation).
    pub async fn txt(&self, name: &str) -> (Answer<String>, Exchange) {
        let (answer, exchange) = self.query(name, RecordType::TXT).await;
        let answer = answer.map(|records| {
            records
                .into_iter()
                .filter_map(|(_, data)| match data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|s| String::from_utf8_lossy(s))
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()
        });
        (answer, exchange)
    }

    /// PTR names of an address (no final dot, lowercase).
    pub async fn ptr(&self, ip: IpAddr) -> (Answer<String>, Exchange) {
        let (answer, exchange) = self.query(&reverse_name(ip), RecordType::PTR).await;
        let answer = answer.map(|records| {
            records
                .into_iter()
                .filter_map(|(_, data)| match data {
                    RData::PTR(ptr) => Some(normal(&ptr.0.to_string())),
                    _ => None,
                })
                .collect()
        });
        (answer, exchange)
    }

    /// The CNAME a name is an alias for, if it is one.
    pub async fn cname(&self, name: &str) -> (Answer<String>, Exchange) {
        let (answer, exchange) = self.query(name, RecordType::CNAME).await;
        let answer = answer.map(|records| {
            records
                .into_iter()
                .filter_map(|(_, data)| match data {
                    RData::CNAME(cname) => Some(normal(&cname.0.to_string())),
                    _ => None,
                })
                .collect()
        });
        (answer, exchange)
    }
}

/// Longest CNAME chain followed inside one answer (RFC 1034 §3.6.2 wants none at all;
/// resolvers cap theirs around 8–16).
const MAX_CNAME_CHAIN: usize = 16;

/// Whether the CNAME chain an answer holds for `name` loops (or runs longer than
/// [`MAX_CNAME_CHAIN`]) before a record of `rtype`: the name then has no answer at all, which
/// is not the "no such record" of a NODATA. `None` for a CNAME query (its CNAME is the
/// answer) and for a chain that ends.
fn cname_loop(name: &str, rtype: RecordType, records: &[Rr]) -> Option<String> {
    if rtype == RecordType::CNAME {
        return None;
    }
    let mut chain = vec![normal(name)];
    loop {
        let at = chain.last()?;
        if records
            .iter()
            .any(|(owner, data)| owner == at && data.record_type() == rtype)
        {
            return None;
        }
        let next = records.iter().find_map(|(owner, data)| match data {
            RData::CNAME(target) if owner == at => Some(normal(&target.0.to_string())),
            _ => None,
        })?;
        let looped = chain.contains(&next);
        chain.push(next);
        if looped {
            return Some(format!("CNAME loop: {}", chain.join(" → ")));
        }
        if chain.len() > MAX_CNAME_CHAIN {
            return Some(format!(
                "CNAME chain longer than {MAX_CNAME_CHAIN} aliases: {} → …",
                chain[..4].join(" → ")
            ));
        }
    }
}

/// A `--resolver` server as hickory configures one: UDP, then TCP on the same port.
pub fn name_server(addr: &SocketAddr) -> NameServerConfig {
    let mut udp = ConnectionConfig::udp();
    udp.port = addr.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = addr.port();
    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
}

/// `10.100.0.127.in-addr.arpa` / nibbles under `ip6.arpa` (RFC 1035 §3.5, RFC 3596 §2.5).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                let _ = write!(name, "{:x}.{:x}.", byte & 0xf, byte >> 4);
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

/// Record data as it reads in a zone file; TXT strings each quoted, so a split shows.
fn show(data: &RData) -> String {
    match data {
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|s| format!("{:?}", String::from_utf8_lossy(s)))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

fn classify(err: &NetError) -> Answer<Rr> {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(no))
            if no.response_code == ResponseCode::NXDomain =>
        {
            Answer::NxDomain
        }
        NetError::Dns(DnsError::NoRecordsFound(no))
            if no.response_code == ResponseCode::NoError =>
        {
            Answer::NoData
        }
        NetError::Dns(DnsError::NoRecordsFound(no)) => Answer::Failed(no.response_code.to_string()),
        NetError::Dns(DnsError::ResponseCode(code)) => Answer::Failed(code.to_string()),
        NetError::Timeout => Answer::Failed("timed out".into()),
        NetError::Truncated => Answer::Failed(
            "the answer was truncated (TC) and could not be fetched again over TCP".into(),
        ),
        NetError::Proto(err) => Answer::Failed(format!("malformed answer: {err}")),
        other => Answer::Failed(other.to_string()),
    }
}

/// Records in memory, for unit tests: the resolver seam of STYLE.md point 5.
#[cfg(test)]
pub mod fixture {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, TXT};
    use hickory_resolver::proto::rr::{Name, RData, RecordType};

    use super::{Answer, Rr, Source, normal};

    /// Names and their records; a name with no entry is NXDOMAIN (unless names exist below it:
    /// an empty non-terminal), a known name without the asked type is NODATA, and `fail` makes
    /// one query fail (SERVFAIL, timeout...).
    #[derive(Default)]
    pub struct Fixture {
        records: BTreeMap<String, Vec<RData>>,
        failures: BTreeMap<(String, RecordType), String>,
        /// Every query asked, `name TYPE`, in order.
        pub asked: Mutex<Vec<String>>,
    }

    fn name(text: &str) -> Name {
        Name::from_ascii(format!("{}.", normal(text))).expect("a valid name in a fixture")
    }

    impl Fixture {
        pub fn new() -> Fixture {
            Fixture::default()
        }

        pub fn record(mut self, owner: &str, data: RData) -> Fixture {
            self.records.entry(normal(owner)).or_default().push(data);
            self
        }

        pub fn a(self, owner: &str, ip: &str) -> Fixture {
            let data = match ip.parse().expect("an address in a fixture") {
                std::net::IpAddr::V4(v4) => RData::A(A(v4)),
                std::net::IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
            };
            self.record(owner, data)
        }

        pub fn mx(self, owner: &str, preference: u16, exchange: &str) -> Fixture {
            let exchange = if exchange == "." {
                Name::root()
            } else {
                name(exchange)
            };
            self.record(owner, RData::MX(MX::new(preference, exchange)))
        }

        /// One TXT record made of these character-strings.
        pub fn txt(self, owner: &str, strings: &[&str]) -> Fixture {
            let txt = TXT::new(strings.iter().map(ToString::to_string).collect());
            self.record(owner, RData::TXT(txt))
        }

        pub fn ptr(self, ip: &str, target: &str) -> Fixture {
            let owner = super::reverse_name(ip.parse().expect("an address in a fixture"));
            self.record(&owner, RData::PTR(PTR(name(target))))
        }

        pub fn cname(self, owner: &str, target: &str) -> Fixture {
            self.record(owner, RData::CNAME(CNAME(name(target))))
        }

        /// Makes one query fail with `why` (e.g. `SERVFAIL`).
        pub fn fail(mut self, owner: &str, rtype: RecordType, why: &str) -> Fixture {
            self.failures.insert((normal(owner), rtype), why.into());
            self
        }

        pub fn dns(self) -> super::Dns {
            super::Dns::with_source(std::sync::Arc::new(self))
        }
    }

    #[async_trait::async_trait]
    impl Source for Fixture {
        async fn lookup(&self, owner: &str, rtype: RecordType) -> Answer<Rr> {
            let owner = normal(owner);
            self.asked.lock().unwrap().push(format!("{owner} {rtype}"));
            if let Some(why) = self.failures.get(&(owner.clone(), rtype)) {
                return Answer::Failed(why.clone());
            }
            let Some(all) = self.records.get(&owner) else {
                // An empty non-terminal (a name with names below it) exists: NODATA.
                let below = format!(".{owner}");
                if self.records.keys().any(|name| name.ends_with(&below)) {
                    return Answer::NoData;
                }
                return Answer::NxDomain;
            };
            let mut answer: Vec<Rr> = Vec::new();
            // Follow one CNAME, as a resolver does (not for a CNAME query).
            if rtype != RecordType::CNAME
                && let Some(RData::CNAME(target)) =
                    all.iter().find(|d| d.record_type() == RecordType::CNAME)
            {
                answer.push((owner.clone(), RData::CNAME(target.clone())));
                let target = normal(&target.0.to_string());
                if let Some(more) = self.records.get(&target) {
                    answer.extend(
                        more.iter()
                            .filter(|d| d.record_type() == rtype)
                            .map(|d| (target.clone(), d.clone())),
                    );
                }
                return Answer::Records(answer);
            }
            answer.extend(
                all.iter()
                    .filter(|d| d.record_type() == rtype)
                    .map(|d| (owner.clone(), d.clone())),
            );
            if answer.is_empty() {
                Answer::NoData
            } else {
                Answer::Records(answer)
            }
        }

        fn describe(&self) -> String {
            "fixture".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::Fixture;
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("127.0.100.10".parse().unwrap()),
            "10.100.0.127.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[tokio::test]
    async fn txt_strings_are_joined_and_shown_split() {
        let dns = Fixture::new()
            .txt("example.test", &["v=spf1 ip4:192.0.2.1 ", "-all"])
            .txt("example.test", &["google-site-verification=x"])
            .dns();
        let (answer, exchange) = dns.txt("Example.TEST.").await;
        assert_eq!(
            answer,
            Answer::Records(vec![
                "v=spf1 ip4:192.0.2.1 -all".to_string(),
                "google-site-verification=x".to_string()
            ])
        );
        assert!(exchange.lines[0].starts_with("Q: example.test. TXT  ("));
        assert_eq!(
            exchange.lines[1],
            r#"A: example.test. TXT "v=spf1 ip4:192.0.2.1 " "-all""#
        );
    }

    #[tokio::test]
    async fn nxdomain_nodata_and_failure_are_told_apart() {
        let dns = Fixture::new()
            .a("mail.example.test", "192.0.2.1")
            .fail("broken.example.test", RecordType::TXT, "SERVFAIL")
            .dns();
        let (answer, exchange) = dns.txt("mail.example.test").await;
        assert_eq!(answer, Answer::NoData);
        assert_eq!(exchange.lines[1], "A: NOERROR, no TXT record");
        let (answer, exchange) = dns.txt("nothing.example.test").await;
        assert_eq!(answer, Answer::NxDomain);
        assert_eq!(exchange.lines[1], "A: NXDOMAIN");
        let (answer, exchange) = dns.txt("broken.example.test").await;
        assert_eq!(answer, Answer::Failed("SERVFAIL".into()));
        assert_eq!(exchange.lines[1], "A: no answer: SERVFAIL");
    }

    #[tokio::test]
    async fn null_mx_ptr_and_cname() {
        let dns = Fixture::new()
            .mx("nomail.test", 0, ".")
            .mx("example.test", 20, "b.example.test")
            .mx("example.test", 10, "a.example.test")
            .ptr("192.0.2.1", "Mail.Example.TEST")
            .cname("alias.example.test", "a.example.test")
            .a("a.example.test", "192.0.2.1")
            .dns();
        assert_eq!(
            dns.mx("nomail.test").await.0,
            Answer::Records(vec![(0, String::new())])
        );
        assert_eq!(
            dns.mx("example.test").await.0,
            Answer::Records(vec![
                (10, "a.example.test".into()),
                (20, "b.example.test".into())
            ])
        );
        let (ptr, exchange) = dns.ptr("192.0.2.1".parse().unwrap()).await;
        assert_eq!(ptr, Answer::Records(vec!["mail.example.test".into()]));
        assert!(exchange.lines[0].starts_with("Q: 1.2.0.192.in-addr.arpa. PTR"));
        assert_eq!(
            dns.cname("alias.example.test").await.0,
            Answer::Records(vec!["a.example.test".into()])
        );
        assert_eq!(dns.cname("a.example.test").await.0, Answer::NoData);
        // An address query through the alias shows the chain and returns the address.
        let (ips, exchange) = dns.addresses("alias.example.test").await;
        assert_eq!(ips, Answer::Records(vec!["192.0.2.1".parse().unwrap()]));
        assert!(
            exchange
                .lines
                .iter()
                .any(|l| l.contains("CNAME a.example.test.")),
            "{exchange:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_resolver_costs_one_timeout() {
        // Nothing listens on this loopback address: the query fails, it does not hang.
        let dns = Dns::new(
            &["127.0.100.54:53".parse().unwrap()],
            Duration::from_secs(1),
        )
        .unwrap();
        let started = Instant::now();
        let (answer, exchange) = dns.txt("ref.test").await;
        assert!(matches!(answer, Answer::Failed(_)), "{answer:?}");
        // One attempt: at most the timeout (and a little scheduling slack), not one per retry.
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{exchange:?}"
        );
        assert!(exchange.lines[0].contains("127.0.100.54:53"));
        // It never answered: the next queries fail at once.
        let again = Instant::now();
        let (answer, exchange) = dns.mx("ref.test").await;
        assert!(
            matches!(answer, Answer::Failed(ref why) if why.starts_with("not asked") && why.contains("timed out after 1 s")),
            "{answer:?}"
        );
        assert!(again.elapsed() < Duration::from_millis(100), "{exchange:?}");
    }

    #[tokio::test]
    async fn a_cname_loop_is_a_failure_not_nodata() {
        let dns = Fixture::new()
            .cname("loop.example.test", "loop.example.test")
            .cname("alias.example.test", "plain.example.test")
            .a("plain.example.test", "192.0.2.1")
            .dns();
        let (answer, exchange) = dns.mx("loop.example.test").await;
        assert_eq!(
            answer,
            Answer::Failed("CNAME loop: loop.example.test → loop.example.test".into()),
            "{exchange:?}"
        );
        assert_eq!(
            exchange.lines.last().unwrap(),
            "A: no answer: CNAME loop: loop.example.test → loop.example.test"
        );
        // An alias to a name without MX is an honest NODATA.
        assert_eq!(dns.mx("alias.example.test").await.0, Answer::NoData);
        // Asked for the CNAME itself, the self-alias is the answer.
        assert_eq!(
            dns.cname("loop.example.test").await.0,
            Answer::Records(vec!["loop.example.test".into()])
        );
        let two = [
            (
                "a".to_string(),
                RData::CNAME(hickory_resolver::proto::rr::rdata::CNAME(
                    Name::from_ascii("b.").unwrap(),
                )),
            ),
            (
                "b".to_string(),
                RData::CNAME(hickory_resolver::proto::rr::rdata::CNAME(
                    Name::from_ascii("a.").unwrap(),
                )),
            ),
        ];
        assert_eq!(
            cname_loop("a.", RecordType::MX, &two).as_deref(),
            Some("CNAME loop: a → b → a")
        );
    }

    /// A hostile resolver in-process on 127.0.100.207 (an ephemeral port, nothing on TCP):
    /// `first` answers the first query (`None`: silence), every later query gets a proper
    /// empty NOERROR answer.
    fn hostile_resolver(first: fn(&[u8]) -> Option<Vec<u8>>) -> SocketAddr {
        let socket = std::net::UdpSocket::bind("127.0.100.207:0").expect("bind 127.0.100.207");
        let addr = socket.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            let mut first_done = false;
            while let Ok((n, peer)) = socket.recv_from(&mut buf) {
                let query = &buf[..n];
                let out = if first_done {
                    Some(empty_answer(query, 0))
                } else {
                    first_done = true;
                    first(query)
                };
                if let Some(out) = out {
                    let _ = socket.send_to(&out, peer);
                }
            }
        });
        addr
    }

    /// The query turned into an answer with no records and these extra header flags.
    fn empty_answer(query: &[u8], flags: u16) -> Vec<u8> {
        let mut out = query.to_vec();
        let header = 0x8400u16 | flags;
        out[2..4].copy_from_slice(&header.to_be_bytes());
        out[6..12].fill(0);
        // Drop any EDNS OPT record the query carried (ARCOUNT is zeroed above).
        let mut at = 12;
        while at < out.len() && out[at] != 0 {
            at += 1 + out[at] as usize;
        }
        out.truncate((at + 5).min(out.len()));
        out
    }

    #[tokio::test]
    async fn a_malformed_first_answer_does_not_silence_the_resolver() {
        // Says one answer follows, sends none: a message cut in its middle.
        let addr = hostile_resolver(|query| {
            let mut out = empty_answer(query, 0);
            out[6..8].copy_from_slice(&1u16.to_be_bytes());
            out.extend([0xc0, 0x0c, 0x00]);
            Some(out)
        });
        let dns = Dns::new(&[addr], Duration::from_secs(2)).unwrap();
        let (answer, exchange) = dns.txt("bad.example.test").await;
        assert!(
            matches!(&answer, Answer::Failed(why) if why.starts_with("malformed answer")),
            "{answer:?}"
        );
        assert!(
            exchange.lines[1].contains("malformed answer"),
            "{exchange:?}"
        );
        let (answer, exchange) = dns.txt("good.example.test").await;
        assert_eq!(answer, Answer::NoData, "{exchange:?}");
    }

    #[tokio::test]
    async fn a_truncated_first_answer_with_tcp_refused_does_not_silence_the_resolver() {
        let addr = hostile_resolver(|query| Some(empty_answer(query, 0x0200)));
        let dns = Dns::new(&[addr], Duration::from_secs(2)).unwrap();
        let (answer, exchange) = dns.txt("big.example.test").await;
        assert!(
            matches!(&answer, Answer::Failed(why) if why.contains("truncated (TC)")),
            "{answer:?} {exchange:?}"
        );
        let (answer, exchange) = dns.txt("good.example.test").await;
        assert_eq!(answer, Answer::NoData, "{exchange:?}");
    }
}
