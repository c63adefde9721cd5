//! The end-to-end flow the four `e2e.*` checks share, run once per target: submit a message
//! to the test mailbox (587 after STARTTLS, or 465), send another unauthenticated on 25, wait
//! for both over IMAPS, then delete every mailcheck test message. Only the configured test
//! mailbox is ever written to.

pub mod dkim;
pub mod fetch;
pub mod inbound;
pub mod submit;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::check::{Credentials, Ctx, Role, Verdict};
use crate::probe::mailbox::{Found, MailboxAccess, TOKEN_HEADER, collect};
use crate::probe::submit::{Submission, submit};

/// Where a message went and what became of it.
#[derive(Debug, Clone)]
pub struct Leg {
    pub token: String,
    /// `host:port/proto` used.
    pub via: crate::outcome::Endpoint,
    /// Submission steps (redacted).
    pub sent_evidence: Vec<String>,
    /// The final reply of the accepted message, or why it was not sent.
    pub sent: Result<String, SendFailure>,
    /// What the mailbox showed; `None` when nothing was sent.
    pub arrived: Option<Result<Found, String>>,
    /// When the server accepted the message.
    pub accepted_at: Option<Instant>,
}

/// Why a message was not sent: the server said no for good (a finding), or nobody can tell
/// (no connection, a temporary 4xx, a timeout: `error`).
#[derive(Debug, Clone)]
pub enum SendFailure {
    Refused(String),
    Unknown(String),
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub user: String,
    pub outbound: Leg,
    pub inbound: Leg,
    pub mailbox_evidence: Vec<String>,
    pub removed: usize,
}

/// What the e2e checks get: the flow, or why it could not run (a skip).
pub type Shared = Result<Flow, NotRun>;

/// Why the flow did not run: nothing to run it with (a skip), or it could not finish (error).
#[derive(Debug, Clone)]
pub enum NotRun {
    Skip(String),
    Error(String),
}

fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// An RFC 5322 message from `from` to `to`, marked with the token (header and subject).
pub fn message(from: &str, to: &str, token: &str, what: &str) -> Vec<u8> {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let domain = to.rsplit('@').next().unwrap_or("mailcheck.invalid");
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: mailcheck end-to-end test ({what}) {token}\r\nDate: {date}\r\n\
         Message-ID: <{token}.{what}@{domain}>\r\n{TOKEN_HEADER}: {token}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nThis message was sent by mailcheck to test delivery.\r\n\
         It is deleted as soon as it has been fetched.\r\n"
    )
    .into_bytes()
}

/// The flow's result, computed by whichever e2e check asks first.
pub async fn flow(ctx: &Ctx<'_>) -> Arc<Shared> {
    // Its own bound, inside the runner's per-check budget (8 timeouts): a flow cancelled by
    // the runner would leave its messages for the next run's stale-message cleanup.
    let deadline = deadline(ctx);
    ctx.shared("e2e.flow", || async move {
        tokio::time::timeout(deadline, run(ctx))
            .await
            .unwrap_or_else(|_| {
                Err(NotRun::Error(format!(
                    "the end-to-end flow did not finish within {} s",
                    deadline.as_secs()
                )))
            })
    })
    .await
}

/// How long a whole end-to-end exchange (sending, waiting, cleaning up) may take: inside the
/// runner's per-check budget (8 timeouts), so a flow is never cancelled before its cleanup.
pub fn deadline(ctx: &Ctx<'_>) -> Duration {
    ctx.net.timeout * 6
}

/// The test mailbox over IMAPS (IMAP with STARTTLS when 993 is closed) on the target's first
/// address; `None` when the target has no address.
pub fn mailbox_access(ctx: &Ctx<'_>, credentials: &Credentials) -> Option<MailboxAccess> {
    let (host, ip) = ctx
        .target
        .hosts
        .iter()
        .find_map(|(name, ips)| ips.first().map(|ip| (name.clone(), *ip)))?;
    Some(MailboxAccess {
        addr: std::net::SocketAddr::new(ip, ctx.port(Role::Imaps)),
        starttls_fallback: Some(std::net::SocketAddr::new(ip, ctx.port(Role::Imap))),
        server_name: host.unwrap_or_else(|| ip.to_string()),
        bind: ctx.net.bind_for(ip),
        timeout: ctx.net.timeout,
        user: credentials.user.clone(),
        password: credentials.password().to_string(),
    })
}

/// How long to wait for a message to arrive: the timeout, and at least 5 s (delivery goes
/// through a queue).
pub fn arrival_wait(ctx: &Ctx<'_>) -> Duration {
    Duration::from_secs_f64(ctx.net.timeout.as_secs_f64().max(5.0))
}

