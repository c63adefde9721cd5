//! `smtp.submission.tls-required`: on submission, MAIL FROM before STARTTLS is refused.

use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::Reply;

pub struct SubmissionTlsRequired;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.submission.tls-required",
    title: "Submission refuses mail before STARTTLS",
    category: Category::Smtp,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &[Role::Submission],
        stage: Stage::Greeted,
    },
    what: "On the submission port, before any STARTTLS, sends `MAIL FROM:<>`: it must be \
           refused (Postfix: `530 5.7.0 Must issue a STARTTLS command first`).",
    why: "Submission carries users' mail and credentials: RFC 8314 wants it encrypted, always. \
          A port that accepts a transaction in clear lets clients leak both.",
    fix: "Postfix master.cf, submission service: `-o smtpd_tls_security_level=encrypt` (and \
          `-o smtpd_sasl_auth_enable=yes`, `-o smtpd_client_restrictions=permit_sasl_authenticated,reject`).",
    opt_in: false,
    title_fr: Some("La soumission refuse le courrier avant STARTTLS"),
    fix_fr: Some(
        "Service submission de Postfix dans master.cf : `-o \
                  smtpd_tls_security_level=encrypt` (et `-o smtpd_sasl_auth_enable=yes`, `-o \
                  smtpd_client_restrictions=permit_sasl_authenticated,reject`).",
    ),
};

pub fn judge(mail: &Reply) -> Verdict {
    if mail.is_positive() {
        Verdict::fail(format!("MAIL FROM accepted before STARTTLS: {mail}"))
    } else if mail.code == 421 {
        Verdict::error(format!("the server closed the session: {mail}"))
    } else {
        Verdict::pass(format!("MAIL FROM refused before STARTTLS: {mail}"))
    }
}

#[async_trait::async_trait]
impl Check for SubmissionTlsRequired {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let session = match ctx.session().await {
            Ok(session) => session,
            Err(failure) => return ctx.unavailable(&failure),
        };
        let mark = session.mark();
        // The null sender: no sender-domain policy can be the reason for a refusal.
        match session.client.command("MAIL FROM:<>").await {
            Ok(reply) => judge(&reply),
            Err(err) => Verdict::error(format!("MAIL FROM probe broke: {err}")),
        }
        .with_evidence(session.since(mark))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    #[test]
    fn refusal_passes_acceptance_fails() {
        let parse = |raw: &str| parse_reply(raw.as_bytes()).unwrap().unwrap().0;
        assert_eq!(
            judge(&parse("530 5.7.0 Must issue a STARTTLS command first\r\n")).status,
            Status::Pass
        );
        assert_eq!(judge(&parse("250 2.1.0 Ok\r\n")).status, Status::Fail);
        assert_eq!(judge(&parse("421 4.4.2 timeout\r\n")).status, Status::Error);
    }
}
