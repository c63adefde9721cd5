//! `smtp.expn.disabled`: EXPN is no mailbox or list oracle (same judgement as VRFY).

use crate::check::smtp::vrfy_disabled::probe;
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};

pub struct ExpnDisabled;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.expn.disabled",
    title: "EXPN does not reveal mailboxes or lists",
    category: Category::Smtp,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Mx],
        stage: Stage::Greeted,
    },
    what: "Sends `EXPN postmaster` and `EXPN <random user>`: the command must be refused, or \
           answer the same (code and enhanced code) for both.",
    why: "EXPN expands aliases and mailing lists: an open EXPN hands out every member's address.",
    fix: "Postfix has no EXPN command at all; on other MTAs disable it (Sendmail: \
          `PrivacyOptions=noexpn`, Exim: no `expn` in `smtp_accept_...` ACLs).",
    opt_in: false,
    title_fr: Some("EXPN ne révèle ni boîtes aux lettres ni listes"),
    fix_fr: Some(
        "Postfix n'a pas du tout de commande EXPN ; sur d'autres MTA, désactivez-la \
                  (Sendmail : `PrivacyOptions=noexpn`, Exim : pas d'`expn` dans les ACL \
                  `smtp_accept_...`).",
    ),
};

#[async_trait::async_trait]
impl Check for ExpnDisabled {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        probe(ctx, "EXPN").await
    }
}

#[cfg(test)]
mod tests {
    use crate::check::smtp::vrfy_disabled::{OracleProbe, judge};
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    #[test]
    fn postfix_has_no_expn() {
        let parse = |raw: &str| parse_reply(raw.as_bytes()).unwrap().unwrap().0;
        let unrecognized = parse("500 5.5.2 Error: command not recognized\r\n");
        let verdict = judge(&OracleProbe {
            verb: "EXPN",
            known: unrecognized.clone(),
            unknown: unrecognized,
        });
        assert_eq!(verdict.status, Status::Pass);
        assert!(verdict.message.starts_with("EXPN refused"));
        let open = judge(&OracleProbe {
            verb: "EXPN",
            known: parse("250 2.1.5 <postmaster@example.com>\r\n"),
            unknown: parse("550 5.1.1 unknown\r\n"),
        });
        assert_eq!(open.status, Status::Fail);
    }
}
