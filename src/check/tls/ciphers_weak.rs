//! `tls.ciphers.weak`: the endpoint refuses ClientHellos that offer only weak suites, one
//! class at a time, with hand-made TLS 1.2 hellos (rustls cannot offer any of them).

use crate::check::tls::{Observed, observe, opener};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::legacy_tls::{
    CipherProbe, Outcome, WeakClass, probe_class, suite_name, version_name,
};

pub struct CiphersWeak;

static INFO: CheckInfo = CheckInfo {
    id: "tls.ciphers.weak",
    title: "Weak cipher suites are refused",
    category: Category::Tls,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &Role::TLS,
        stage: Stage::Own,
    },
    what: "On a fresh connection per class (after STARTTLS/STLS where the port needs it), sends \
           a ClientHello for TLS 1.2 and below that offers only the suites of one weak class: \
           NULL, EXPORT, anonymous (aNULL), RC4, single DES, 3DES, then static RSA key \
           exchange. A ServerHello means the class is accepted; an alert or a closed \
           connection means it is refused. The evidence names every suite offered and what \
           the server chose or the alert it sent.",
    why: "NULL suites do not encrypt, anonymous ones do not authenticate the server (anyone in \
          the middle can read along), EXPORT, RC4 and DES are broken, 3DES falls to Sweet32, \
          and static RSA key exchange has no forward secrecy: whoever gets the server's key \
          later reads every recorded session. On port 25 weak encryption still beats plain \
          text (RFC 7435), so it is a warning there; on submission and mailbox ports clients \
          send passwords, so it fails.",
    fix: "Postfix (main.cf, and any `-o` override in master.cf): `smtpd_tls_mandatory_ciphers = \
          high`, `smtpd_tls_ciphers = high`, `smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, \
          RC4, DES, 3DES, MD5, kRSA` (and the same in `smtpd_tls_mandatory_exclude_ciphers`), \
          `tls_high_cipherlist` without `@SECLEVEL=0`. Dovecot: `ssl_cipher_list = \
          ALL:!kRSA:!aNULL:!eNULL:!EXPORT:!RC4:!DES:!3DES:!MD5:!PSK` (Dovecot's default). Then \
          `postfix reload`, `doveadm reload`.",
    opt_in: false,
    title_fr: Some("Les suites de chiffrement faibles sont refusées"),
    fix_fr: Some(
        "Postfix (main.cf, et toute surcharge `-o` dans master.cf) : \
         `smtpd_tls_mandatory_ciphers = high`, `smtpd_tls_ciphers = high`, \
         `smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, RC4, DES, 3DES, MD5, kRSA` (et de \
         même dans `smtpd_tls_mandatory_exclude_ciphers`), `tls_high_cipherlist` sans \
         `@SECLEVEL=0`. Dovecot : `ssl_cipher_list = \
         ALL:!kRSA:!aNULL:!eNULL:!EXPORT:!RC4:!DES:!3DES:!MD5:!PSK` (la valeur par défaut de \
         Dovecot). Puis `postfix reload`, `doveadm reload`.",
    ),
};

/// `anonymous (aNULL): TLS_DH_anon_WITH_AES_256_GCM_SHA384 at TLS 1.2`.
fn accepted(probe: &CipherProbe) -> Option<String> {
    match probe.outcome {
        Outcome::Accepted { version, cipher } => Some(format!(
            "{}: {} at {}",
            probe.class.name(),
            suite_name(cipher),
            version_name(version)
        )),
        _ => None,
    }
}

/// Judges the probes of one endpoint whose port has `role` (SPEC: a weak class accepted fails
/// on submission and mailbox ports and warns on 25; static RSA warns everywhere).
pub fn judge(role: Role, probes: &[CipherProbe]) -> Verdict {
    let weak: Vec<String> = probes
        .iter()
        .filter(|p| p.class != WeakClass::StaticRsa)
        .filter_map(accepted)
        .collect();
    let static_rsa: Vec<String> = probes
        .iter()
        .filter(|p| p.class == WeakClass::StaticRsa)
        .filter_map(accepted)
        .collect();
    let unknown: Vec<String> = probes
        .iter()
        .filter_map(|p| match &p.outcome {
            Outcome::Unknown(why) => Some(format!("{}: {why}", p.class.name())),
            _ => None,
        })
        .collect();
    let also_rsa = if static_rsa.is_empty() {
        String::new()
    } else {
        format!("; and without forward secrecy {}", static_rsa.join("; "))
    };
    if !weak.is_empty() {
        let message = format!(
            "the server ACCEPTS weak suites: {}{also_rsa}",
            weak.join("; ")
        );
        return if role.opportunistic_tls() {
            Verdict::warn(format!(
                "{message} (port 25: opportunistic TLS, weak encryption still beats plain text; RFC 7435)"
            ))
        } else {
            Verdict::fail(message)
        };
    }
    // On 25 an accepted static-RSA suite is already the worst verdict there is; elsewhere an
    // unanswered class might hide a failure.
    let decided_on_25 = role.opportunistic_tls() && !static_rsa.is_empty();
    if probes.is_empty() || (!unknown.is_empty() && !decided_on_25) {
        return Verdict::error(format!(
            "cannot tell: {}{also_rsa}",
            if unknown.is_empty() {
                "no probe ran".to_string()
            } else {
                unknown.join("; ")
            }
        ));
    }
    if !static_rsa.is_empty() {
        return Verdict::warn(format!(
            "no forward secrecy: the server ACCEPTS static RSA key exchange ({}); every weak \
             class is refused",
            static_rsa.join("; ")
        ));
    }
    let refused: Vec<String> = probes
        .iter()
        .filter_map(|p| match &p.outcome {
            Outcome::Refused(how) => Some(format!("{} ({how})", p.class.name())),
            _ => None,
        })
        .collect();
    Verdict::pass(format!("every weak class refused: {}", refused.join("; ")))
}

