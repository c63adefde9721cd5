//! `pop3.login.tls-only`: no USER/PASS in clear on 110, neither advertised nor attempted.

use crate::check::mailbox::{
    CLEARTEXT_LOGIN_FIX, CLEARTEXT_LOGIN_FIX_FR, about_tls, cleartext_mechanisms,
    cleartext_port_unavailable, made_up_password, made_up_user, trusted_client_note,
};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::pop3::{Capabilities, Pop3Session, Reply};

pub struct LoginTlsOnly;

static INFO: CheckInfo = CheckInfo {
    id: "pop3.login.tls-only",
    title: "No POP3 login in clear text",
    category: Category::Pop3,
    severity: Severity::Critical,
    scope: Scope::Endpoints {
        roles: &[Role::Pop3],
        stage: Stage::Own,
    },
    what: "On 110 before STLS: CAPA must not offer USER nor SASL PLAIN/LOGIN, and USER/PASS \
           with made-up credentials must be refused as a command (e.g. `-ERR [AUTH] Plaintext \
           authentication disallowed on non-secure (SSL/TLS) connections`). `-ERR [AUTH] \
           Authentication failed` means the server checked a password sent in clear: fail.",
    why: "A password sent before TLS can be read by anyone on the path; a server that accepts \
          one teaches clients to send it.",
    fix: CLEARTEXT_LOGIN_FIX,
    opt_in: false,
    title_fr: Some("Pas de connexion POP3 en clair"),
    fix_fr: Some(CLEARTEXT_LOGIN_FIX_FR),
};

/// What made-up USER/PASS in clear got.
pub enum Attempt {
    /// USER was refused; PASS not sent.
    UserRefused(Reply),
    /// USER accepted, PASS answered.
    Answered {
        pass: Reply,
    },
    Broken(String),
}

pub fn judge(capabilities: &Capabilities, attempt: &Attempt, from_server_address: bool) -> Verdict {
    let note = trusted_client_note(from_server_address);
    let refusal = match attempt {
        Attempt::Broken(why) => return Verdict::error(format!("the USER/PASS probe broke: {why}")),
        Attempt::Answered { pass, .. } if pass.ok => {
            return Verdict::fail(format!(
                "made-up credentials were ACCEPTED in clear: {}{note}",
                pass.summary()
            ));
        }
        Attempt::Answered { pass, .. } if !about_tls(&pass.text) => {
            return Verdict::fail(format!(
                "the server checked credentials sent in clear: {}{note}",
                pass.summary()
            ));
        }
        Attempt::UserRefused(user)
            if user
                .code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("AUTH"))
                && !about_tls(&user.text) =>
        {
            return Verdict::fail(format!(
                "the server checked the user name sent in clear: {}{note}",
                user.summary()
            ));
        }
        Attempt::Answered { pass, .. } => pass,
        Attempt::UserRefused(user) => user,
    };
    let mut advertised = Vec::new();
    if capabilities.has("USER") {
        advertised.push("USER".to_string());
    }
    let mechanisms = cleartext_mechanisms(capabilities.sasl());
    if !mechanisms.is_empty() {
        advertised.push(format!("SASL {}", mechanisms.join(" ")));
    }
    if !advertised.is_empty() {
        return Verdict::fail(format!(
            "CAPA offers {} before STLS: clients send the password in clear ({})",
            advertised.join(" and "),
            refusal.summary()
        ));
    }
    Verdict::pass(format!(
        "no cleartext login offered before STLS, and it is refused as a command: {}",
        refusal.summary()
    ))
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
        let mut session = match ctx.mailbox::<Pop3Session>(false).await {
            Ok(session) => session,
            Err(failure) => return cleartext_port_unavailable(ctx, failure),
        };
        let client = &mut session.client;
        let attempt = match client.command(&format!("USER {}", made_up_user())).await {
            Ok(user) if !user.ok => Attempt::UserRefused(user),
            // Dovecot answers a PASS it checked after `auth_failure_delay` (2 s), later still
            // for an address it penalizes: the answer gets the documented delay.
            Ok(_) => {
                let normal = client.conn.allow_login_delay();
                let pass = client
                    .command_redacted(&format!("PASS {}", made_up_password()), "PASS <redacted>")
                    .await;
                client.conn.set_timeout(normal);
                match pass {
                    Ok(pass) => Attempt::Answered { pass },
                    Err(err) => Attempt::Broken(err.to_string()),
                }
            }
            Err(err) => Attempt::Broken(err.to_string()),
        };
        let from_server = client.conn.from_server_address();
        let verdict =
            judge(&session.capabilities, &attempt, from_server).with_evidence(session.transcript());
        session.quit().await;
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::pop3::parse_status_line;

    fn reply(line: &str) -> Reply {
        parse_status_line(line).unwrap()
    }

    fn caps(lines: &[&str]) -> Capabilities {
        Capabilities::from_body(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn dovecot_reference_passes() {
        let verdict = judge(
            &caps(&[
                "CAPA",
                "TOP",
                "UIDL",
                "RESP-CODES",
                "PIPELINING",
                "AUTH-RESP-CODE",
                "STLS",
                "SASL",
            ]),
            &Attempt::UserRefused(reply(
                "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
            )),
            false,
        );
        assert_eq!(verdict.status, Status::Pass, "{}", verdict.message);
    }

    #[test]
    fn checked_credentials_fail() {
        let verdict = judge(
            &caps(&["USER", "SASL PLAIN LOGIN", "STLS"]),
            &Attempt::Answered {
                pass: reply("-ERR [AUTH] Authentication failed."),
            },
            false,
        );
        assert_eq!(verdict.status, Status::Fail);
        assert!(
            verdict
                .message
                .contains("checked credentials sent in clear")
        );
        assert!(verdict.message.contains("login_trusted_networks"));
        let accepted = judge(
            &caps(&[]),
            &Attempt::Answered {
                pass: reply("+OK Logged in."),
            },
            true,
        );
        assert_eq!(accepted.status, Status::Fail);
        assert!(accepted.message.contains("own address"));
    }

    #[test]
    fn advertising_user_in_clear_fails_even_when_refused() {
        let verdict = judge(
            &caps(&["USER", "STLS"]),
            &Attempt::UserRefused(reply("-ERR [AUTH] Plaintext authentication disallowed")),
            false,
        );
        assert_eq!(verdict.status, Status::Fail);
        assert!(verdict.message.contains("CAPA offers USER"));
    }

    #[test]
    fn unknown_command_is_a_refusal_broken_is_an_error() {
        assert_eq!(
            judge(
                &caps(&["STLS"]),
                &Attempt::UserRefused(reply("-ERR Unknown command")),
                false
            )
            .status,
            Status::Pass
        );
        assert_eq!(
            judge(&caps(&[]), &Attempt::Broken("closed".into()), false).status,
            Status::Error
        );
    }
}
