//! `pop3.stls`: port 110 is closed, or offers STLS and works after it.

use crate::check::mailbox::{StartTlsTerms, judge_start_tls, start_tls_verdict};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::failure::OpenFailure;
use crate::probe::pop3::Pop3Session;

pub struct Stls;

static INFO: CheckInfo = CheckInfo {
    id: "pop3.stls",
    title: "POP3 110 is closed or offers working STLS",
    category: Category::Pop3,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &[Role::Pop3],
        stage: Stage::Own,
    },
    what: "On 110: STLS is in CAPA (RFC 2595), the server answers +OK to it, the TLS handshake \
           completes (whatever the certificate) and CAPA works inside TLS. A closed 110 passes \
           when 995 answers (POP3 only over implicit TLS); with both closed there is no \
           POP3 here (skip).",
    why: "POP3 without TLS sends passwords and mail in clear; a missing or broken STLS leaves \
          clients the choice between failing and clear text.",
    fix: "Dovecot: `ssl = required` with `ssl_cert`/`ssl_key` (STLS is then offered on 110), or \
          close 110 (`inet_listener pop3 { port = 0 }`) and serve POP3S on 995 only.",
    opt_in: false,
    title_fr: Some("Le port POP3 110 est fermé ou offre un STLS qui fonctionne"),
    fix_fr: Some(
        "Dovecot : `ssl = required` avec `ssl_cert`/`ssl_key` (STLS est alors proposé \
                  sur 110), ou fermez 110 (`inet_listener pop3 { port = 0 }`) et ne servez POP3S \
                  que sur 995.",
    ),
};

const TERMS: StartTlsTerms = StartTlsTerms {
    protocol: "POP3",
    port: 110,
    command: "STLS",
    capabilities: "CAPA",
    not_offered: "STLS is not offered",
};

/// `None` for failures that are not about STLS (the generic verdict applies).
pub fn judge(outcome: Result<&Pop3Session, &OpenFailure>) -> Option<Verdict> {
    judge_start_tls(
        &TERMS,
        outcome.map(|session| (session.tls(), session.opening())),
    )
}

#[async_trait::async_trait]
impl Check for Stls {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let opened = ctx.mailbox::<Pop3Session>(true).await;
        start_tls_verdict(ctx, opened, judge).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::ProbeError;
    use crate::probe::failure::OpenFailureKind;

    fn failure(kind: OpenFailureKind) -> OpenFailure {
        OpenFailure {
            kind,
            evidence: vec!["S: +OK ready".into()],
        }
    }

    #[test]
    fn missing_stls_fails_a_closed_port_or_silence_is_left_to_the_caller() {
        // A closed 110 is judged with 995 (check::mailbox::closed_cleartext_port).
        assert!(
            judge(Err(&failure(OpenFailureKind::Unreachable(
                ProbeError::Refused
            ))))
            .is_none()
        );
        let missing = judge(Err(&failure(OpenFailureKind::StartTlsNotOffered))).unwrap();
        assert_eq!(missing.status, Status::Fail);
        assert_eq!(missing.message, "STLS is not offered: POP3 only in clear");
        assert_eq!(missing.evidence, ["S: +OK ready"]);
        assert_eq!(
            judge(Err(&failure(OpenFailureKind::StartTlsHandshake(
                ProbeError::Closed
            ))))
            .unwrap()
            .status,
            Status::Fail
        );
        assert!(
            judge(Err(&failure(OpenFailureKind::NoGreeting(
                ProbeError::Closed
            ))))
            .is_none()
        );
    }
}
