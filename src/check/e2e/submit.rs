//! `e2e.submit`: the test user authenticates on submission and sends a message to itself.

use crate::check::e2e::{Flow, SendFailure, flow, not_run};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};

pub struct E2eSubmit;

static INFO: CheckInfo = CheckInfo {
    id: "e2e.submit",
    title: "An authenticated user can submit mail",
    category: Category::E2e,
    severity: Severity::High,
    scope: Scope::Target,
    what: "With --user: authenticates on 587 after STARTTLS (or on 465) and submits a message \
           to the user's own address, marked with a unique token.",
    why: "Open ports prove little: users must be able to log in and send.",
    fix: "Postfix master.cf submission service: `-o smtpd_sasl_auth_enable=yes`, \
          `smtpd_sasl_type = dovecot`, `smtpd_sasl_path = private/auth`; Dovecot: an auth \
          `unix_listener` for Postfix, and the user in the passdb. The mail log says why a \
          login or a message was refused.",
    opt_in: false,
    title_fr: Some("Un utilisateur authentifié peut envoyer du courrier"),
    fix_fr: Some(
        "Service submission de Postfix dans master.cf : `-o smtpd_sasl_auth_enable=yes`, \
                  `smtpd_sasl_type = dovecot`, `smtpd_sasl_path = private/auth` ; Dovecot : un \
                  `unix_listener` d'authentification pour Postfix, et l'utilisateur dans la \
                  passdb. Le journal de messagerie dit pourquoi une connexion ou un message a été \
                  refusé.",
    ),
};

#[async_trait::async_trait]
impl Check for E2eSubmit {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn logins(&self) -> crate::check::Logins {
        crate::check::Logins::Real
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match flow(ctx).await.as_ref() {
            Ok(flow) => submitted(flow),
            Err(reason) => not_run(reason),
        }
    }
}

/// The verdict for "was the message submitted?", from the outbound leg of the flow.
fn submitted(flow: &Flow) -> Verdict {
    let leg = &flow.outbound;
    match &leg.sent {
        Ok(reply) => Verdict::pass(format!(
            "submitted through {} as {}: {reply}",
            leg.via, flow.user
        )),
        Err(SendFailure::Refused(why)) => {
            Verdict::fail(format!("submission through {} failed: {why}", leg.via))
        }
        Err(SendFailure::Unknown(why)) => Verdict::error(format!("cannot submit: {why}")),
    }
    .with_evidence(leg.sent_evidence.clone())
    .at(leg.via)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_names_the_sasl_parameters() {
        assert!(INFO.fix.contains("smtpd_sasl_auth_enable"));
        assert_eq!(INFO.scope, Scope::Target);
    }
}
