//! `e2e.fetch`: the submitted message arrives and is fetched over IMAPS within the timeout.

use crate::check::e2e::{arrival, flow, not_run};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};

pub struct E2eFetch;

static INFO: CheckInfo = CheckInfo {
    id: "e2e.fetch",
    title: "Submitted mail is delivered and fetched over IMAPS",
    category: Category::E2e,
    severity: Severity::High,
    scope: Scope::Target,
    what: "Polls the user's INBOX over IMAPS (with backoff, bounded by the timeout) for the \
           message e2e.submit sent, records the delivery latency, then deletes it and any \
           earlier mailcheck test message.",
    why: "A server can accept mail and never deliver it (wrong transport, LMTP socket, \
          mailbox permissions): only reading the mailbox proves delivery.",
    fix: "Postfix: `virtual_transport = lmtp:unix:private/dovecot-lmtp` (or your delivery \
          agent) and `virtual_mailbox_domains`; Dovecot: `protocols = imap lmtp`, the lmtp \
          `unix_listener`, `mail_location`. `postqueue -p` and the mail log show stuck mail.",
    opt_in: false,
    title_fr: Some("Le courrier envoyé est livré et relevé en IMAPS"),
    fix_fr: Some(
        "Postfix : `virtual_transport = lmtp:unix:private/dovecot-lmtp` (ou votre agent \
                  de livraison) et `virtual_mailbox_domains` ; Dovecot : `protocols = imap lmtp`, \
                  le `unix_listener` de lmtp, `mail_location`. `postqueue -p` et le journal de \
                  messagerie montrent le courrier bloqué.",
    ),
};

#[async_trait::async_trait]
impl Check for E2eFetch {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn logins(&self) -> crate::check::Logins {
        crate::check::Logins::Real
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match flow(ctx).await.as_ref() {
            Ok(flow) => arrival(&flow.outbound, flow),
            Err(reason) => not_run(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::e2e::{Flow, Leg, SendFailure};
    use crate::outcome::Status;
    use crate::probe::mailbox::Found;
    use std::time::{Duration, Instant};

    fn flow_with(
        sent: Result<String, SendFailure>,
        arrived: Option<Result<Found, String>>,
    ) -> Flow {
        // Accepted 312 ms before it was seen in the mailbox.
        let accepted_at = arrived
            .as_ref()
            .and_then(|a| a.as_ref().ok())
            .map(|found| found.seen_at - Duration::from_millis(312));
        let leg = Leg {
            token: "t".into(),
            via: "127.0.0.1:587/smtp".parse().unwrap(),
            sent_evidence: vec![],
            sent,
            arrived,
            accepted_at,
        };
        Flow {
            user: "u@x.test".into(),
            outbound: leg.clone(),
            inbound: leg,
            mailbox_evidence: vec![],
            removed: 1,
        }
    }

    #[test]
    fn delivery_outcomes() {
        let found = Found {
            raw: b"x".to_vec(),
            seen_at: Instant::now(),
        };
        let flow = flow_with(Ok("250 ok".into()), Some(Ok(found)));
        let verdict = arrival(&flow.outbound, &flow);
        assert_eq!(verdict.status, Status::Pass);
        assert!(
            verdict.message.contains("within 312 ms"),
            "{}",
            verdict.message
        );
        let flow = flow_with(
            Ok("250 ok".into()),
            Some(Err("not delivered within 10 s".into())),
        );
        assert_eq!(arrival(&flow.outbound, &flow).status, Status::Fail);
        let flow = flow_with(Ok("250 ok".into()), Some(Err("LOGIN failed: x".into())));
        assert_eq!(arrival(&flow.outbound, &flow).status, Status::Error);
        let flow = flow_with(Err(SendFailure::Unknown("refused".into())), None);
        assert_eq!(arrival(&flow.outbound, &flow).status, Status::Error);
    }
}
