//! The SPF record as text: which TXT strings are SPF (RFC 7208 §4.5) and whether a record
//! follows the grammar (§4.6, §12) where mail-auth's parser is too lenient.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::Spf;

use crate::probe::dns::Answer;

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
    // `ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT)`: no leading zero (RFC 7208 §12).
    let cidr = |text: &str, max: u8| {
        text.parse::<u8>().ok().filter(|n| *n <= max).is_some()
            && (text == "0" || !text.starts_with('0'))
    };
    // Terms are separated by spaces only; a CR, LF or other control character is no separator
    // but a syntax error (RFC 7208 §4.6.1, §12).
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Some(format!("the record holds a control character ({:?})", c));
    }
    for term in text.split(' ').filter(|t| !t.is_empty()).skip(1) {
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

/// What a domain's TXT answer says of its SPF record (RFC 7208 §4.5).
pub(super) fn fetched(domain: &str, answer: Answer<String>) -> Fetched {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
