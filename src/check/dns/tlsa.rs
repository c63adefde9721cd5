//! `dns.tlsa`: DANE for SMTP (RFC 7672). The `_25._tcp.<mx>` TLSA RRset, looked up through the
//! validating path, matched against the chain that port 25's shared TLS handshake recorded
//! (`ctx.tls()`: no handshake of its own). The matching here is also what makes DANE-EE
//! relax `tls.cert.*` on port 25 ([`crate::check::tls::mx_policy::mx_cert_policy`]).

use hickory_resolver::proto::rr::RData;
use rustls_pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::check::tls::{Observed, observe};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dnssec::{Lookup, Security, Validated};

pub struct DnsTlsa;

static INFO: CheckInfo = CheckInfo {
    id: "dns.tlsa",
    title: "DANE TLSA records match port 25's certificate",
    category: Category::Dns,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Mx],
        stage: Stage::Own,
    },
    what: "Looks up the TLSA records at `_25._tcp.<MX host>` through mailcheck's own DNSSEC \
           validation and matches them against the certificate chain port 25 presents after \
           STARTTLS (usages 2 DANE-TA and 3 DANE-EE, selectors 0 and 1, matching types 0, 1 \
           and 2). No TLSA in an unsigned zone: skipped; TLSA in an unsigned zone, or none in \
           a signed one: warning; a record that matches: pass; none matches: fail.",
    why: "A DANE sender (Postfix `smtp_tls_security_level = dane`) verifies the MX's \
          certificate against its TLSA records and refuses to deliver when none matches: a \
          stale record after a certificate renewal stops mail. Without a rollover record, the \
          next key change has the same effect until the DNS catches up.",
    fix: "Publish `_25._tcp.mail.example.com. IN TLSA 3 1 1 <SHA-256 (SPKI)>` in the MX \
          host's signed zone (`openssl x509 -in cert.pem -noout -pubkey | openssl pkey -pubin \
          -outform DER | openssl dgst -sha256`), plus a second `3 1 1` record for the next key \
          before switching to it (roll: publish the new record, wait two TTLs, change the key, \
          then remove the old record). Keep the key across renewals (certbot \
          `--reuse-key`). Senders: `smtp_dns_support_level = dnssec` and \
          `smtp_tls_security_level = dane` in Postfix's main.cf.",
    opt_in: false,
    title_fr: Some("Les enregistrements TLSA DANE correspondent au certificat du port 25"),
    fix_fr: Some(
        "Publiez `_25._tcp.mail.example.com. IN TLSA 3 1 1 <SHA-256 (SPKI)>` dans la zone \
         signée de l'hôte MX (`openssl x509 -in cert.pem -noout -pubkey | openssl pkey -pubin \
         -outform DER | openssl dgst -sha256`), plus un second enregistrement `3 1 1` pour la \
         clé suivante avant d'en changer (roulement : publiez le nouvel enregistrement, \
         attendez deux TTL, changez de clé, puis retirez l'ancien). Gardez la clé lors des \
         renouvellements (certbot `--reuse-key`). Émetteurs : `smtp_dns_support_level = \
         dnssec` et `smtp_tls_security_level = dane` dans le main.cf de Postfix.",
    ),
};

/// One TLSA record's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsaRecord {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Vec<u8>,
}

impl TlsaRecord {
    pub fn of(data: &RData) -> Option<TlsaRecord> {
        match data {
            RData::TLSA(tlsa) => Some(TlsaRecord {
                usage: tlsa.cert_usage.into(),
                selector: tlsa.selector.into(),
                matching: tlsa.matching.into(),
                data: tlsa.cert_data.clone(),
            }),
            _ => None,
        }
    }

    /// `3 1 1 0123…`, as in a zone file.
    pub fn show(&self) -> String {
        let hex: String = self.data.iter().map(|b| format!("{b:02x}")).collect();
        format!("{} {} {} {hex}", self.usage, self.selector, self.matching)
    }

    /// Why a sender cannot use this record for SMTP (RFC 7672 §3.1), if so.
    pub fn unusable(&self) -> Option<String> {
        if !matches!(self.usage, 2 | 3) {
            return Some(match self.usage {
                0 | 1 => format!(
                    "usage {} (PKIX) is not for SMTP (RFC 7672 §3.1.3)",
                    self.usage
                ),
                other => format!("usage {other} is unknown"),
            });
        }
        if self.selector > 1 {
            return Some(format!("selector {} is unknown", self.selector));
        }
        let expected = match self.matching {
            0 => None,
            1 => Some(32),
            2 => Some(64),
            other => return Some(format!("matching type {other} is unknown")),
        };
        match expected {
            Some(len) if self.data.len() != len => Some(format!(
                "matching type {} needs {len} bytes of digest, the record has {}",
                self.matching,
                self.data.len()
            )),
            None if self.data.is_empty() => Some("the association data is empty".into()),
            _ => None,
        }
    }