#[async_trait::async_trait]
impl Check for CiphersWeak {
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
        let ctx = &*ctx;
        let jobs: Vec<_> = WeakClass::ALL
            .iter()
            .map(|&class| {
                let (opener, name) = (&opener, &name);
                async move {
                    let probe = probe_class(endpoint.addr(), opener, name, class, ctx.net);
                    (class, ctx.gate(probe).await)
                }
            })
            .collect();
        let mut probes = Vec::new();
        let mut evidence = Vec::new();
        let mut failed = None;
        for (class, result) in ctx.concurrently(jobs).await {
            match result {
                Ok(probe) => {
                    evidence.push(format!("* {} probe:", class.name()));
                    evidence.extend(probe.evidence.iter().cloned());
                    probes.push(probe);
                }
                Err(failure) => {
                    failed.get_or_insert((class, failure));
                }
            }
        }
        if let Some((class, failure)) = failed {
            return Verdict::error(format!(
                "the {} probe could not reach the TLS handshake: {}",
                class.name(),
                failure.kind.describe()
            ))
            .with_evidence(evidence)
            .with_evidence(failure.evidence);
        }
        judge(endpoint.role, &probes).with_evidence(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::legacy_tls::{Answer, judge_answer, parse_answer};
    use crate::probe::raw_tls::TLS12;

    /// The probe of `class` as the server's raw answer makes it.
    fn probe_on(class: WeakClass, raw: &[u8]) -> CipherProbe {
        let answer = parse_answer(raw).unwrap().unwrap().0;
        CipherProbe {
            class,
            outcome: judge_answer(TLS12, Some(&class.suites()), Ok(answer)),
            evidence: vec![],
        }
    }

    fn server_hello(version: u16, cipher: u16) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&version.to_be_bytes());
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        body.extend_from_slice(&cipher.to_be_bytes());
        body.push(0);
        let mut message = vec![2, 0, 0, body.len() as u8];
        message.extend_from_slice(&body);
        let mut record = vec![22, 3, 3, 0, message.len() as u8];
        record.extend_from_slice(&message);
        record
    }

    /// Postfix / OpenSSL: `fatal handshake_failure` when no offered suite is enabled.
    const HANDSHAKE_FAILURE: &[u8] = &[21, 3, 3, 0, 2, 2, 40];

    fn all_refused_but(accepted: &[(WeakClass, u16)]) -> Vec<CipherProbe> {
        WeakClass::ALL
            .iter()
            .map(|&class| match accepted.iter().find(|(c, _)| *c == class) {
                Some((_, cipher)) => probe_on(class, &server_hello(TLS12, *cipher)),
                None => probe_on(class, HANDSHAKE_FAILURE),
            })
            .collect()
    }

    #[test]
    fn every_class_refused_passes_and_says_how() {
        for role in [Role::Mx, Role::Submission, Role::Imaps] {
            let verdict = judge(role, &all_refused_but(&[]));
            assert_eq!(verdict.status, Status::Pass, "{}", verdict.message);
            assert!(
                verdict
                    .message
                    .contains("NULL (fatal alert handshake_failure (40))")
            );
            assert!(
                verdict
                    .message
                    .contains("static RSA (no forward secrecy) (fatal")
            );
        }
        // Dovecot closes instead of alerting: refused too.
        let mut probes = all_refused_but(&[]);
        probes[2].outcome = judge_answer(TLS12, None, Err(crate::probe::ProbeError::Closed));
        assert_eq!(judge(Role::Imap, &probes).status, Status::Pass);
    }

    #[test]
    fn a_weak_class_fails_on_submission_and_mailbox_ports_and_warns_on_25() {
        let probes = all_refused_but(&[
            (WeakClass::Anonymous, 0x00a7),
            (WeakClass::TripleDes, 0x000a),
        ]);
        for role in [
            Role::Submission,
            Role::Smtps,
            Role::Imap,
            Role::Imaps,
            Role::Pop3,
            Role::Pop3s,
        ] {
            let verdict = judge(role, &probes);
            assert_eq!(verdict.status, Status::Fail, "{role:?}");
            assert_eq!(
                verdict.message,
                "the server ACCEPTS weak suites: anonymous (aNULL): \
                 TLS_DH_anon_WITH_AES_256_GCM_SHA384 at TLS 1.2; 3DES: \
                 TLS_RSA_WITH_3DES_EDE_CBC_SHA at TLS 1.2"
            );
        }
        let on25 = judge(Role::Mx, &probes);
        assert_eq!(on25.status, Status::Warn);
        assert!(on25.message.contains("RFC 7435"), "{}", on25.message);
    }

    #[test]
    fn static_rsa_warns_on_every_port_and_is_named_beside_weak_classes() {
        let probes = all_refused_but(&[(WeakClass::StaticRsa, 0x002f)]);
        for role in [Role::Mx, Role::Submission, Role::Imaps] {
            let verdict = judge(role, &probes);
            assert_eq!(verdict.status, Status::Warn, "{role:?}");
            assert!(
                verdict.message.contains(
                    "static RSA key exchange (static RSA (no forward secrecy): \
                     TLS_RSA_WITH_AES_128_CBC_SHA at TLS 1.2)"
                ),
                "{}",
                verdict.message
            );
        }
        let both = judge(
            Role::Submission,
            &all_refused_but(&[(WeakClass::StaticRsa, 0x009c), (WeakClass::Null, 0x0002)]),
        );
        assert_eq!(both.status, Status::Fail);
        assert!(
            both.message
                .contains("NULL: TLS_RSA_WITH_NULL_SHA at TLS 1.2")
        );
        assert!(both.message.contains("without forward secrecy"));
        // Acceptance at an older version than offered is acceptance.
        let mut old = all_refused_but(&[]);
        old[0] = probe_on(WeakClass::Null, &server_hello(0x0301, 0x0002));
        let verdict = judge(Role::Submission, &old);
        assert!(
            verdict.message.contains("at TLS 1.0"),
            "{}",
            verdict.message
        );
    }

    #[test]
    fn unanswered_classes_are_errors_unless_the_verdict_is_already_known() {
        let mut probes = all_refused_but(&[]);
        probes[1] = probe_on(WeakClass::Export, b"garbage\r\n");
        let verdict = judge(Role::Submission, &probes);
        assert_eq!(verdict.status, Status::Error);
        assert!(
            verdict.message.contains("EXPORT: not a TLS record"),
            "{}",
            verdict.message
        );
        // A server choosing a suite it was not offered is broken: we cannot tell.
        let mut broken = all_refused_but(&[]);
        broken[3] = probe_on(WeakClass::Rc4, &server_hello(TLS12, 0xc02f));
        assert_eq!(judge(Role::Mx, &broken).status, Status::Error);
        // An accepted weak class decides despite the unknown one.
        let mut decided = all_refused_but(&[(WeakClass::Des, 0x0009)]);
        decided[1] = probe_on(WeakClass::Export, b"garbage\r\n");
        assert_eq!(judge(Role::Submission, &decided).status, Status::Fail);
        // On 25 static RSA accepted is already the worst: warn. Elsewhere it may hide a fail.
        let mut rsa = all_refused_but(&[(WeakClass::StaticRsa, 0x002f)]);
        rsa[0].outcome = Outcome::Unknown("no answer within 2s".into());
        assert_eq!(judge(Role::Mx, &rsa).status, Status::Warn);
        let elsewhere = judge(Role::Submission, &rsa);
        assert_eq!(elsewhere.status, Status::Error);
        assert!(elsewhere.message.contains("without forward secrecy"));
        assert_eq!(judge(Role::Mx, &[]).status, Status::Error);
    }

    #[test]
    fn the_server_hello_parser_feeds_the_judgement() {
        // A ServerHello that names TLS 1.2 and a suite of the class is acceptance.
        let probe = probe_on(WeakClass::Anonymous, &server_hello(TLS12, 0x0034));
        assert!(matches!(
            probe.outcome,
            Outcome::Accepted {
                version: TLS12,
                cipher: 0x0034
            }
        ));
        assert!(matches!(
            parse_answer(HANDSHAKE_FAILURE).unwrap().unwrap().0,
            Answer::Alert {
                description: 40,
                ..
            }
        ));
    }
}
