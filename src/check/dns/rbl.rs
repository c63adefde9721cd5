//! `dns.rbl`: the mail host's addresses are not on the DNS blocklists (RFC 5782).
//!
//! A DNSBL answers A `127.0.0.x` for a listed address and NXDOMAIN otherwise. Its "I will not
//! answer you" codes (`127.255.255.0/24`: Spamhaus' `.252` typo in the zone, `.254` public or
//! open resolver, `.255` rate limited) and answers outside `127.0.0.0/8` (a resolver that
//! rewrites NXDOMAIN) say nothing about the address: `error`, never "listed". Each zone must
//! also list its RFC 5782 §5 test address 127.0.0.2, or its "not listed" proves nothing.

use std::net::{IpAddr, Ipv4Addr};

use futures::future::join_all;

use crate::check::dns::{Findings, on_addresses};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::{Answer, Dns, reverse_name};

pub struct DnsRbl;

static INFO: CheckInfo = CheckInfo {
    id: "dns.rbl",
    title: "Addresses are not on DNS blocklists",
    category: Category::Dns,
    severity: Severity::High,
    scope: Scope::Target,
    what: "Looks up each address of the mail host in the DNSBL zones given by `--dnsbl` \
           (scenario `dnsbl`; default the course's two, zen.spamhaus.org and \
           b.barracudacentral.org), after checking that each zone lists its test address \
           127.0.0.2 (RFC 5782 §5). A listing's TXT gives the reason. The zones' refusal codes \
           (127.255.255.x: query refused, public resolver, rate limited) and answers outside \
           127.0.0.0/8 are errors, not listings.",
    why: "Receivers (the course's own `reject_rbl_client zen.spamhaus.org`) refuse mail from \
          listed addresses: a listed server cannot deliver, whatever else is right.",
    fix: "Find why the address is listed (open relay, compromised account, no PTR, a \
          neighbour's spam on a shared range), fix it, then request delisting on the list's \
          site (Spamhaus: check.spamhaus.org; Barracuda: barracudacentral.org/rbl). Public \
          resolvers are refused by Spamhaus: run the check through your own resolver \
          (`--resolver`).",
    opt_in: false,
    title_fr: Some("Les adresses ne sont pas sur des listes noires DNS"),
    fix_fr: Some(
        "Trouvez pourquoi l'adresse est listée (relais ouvert, compte compromis, pas de \
                  PTR, spam d'un voisin sur une plage partagée), corrigez la cause, puis demandez \
                  le retrait sur le site de la liste (Spamhaus : check.spamhaus.org ; Barracuda : \
                  barracudacentral.org/rbl). Spamhaus refuse les résolveurs publics : lancez la \
                  vérification avec votre propre résolveur (`--resolver`).",
    ),
};

/// The course's blocklists (Postfix `reject_rbl_client` in its anti-spam module).
pub const DEFAULT_ZONES: &[&str] = &["zen.spamhaus.org", "b.barracudacentral.org"];

/// The RFC 5782 §5 test entry every DNSBL lists.
const TEST_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// What a zone said about one address.
#[derive(Clone, Debug, PartialEq)]
pub enum Listing {
    NotListed,
    /// Listed, with the return codes.
    Listed(Vec<Ipv4Addr>),
    /// The zone answered, but not about the address: why.
    Refused(String),
    Failed(String),
}

/// The name to ask: the address reversed under the zone (RFC 5782 §2.1, §2.4).
pub fn query_name(ip: IpAddr, zone: &str) -> String {
    let reversed = reverse_name(ip);
    let label = reversed
        .strip_suffix(".in-addr.arpa")
        .or_else(|| reversed.strip_suffix(".ip6.arpa"))
        .unwrap_or(&reversed);
    format!("{label}.{zone}")
}

