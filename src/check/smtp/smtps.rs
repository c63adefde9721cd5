//! `smtp.smtps`: port 465 speaks SMTP over implicit TLS (RFC 8314).

use crate::check::mailbox::port_open;
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::ProbeError;
use crate::probe::failure::{OpenFailure, OpenFailureKind};

pub struct Smtps;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.smtps",
    title: "Port 465 speaks SMTP over implicit TLS",
    category: Category::Smtp,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Smtps],
        stage: Stage::Greeted,
    },
    what: "Connects to 465, completes a TLS handshake at once (whatever the certificate) and \
           expects a 220 greeting inside TLS. A closed 465 fails where the host offers \
           submission (the scenario's `expect: [submission]`, or 587 answers), and is skipped \
           elsewhere (no submission service) or when nothing answers on the host.",
    why: "RFC 8314 prefers implicit TLS for submission: no STARTTLS to strip, and many mail \
          clients default to it.",
    fix: "Postfix master.cf: enable the `submissions` (465) service with \
          `-o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes`.",
    opt_in: false,
    title_fr: Some("Le port 465 parle SMTP sur TLS implicite"),
    fix_fr: Some(
        "master.cf de Postfix : activez le service `submissions` (465) avec `-o \
                  smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes`.",
    ),
};

/// `None`: not a finding about 465 itself (the generic unavailable verdict applies).
pub fn judge_failure(failure: &OpenFailure, port: u16) -> Option<Verdict> {
    let verdict = match &failure.kind {
        OpenFailureKind::Unreachable(ProbeError::Refused) => {
            Verdict::fail(format!("port {port} is closed (connection refused)"))
        }
        OpenFailureKind::ImplicitTls(ProbeError::Timeout { .. }) => return None,
        OpenFailureKind::ImplicitTls(err) => {
            Verdict::fail(format!("port {port} does not speak TLS: {err}"))
        }
        _ => return None,
    };
    Some(verdict.with_evidence(failure.evidence.clone()))
}

#[async_trait::async_trait]
impl Check for Smtps {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match ctx.session().await {
            Ok(session) => match session.tls() {
                Some(tls) => Verdict::pass(format!(
                    "implicit TLS ({} {}) then {}",
                    tls.version,
                    tls.cipher,
                    session.greeting.summary()
                ))
                .with_evidence(session.opening()),
                None => Verdict::error("session opened without TLS"),
            },
            Err(failure) => {
                let port = ctx.endpoint().port;
                let refused = matches!(
                    failure.kind,
                    OpenFailureKind::Unreachable(ProbeError::Refused)
                );
                match judge_failure(&failure, port) {
                    // A closed 465 is a finding about a submission service: one the scenario
                    // expects (on a host that is up), or one that answers on 587. Elsewhere
                    // there is no submission to speak of.
                    Some(verdict) if refused => {
                        let submission = ctx.settings.expect.submission
                            || port_open(ctx, Role::Submission).await == Some(true);
                        if submission {
                            verdict.or_if_host_silent(
                                Verdict::skip(format!(
                                    "port {port} is closed, and nothing answers on this host"
                                ))
                                .with_evidence(failure.evidence.clone()),
                            )
                        } else {
                            Verdict::skip(format!(
                                "no submission service on this host (ports {port} and {} refused the connection; the scenario does not expect one)",
                                ctx.port(Role::Submission)
                            ))
                            .with_evidence(failure.evidence.clone())
                        }
                    }
                    Some(verdict) => verdict,
                    None => ctx.unavailable(&failure),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use std::time::Duration;

    #[test]
    fn closed_or_plain_465_fails_silence_is_undecided() {
        let failure = |kind| OpenFailure {
            kind,
            evidence: vec![],
        };
        let closed = judge_failure(
            &failure(OpenFailureKind::Unreachable(ProbeError::Refused)),
            465,
        )
        .unwrap();
        assert_eq!(closed.status, Status::Fail);
        assert_eq!(closed.message, "port 465 is closed (connection refused)");
        let plain = judge_failure(
            &failure(OpenFailureKind::ImplicitTls(ProbeError::Tls(
                "corrupt message".into(),
            ))),
            4650,
        );
        assert_eq!(plain.unwrap().status, Status::Fail);
        let silent = OpenFailureKind::Unreachable(ProbeError::Timeout {
            during: "connect".into(),
            after: Duration::from_secs(1),
        });
        assert!(judge_failure(&failure(silent), 465).is_none());
    }
}
