//! `smtp.sender.unknown-domain-rejected`: a sender at a domain that does not exist is refused
//! by RCPT time.

use crate::check::smtp::{
    Transaction, control, deferred_twice, postmaster, reopen_after_deferral, transaction,
};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::ProbeError;
use crate::probe::smtp::Session;

pub struct SenderUnknownDomainRejected;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.sender.unknown-domain-rejected",
    title: "Senders at non-existent domains are refused",
    category: Category::Smtp,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Mx],
        stage: Stage::Greeted,
    },
    what: "Tries `MAIL FROM:<mailcheck@<random>.invalid>` / `RCPT TO:<postmaster@domain>`: it \
           must be refused by RCPT time; a control from the null sender must be accepted.",
    why: "Mail from a domain that does not exist cannot be answered and is almost always \
          forged; refusing it costs nothing.",
    fix: "Postfix: `smtpd_sender_restrictions = reject_non_fqdn_sender, \
          reject_unknown_sender_domain` (and `unknown_address_reject_code = 550` to make the \
          refusal final).",
    opt_in: false,
    title_fr: Some("Les expéditeurs de domaines inexistants sont refusés"),
    fix_fr: Some(
        "Postfix : `smtpd_sender_restrictions = reject_non_fqdn_sender, \
                  reject_unknown_sender_domain` (et `unknown_address_reject_code = 550` pour que \
                  le refus soit définitif).",
    ),
};

pub fn judge(outcome: &Transaction) -> Verdict {
    match outcome {
        Transaction::Accepted(reply) => Verdict::fail(format!(
            "a sender at a non-existent domain was accepted ({reply})"
        )),
        refused => {
            let temporary = refused.refusal().is_some_and(|r| r.is_transient());
            let note = if temporary {
                " (temporary: `unknown_address_reject_code = 550` makes it final)"
            } else {
                ""
            };
            Verdict::pass(format!(
                "unknown sender domain {}{note}",
                refused.describe()
            ))
        }
    }
}

#[async_trait::async_trait]
impl Check for SenderUnknownDomainRejected {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let sender = format!("mailcheck@{}", ctx.settings.smtp.unknown_domain);
        let recipient = match postmaster(ctx) {
            Ok(recipient) => recipient,
            Err(skip) => return skip,
        };
        let session = match ctx.session().await {
            Ok(session) => session,
            Err(failure) => return ctx.unavailable(&failure),
        };
        let mark = session.mark();
        let outcome = transaction(session, &sender, &recipient).await;
        let mut evidence = session.since(mark);
        let deferral = match &outcome {
            Ok(outcome) => outcome.deferred().cloned(),
            Err(_) => None,
        };
        let Some(reply) = deferral else {
            return probe_with_control(session, outcome, &recipient)
                .await
                .with_evidence(session.since(mark));
        };
        // postscreen's after-220 deferral is about the session, not the sender: the shared
        // session is spent, a new one decides.
        let options = ctx.open_options();
        let mut fresh = match reopen_after_deferral(ctx, &options, &reply, &mut evidence).await {
            Ok(session) => session,
            Err(verdict) => return verdict.with_evidence(evidence),
        };
        let outcome = transaction(&mut fresh, &sender, &recipient).await;
        let verdict = match outcome.as_ref().ok().and_then(Transaction::deferred) {
            Some(reply) => deferred_twice(reply),
            None => probe_with_control(&mut fresh, outcome, &recipient).await,
        };
        evidence.extend(fresh.client.conn.transcript.lines().iter().cloned());
        fresh.client.quit().await;
        verdict.with_evidence(evidence)
    }
}

/// The probe's outcome, confirmed by the control on the same session when it was refused.
async fn probe_with_control(
    session: &mut Session,
    outcome: Result<Transaction, ProbeError>,
    recipient: &str,
) -> Verdict {
    match outcome {
        Ok(outcome @ Transaction::Accepted(_)) => judge(&outcome),
        Ok(refused) => {
            session
                .client
                .conn
                .transcript
                .note("control: the null sender to the same recipient");
            match control(session, recipient).await {
                Ok(()) => judge(&refused),
                Err(verdict) => verdict,
            }
        }
        Err(err) => Verdict::error(format!("sender probe broke: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    #[test]
    fn refusal_passes_acceptance_fails() {
        let reply = |raw: &str| parse_reply(raw.as_bytes()).unwrap().unwrap().0;
        let temporary = judge(&Transaction::RcptRefused(reply(
            "450 4.1.8 <mailcheck@x.invalid>: Sender address rejected: Domain not found\r\n",
        )));
        assert_eq!(temporary.status, Status::Pass);
        assert!(temporary.message.contains("unknown_address_reject_code"));
        assert_eq!(
            judge(&Transaction::MailRefused(reply("553 5.1.8 no\r\n"))).status,
            Status::Pass
        );
        assert_eq!(
            judge(&Transaction::Accepted(reply("250 2.1.5 Ok\r\n"))).status,
            Status::Fail
        );
    }
}
