//! `tls.protocol.min`: TLS 1.0 and 1.1 are refused, probed with hand-made ClientHellos.

use crate::check::tls::{Observed, legacy_handshake, observe, opener};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::legacy_tls::{
    LegacyProbe, LegacyVersion, Outcome, probe, suite_name, version_name,
};

pub struct ProtocolMin;

static INFO: CheckInfo = CheckInfo {
    id: "tls.protocol.min",
    title: "TLS 1.0 and 1.1 are refused",
    category: Category::Tls,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &Role::TLS,
        stage: Stage::Own,
    },
    what: "On a fresh connection per version (after STARTTLS/STLS where the port needs it), \
           sends a ClientHello that offers only TLS 1.0, then one that offers only TLS 1.1, with \
           the cipher suites such clients used. A ServerHello means the version is accepted \
           (fail); an alert or a closed connection means it is refused (pass).",
    why: "TLS 1.0 and 1.1 are deprecated (RFC 8996): CBC-mode and SHA-1 weaknesses, no modern \
          ciphers. A server that still accepts them lets a downgrade or an old client expose mail \
          and passwords.",
    fix: "Postfix (main.cf, and any `-o` override in master.cf): `smtpd_tls_protocols = \
          >=TLSv1.2` and `smtpd_tls_mandatory_protocols = >=TLSv1.2` (before Postfix 3.6: \
          `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1`), and no `@SECLEVEL=0` in `tls_*_cipherlist`. \
          Dovecot: `ssl_min_protocol = TLSv1.2`. Then `postfix reload`, `doveadm reload`.",
    opt_in: false,
    title_fr: Some("TLS 1.0 et 1.1 sont refusés"),
    fix_fr: Some(
        "Postfix (main.cf, et toute surcharge `-o` dans master.cf) : \
                  `smtpd_tls_protocols = >=TLSv1.2` et `smtpd_tls_mandatory_protocols = \
                  >=TLSv1.2` (avant Postfix 3.6 : `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1`), et pas de \
                  `@SECLEVEL=0` dans `tls_*_cipherlist`. Dovecot : `ssl_min_protocol = TLSv1.2`. \
                  Puis `postfix reload`, `doveadm reload`.",
    ),
};

/// Judges the two probes (one per legacy version).
pub fn judge(probes: &[LegacyProbe]) -> Verdict {
    // A ServerHello may name an older version than offered (TLS 1.0 to a TLS 1.1 offer): what
    // the server accepts is the version it answered with.
    let mut versions: Vec<String> = Vec::new();
    let mut details = Vec::new();
    for p in probes {
        if let Outcome::Accepted { version, cipher } = &p.outcome {
            let name = version_name(*version);
            details.push(format!(
                "{} offer answered with a {name} ServerHello ({})",
                p.version.name(),
                suite_name(*cipher)
            ));
            if !versions.contains(&name) {
                versions.push(name);
            }
        }
    }
    if !versions.is_empty() {
        return Verdict::fail(format!(
            "the server ACCEPTS {}: {}",
            versions.join(" and "),
            details.join("; ")
        ));
    }
    let unknown: Vec<String> = probes
        .iter()
        .filter_map(|p| match &p.outcome {
            Outcome::Unknown(why) => Some(format!("{}: {why}", p.version.name())),
            _ => None,
        })
        .collect();
    if !unknown.is_empty() || probes.is_empty() {
        return Verdict::error(format!("cannot tell: {}", unknown.join("; ")));
    }
    let refused: Vec<String> = probes
        .iter()
        .filter_map(|p| match &p.outcome {
            Outcome::Refused(how) => Some(format!("{} refused ({how})", p.version.name())),
            _ => None,
        })
        .collect();
    Verdict::pass(refused.join("; "))
}

