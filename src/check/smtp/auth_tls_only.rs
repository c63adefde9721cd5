//! `smtp.auth.tls-only`: no AUTH before TLS, neither advertised nor attempted.

use base64_plain::encode;

use crate::check::smtp::random_user;
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::{Capabilities, Reply};

pub struct AuthTlsOnly;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.auth.tls-only",
    title: "No authentication in clear text",
    category: Category::Smtp,
    severity: Severity::Critical,
    scope: Scope::Endpoints {
        roles: &[Role::Mx, Role::Submission],
        stage: Stage::Greeted,
    },
    what: "Before STARTTLS: AUTH must not be advertised, and `AUTH PLAIN` with made-up \
           credentials must be refused as a command (5xx other than 535). A 535 means the \
           server checked the credentials: it accepts passwords in clear.",
    why: "Passwords sent before TLS can be read by anyone on the path; a server that accepts \
          them invites clients to do so.",
    fix: "Postfix: `smtpd_tls_auth_only = yes` in main.cf; on 25 also `smtpd_sasl_auth_enable = no` \
          (authentication belongs on 587/465). Dovecot: `disable_plaintext_auth = yes`.",
    opt_in: false,
    title_fr: Some("Pas d'authentification en clair"),
    fix_fr: Some(
        "Postfix : `smtpd_tls_auth_only = yes` dans main.cf ; sur le port 25, aussi \
                  `smtpd_sasl_auth_enable = no` (l'authentification se fait sur 587/465). Dovecot \
                  : `disable_plaintext_auth = yes`.",
    ),
};

/// What the server said when offered made-up credentials in clear.
pub enum Attempt {
    /// Not attempted: AUTH was advertised, that alone fails.
    Skipped,
    Answered(Reply),
}

pub fn judge(capabilities: &Capabilities, attempt: &Attempt) -> Verdict {
    let mechanisms = capabilities.auth_mechanisms();
    if !mechanisms.is_empty() {
        return Verdict::fail(format!(
            "AUTH {} advertised before STARTTLS",
            mechanisms.join(" ")
        ));
    }
    let Attempt::Answered(reply) = attempt else {
        return Verdict::error("the AUTH attempt was not made");
    };
    match reply.code {
        235 => Verdict::fail(format!(
            "made-up credentials were ACCEPTED in clear: {reply}"
        )),
        334 => Verdict::fail(format!(
            "the server continued an AUTH exchange in clear: {reply}"
        )),
        535 => Verdict::fail(format!(
            "the server checked credentials sent in clear (535): {reply}"
        )),
        421 => Verdict::error(format!("the server closed the session: {reply}")),
        code if code >= 500 => Verdict::pass(format!(
            "AUTH not advertised before TLS and refused as a command: {reply}"
        )),
        _ => Verdict::error(format!("ambiguous answer to AUTH in clear: {reply}")),
    }
}

#[async_trait::async_trait]
impl Check for AuthTlsOnly {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn logins(&self) -> crate::check::Logins {
        crate::check::Logins::MadeUp
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let session = match ctx.session().await {
            Ok(session) => session,
            Err(failure) => return ctx.unavailable(&failure),
        };
        let capabilities = session.capabilities.clone();
        let mut evidence: Vec<String> = session
            .hello
            .wire_lines()
            .map(|l| format!("S: {l}"))
            .collect();
        let mark = session.mark();
        let attempt = if capabilities.offers_auth() {
            Attempt::Skipped
        } else {
            // Made-up, random credentials; the transcript never shows them anyway.
            let token = encode(format!("\0{}\0{}", random_user(), random_user()).as_bytes());
            // A server that checks them (through Dovecot's SASL) answers after its failure
            // delay, later still for an address it penalizes.
            let normal = session.client.conn.allow_login_delay();
            let answer = session
                .client
                .command_redacted(&format!("AUTH PLAIN {token}"), "AUTH PLAIN <redacted>")
                .await;
            session.client.conn.set_timeout(normal);
            match answer {
                Ok(reply) => {
                    if reply.code == 334 {
                        let _ = session.client.command("*").await;
                    }
                    Attempt::Answered(reply)
                }
                Err(err) => {
                    return Verdict::error(format!("AUTH probe broke: {err}"))
                        .with_evidence(session.since(mark));
                }
            }
        };
        evidence.extend(session.since(mark));
        judge(&capabilities, &attempt).with_evidence(evidence)
    }
}

/// Base64 without a crate: ten lines beat a dependency for encoding one probe string.
mod base64_plain {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(input: &[u8]) -> String {
        let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
        for chunk in input.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    fn parse(raw: &str) -> Reply {
        parse_reply(raw.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg==");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"\0user\0pass"), "AHVzZXIAcGFzcw==");
    }

    #[test]
    fn advertised_auth_fails() {
        let caps = Capabilities::from_ehlo(&parse(
            "250-mail.weak.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
        ));
        let verdict = judge(&caps, &Attempt::Skipped);
        assert_eq!(verdict.status, Status::Fail);
        assert!(verdict.message.contains("PLAIN LOGIN"));
    }

    #[test]
    fn refusal_as_command_passes_but_535_fails() {
        let caps = Capabilities::from_ehlo(&parse("250-mail.ref.test\r\n250 STARTTLS\r\n"));
        let answered = |raw| Attempt::Answered(parse(raw));
        assert_eq!(
            judge(
                &caps,
                &answered("503 5.5.1 Error: authentication not enabled\r\n")
            )
            .status,
            Status::Pass
        );
        assert_eq!(
            judge(
                &caps,
                &answered("530 5.7.0 Must issue a STARTTLS command first\r\n")
            )
            .status,
            Status::Pass
        );
        assert_eq!(
            judge(
                &caps,
                &answered("535 5.7.8 Error: authentication failed\r\n")
            )
            .status,
            Status::Fail
        );
        assert_eq!(
            judge(&caps, &answered("235 2.7.0 Authentication successful\r\n")).status,
            Status::Fail
        );
        assert_eq!(
            judge(
                &caps,
                &answered("454 4.7.0 Temporary authentication failure\r\n")
            )
            .status,
            Status::Error
        );
    }
}
