//! `imap.starttls`: port 143 is closed, or offers STARTTLS and works after it.

use crate::check::mailbox::{StartTlsTerms, judge_start_tls, start_tls_verdict};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::failure::OpenFailure;
use crate::probe::imap::ImapSession;

pub struct StartTls;

static INFO: CheckInfo = CheckInfo {
    id: "imap.starttls",
    title: "IMAP 143 is closed or offers working STARTTLS",
    category: Category::Imap,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &[Role::Imap],
        stage: Stage::Own,
    },
    what: "On 143: STARTTLS is in the capabilities, the server answers OK to it, the TLS \
           handshake completes (whatever the certificate) and CAPABILITY works inside TLS \
           (RFC 3501 §6.2.1). A closed 143 passes \
           when 993 answers (IMAP only over implicit TLS); with both closed there is no \
           IMAP here (skip).",
    why: "IMAP without TLS sends passwords and mail in clear; a STARTTLS that is missing or \
          broken leaves clients the choice between failing and falling back to clear text.",
    fix: "Dovecot: `ssl = required` with `ssl_cert = </path/fullchain.pem` and \
          `ssl_key = </path/privkey.pem` (STARTTLS is then offered on 143), or close 143 \
          (`inet_listener imap { port = 0 }`) and serve IMAPS on 993 only.",
    opt_in: false,
    title_fr: Some("Le port IMAP 143 est fermé ou offre un STARTTLS qui fonctionne"),
    fix_fr: Some(
        "Dovecot : `ssl = required` avec `ssl_cert = </path/fullchain.pem` et `ssl_key = \
                  </path/privkey.pem` (STARTTLS est alors proposé sur 143), ou fermez 143 \
                  (`inet_listener imap { port = 0 }`) et ne servez IMAPS que sur 993.",
    ),
};

const TERMS: StartTlsTerms = StartTlsTerms {
    protocol: "IMAP",
    port: 143,
    command: "STARTTLS",
    capabilities: "CAPABILITY",
    not_offered: "STARTTLS is not in the capabilities",
};

/// `None` for failures that are not about STARTTLS (the generic verdict applies).
pub fn judge(outcome: Result<&ImapSession, &OpenFailure>) -> Option<Verdict> {
    judge_start_tls(
        &TERMS,
        outcome.map(|session| (session.tls(), session.opening())),
    )
}

#[async_trait::async_trait]
impl Check for StartTls {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let opened = ctx.mailbox::<ImapSession>(true).await;
        start_tls_verdict(ctx, opened, judge).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::ProbeError;
    use crate::probe::failure::{OpenFailureKind, Refusal};

    fn failure(kind: OpenFailureKind) -> OpenFailure {
        OpenFailure {
            kind,
            evidence: vec!["S: * OK ready".into()],
        }
    }

    #[test]
    fn missing_or_broken_starttls_fails_a_closed_port_is_left_to_the_caller() {
        // A closed 143 is judged with 993 (check::mailbox::closed_cleartext_port).
        assert!(
            judge(Err(&failure(OpenFailureKind::Unreachable(
                ProbeError::Refused,
            ))))
            .is_none()
        );
        for kind in [
            OpenFailureKind::StartTlsNotOffered,
            OpenFailureKind::StartTlsRefused(Refusal {
                summary: "BAD [ALERT] no".into(),
                transient: false,
                code: None,
            }),
            OpenFailureKind::StartTlsHandshake(ProbeError::Tls("alert".into())),
        ] {
            assert_eq!(judge(Err(&failure(kind))).unwrap().status, Status::Fail);
        }
        let missing = judge(Err(&failure(OpenFailureKind::StartTlsNotOffered))).unwrap();
        assert_eq!(
            missing.message,
            "STARTTLS is not in the capabilities: IMAP only in clear"
        );
        let inside = judge(Err(&failure(OpenFailureKind::HelloRefused(Refusal {
            summary: "BAD no".into(),
            transient: false,
            code: None,
        }))))
        .unwrap();
        assert_eq!(inside.message, "CAPABILITY refused inside TLS: BAD no");
    }

    #[test]
    fn silence_is_left_to_the_generic_verdict() {
        let timeout = ProbeError::Timeout {
            during: "IMAP response".into(),
            after: std::time::Duration::from_secs(1),
        };
        assert!(judge(Err(&failure(OpenFailureKind::NoGreeting(timeout)))).is_none());
        // `OK Begin TLS`, then no ServerHello: silence, not a broken TLS.
        let handshake = ProbeError::Timeout {
            during: "TLS handshake".into(),
            after: std::time::Duration::from_secs(2),
        };
        assert!(judge(Err(&failure(OpenFailureKind::StartTlsHandshake(handshake)))).is_none());
    }
}