    /// Whether the record matches this certificate (selector and matching type applied).
    pub fn matches(&self, der: &CertificateDer<'_>) -> bool {
        let selected: Vec<u8> = match self.selector {
            0 => der.as_ref().to_vec(),
            1 => match X509Certificate::from_der(der.as_ref()) {
                Ok((_, cert)) => cert.public_key().raw.to_vec(),
                Err(_) => return false,
            },
            _ => return false,
        };
        let digest = match self.matching {
            0 => selected,
            1 => ring::digest::digest(&ring::digest::SHA256, &selected)
                .as_ref()
                .to_vec(),
            2 => ring::digest::digest(&ring::digest::SHA512, &selected)
                .as_ref()
                .to_vec(),
            _ => return false,
        };
        digest == self.data
    }

    /// Which certificate of the chain (leaf first) the record matches: DANE-EE only the
    /// leaf; DANE-TA a certificate above it that the server sends (RFC 7671 §5.2.2: a TA
    /// must be in the chain presented). Signatures up the chain are not re-verified here.
    pub fn matched_in(&self, chain: &[CertificateDer<'_>]) -> Option<usize> {
        if self.unusable().is_some() {
            return None;
        }
        match self.usage {
            3 => chain.first().filter(|leaf| self.matches(leaf)).map(|_| 0),
            2 => chain
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, cert)| self.matches(cert))
                .map(|(i, _)| i),
            _ => None,
        }
    }
}

/// What the DNS side says: the records to match, or the verdict already.
pub fn judge_dns(owner: &str, lookup: &Validated) -> Result<Vec<TlsaRecord>, Verdict> {
    let zone = &lookup.state.zone;
    let records: Vec<TlsaRecord> = match &lookup.outcome {
        Lookup::Failed(why) => {
            return Err(Verdict::error(format!(
                "cannot look up {owner} TLSA: {why}"
            )));
        }
        Lookup::Bogus(why) => {
            return Err(Verdict::fail(format!(
                "{owner} TLSA does not validate ({why}): DANE senders defer the mail"
            )));
        }
        Lookup::Records { data, .. } => data.iter().filter_map(TlsaRecord::of).collect(),
        Lookup::Empty { .. } => Vec::new(),
    };
    match (&lookup.state.security, records.is_empty()) {
        (Security::Unknown(why), _) => Err(Verdict::error(format!(
            "cannot tell whether {zone} is signed: {why}"
        ))),
        (Security::Bogus(why), _) => Err(Verdict::fail(format!(
            "the zone {zone} of {owner} is bogus ({why}): DANE senders defer the mail"
        ))),
        (Security::Insecure(_), true) => Err(Verdict::skip(format!(
            "no TLSA at {owner}, and DANE needs DNSSEC: the zone {zone} is not signed"
        ))),
        (Security::Insecure(why), false) => Err(Verdict::warn(format!(
            "{owner} has TLSA records but its zone is not signed ({why}): senders ignore them"
        ))),
        (Security::Secure, true) => Err(Verdict::warn(format!(
            "DANE not deployed: the zone {zone} is signed but {owner} has no TLSA record"
        ))),
        (Security::Secure, false) => Ok(records),
    }
}

/// What port 25's handshake gave to match against.
pub enum Presented<'a> {
    Chain(&'a [CertificateDer<'static>]),
    /// No TLS there, or the handshake failed: what happened.
    NoTls(String),
    /// We could not tell: why.
    Unknown(String),
}

