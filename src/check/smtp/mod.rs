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
use crate::probe::smtp::Session;

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

    /// "refused at RCPT: 554 5.7.1 ..." for messages.
    pub fn describe(&self) -> String {
        match self {
            Transaction::MailRefused(reply) => format!("refused at MAIL: {reply}"),
            Transaction::RcptRefused(reply) => format!("refused at RCPT: {reply}"),
            Transaction::Accepted(reply) => format!("accepted at RCPT: {reply}"),
        }
    }
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
