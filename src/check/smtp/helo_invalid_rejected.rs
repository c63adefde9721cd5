//! `smtp.helo.invalid-rejected`: a client greeting with a non-FQDN name is refused by RCPT time.

use crate::check::smtp::{
    Transaction, control, deferred_twice, postmaster, reopen_after_deferral, transaction,
};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::failure::OpenFailureKind;

pub struct HeloInvalidRejected;

/// The course's own example of a spammer's HELO.
const INVALID_HELO: &str = "localhost";

static INFO: CheckInfo = CheckInfo {
    id: "smtp.helo.invalid-rejected",
    title: "Invalid HELO names are refused",
    category: Category::Smtp,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Mx],
        stage: Stage::Own,
    },
    what: "Greets with `EHLO localhost` and tries `MAIL FROM:<>` / `RCPT TO:<postmaster@domain>`: \
           it must be refused by RCPT time. A control with a valid HELO must be accepted, so \
           the refusal is known to be about the HELO.",
    why: "Bots greet with `localhost`, bare names or addresses; refusing them stops a large \
          share of spam before any content check (course exercise 5).",
    fix: "Postfix: `smtpd_helo_required = yes` and `smtpd_helo_restrictions = \
          reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname` (the course adds \
          `reject_unknown_helo_hostname`).",
    opt_in: false,
    title_fr: Some("Les noms HELO invalides sont refusés"),
    fix_fr: Some(
        "Postfix : `smtpd_helo_required = yes` et `smtpd_helo_restrictions = \
                  reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname` (le cours ajoute \
                  `reject_unknown_helo_hostname`).",
    ),
};

#[async_trait::async_trait]
impl Check for HeloInvalidRejected {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let mut options = ctx.open_options();
        options.helo_name = Some(INVALID_HELO.into());
        let recipient = match postmaster(ctx) {
            Ok(recipient) => recipient,
            Err(skip) => return skip,
        };
        let mut probe = match ctx.open(&options).await {
            Ok(session) => session,
            Err(failure) => {
                // Only a permanent refusal is about the name; a 4xx/421 may be overload.
                if let OpenFailureKind::HelloRefused(reply) = &failure.kind
                    && !reply.transient
                {
                    return Verdict::pass(format!("EHLO {INVALID_HELO} refused at once: {reply}"))
                        .with_evidence(failure.evidence.clone());
                }
                return ctx.unavailable(&failure);
            }
        };
        let mut evidence = Vec::new();
        let mut retried = false;
        let outcome = loop {
            let outcome = transaction(&mut probe, "", &recipient).await;
            evidence.extend(probe.client.conn.transcript.lines().iter().cloned());
            probe.client.quit().await;
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(err) => {
                    return Verdict::error(format!("HELO probe broke: {err}"))
                        .with_evidence(evidence);
                }
            };
            // postscreen's after-220 deferral is about the session, not the name.
            match outcome.deferred() {
                Some(reply) if retried => return deferred_twice(reply).with_evidence(evidence),
                Some(reply) => {
                    probe = match reopen_after_deferral(ctx, &options, reply, &mut evidence).await {
                        Ok(session) => session,
                        Err(verdict) => return verdict.with_evidence(evidence),
                    };
                    retried = true;
                }
                None => break outcome,
            }
        };
        if let Transaction::Accepted(reply) = &outcome {
            return Verdict::fail(format!(
                "a client greeting as `{INVALID_HELO}` may send to <{recipient}> ({reply})"
            ))
            .with_evidence(evidence);
        }
        // Refused: prove it was the HELO, with the same transaction from a valid HELO.
        let mut valid = match ctx.open(&ctx.open_options()).await {
            Ok(session) => session,
            Err(failure) => return ctx.unavailable(&failure),
        };
        evidence.push("* control: the same transaction with a valid HELO".into());
        let control = control(&mut valid, &recipient).await;
        evidence.extend(valid.client.conn.transcript.lines().iter().cloned());
        valid.client.quit().await;
        match control {
            Ok(()) => Verdict::pass(format!("EHLO {INVALID_HELO} {}", outcome.describe())),
            Err(verdict) => verdict,
        }
        .with_evidence(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_name_is_not_a_fqdn() {
        assert!(!crate::check::smtp::banner_fqdn::is_fqdn(INVALID_HELO));
        assert!(INFO.fix.contains("reject_non_fqdn_helo_hostname"));
    }
}