/// Reads a DNSBL's A answer.
pub fn classify(answer: &Answer<Ipv4Addr>) -> Listing {
    match answer {
        Answer::NxDomain | Answer::NoData => Listing::NotListed,
        Answer::Failed(why) => Listing::Failed(why.clone()),
        Answer::Records(codes) => {
            if let Some(code) = codes.iter().find(|c| c.octets()[..3] == [127, 255, 255]) {
                let meaning = match code.octets()[3] {
                    252 => "the query was malformed (typo in the zone name?)",
                    254 => "queries through a public or open resolver are refused",
                    255 => "too many queries: rate limited",
                    _ => "the query was refused",
                };
                return Listing::Refused(format!("{code}: {meaning}"));
            }
            if let Some(code) = codes.iter().find(|c| c.octets()[0] != 127) {
                return Listing::Refused(format!(
                    "{code} is outside 127.0.0.0/8: not a DNSBL answer (a resolver that rewrites NXDOMAIN?)"
                ));
            }
            Listing::Listed(codes.clone())
        }
    }
}

/// Looks up one address in one zone; with the TXT reason when it is listed.
async fn look_up(dns: &Dns, ip: IpAddr, zone: &str) -> (Listing, Option<String>, Vec<String>) {
    let name = query_name(ip, zone);
    let (answer, exchange) = dns.ipv4(&name).await;
    let mut lines = exchange.lines;
    let listing = classify(&answer);
    let mut reason = None;
    if matches!(listing, Listing::Listed(_)) {
        let (txt, exchange) = dns.txt(&name).await;
        lines.extend(exchange.lines);
        reason = txt.records().first().cloned();
    }
    (listing, reason, lines)
}

pub async fn check(dns: &Dns, zones: &[String], addresses: &[IpAddr], findings: &mut Findings) {
    // Every zone and address side by side: a dead resolver costs one timeout.
    let tests = join_all(
        zones
            .iter()
            .map(|zone| look_up(dns, IpAddr::V4(TEST_ADDRESS), zone)),
    );
    let pairs: Vec<(IpAddr, &String)> = addresses
        .iter()
        .flat_map(|ip| zones.iter().map(move |zone| (*ip, zone)))
        .collect();
    let looks = join_all(pairs.iter().map(|(ip, zone)| look_up(dns, *ip, zone)));
    let (tests, looks) = futures::join!(tests, looks);
    let mut working = Vec::new();
    for (zone, (listing, _, lines)) in zones.iter().zip(tests) {
        findings.evidence.extend(lines);
        match listing {
            Listing::Listed(_) => working.push(zone.clone()),
            Listing::NotListed => findings.error(format!(
                "{zone} does not list its test address 127.0.0.2 (RFC 5782 §5): it is not answering as a DNSBL here"
            )),
            Listing::Refused(why) => findings.error(format!("{zone} refused to answer: {why}")),
            Listing::Failed(why) => findings.error(format!("cannot query {zone}: {why}")),
        }
    }
    let mut clean = Vec::new();
    for ((ip, zone), (listing, reason, lines)) in pairs.iter().zip(looks) {
        findings.evidence.extend(lines);
        match listing {
            Listing::Listed(codes) => {
                let codes: Vec<String> = codes.iter().map(ToString::to_string).collect();
                let reason = reason.map(|r| format!(": {r}")).unwrap_or_default();
                findings.fail(format!(
                    "{ip} is listed on {zone} ({}){reason}",
                    codes.join(", ")
                ));
            }
            Listing::NotListed if working.contains(zone) => clean.push(format!("{ip} on {zone}")),
            Listing::NotListed => {}
            Listing::Refused(why) => {
                findings.error(format!("{zone} did not answer for {ip}: {why}"))
            }
            Listing::Failed(why) => findings.error(format!("cannot query {zone} for {ip}: {why}")),
        }
    }
    if !clean.is_empty() {
        findings.pass(format!("not listed: {}", clean.join(", ")));
    }
}

