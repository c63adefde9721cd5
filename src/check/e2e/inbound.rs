//! `e2e.inbound`: a message from the outside, unauthenticated on 25, is accepted and delivered.

use crate::check::e2e::{arrival, flow, not_run};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};

pub struct E2eInbound;

static INFO: CheckInfo = CheckInfo {
    id: "e2e.inbound",
    title: "Mail from the outside is accepted and delivered",
    category: Category::E2e,
    severity: Severity::High,
    scope: Scope::Target,
    what: "Sends a message on 25 without authentication, from an outside sender \
           (`mailcheck@<--relay-domain>`, or the null sender), to the test user; it must be \
           accepted and arrive in the INBOX (fetched over IMAPS, then deleted).",
    why: "An MX that refuses or loses the world's mail is no mail server, however hardened.",
    fix: "Postfix: the domain in `virtual_mailbox_domains` (or `mydestination`), the user in \
          `virtual_mailbox_maps`, and restrictions that let outside senders reach local \
          recipients (`reject_unauth_destination` only blocks relaying).",
    opt_in: false,
    title_fr: Some("Le courrier venu de l'extérieur est accepté et livré"),
    fix_fr: Some(
        "Postfix : le domaine dans `virtual_mailbox_domains` (ou `mydestination`), \
                  l'utilisateur dans `virtual_mailbox_maps`, et des restrictions qui laissent les \
                  expéditeurs extérieurs joindre les destinataires locaux \
                  (`reject_unauth_destination` ne bloque que le relais).",
    ),
};

#[async_trait::async_trait]
impl Check for E2eInbound {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn logins(&self) -> crate::check::Logins {
        crate::check::Logins::Real
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        match flow(ctx).await.as_ref() {
            Ok(flow) => arrival(&flow.inbound, flow),
            Err(reason) => not_run(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_speaks_of_postfix_delivery() {
        assert!(INFO.fix.contains("virtual_mailbox_domains"));
    }
}