async fn run(ctx: &Ctx<'_>) -> Shared {
    let Some(credentials) = ctx.settings.credentials.clone() else {
        return Err(NotRun::Skip(
            "needs --user and --password-env/--password-file (a test mailbox)".into(),
        ));
    };
    let Some((host, ip)) = ctx
        .target
        .hosts
        .iter()
        .find_map(|(name, ips)| ips.first().map(|ip| (name.clone(), *ip)))
    else {
        return Err(NotRun::Error("the target has no address".into()));
    };
    let server_name = host.clone().unwrap_or_else(|| ip.to_string());
    let port = |role: Role| {
        ctx.ports
            .get(&role)
            .copied()
            .unwrap_or_else(|| role.default_port())
    };
    let timeout = ctx.net.timeout;
    let helo = ctx
        .settings
        .smtp
        .helo_name
        .clone()
        .unwrap_or_else(|| crate::probe::smtp::helo_literal(ctx.net.bind_for(ip)));
    let base = |role: Role, login, from: String| Submission {
        addr: std::net::SocketAddr::new(ip, port(role)),
        server_name: server_name.clone(),
        implicit_tls: role.implicit_tls(),
        bind: ctx.net.bind_for(ip),
        timeout,
        login,
        helo_name: helo.clone(),
        from,
        to: credentials.user.clone(),
    };

    // Outbound: authenticated submission on 587 (STARTTLS), falling back to 465.
    let login = Some((credentials.user.clone(), credentials.password().to_string()));
    let token_out = token();
    let message_out = message(
        &credentials.user,
        &credentials.user,
        &token_out,
        "submission",
    );
    let mut outbound = send(
        base(Role::Submission, login.clone(), credentials.user.clone()),
        &message_out,
        &token_out,
    )
    .await;
    if matches!(outbound.sent, Err(SendFailure::Unknown(_))) {
        let retry = send(
            base(Role::Smtps, login, credentials.user.clone()),
            &message_out,
            &token_out,
        )
        .await;
        if retry.sent.is_ok() {
            outbound = retry;
        }
    }

    // Inbound: what any MTA of the world would do, on 25 without authentication.
    let sender = match &ctx.settings.relay_domain {
        Some(domain) => format!("mailcheck@{domain}"),
        None => String::new(), // the null sender: every server must accept it (RFC 5321 §4.5.5)
    };
    let token_in = token();
    let from_header = if sender.is_empty() {
        "mailer-daemon@mailcheck.invalid".to_string()
    } else {
        sender.clone()
    };
    let message_in = message(&from_header, &credentials.user, &token_in, "inbound");
    let inbound = send(base(Role::Mx, None, sender), &message_in, &token_in).await;

    // Wait for what was accepted, then clean up.
    let Some(access) = mailbox_access(ctx, &credentials) else {
        return Err(NotRun::Error("the target has no address".into()));
    };
    let wanted: Vec<String> = [&outbound, &inbound]
        .iter()
        .filter(|l| l.sent.is_ok())
        .map(|l| l.token.clone())
        .collect();
    let wait = arrival_wait(ctx);
    let collected = collect(&access, &wanted, wait).await;
    let mut legs = [outbound, inbound];
    for leg in &mut legs {
        leg.arrived = collected
            .found
            .iter()
            .find(|(t, _)| *t == leg.token)
            .map(|(_, r)| r.clone());
    }
    let [outbound, inbound] = legs;
    Ok(Flow {
        user: credentials.user.clone(),
        outbound,
        inbound,
        mailbox_evidence: collected.transcript.lines().to_vec(),
        removed: collected.removed,
    })
}

async fn send(request: Submission, message: &[u8], token: &str) -> Leg {
    let outcome = submit(&request, message).await;
    use crate::outcome::Transport;
    let transport = match (request.implicit_tls, outcome.starttls) {
        (true, _) => Transport::Smtps,
        (false, true) => Transport::SmtpStarttls,
        (false, false) => Transport::Smtp,
    };
    let via = crate::outcome::Endpoint {
        address: request.addr,
        transport,
    };
    let sent = outcome.result.map_err(|not_sent| {
        if not_sent.refused {
            SendFailure::Refused(not_sent.reason)
        } else {
            SendFailure::Unknown(not_sent.reason)
        }
    });
    Leg {
        token: token.to_string(),
        via,
        sent_evidence: outcome.transcript.lines().to_vec(),
        sent,
        arrived: None,
        accepted_at: outcome.accepted_at,
    }
}

/// The shared verdict when the flow did not run at all.
pub fn not_run(reason: &NotRun) -> Verdict {
    match reason {
        NotRun::Skip(why) => Verdict::skip(why.clone()),
        NotRun::Error(why) => Verdict::error(why.clone()),
    }
}

/// The verdict for "did the message of `leg` arrive?", shared by e2e.fetch and e2e.inbound.
pub fn arrival(leg: &Leg, flow: &Flow) -> Verdict {
    let mut evidence = leg.sent_evidence.clone();
    evidence.extend(flow.mailbox_evidence.iter().cloned());
    let verdict = match (&leg.sent, &leg.arrived) {
        (Err(SendFailure::Unknown(why)), _) => Verdict::error(format!("nothing was sent: {why}")),
        (Err(SendFailure::Refused(why)), _) => {
            Verdict::fail(format!("the message was not accepted: {why}"))
        }
        (Ok(_), Some(Ok(found))) => {
            let latency = leg.accepted_at.map_or(Duration::ZERO, |at| {
                found.seen_at.saturating_duration_since(at)
            });
            Verdict::pass(format!(
                "delivered to {} within {} ms of acceptance, fetched over IMAP with TLS; {} test message(s) deleted",
                flow.user,
                latency.as_millis(),
                flow.removed
            ))
        }
        (Ok(_), Some(Err(why))) if why.starts_with("not delivered") => {
            Verdict::fail(format!("accepted by {} but {why}", leg.via))
        }
        (Ok(_), Some(Err(why))) => Verdict::error(format!("cannot read the mailbox: {why}")),
        (Ok(_), None) => Verdict::error("the mailbox was not read"),
    };
    verdict.with_evidence(evidence).at(leg.via)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_messages_carry_the_token_twice() {
        let raw =
            String::from_utf8(message("a@x.test", "b@x.test", "abc123", "submission")).unwrap();
        assert!(raw.contains("\r\nX-Mailcheck-Token: abc123\r\n"));
        assert!(raw.contains("Subject: mailcheck end-to-end test (submission) abc123\r\n"));
        assert!(raw.contains("\r\n\r\n"), "headers end with an empty line");
        assert!(raw.lines().all(|l| l.len() < 998));
    }
}
