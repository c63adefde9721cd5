//! `smtp.starttls`: STARTTLS is advertised, the handshake completes and EHLO works after it.

use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::failure::{OpenFailure, OpenFailureKind};
use crate::probe::smtp::Session;

pub struct StartTls;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.starttls",
    title: "STARTTLS is offered and works",
    category: Category::Smtp,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &[Role::Mx, Role::Submission],
        stage: Stage::Secured,
    },
    what: "Looks for STARTTLS in the EHLO reply, upgrades the connection (whatever the \
           certificate: the tls.* checks judge it) and sends EHLO again (RFC 3207).",
    why: "Without STARTTLS, mail and passwords cross the network in clear; a STARTTLS that is \
          advertised but broken makes senders fall back to clear text or defer.",
    fix: "Postfix: `smtpd_tls_cert_file`/`smtpd_tls_key_file` pointing at a valid certificate \
          and `smtpd_tls_security_level = may` on 25 (`encrypt` on 587 in master.cf); check \
          `postfix check` and the mail log for TLS errors.",
    opt_in: false,
    title_fr: Some("STARTTLS est proposé et fonctionne"),
    fix_fr: Some(
        "Postfix : `smtpd_tls_cert_file`/`smtpd_tls_key_file` vers un certificat valide \
                  et `smtpd_tls_security_level = may` sur 25 (`encrypt` sur 587 dans master.cf) ; \
                  regardez `postfix check` et les erreurs TLS du journal de messagerie.",
    ),
};

pub fn judge(outcome: Result<&Session, &OpenFailure>) -> Option<Verdict> {
    let session = match outcome {
        Ok(session) => session,
        Err(failure) => {
            let verdict = match &failure.kind {
                OpenFailureKind::StartTlsNotOffered => {
                    Verdict::fail("STARTTLS is not advertised in the EHLO reply")
                }
                // A 421 closes the session: overload or policy, not a missing feature.
                OpenFailureKind::StartTlsRefused(reply) if reply.code == Some(421) => return None,
                OpenFailureKind::StartTlsRefused(reply) => {
                    Verdict::fail(format!("STARTTLS refused, also after one retry: {reply}"))
                }
                // Silence after `220 Ready to start TLS` is not a finding (generic error).
                OpenFailureKind::StartTlsHandshake(err) if !err.is_timeout() => {
                    Verdict::fail(format!(
                        "the TLS handshake after STARTTLS failed: {err} (a server that only speaks TLS 1.0/1.1 fails here too)"
                    ))
                }
                // Only a permanent refusal of the EHLO *after* the handshake is about TLS; one
                // before it, or a temporary one, says nothing about STARTTLS (error).
                OpenFailureKind::HelloRefused(reply)
                    if !reply.transient
                        && failure
                            .evidence
                            .iter()
                            .any(|l| l.starts_with("* TLS handshake complete")) =>
                {
                    Verdict::fail(format!("EHLO after STARTTLS refused: {reply}"))
                }
                _ => return None,
            };
            return Some(verdict.with_evidence(failure.evidence.clone()));
        }
    };
    let tls = session.tls()?;
    Some(
        Verdict::pass(format!(
            "STARTTLS works: {} {}, EHLO answered after TLS",
            tls.version, tls.cipher
        ))
        .with_evidence(session.opening()),
    )
}

#[async_trait::async_trait]
impl Check for StartTls {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let outcome = ctx.session().await;
        match &outcome {
            Ok(session) => {
                judge(Ok(session)).unwrap_or_else(|| Verdict::error("session opened without TLS"))
            }
            Err(failure) => judge(Err(failure)).unwrap_or_else(|| ctx.unavailable(failure)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::ProbeError;
    use crate::probe::failure::Refusal;
    use crate::probe::reply::parse_reply;

    fn failure(kind: OpenFailureKind) -> OpenFailure {
        OpenFailure {
            kind,
            evidence: vec!["S: 220 x".into()],
        }
    }

    #[test]
    fn missing_refused_or_broken_tls_fails() {
        let reply = parse_reply(b"454 4.7.0 TLS not available due to local problem\r\n")
            .unwrap()
            .unwrap()
            .0;
        for kind in [
            OpenFailureKind::StartTlsNotOffered,
            OpenFailureKind::StartTlsRefused(crate::probe::failure::Refusal::from(&reply)),
            OpenFailureKind::StartTlsHandshake(ProbeError::Tls("alert".into())),
        ] {
            let verdict = judge(Err(&failure(kind))).unwrap();
            assert_eq!(verdict.status, Status::Fail);
            assert_eq!(verdict.evidence, ["S: 220 x"]);
        }
    }

    #[test]
    fn transient_refusals_and_a_refused_first_ehlo_are_not_findings() {
        let refusal = |summary: &str, code, transient| Refusal {
            summary: summary.into(),
            transient,
            code: Some(code),
        };
        let closing = OpenFailureKind::StartTlsRefused(refusal("421 4.3.2 busy", 421, true));
        assert!(judge(Err(&failure(closing))).is_none());
        let before_tls = OpenFailureKind::HelloRefused(refusal("554 5.7.1 go away", 554, false));
        assert!(judge(Err(&failure(before_tls))).is_none());
        let after_tls = OpenFailure {
            kind: OpenFailureKind::HelloRefused(refusal("554 5.7.1 no", 554, false)),
            evidence: vec!["* TLS handshake complete: TLSv1.3 ...".into()],
        };
        assert_eq!(judge(Err(&after_tls)).unwrap().status, Status::Fail);
        let after_tls_busy = OpenFailure {
            kind: OpenFailureKind::HelloRefused(refusal("421 4.3.2 busy", 421, true)),
            evidence: vec!["* TLS handshake complete: TLSv1.3 ...".into()],
        };
        assert!(judge(Err(&after_tls_busy)).is_none());
    }

    #[test]
    fn silence_after_ready_to_start_tls_is_left_to_the_generic_verdict() {
        let silent = OpenFailureKind::StartTlsHandshake(ProbeError::Timeout {
            during: "TLS handshake".into(),
            after: std::time::Duration::from_secs(2),
        });
        assert!(silent.describe().contains("went silent"));
        assert!(judge(Err(&failure(silent))).is_none());
    }

    #[test]
    fn unreachable_is_left_to_the_generic_verdict() {
        assert!(
            judge(Err(&failure(OpenFailureKind::Unreachable(
                ProbeError::Refused
            ))))
            .is_none()
        );
    }
}