/// Matches the published records against the presented chain.
pub fn judge_chain(owner: &str, records: &[TlsaRecord], presented: Presented<'_>) -> Verdict {
    let usable: Vec<&TlsaRecord> = records.iter().filter(|r| r.unusable().is_none()).collect();
    let mut notes: Vec<String> = records
        .iter()
        .filter_map(|r| {
            r.unusable()
                .map(|why| format!("{}: unusable, {why}", r.show()))
        })
        .collect();
    if usable.is_empty() {
        return Verdict::warn(format!(
            "no usable TLSA record at {owner} (DANE senders treat the MX as without DANE): {}",
            notes.join("; ")
        ));
    }
    let chain = match presented {
        Presented::Chain(chain) => chain,
        Presented::NoTls(what) => {
            return Verdict::fail(format!(
                "{owner} publishes TLSA but port 25 gives no certificate ({what}): DANE \
                 senders refuse to deliver"
            ));
        }
        Presented::Unknown(why) => {
            return Verdict::error(format!("no certificate to match the TLSA records: {why}"));
        }
    };
    let matched: Vec<String> = usable
        .iter()
        .filter_map(|r| {
            r.matched_in(chain).map(|i| {
                let which = if i == 0 {
                    "the server's certificate".to_string()
                } else {
                    format!("certificate #{i} of the chain")
                };
                format!("{} matches {which}", r.show())
            })
        })
        .collect();
    if matched.is_empty() {
        let shown: Vec<String> = usable.iter().map(|r| r.show()).collect();
        return Verdict::fail(format!(
            "no TLSA record at {owner} matches the chain port 25 presents ({}): DANE senders \
             refuse to deliver",
            shown.join(", ")
        ));
    }
    if records.len() == 1 {
        notes.push("a single TLSA record: no rollover record is published for the next key".into());
    }
    let mut message = format!("{} ({} usable record(s))", matched.join("; "), usable.len());
    if !notes.is_empty() {
        message.push_str(&format!("; {}", notes.join("; ")));
    }
    Verdict::pass(message)
}

/// `_25._tcp.<host>` (RFC 7672 §2.2.2: the TLSA base domain is the MX host name).
pub fn owner(host: &str, port: u16) -> String {
    format!("_{port}._tcp.{}", host.trim_end_matches('.'))
}