#[async_trait::async_trait]
impl Check for ProtocolMin {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match observe(ctx).await {
            // A failed modern handshake may be a server that speaks only old TLS: probe it.
            Observed::Tls(_) | Observed::HandshakeFailed(..) => {}
            Observed::NoTls => return Verdict::omitted(),
            Observed::Unknown(failure) => {
                return Verdict::error(format!(
                    "port {}: {}",
                    ctx.endpoint().port,
                    failure.kind.describe()
                ))
                .with_evidence(failure.evidence);
            }
        }
        let endpoint = ctx.endpoint();
        let opener = opener(ctx);
        let name = endpoint.server_name();
        // One version after the other: a target never has more connections open than allowed.
        // The TLS 1.1 offer is the endpoint's shared legacy handshake (tls.cert.* may read its
        // chain).
        let tls10 = ctx
            .gate(probe(
                endpoint.addr(),
                &opener,
                &name,
                LegacyVersion::Tls10,
                ctx.net,
                false,
            ))
            .await;
        let tls11 = legacy_handshake(ctx).await.clone();
        let mut probes = Vec::new();
        let mut evidence = Vec::new();
        for (version, result) in [(LegacyVersion::Tls10, tls10), (LegacyVersion::Tls11, tls11)] {
            match result {
                Ok(probe) => {
                    evidence.extend(probe.evidence.iter().cloned());
                    probes.push(probe);
                }
                Err(failure) => {
                    return Verdict::error(format!(
                        "the {} probe could not reach the TLS handshake: {}",
                        version.name(),
                        failure.kind.describe()
                    ))
                    .with_evidence(evidence)
                    .with_evidence(failure.evidence);
                }
            }
        }
        judge(&probes).with_evidence(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;

    fn probe(version: LegacyVersion, outcome: Outcome) -> LegacyProbe {
        LegacyProbe {
            version,
            outcome,
            evidence: vec![],
            handshake: None,
        }
    }

    #[test]
    fn both_refused_passes_with_how() {
        let verdict = judge(&[
            probe(
                LegacyVersion::Tls10,
                Outcome::Refused("fatal alert protocol_version (70)".into()),
            ),
            probe(
                LegacyVersion::Tls11,
                Outcome::Refused("closed the connection without a ServerHello".into()),
            ),
        ]);
        assert_eq!(verdict.status, Status::Pass);
        assert!(
            verdict
                .message
                .contains("TLS 1.0 refused (fatal alert protocol_version (70))")
        );
        assert!(verdict.message.contains("TLS 1.1 refused"));
    }

    #[test]
    fn any_accepted_version_fails_and_is_named() {
        let verdict = judge(&[
            probe(
                LegacyVersion::Tls10,
                Outcome::Accepted {
                    version: 0x0301,
                    cipher: 0xc014,
                },
            ),
            probe(LegacyVersion::Tls11, Outcome::Refused("alert".into())),
        ]);
        assert_eq!(verdict.status, Status::Fail);
        assert!(
            verdict.message.starts_with(
                "the server ACCEPTS TLS 1.0: TLS 1.0 offer answered with a TLS 1.0 ServerHello (TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA)"
            ),
            "{}",
            verdict.message
        );
        assert!(!verdict.message.contains("TLS 1.1 offer"));
        // Accepted wins over unknown: the evidence of acceptance is enough.
        let verdict = judge(&[
            probe(LegacyVersion::Tls10, Outcome::Unknown("timeout".into())),
            probe(
                LegacyVersion::Tls11,
                Outcome::Accepted {
                    version: 0x0302,
                    cipher: 0x002f,
                },
            ),
        ]);
        assert_eq!(verdict.status, Status::Fail);
        assert!(verdict.message.starts_with("the server ACCEPTS TLS 1.1:"));
        // A TLS 1.0-only server answers the TLS 1.1 offer with TLS 1.0: it accepts TLS 1.0.
        let only10 = judge(&[
            probe(
                LegacyVersion::Tls10,
                Outcome::Accepted {
                    version: 0x0301,
                    cipher: 0xc014,
                },
            ),
            probe(
                LegacyVersion::Tls11,
                Outcome::Accepted {
                    version: 0x0301,
                    cipher: 0xc014,
                },
            ),
        ]);
        assert!(
            only10.message.starts_with("the server ACCEPTS TLS 1.0: "),
            "{}",
            only10.message
        );
        assert!(
            only10
                .message
                .contains("TLS 1.1 offer answered with a TLS 1.0 ServerHello")
        );
    }

    #[test]
    fn unknown_without_acceptance_is_an_error() {
        let verdict = judge(&[
            probe(LegacyVersion::Tls10, Outcome::Refused("alert".into())),
            probe(
                LegacyVersion::Tls11,
                Outcome::Unknown("no answer within 5s".into()),
            ),
        ]);
        assert_eq!(verdict.status, Status::Error);
        assert!(verdict.message.contains("TLS 1.1: no answer"));
        assert_eq!(judge(&[]).status, Status::Error);
    }
}
