//! `imap.login`: with `--user`, LOGIN over TLS succeeds and `SELECT INBOX` works.

use crate::check::mailbox::is_closed;
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::failure::OpenFailureKind;
use crate::probe::imap::{Completion, ImapSession, Status, quote};

pub struct Login;

static INFO: CheckInfo = CheckInfo {
    id: "imap.login",
    title: "The test user logs in over TLS and opens INBOX",
    category: Category::Imap,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &[Role::Imaps, Role::Imap],
        stage: Stage::Own,
    },
    what: "With `--user` (password from `--password-env` or `--password-file`): on 993, and on \
           143 after STARTTLS, `LOGIN` succeeds and `SELECT INBOX` answers OK. Skipped without \
           `--user`. The password never enters the evidence.",
    why: "The mailbox is what users come for: a server can pass every hardening check and \
          still refuse its users (wrong passdb, userdb or mail_location).",
    fix: "Dovecot: check `passdb`/`userdb` (`doveadm auth test USER`), `mail_location` and the \
          mailbox directory's owner (`doveadm user USER`); the log \
          (`doveadm log errors`, or `journalctl -u dovecot`) says why a login failed.",
    opt_in: false,
    title_fr: Some("L'utilisateur de test se connecte en TLS et ouvre INBOX"),
    fix_fr: Some(
        "Dovecot : vérifiez `passdb`/`userdb` (`doveadm auth test USER`), \
                  `mail_location` et le propriétaire du répertoire de la boîte (`doveadm user \
                  USER`) ; le journal (`doveadm log errors`, ou `journalctl -u dovecot`) dit \
                  pourquoi une connexion a échoué.",
    ),
};

/// Judges LOGIN's and SELECT's completions.
pub fn judge(user: &str, login: &Completion, select: Option<&Completion>) -> Verdict {
    if login.status.status != Status::Ok {
        return Verdict::fail(format!(
            "LOGIN as {user} refused: {}",
            login.status.summary()
        ));
    }
    let Some(select) = select else {
        return Verdict::error("SELECT INBOX was not answered");
    };
    if select.status.status != Status::Ok {
        return Verdict::fail(format!(
            "logged in as {user}, but SELECT INBOX failed: {}",
            select.status.summary()
        ));
    }
    let exists = select.untagged.iter().find_map(|line| {
        line.strip_suffix(" EXISTS")
            .and_then(|n| n.parse::<u64>().ok())
    });
    Verdict::pass(format!(
        "logged in as {user} over TLS; INBOX selected{}",
        exists
            .map(|n| format!(" ({n} message(s))"))
            .unwrap_or_default()
    ))
}

#[async_trait::async_trait]
impl Check for Login {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn logins(&self) -> crate::check::Logins {
        crate::check::Logins::Real
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let Some(credentials) = ctx.settings.credentials.clone() else {
            return Verdict::skip("no --user given (with --password-env or --password-file)");
        };
        let (Some(user), Some(password)) =
            (quote(&credentials.user), quote(credentials.password()))
        else {
            return Verdict::error(
                "the user or password holds CR, LF or NUL: IMAP LOGIN cannot carry it",
            );
        };
        let starttls = !ctx.endpoint().role.implicit_tls();
        let mut session = match ctx.mailbox::<ImapSession>(starttls).await {
            Ok(session) => session,
            Err(failure) if is_closed(&failure) => {
                return Verdict::skip(format!("port {} is closed", ctx.endpoint().port))
                    .with_evidence(failure.evidence);
            }
            Err(failure) if matches!(failure.kind, OpenFailureKind::StartTlsNotOffered) => {
                return Verdict::skip(
                    "no STARTTLS on this port: no login over TLS here (imap.starttls reports it)",
                )
                .with_evidence(failure.evidence);
            }
            Err(failure) => return ctx.unavailable(&failure),
        };
        // A server holding logins from an address it penalizes (Dovecot) answers late.
        let normal = session.client.conn.allow_login_delay();
        let login = session
            .client
            .command_redacted(
                &format!("LOGIN {user} {password}"),
                &format!("LOGIN {user} <redacted>"),
            )
            .await;
        session.client.conn.set_timeout(normal);
        let login = match login {
            Ok(done) => done,
            Err(err) => {
                return Verdict::error(format!("LOGIN broke: {err}"))
                    .with_evidence(session.transcript());
            }
        };
        let select = if login.status.status == Status::Ok {
            match session.client.command("SELECT INBOX").await {
                Ok(done) => Some(done),
                Err(err) => {
                    return Verdict::error(format!("SELECT INBOX broke: {err}"))
                        .with_evidence(session.transcript());
                }
            }
        } else {
            None
        };
        let verdict =
            judge(&credentials.user, &login, select.as_ref()).with_evidence(session.transcript());
        session.logout().await;
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status as Verdicts;
    use crate::probe::imap::parse_status;

    fn completion(status: &str, untagged: &[&str]) -> Completion {
        Completion {
            untagged: untagged.iter().map(|s| s.to_string()).collect(),
            status: parse_status(status).unwrap(),
        }
    }

    #[test]
    fn login_and_select_pass() {
        let verdict = judge(
            "test@ref.test",
            &completion("OK [CAPABILITY IMAP4rev1] Logged in", &[]),
            Some(&completion(
                "OK [READ-WRITE] Select completed (0.001 + 0.000 secs).",
                &["FLAGS (\\Answered)", "3 EXISTS", "0 RECENT"],
            )),
        );
        assert_eq!(verdict.status, Verdicts::Pass);
        assert!(
            verdict.message.contains("(3 message(s))"),
            "{}",
            verdict.message
        );
    }

    #[test]
    fn refused_login_or_select_fails() {
        let refused = judge(
            "test@ref.test",
            &completion("NO [AUTHENTICATIONFAILED] Authentication failed.", &[]),
            None,
        );
        assert_eq!(refused.status, Verdicts::Fail);
        assert!(refused.message.contains("AUTHENTICATIONFAILED"));
        let no_inbox = judge(
            "u",
            &completion("OK Logged in", &[]),
            Some(&completion("NO [SERVERBUG] Internal error", &[])),
        );
        assert_eq!(no_inbox.status, Verdicts::Fail);
        assert_eq!(
            judge("u", &completion("OK Logged in", &[]), None).status,
            Verdicts::Error
        );
    }
}
