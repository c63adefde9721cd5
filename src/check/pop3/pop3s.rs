//! `pop3.pop3s`: port 995 speaks POP3 over implicit TLS (RFC 8314).

use crate::check::mailbox::{closed_implicit_port, is_closed, judge_implicit_tls_failure};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::failure::OpenFailure;
use crate::probe::pop3::{Pop3Session, Reply};
use crate::probe::tls::TlsInfo;

pub struct Pop3s;

static INFO: CheckInfo = CheckInfo {
    id: "pop3.pop3s",
    title: "Port 995 speaks POP3 over implicit TLS",
    category: Category::Pop3,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Pop3s],
        stage: Stage::Own,
    },
    what: "Connects to 995, completes a TLS handshake at once (whatever the certificate: the \
           tls.* checks judge it) and expects a `+OK` greeting. A closed 995 fails when 110 \
           serves POP3, and is not applicable when neither port answers.",
    why: "RFC 8314 asks mail clients to prefer implicit TLS; POP3 clients configure 995 by \
          default and the cleartext phase of STLS can be stripped.",
    fix: "Dovecot: `ssl = required`, `ssl_cert`/`ssl_key`, and the listener \
          `service pop3-login { inet_listener pop3s { port = 995  ssl = yes } }` \
          (`protocols = ... pop3`). Open 995/tcp in the firewall.",
    opt_in: false,
    title_fr: Some("Le port 995 parle POP3 sur TLS implicite"),
    fix_fr: Some(
        "Dovecot : `ssl = required`, `ssl_cert`/`ssl_key`, et l'écoute `service \
                  pop3-login { inet_listener pop3s { port = 995  ssl = yes } }` (`protocols = ... \
                  pop3`). Ouvrez 995/tcp dans le pare-feu.",
    ),
};

pub fn judge(tls: Option<&TlsInfo>, greeting: &Reply) -> Verdict {
    match tls {
        Some(tls) => Verdict::pass(format!(
            "implicit TLS ({} {}), then {}",
            tls.version,
            tls.cipher,
            greeting.summary()
        )),
        None => Verdict::error("session opened without TLS"),
    }
}

/// A failed opening that says something about 995 itself (`None`: the generic verdict).
pub fn judge_failure(failure: &OpenFailure) -> Option<Verdict> {
    judge_implicit_tls_failure(failure, 995, "POP3")
}

#[async_trait::async_trait]
impl Check for Pop3s {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match ctx.mailbox::<Pop3Session>(false).await {
            Ok(session) => {
                let verdict =
                    judge(session.tls(), &session.greeting).with_evidence(session.opening());
                session.quit().await;
                verdict
            }
            Err(failure) if is_closed(&failure) => {
                closed_implicit_port(ctx, &failure, Role::Pop3, INFO.fix).await
            }
            Err(failure) => judge_failure(&failure).unwrap_or_else(|| ctx.unavailable(&failure)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::ProbeError;
    use crate::probe::failure::OpenFailureKind;
    use crate::probe::pop3::parse_status_line;

    #[test]
    fn greeting_inside_tls_passes() {
        let tls = TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            server_name: "mail.ref.test".into(),
            chain: vec![],
        };
        let greeting = parse_status_line("+OK mail.ref.test ready.").unwrap();
        assert_eq!(judge(Some(&tls), &greeting).status, Status::Pass);
        assert_eq!(judge(None, &greeting).status, Status::Error);
    }

    #[test]
    fn plain_text_on_995_fails() {
        let failure = OpenFailure {
            kind: OpenFailureKind::ImplicitTls(ProbeError::Tls("corrupt message".into())),
            evidence: vec![],
        };
        let plain = judge_failure(&failure).unwrap();
        assert_eq!(plain.status, Status::Fail);
        assert!(plain.message.starts_with("port 995 does not speak TLS: "));
        let refused = OpenFailure {
            kind: OpenFailureKind::Unreachable(ProbeError::Refused),
            evidence: vec![],
        };
        assert!(judge_failure(&refused).is_none());
    }
}
