//! DNS look-ups through hickory, as typed answers that say NXDOMAIN, NODATA and failure apart.
//!
//! Uses the system's resolver configuration unless servers are given (`--resolver`). Every
//! query is rendered for the evidence (`Q: name TYPE` / `A: ...`).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};

/// What one query found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    Records(Vec<T>),
    /// The name exists but has no record of that type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// No usable answer: timeout, SERVFAIL, REFUSED, network error.
    Failed(String),
}

impl<T> Answer<T> {
    pub fn records(&self) -> &[T] {
        match self {
            Answer::Records(records) => records,
            _ => &[],
        }
    }
}

/// One query and its answer, rendered for evidence.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub lines: Vec<String>,
}

#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
    /// Who answers, for messages.
    pub servers: String,
}

impl Dns {
    /// A resolver over the given servers, or the system's configuration when there are none.
    pub fn new(servers: &[SocketAddr], timeout: Duration) -> Result<Dns, String> {
        let provider = TokioRuntimeProvider::default();
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 1;
        let (builder, described) = if servers.is_empty() {
            let builder = TokioResolver::builder(provider)
                .map_err(|e| format!("cannot read the system's resolver configuration: {e}"))?;
            (builder, "the system resolver".to_string())
        } else {
            let configs = servers
                .iter()
                .map(|addr| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = addr.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = addr.port();
                    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
                })
                .collect();
            let list: Vec<String> = servers.iter().map(ToString::to_string).collect();
            (
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(configs),
                    provider,
                ),
                list.join(", "),
            )
        };
        let mut builder = builder;
        let opts = builder.options_mut();
        opts.timeout = options.timeout;
        opts.attempts = options.attempts;
        opts.ndots = 0;
        let resolver = builder
            .build()
            .map_err(|e| format!("cannot build the resolver: {e}"))?;
        Ok(Dns {
            resolver,
            servers: described,
        })
    }

    async fn query(&self, name: &str, rtype: RecordType) -> (Answer<RData>, Exchange) {
        let fqdn = if name.ends_with('.') {
            name.to_string()
        } else {
            format!("{name}.")
        };
        let started = Instant::now();
        let result = self.resolver.lookup(fqdn.as_str(), rtype).await;
        let took = started.elapsed().as_millis();
        let mut lines = vec![format!("Q: {fqdn} {rtype}")];
        let answer = match result {
            Ok(lookup) => {
                let records: Vec<RData> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .map(|r| r.data.clone())
                    .collect();
                for record in lookup.answers() {
                    lines.push(format!(
                        "A: {} {} {}",
                        record.name,
                        record.record_type(),
                        record.data
                    ));
                }
                if records.is_empty() {
                    Answer::NoData
                } else {
                    Answer::Records(records)
                }
            }
            Err(err) => {
                let answer = classify(&err);
                lines.push(match &answer {
                    Answer::NxDomain => "A: NXDOMAIN".to_string(),
                    Answer::NoData => "A: NOERROR, no records of that type".to_string(),
                    Answer::Failed(why) => format!("A: no answer: {why}"),
                    Answer::Records(_) => unreachable!("classify never returns records"),
                });
                answer
            }
        };
        lines[0].push_str(&format!("  ({took} ms, {})", self.servers));
        (answer, Exchange { lines })
    }

    /// A and AAAA records of a host.
    pub async fn addresses(&self, host: &str) -> (Answer<IpAddr>, Exchange) {
        let (v4, mut exchange) = self.query(host, RecordType::A).await;
        let (v6, more) = self.query(host, RecordType::AAAA).await;
        exchange.lines.extend(more.lines);
        let mut ips: Vec<IpAddr> = Vec::new();
        for answer in [&v4, &v6] {
            for data in answer.records() {
                match data {
                    RData::A(a) => ips.push(IpAddr::V4(a.0)),
                    RData::AAAA(a) => ips.push(IpAddr::V6(a.0)),
                    _ => {}
                }
            }
        }
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
    pub async fn mx(&self, domain: &str) -> (Answer<(u16, String)>, Exchange) {
        let (answer, exchange) = self.query(domain, RecordType::MX).await;
        let answer = match answer {
            Answer::Records(records) => {
                let mut mx: Vec<(u16, String)> = records
                    .into_iter()
                    .filter_map(|r| match r {
                        RData::MX(mx) => Some((
                            mx.preference,
                            mx.exchange.to_string().trim_end_matches('.').to_string(),
                        )),
                        _ => None,
                    })
                    .collect();
                mx.sort();
                Answer::Records(mx)
            }
            Answer::NoData => Answer::NoData,
            Answer::NxDomain => Answer::NxDomain,
            Answer::Failed(why) => Answer::Failed(why),
        };
        (answer, exchange)
    }
}

fn classify(err: &NetError) -> Answer<RData> {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(no))
            if no.response_code == ResponseCode::NXDomain =>
        {
            Answer::NxDomain
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => Answer::NoData,
        NetError::Dns(DnsError::ResponseCode(code)) => Answer::Failed(format!("{code}")),
        NetError::Timeout => Answer::Failed("timed out".into()),
        other => Answer::Failed(other.to_string()),
    }
}
