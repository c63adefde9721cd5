//! `smtp.auth.offered`: once the connection is encrypted, submission offers AUTH.

use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::Capabilities;

pub struct AuthOffered;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.auth.offered",
    title: "Submission offers AUTH over TLS",
    category: Category::Smtp,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Submission, Role::Smtps],
        stage: Stage::Secured,
    },
    what: "After STARTTLS on 587, and on 465, reads the EHLO reply for an AUTH line.",
    why: "Users' mail clients authenticate there; without AUTH they cannot send at all.",
    fix: "Postfix master.cf, submission/submissions services: `-o smtpd_sasl_auth_enable=yes` \
          with `smtpd_sasl_type = dovecot` and `smtpd_sasl_path = private/auth`; Dovecot: an \
          `auth` service `unix_listener` for Postfix.",
    opt_in: false,
    title_fr: Some("La soumission propose AUTH sous TLS"),
    fix_fr: Some(
        "Services submission/submissions de Postfix dans master.cf : `-o \
                  smtpd_sasl_auth_enable=yes` avec `smtpd_sasl_type = dovecot` et \
                  `smtpd_sasl_path = private/auth` ; Dovecot : un `unix_listener` du service \
                  `auth` pour Postfix.",
    ),
};

pub fn judge(capabilities: &Capabilities) -> Verdict {
    let mechanisms = capabilities.auth_mechanisms();
    if mechanisms.is_empty() {
        Verdict::fail("no AUTH advertised after TLS")
    } else {
        Verdict::pass(format!("AUTH {} offered over TLS", mechanisms.join(" ")))
    }
}

#[async_trait::async_trait]
impl Check for AuthOffered {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match ctx.session().await {
            Ok(session) => judge(&session.capabilities).with_evidence(session.opening()),
            Err(failure) => {
                let mut verdict = ctx.unavailable(&failure);
                if verdict.status == crate::outcome::Status::Error {
                    verdict.message = format!(
                        "cannot read the capabilities after TLS: {}",
                        verdict.message
                    );
                }
                verdict
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    #[test]
    fn auth_line_decides() {
        let caps =
            |raw: &str| Capabilities::from_ehlo(&parse_reply(raw.as_bytes()).unwrap().unwrap().0);
        assert_eq!(
            judge(&caps("250-x\r\n250 AUTH PLAIN LOGIN\r\n")).status,
            Status::Pass
        );
        assert_eq!(
            judge(&caps("250-x\r\n250 SIZE 100\r\n")).status,
            Status::Fail
        );
    }
}
