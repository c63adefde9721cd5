//! `smtp.vrfy.disabled`: VRFY is no mailbox oracle. Shares its probe with `smtp.expn.disabled`.

use crate::check::smtp::random_user;
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::Reply;

pub struct VrfyDisabled;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.vrfy.disabled",
    title: "VRFY does not reveal mailboxes",
    category: Category::Smtp,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &[Role::Mx],
        stage: Stage::Greeted,
    },
    what: "Sends `VRFY postmaster` and `VRFY <random user>`: the command must be refused, or \
           answer the same (code and enhanced code) for both.",
    why: "A VRFY that tells existing from unknown users lets spammers harvest valid addresses \
          (RFC 5321 §7.3).",
    fix: "Postfix: `disable_vrfy_command = yes` in main.cf (the course's setting), then \
          `postfix reload`.",
    opt_in: false,
    title_fr: Some("VRFY ne révèle pas les boîtes aux lettres"),
    fix_fr: Some(
        "Postfix : `disable_vrfy_command = yes` dans main.cf (le réglage du cours), puis \
                  `postfix reload`.",
    ),
};

/// How the server answered the probe for an existing and a made-up user.
pub struct OracleProbe {
    pub verb: &'static str,
    pub known: Reply,
    pub unknown: Reply,
}

/// Refused as a command, or one answer for both users: pass. Different answers: fail.
pub fn judge(probe: &OracleProbe) -> Verdict {
    let verb = probe.verb;
    let (known, unknown) = (&probe.known, &probe.unknown);
    if known.code == 421 || unknown.code == 421 {
        return Verdict::error(format!("the server closed the session during {verb}: 421"));
    }
    // A temporary answer (rate limit, overload) proves nothing about the oracle.
    if known.is_transient() || unknown.is_transient() {
        return Verdict::error(format!(
            "temporary answers prove nothing: existing → {}, unknown → {}",
            known.summary(),
            unknown.summary()
        ));
    }
    let refused_as_command = |r: &Reply| matches!(r.code, 500 | 502 | 504);
    if refused_as_command(known) && refused_as_command(unknown) {
        return Verdict::pass(format!("{verb} refused: {known}"));
    }
    if known.signature() == unknown.signature() {
        return Verdict::pass(format!(
            "{verb} gives one answer for an existing and an unknown user: {} {}",
            known.code,
            known.enhanced.map(|e| e.to_string()).unwrap_or_default()
        ));
    }
    Verdict::fail(format!(
        "{verb} tells users apart: existing → {}, unknown → {}",
        known.summary(),
        unknown.summary()
    ))
}

/// Sends `<verb> <known user>` and `<verb> <random user>` on the shared session.
pub async fn probe(ctx: &mut Ctx<'_>, verb: &'static str) -> Verdict {
    let known_user = ctx.settings.smtp.known_user.clone();
    let session = match ctx.session().await {
        Ok(session) => session,
        Err(failure) => return ctx.unavailable(&failure),
    };
    let mark = session.mark();
    let known = session
        .client
        .command(&format!("{verb} {known_user}"))
        .await;
    let unknown = match &known {
        Ok(_) => {
            session
                .client
                .command(&format!("{verb} {}", random_user()))
                .await
        }
        Err(err) => Err(err.clone()),
    };
    let evidence = session.since(mark);
    match (known, unknown) {
        (Ok(known), Ok(unknown)) => judge(&OracleProbe {
            verb,
            known,
            unknown,
        }),
        (Err(err), _) | (_, Err(err)) => Verdict::error(format!("{verb} probe broke: {err}")),
    }
    .with_evidence(evidence)
}

#[async_trait::async_trait]
impl Check for VrfyDisabled {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        probe(ctx, "VRFY").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    fn judge_raw(known: &str, unknown: &str) -> Verdict {
        let parse = |raw: &str| parse_reply(raw.as_bytes()).unwrap().unwrap().0;
        judge(&OracleProbe {
            verb: "VRFY",
            known: parse(known),
            unknown: parse(unknown),
        })
    }

    #[test]
    fn disabled_or_uniform_passes() {
        let disabled = "502 5.5.1 VRFY command is disabled\r\n";
        assert_eq!(judge_raw(disabled, disabled).status, Status::Pass);
        // RFC 5321 §7.3: 252 for everyone; Postfix echoes the argument, so only codes count.
        let verdict = judge_raw("252 2.0.0 postmaster\r\n", "252 2.0.0 mailcheck-1234\r\n");
        assert_eq!(verdict.status, Status::Pass, "{}", verdict.message);
        assert_eq!(
            judge_raw("550 5.1.1 no\r\n", "550 5.1.1 no\r\n").status,
            Status::Pass
        );
    }

    #[test]
    fn different_answers_fail() {
        let verdict = judge_raw(
            "252 2.0.0 postmaster\r\n",
            "550 5.1.1 <mailcheck-1>: Recipient address rejected: User unknown\r\n",
        );
        assert_eq!(verdict.status, Status::Fail);
        assert!(verdict.message.contains("252") && verdict.message.contains("550"));
        // Same code, different enhanced code: still an oracle.
        assert_eq!(
            judge_raw("550 5.1.0 x\r\n", "550 5.1.1 y\r\n").status,
            Status::Fail
        );
    }

    #[test]
    fn temporary_answers_are_errors() {
        let verdict = judge_raw("450 4.7.1 slow down\r\n", "450 4.7.1 slow down\r\n");
        assert_eq!(verdict.status, Status::Error);
    }

    #[test]
    fn closing_is_an_error() {
        assert_eq!(
            judge_raw("421 4.7.0 too many errors\r\n", "421 4.7.0 bye\r\n").status,
            Status::Error
        );
    }
}
