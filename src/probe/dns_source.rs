//! What a DNS query found ([`Answer`], [`Signed`]) and where answers come from ([`Source`]):
//! the layer under both the look-ups of [`super::dns`] and the DNSSEC validator of
//! [`super::dnssec`], so neither needs the other's internals.

use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, Record, RecordType};

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

    /// The same outcome with other records.
    pub fn map<U>(self, f: impl FnOnce(Vec<T>) -> Vec<U>) -> Answer<U> {
        match self {
            Answer::Records(records) => {
                let mapped = f(records);
                if mapped.is_empty() {
                    Answer::NoData
                } else {
                    Answer::Records(mapped)
                }
            }
            Answer::NoData => Answer::NoData,
            Answer::NxDomain => Answer::NxDomain,
            Answer::Failed(why) => Answer::Failed(why),
        }
    }

    /// NXDOMAIN or NODATA: the name answered, with nothing (an SPF "void lookup").
    pub fn is_empty(&self) -> bool {
        matches!(self, Answer::NoData | Answer::NxDomain)
    }

    /// Why there is no answer at all, when that is so.
    pub fn failure(&self) -> Option<&str> {
        match self {
            Answer::Failed(why) => Some(why),
            _ => None,
        }
    }
}

/// One or more queries and their answers, rendered for evidence (`Q:` / `A:` lines).
#[derive(Clone, Debug, Default)]
pub struct Exchange {
    pub lines: Vec<String>,
}

impl Exchange {
    pub fn extend(&mut self, other: Exchange) {
        self.lines.extend(other.lines);
    }
}

/// One record of an answer section: its owner name (no final dot, lowercase) and its data.
pub type Rr = (String, RData);

/// Where answers come from: the seam between the look-ups and the network.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// One query; the answer section (CNAME records of the chain included) or why there is none.
    async fn lookup(&self, name: &str, rtype: RecordType) -> Answer<Rr>;
    /// Who answers, for evidence and messages.
    fn describe(&self) -> String;
    /// One query with the DO bit (RFC 4035 §3.2.1): the whole answer and authority sections,
    /// RRSIG and NSEC records included, for the validator of [`super::dnssec`].
    async fn lookup_signed(&self, name: &str, rtype: RecordType) -> Signed {
        let _ = (name, rtype);
        Signed::Failed(format!("{} cannot serve DNSSEC records", self.describe()))
    }
}

/// Most records one signed answer may hold (answer and authority together): a real DNSKEY
/// or TLSA answer has a handful; more is a hostile or broken server, refused unread.
pub const MAX_SIGNED_RECORDS: usize = 64;

/// What a query with the DO bit found: the response sections, or why there is none.
#[derive(Clone, Debug)]
pub enum Signed {
    Response {
        /// NOERROR or NXDOMAIN (anything else is [`Signed::Failed`]).
        rcode: ResponseCode,
        answers: Vec<Record>,
        authorities: Vec<Record>,
    },
    Failed(String),
}

impl Signed {
    /// Caps the sections at [`MAX_SIGNED_RECORDS`].
    pub(super) fn bounded(
        rcode: ResponseCode,
        answers: Vec<Record>,
        authorities: Vec<Record>,
    ) -> Signed {
        let count = answers.len() + authorities.len();
        if count > MAX_SIGNED_RECORDS {
            return Signed::Failed(format!(
                "the answer holds {count} records, over the limit of {MAX_SIGNED_RECORDS}"
            ));
        }
        Signed::Response {
            rcode,
            answers,
            authorities,
        }
    }
}

/// A name without its final dot, lowercase: how names are compared and shown.
pub fn normal(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}
