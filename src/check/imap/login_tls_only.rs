//! `imap.login.tls-only`: no LOGIN in clear on 143, neither advertised nor attempted.

use crate::check::mailbox::{
    CLEARTEXT_LOGIN_FIX, CLEARTEXT_LOGIN_FIX_FR, about_tls, cleartext_mechanisms,
    cleartext_port_unavailable, made_up_password, made_up_user, trusted_client_note,
};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::imap::{Capabilities, ImapSession, Status, StatusResponse, quote};

pub struct LoginTlsOnly;

static INFO: CheckInfo = CheckInfo {
    id: "imap.login.tls-only",
    title: "No IMAP login in clear text",
    category: Category::Imap,
    severity: Severity::Critical,
    scope: Scope::Endpoints {
        roles: &[Role::Imap],
        stage: Stage::Own,
    },
    what: "On 143 before STARTTLS: LOGINDISABLED must be advertised (RFC 3501 §6.2.3), and a \
           LOGIN with made-up credentials must be refused as a command (`BAD`, or `NO` without \
           AUTHENTICATIONFAILED, e.g. `NO [PRIVACYREQUIRED]`). `NO [AUTHENTICATIONFAILED]` \
           means the server checked the password it received in clear: fail.",
    why: "A password sent before TLS can be read by anyone on the path. A server that accepts \
          one teaches clients to send it; LOGINDISABLED tells them not to even try.",
    fix: CLEARTEXT_LOGIN_FIX,
    opt_in: false,
    title_fr: Some("Pas de connexion IMAP en clair"),
    fix_fr: Some(CLEARTEXT_LOGIN_FIX_FR),
};

/// What made-up credentials in clear got.
pub enum Attempt {
    Answered(StatusResponse),
    /// The server closed or broke the dialog: the reason.
    Broken(String),
}

pub fn judge(capabilities: &Capabilities, attempt: &Attempt, from_server_address: bool) -> Verdict {
    let logindisabled = capabilities.has("LOGINDISABLED");
    let clear_mechanisms = cleartext_mechanisms(capabilities.auth_mechanisms());
    let answer = match attempt {
        Attempt::Answered(answer) => answer,
        Attempt::Broken(why) => return Verdict::error(format!("the LOGIN probe broke: {why}")),
    };
    let summary = answer.summary();
    let note = trusted_client_note(from_server_address);
    let code = answer.code_name();
    match answer.status {
        Status::Ok => {
            return Verdict::fail(format!(
                "made-up credentials were ACCEPTED in clear: {summary}{note}"
            ));
        }
        Status::No if code.as_deref() == Some("AUTHENTICATIONFAILED") => {
            let advertised = if logindisabled {
                " although LOGINDISABLED is advertised"
            } else {
                ""
            };
            return Verdict::fail(format!(
                "the server checked credentials sent in clear{advertised}: {summary}{note}"
            ));
        }
        _ => {}
    }
    let refused_as_command = answer.status == Status::Bad
        || code
            .as_deref()
            .is_some_and(|c| matches!(c, "PRIVACYREQUIRED" | "CLIENTBUG" | "CANNOT"))
        || about_tls(&answer.text);
    if !logindisabled {
        let mechanisms = if clear_mechanisms.is_empty() {
            String::new()
        } else {
            format!(" and AUTH={} is offered", clear_mechanisms.join(" AUTH="))
        };
        return Verdict::fail(format!(
            "LOGINDISABLED is not advertised before STARTTLS{mechanisms}: clients send the password in clear ({summary}){}",
            if refused_as_command {
                ""
            } else {
                note.as_str()
            }
        ));
    }
    if refused_as_command {
        Verdict::pass(format!(
            "LOGINDISABLED advertised before STARTTLS and LOGIN refused as a command: {summary}"
        ))
    } else {
        Verdict::error(format!(
            "cannot tell whether the credentials were checked: {summary}"
        ))
    }
}

/// A greeting that already logs the client in (`* PREAUTH`) hands out a mailbox in clear: that
/// is Dovecot's (or any server's) trusted-client path, or no authentication at all.
pub fn judge_greeting(greeting: &StatusResponse, from_server_address: bool) -> Option<Verdict> {
    (greeting.status == Status::Preauth).then(|| {
        Verdict::fail(format!(
            "the server logged the connection in before TLS: * {}{}",
            greeting.summary(),
            trusted_client_note(from_server_address)
        ))
    })
}

