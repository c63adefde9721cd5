//! `imap.imaps`: port 993 speaks IMAP over implicit TLS (RFC 8314).

use crate::check::mailbox::{closed_implicit_port, is_closed, judge_implicit_tls_failure};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::failure::OpenFailure;
use crate::probe::imap::{Capabilities, ImapSession, StatusResponse};
use crate::probe::tls::TlsInfo;

pub struct Imaps;

static INFO: CheckInfo = CheckInfo {
    id: "imap.imaps",
    title: "Port 993 speaks IMAP over implicit TLS",
    category: Category::Imap,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Imaps],
        stage: Stage::Own,
    },
    what: "Connects to 993, completes a TLS handshake at once (whatever the certificate: the \
           tls.* checks judge it), expects `* OK` and IMAP4rev1 in the capabilities. A closed \
           993 fails when 143 serves IMAP, and is not applicable when neither port answers.",
    why: "RFC 8314 asks mail clients to prefer implicit TLS: there is no cleartext phase an \
          attacker can strip, and clients configure 993 by default.",
    fix: "Dovecot: `ssl = required`, `ssl_cert`/`ssl_key`, and the listener \
          `service imap-login { inet_listener imaps { port = 993  ssl = yes } }` \
          (`protocols = imap`). Open 993/tcp in the firewall.",
    opt_in: false,
    title_fr: Some("Le port 993 parle IMAP sur TLS implicite"),
    fix_fr: Some(
        "Dovecot : `ssl = required`, `ssl_cert`/`ssl_key`, et l'écoute `service \
                  imap-login { inet_listener imaps { port = 993  ssl = yes } }` (`protocols = \
                  imap`). Ouvrez 993/tcp dans le pare-feu.",
    ),
};

pub fn judge(
    tls: Option<&TlsInfo>,
    greeting: &StatusResponse,
    capabilities: &Capabilities,
) -> Verdict {
    let Some(tls) = tls else {
        return Verdict::error("session opened without TLS");
    };
    if capabilities.has("IMAP4rev1") || capabilities.has("IMAP4rev2") {
        Verdict::pass(format!(
            "implicit TLS ({} {}), then * {}; CAPABILITY lists IMAP4rev1",
            tls.version,
            tls.cipher,
            greeting.status.as_str()
        ))
    } else {
        Verdict::fail(format!(
            "implicit TLS works but CAPABILITY lacks IMAP4rev1: {}",
            capabilities.words().join(" ")
        ))
    }
}

/// A failed opening that says something about 993 itself (`None`: the generic verdict).
pub fn judge_failure(failure: &OpenFailure) -> Option<Verdict> {
    judge_implicit_tls_failure(failure, 993, "IMAP")
}

#[async_trait::async_trait]
impl Check for Imaps {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match ctx.mailbox::<ImapSession>(false).await {
            Ok(session) => {
                let verdict = judge(session.tls(), &session.greeting, &session.capabilities)
                    .with_evidence(session.opening());
                session.logout().await;
                verdict
            }
            Err(failure) if is_closed(&failure) => {
                closed_implicit_port(ctx, &failure, Role::Imap, INFO.fix).await
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
    use crate::probe::imap::{Status as ImapStatus, parse_status};

    fn tls() -> TlsInfo {
        TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            server_name: "mail.ref.test".into(),
            chain: vec![],
        }
    }

    #[test]
    fn imap4rev1_over_tls_passes() {
        let greeting = parse_status("OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready.").unwrap();
        let caps = Capabilities::from_code(&greeting).unwrap();
        let verdict = judge(Some(&tls()), &greeting, &caps);
        assert_eq!(verdict.status, Status::Pass);
        assert!(verdict.message.contains("TLSv1.3"));
        assert_eq!(judge(None, &greeting, &caps).status, Status::Error);
        let odd = Capabilities::from_words(["X-ONLY"]);
        assert_eq!(judge(Some(&tls()), &greeting, &odd).status, Status::Fail);
        assert_eq!(greeting.status, ImapStatus::Ok);
    }

    #[test]
    fn plain_text_on_993_fails_silence_is_left_undecided() {
        let failure = |kind| OpenFailure {
            kind,
            evidence: vec!["* x".into()],
        };
        let plain = judge_failure(&failure(OpenFailureKind::ImplicitTls(ProbeError::Tls(
            "received corrupt message of type InvalidContentType".into(),
        ))))
        .unwrap();
        assert_eq!(plain.status, Status::Fail);
        assert!(plain.message.starts_with("port 993 does not speak TLS: "));
        assert_eq!(plain.evidence, ["* x"]);
        let garbage = judge_failure(&failure(OpenFailureKind::NoGreeting(ProbeError::Garbage(
            "HTTP/1.1 400".into(),
        ))))
        .unwrap();
        assert_eq!(garbage.message, "no IMAP greeting inside TLS: HTTP/1.1 400");
        let silent = OpenFailureKind::ImplicitTls(ProbeError::Timeout {
            during: "TLS handshake".into(),
            after: std::time::Duration::from_secs(1),
        });
        assert!(judge_failure(&failure(silent)).is_none());
    }
}