#[async_trait::async_trait]
impl Check for DnsRbl {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        on_addresses(ctx, async |addresses, findings| {
            let ips: Vec<IpAddr> = addresses.iter().map(|(_, ip)| *ip).collect();
            let zones: Vec<String> = if ctx.settings.dnsbl.is_empty() {
                DEFAULT_ZONES.iter().map(ToString::to_string).collect()
            } else {
                ctx.settings.dnsbl.clone()
            };
            findings.note(format!("DNSBL zones: {}", zones.join(", ")));
            check(ctx.dns, &zones, &ips, findings).await;
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

    const ZONE: &str = "bl.example.test";

    fn zone() -> Fixture {
        Fixture::new().a("2.0.0.127.bl.example.test", "127.0.0.2")
    }

    async fn verdict(fixture: Fixture, ip: &str) -> Verdict {
        let mut findings = Findings::default();
        check(
            &fixture.dns(),
            &[ZONE.to_string()],
            &[ip.parse().unwrap()],
            &mut findings,
        )
        .await;
        findings.verdict()
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(
            query_name("192.0.2.99".parse().unwrap(), "zen.spamhaus.org"),
            "99.2.0.192.zen.spamhaus.org"
        );
        assert!(
            query_name("2001:db8::1".parse().unwrap(), "zen.spamhaus.org")
                .ends_with(".8.b.d.0.1.0.0.2.zen.spamhaus.org")
        );
        let a = |ip: &str| Answer::Records(vec![ip.parse().unwrap()]);
        assert!(matches!(classify(&a("127.0.0.2")), Listing::Listed(_)));
        assert!(matches!(classify(&a("127.0.0.10")), Listing::Listed(_)));
        for refused in [
            "127.255.255.252",
            "127.255.255.254",
            "127.255.255.255",
            "127.255.255.1",
        ] {
            assert!(
                matches!(classify(&a(refused)), Listing::Refused(_)),
                "{refused}"
            );
        }
        assert!(matches!(classify(&a("198.51.100.5")), Listing::Refused(_)));
        assert_eq!(classify(&Answer::NxDomain), Listing::NotListed);
    }

    #[tokio::test]
    async fn a_listed_address_fails_with_the_reason() {
        let fixture = zone().a("20.100.0.127.bl.example.test", "127.0.0.2").txt(
            "20.100.0.127.bl.example.test",
            &["listed: sent spam to our traps"],
        );
        let v = verdict(fixture, "127.0.100.20").await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert_eq!(
            v.message,
            "127.0.100.20 is listed on bl.example.test (127.0.0.2): listed: sent spam to our traps"
        );
    }

    #[tokio::test]
    async fn ipv6_addresses_are_asked_by_nibbles() {
        let name =
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example.test";
        assert_eq!(query_name("2001:db8::1".parse().unwrap(), ZONE), name);
        let v = verdict(zone().a(name, "127.0.0.4"), "2001:db8::1").await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(
            v.message.starts_with("2001:db8::1 is listed"),
            "{}",
            v.message
        );
        let v = verdict(zone(), "2001:db8::1").await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(
            v.evidence
                .iter()
                .any(|l| l.starts_with(&format!("Q: {name}. A"))),
            "{:?}",
            v.evidence
        );
    }

    #[tokio::test]
    async fn not_listed_passes_only_when_the_zone_works() {
        let v = verdict(zone(), "127.0.100.10").await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert_eq!(v.message, "not listed: 127.0.100.10 on bl.example.test");
        // A zone that does not even list 127.0.0.2 proves nothing.
        let v = verdict(Fixture::new(), "127.0.100.10").await;
        assert_eq!(v.status, Status::Error, "{v:?}");
    }

    #[tokio::test]
    async fn refusal_codes_and_failures_are_errors() {
        let fixture = zone().a("30.100.0.127.bl.example.test", "127.255.255.254");
        let v = verdict(fixture, "127.0.100.30").await;
        assert_eq!(v.status, Status::Error, "{v:?}");
        assert!(
            v.message.contains("public or open resolver"),
            "{}",
            v.message
        );
        let fixture = zone().fail("10.100.0.127.bl.example.test", RecordType::A, "timed out");
        let v = verdict(fixture, "127.0.100.10").await;
        assert_eq!(v.status, Status::Error, "{v:?}");
    }
}