#[async_trait::async_trait]
impl Check for DnsTlsa {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let Some(host) = ctx.endpoint().host.clone() else {
            return Verdict::skip("the target is an address: TLSA records hang off the MX name");
        };
        let owner = owner(&host, ctx.endpoint().port);
        let lookup = ctx
            .dns
            .dnssec()
            .lookup(&owner, hickory_resolver::proto::rr::RecordType::TLSA)
            .await;
        let mut evidence: Vec<String> = lookup.state.queries.clone();
        evidence.extend(lookup.state.chain.iter().map(|l| format!("* {l}")));
        evidence.extend(lookup.evidence.iter().cloned());
        let records = match judge_dns(&owner, &lookup) {
            Ok(records) => records,
            Err(verdict) => return verdict.with_evidence(evidence),
        };
        let presented = match observe(ctx).await {
            Observed::Tls(observation) => {
                evidence.push(format!("* port 25: {}", observation.info.describe()));
                Presented::Chain(&observation.info.chain)
            }
            Observed::NoTls => Presented::NoTls("no STARTTLS".into()),
            Observed::HandshakeFailed(err, _) => {
                Presented::NoTls(format!("the TLS handshake failed: {err}"))
            }
            Observed::Unknown(failure) => Presented::Unknown(failure.kind.describe()),
        };
        let command = format!(
            "* compare: openssl s_client -starttls smtp -connect {} -servername {host} \
             -dane_tlsa_domain {host} -dane_tlsa_rrdata '<record>'",
            ctx.endpoint().addr()
        );
        evidence.push(command);
        judge_chain(&owner, &records, presented).with_evidence(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tls::test_certs::leaf;
    use crate::outcome::Status;
    use std::sync::Arc;

    fn spki_sha256(der: &CertificateDer<'_>) -> Vec<u8> {
        let (_, cert) = X509Certificate::from_der(der.as_ref()).unwrap();
        ring::digest::digest(&ring::digest::SHA256, cert.public_key().raw)
            .as_ref()
            .to_vec()
    }

    fn record(usage: u8, selector: u8, matching: u8, data: Vec<u8>) -> TlsaRecord {
        TlsaRecord {
            usage,
            selector,
            matching,
            data,
        }
    }

    fn cert() -> CertificateDer<'static> {
        let now = crate::check::tls::now();
        leaf(
            &["mail.ref.test"],
            now - 86400,
            now + 86400,
            None,
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
    }

    #[test]
    fn every_selector_and_matching_type_matches() {
        let der = cert();
        let full = der.as_ref().to_vec();
        let sha512 = ring::digest::digest(&ring::digest::SHA512, &full)
            .as_ref()
            .to_vec();
        for r in [
            record(3, 1, 1, spki_sha256(&der)),
            record(3, 0, 0, full.clone()),
            record(3, 0, 2, sha512),
        ] {
            assert_eq!(r.unusable(), None, "{r:?}");
            assert_eq!(r.matched_in(std::slice::from_ref(&der)), Some(0), "{r:?}");
        }
        // DANE-TA never matches the leaf itself.
        assert_eq!(
            record(2, 0, 0, full).matched_in(std::slice::from_ref(&der)),
            None
        );
        let wrong = record(3, 1, 1, vec![0xab; 32]);
        assert_eq!(wrong.matched_in(std::slice::from_ref(&der)), None);
    }

    #[test]
    fn unusable_records_say_why() {
        assert!(
            record(1, 1, 1, vec![0; 32])
                .unusable()
                .unwrap()
                .contains("7672")
        );
        assert!(
            record(3, 1, 1, vec![0; 5])
                .unusable()
                .unwrap()
                .contains("32 bytes")
        );
        assert!(
            record(3, 7, 1, vec![0; 32])
                .unusable()
                .unwrap()
                .contains("selector")
        );
        assert!(
            record(3, 1, 9, vec![0; 32])
                .unusable()
                .unwrap()
                .contains("matching")
        );
        assert!(record(3, 0, 0, vec![]).unusable().is_some());
    }

    #[test]
    fn chain_verdicts() {
        let der = cert();
        let chain = vec![der.clone()];
        let good = record(3, 1, 1, spki_sha256(&der));
        let next = record(3, 1, 1, vec![0x11; 32]);
        let owner = "_25._tcp.mail.ref.test";
        let both = judge_chain(
            owner,
            &[good.clone(), next.clone()],
            Presented::Chain(&chain),
        );
        assert_eq!(both.status, Status::Pass, "{both:?}");
        assert!(!both.message.contains("rollover"), "{both:?}");
        let single = judge_chain(owner, std::slice::from_ref(&good), Presented::Chain(&chain));
        assert_eq!(single.status, Status::Pass);
        assert!(single.message.contains("no rollover record"), "{single:?}");
        let none = judge_chain(owner, std::slice::from_ref(&next), Presented::Chain(&chain));
        assert_eq!(none.status, Status::Fail, "{none:?}");
        let pkix = judge_chain(
            owner,
            &[record(1, 1, 1, vec![0; 32])],
            Presented::Chain(&chain),
        );
        assert_eq!(pkix.status, Status::Warn, "{pkix:?}");
        let plain = judge_chain(
            owner,
            std::slice::from_ref(&good),
            Presented::NoTls("no STARTTLS".into()),
        );
        assert_eq!(plain.status, Status::Fail);
        let unknown = judge_chain(owner, &[good], Presented::Unknown("timed out".into()));
        assert_eq!(unknown.status, Status::Error);
    }

    fn validated(security: Security, outcome: Lookup) -> Validated {
        Validated {
            state: Arc::new(crate::probe::dnssec::ZoneState::for_tests(security)),
            outcome,
            evidence: Vec::new(),
        }
    }

    #[test]
    fn dns_verdicts() {
        let owner = "_25._tcp.mail.ref.test";
        let tlsa = RData::TLSA(hickory_resolver::proto::rr::rdata::TLSA::new(
            3.into(),
            1.into(),
            1.into(),
            vec![0; 32],
        ));
        let records = || Lookup::Records {
            data: vec![tlsa.clone()],
            verified: true,
        };
        let empty = || Lookup::Empty { proven: true };
        let insecure = || Security::Insecure("no DS".into());
        let status = |s, o| judge_dns(owner, &validated(s, o)).map_err(|v| v.status);
        assert_eq!(status(insecure(), empty()), Err(Status::Skip));
        assert_eq!(status(insecure(), records()), Err(Status::Warn));
        assert_eq!(status(Security::Secure, empty()), Err(Status::Warn));
        assert_eq!(
            status(Security::Bogus("x".into()), records()),
            Err(Status::Fail)
        );
        assert_eq!(
            status(Security::Secure, Lookup::Bogus("bad".into())),
            Err(Status::Fail)
        );
        assert_eq!(
            status(Security::Secure, Lookup::Failed("SERVFAIL".into())),
            Err(Status::Error)
        );
        assert_eq!(
            status(Security::Unknown("x".into()), empty()),
            Err(Status::Error)
        );
        assert_eq!(
            status(Security::Secure, records()).unwrap(),
            vec![record(3, 1, 1, vec![0; 32])]
        );
    }
}
