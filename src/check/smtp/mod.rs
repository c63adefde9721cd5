//! Pieces several SMTP checks share: probe names and the control transaction that proves a
//! refusal was caused by what a check changed, not by a server that refuses everyone.

pub mod auth_offered;
pub mod auth_tls_only;
pub mod banner_fqdn;
pub mod banner_no_software;
pub mod expn_disabled;
pub mod helo_invalid_rejected;
pub mod rcpt_enumeration;
pub mod relay_refused;
pub mod sender_unknown_domain_rejected;
pub mod size_advertised;
pub mod smtps;
pub mod smuggling;
pub mod starttls;
pub mod starttls_injection;
pub mod submission_tls_required;
pub mod vrfy_disabled;

use crate::check::{Ctx, Verdict};
use crate::probe::ProbeError;
use crate::probe::reply::Reply;
use crate::probe::smtp::{OpenOptions, Session};

/// A local part that exists nowhere: `mailcheck-3f9a0c1e`.
pub fn random_user() -> String {
    format!("mailcheck-{:08x}", rand::random::<u32>())
}

/// The recipient every server must accept (RFC 5321 §4.5.1): `postmaster@domain`. Without a
/// mail domain there is none: a bare `postmaster` is refused by hardened servers for its
/// missing domain, which would make a probe's own recipient look like the server's verdict.
pub fn postmaster(ctx: &Ctx<'_>) -> Result<String, Verdict> {
    match &ctx.target.domain {
        Some(domain) => Ok(format!("postmaster@{domain}")),
        None => Err(Verdict::skip(
            "no mail domain to send the probe to (`postmaster@<domain>`): give --domain",
        )),
    }
}

/// Where a transaction stopped.
#[derive(Debug)]
pub enum Transaction {
    /// MAIL FROM was refused.
    MailRefused(Reply),
    /// MAIL FROM accepted, RCPT TO refused.
    RcptRefused(Reply),
    /// Both accepted (no DATA is ever sent).
    Accepted(Reply),
}

impl Transaction {
    pub fn refusal(&self) -> Option<&Reply> {
        match self {
            Transaction::MailRefused(reply) | Transaction::RcptRefused(reply) => Some(reply),
            Transaction::Accepted(_) => None,
        }
    }

    /// The reply, when it refused the whole session rather than this transaction's
    /// addresses (see [`defers_session`]).
    pub fn deferred(&self) -> Option<&Reply> {
        self.refusal().filter(|reply| defers_session(reply))
    }

    /// "refused at RCPT: 554 5.7.1 ..." for messages.
    pub fn describe(&self) -> String {
        match self {
            Transaction::MailRefused(reply) => format!("refused at MAIL: {reply}"),
            Transaction::RcptRefused(reply) => format!("refused at RCPT: {reply}"),
            Transaction::Accepted(reply) => format!("accepted at RCPT: {reply}"),
        }
    }
}

/// A refusal of the session, not of the addresses it names: postscreen's `450 4.3.2 Service
/// currently unavailable` after its after-220 tests (the client passed, but postscreen cannot
/// hand over a live session: its next connection reaches the real smtpd), or a `421` that
/// closes the session. Such an answer proves nothing about what a probe asks; one new
/// connection decides (SPEC: "after one polite retry").
pub fn defers_session(reply: &Reply) -> bool {
    let service = reply
        .enhanced
        .is_some_and(|e| e.class == 4 && e.subject == 3 && e.detail == 2);
    let text = reply.lines.join(" ").to_ascii_lowercase();
    reply.code == 421
        || (reply.is_transient() && (service || text.contains("service currently unavailable")))
}

/// After an answer that only deferred the session ([`defers_session`]): the polite pause, then
/// a new session opened with `options`, on which the caller repeats its probe. The note goes
/// into `evidence`.
pub async fn reopen_after_deferral(
    ctx: &Ctx<'_>,
    options: &OpenOptions,
    reply: &Reply,
    evidence: &mut Vec<String>,
) -> Result<Session, Verdict> {
    evidence.push(deferral_note(reply, options.retry_pause));
    tokio::time::sleep(options.retry_pause).await;
    ctx.open(options)
        .await
        .map_err(|failure| ctx.unavailable(&failure))
}

/// The evidence line before a retry on a new connection.
pub fn deferral_note(reply: &Reply, pause: std::time::Duration) -> String {
    format!(
        "* the session was deferred ({reply}), which says nothing about this probe: retrying once on a new connection after {} ms",
        pause.as_millis()
    )
}

/// The verdict when the retried session was deferred too.
pub fn deferred_twice(reply: &Reply) -> Verdict {
    Verdict::error(format!(
        "cannot tell: the session was deferred twice ({reply}; postscreen or an overloaded server)"
    ))
}

/// MAIL FROM + RCPT TO, then RSET. Never DATA.
pub async fn transaction(
    session: &mut Session,
    sender: &str,
    recipient: &str,
) -> Result<Transaction, ProbeError> {
    let mail = session
        .client
        .command(&format!("MAIL FROM:<{sender}>"))
        .await?;
    let outcome = if !mail.is_positive() {
        Transaction::MailRefused(mail)
    } else {
        let rcpt = session
            .client
            .command(&format!("RCPT TO:<{recipient}>"))
            .await?;
        if rcpt.is_positive() {
            Transaction::Accepted(rcpt)
        } else {
            Transaction::RcptRefused(rcpt)
        }
    };
    session.client.command("RSET").await?;
    Ok(outcome)
}

/// The control: a null sender to postmaster must be accepted. `Err` carries the verdict to
/// return when it is not (we cannot tell why the probe was refused).
pub async fn control(session: &mut Session, recipient: &str) -> Result<(), Verdict> {
    match transaction(session, "", recipient).await {
        Ok(Transaction::Accepted(_)) => Ok(()),
        Ok(other) => Err(Verdict::error(format!(
            "cannot tell: the server also refuses a plain message to <{recipient}> from this client ({})",
            other.describe()
        ))),
        Err(err) => Err(Verdict::error(format!(
            "the control transaction broke: {err}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::reply::parse_reply;

    fn reply(raw: &str) -> Reply {
        parse_reply(raw.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn only_answers_about_the_session_defer_it() {
        // postscreen after its after-220 tests, and a closing 421.
        assert!(defers_session(&reply(
            "450 4.3.2 Service currently unavailable\r\n"
        )));
        assert!(defers_session(&reply(
            "421 4.7.0 mail.example Error: too many connections\r\n"
        )));
        // Answers about the addresses are verdicts, even when temporary.
        assert!(!defers_session(&reply(
            "450 4.1.8 <m@x.invalid>: Sender address rejected: Domain not found\r\n"
        )));
        assert!(!defers_session(&reply(
            "454 4.7.1 <r@outside.test>: Relay access denied\r\n"
        )));
        assert!(!defers_session(&reply(
            "550 5.3.2 Service currently unavailable\r\n"
        )));
        let refused =
            Transaction::RcptRefused(reply("450 4.3.2 Service currently unavailable\r\n"));
        assert!(refused.deferred().is_some());
        assert!(
            Transaction::Accepted(reply("250 2.1.5 Ok\r\n"))
                .deferred()
                .is_none()
        );
    }
}