#[async_trait::async_trait]
impl Check for LoginTlsOnly {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn logins(&self) -> crate::check::Logins {
        crate::check::Logins::MadeUp
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let mut session = match ctx.mailbox::<ImapSession>(false).await {
            Ok(session) => session,
            Err(failure) => return cleartext_port_unavailable(ctx, failure),
        };
        if let Some(verdict) =
            judge_greeting(&session.greeting, session.client.conn.from_server_address())
        {
            let verdict = verdict.with_evidence(session.transcript());
            session.logout().await;
            return verdict;
        }
        let (user, password) = (made_up_user(), made_up_password());
        let (quoted_user, quoted_password) = (
            quote(&user).expect("made-up names quote"),
            quote(&password).expect("made-up names quote"),
        );
        // Dovecot answers a cleartext LOGIN it checked after `auth_failure_delay` (2 s), later
        // still for an address it penalizes: the answer gets the documented delay.
        let normal = session.client.conn.allow_login_delay();
        let attempt = match session
            .client
            .command_redacted(
                &format!("LOGIN {quoted_user} {quoted_password}"),
                &format!("LOGIN {quoted_user} <redacted>"),
            )
            .await
        {
            Ok(done) => Attempt::Answered(done.status),
            Err(err) => Attempt::Broken(err.to_string()),
        };
        session.client.conn.set_timeout(normal);
        let from_server = session.client.conn.from_server_address();
        let verdict =
            judge(&session.capabilities, &attempt, from_server).with_evidence(session.transcript());
        session.logout().await;
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status as Verdicts;
    use crate::probe::imap::parse_status;

    fn caps(words: &str) -> Capabilities {
        Capabilities::from_words(words.split_whitespace())
    }

    fn answered(text: &str) -> Attempt {
        Attempt::Answered(parse_status(text).unwrap())
    }

    #[test]
    fn dovecot_reference_passes() {
        let verdict = judge(
            &caps(
                "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED",
            ),
            &answered(
                "NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
            ),
            false,
        );
        assert_eq!(verdict.status, Verdicts::Pass, "{}", verdict.message);
        let bad = judge(
            &caps("IMAP4rev1 STARTTLS LOGINDISABLED"),
            &answered("BAD Command not permitted"),
            false,
        );
        assert_eq!(bad.status, Verdicts::Pass);
    }

    #[test]
    fn checked_credentials_fail_with_the_trust_note() {
        let verdict = judge(
            &caps("IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=LOGIN"),
            &answered("NO [AUTHENTICATIONFAILED] Authentication failed."),
            false,
        );
        assert_eq!(verdict.status, Verdicts::Fail);
        assert!(
            verdict
                .message
                .contains("checked credentials sent in clear")
        );
        assert!(
            verdict.message.contains("login_trusted_networks"),
            "{}",
            verdict.message
        );
        let own = judge(
            &caps("IMAP4rev1 STARTTLS LOGINDISABLED"),
            &answered("NO [AUTHENTICATIONFAILED] Authentication failed."),
            true,
        );
        assert_eq!(own.status, Verdicts::Fail);
        assert!(own.message.contains("although LOGINDISABLED is advertised"));
        assert!(own.message.contains("own address"));
        assert_eq!(
            judge(&caps("IMAP4rev1"), &answered("OK Logged in"), false).status,
            Verdicts::Fail
        );
    }

    #[test]
    fn missing_logindisabled_fails_even_when_login_is_refused() {
        let verdict = judge(
            &caps("IMAP4rev1 STARTTLS AUTH=PLAIN"),
            &answered("NO [PRIVACYREQUIRED] Plaintext authentication disallowed"),
            false,
        );
        assert_eq!(verdict.status, Verdicts::Fail);
        assert!(verdict.message.contains("LOGINDISABLED is not advertised"));
        assert!(verdict.message.contains("AUTH=PLAIN"));
    }

    #[test]
    fn a_preauthenticated_greeting_fails_with_the_trust_note() {
        let preauth = parse_status("PREAUTH [CAPABILITY IMAP4rev1] Logged in as test").unwrap();
        let verdict = judge_greeting(&preauth, true).unwrap();
        assert_eq!(verdict.status, Verdicts::Fail);
        assert!(verdict.message.contains("before TLS") && verdict.message.contains("own address"));
        let ok = parse_status("OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready").unwrap();
        assert!(judge_greeting(&ok, false).is_none());
    }

    #[test]
    fn ambiguous_or_broken_answers_are_errors() {
        let caps = caps("IMAP4rev1 STARTTLS LOGINDISABLED");
        assert_eq!(
            judge(&caps, &answered("NO Something odd"), false).status,
            Verdicts::Error
        );
        assert_eq!(
            judge(
                &caps,
                &Attempt::Broken("server closed the connection".into()),
                false
            )
            .status,
            Verdicts::Error
        );
    }
}
