//! What the IMAP and POP3 checks share: how to open a session on the check's endpoint, the
//! judgements that differ only in the protocol's words (STARTTLS/STLS, implicit TLS on
//! 993/995, cleartext logins), the "is this protocol served at all" question of the
//! implicit-TLS ports, and the note that explains a trusted client.

use super::{Ctx, Role, Verdict};
use crate::probe::ProbeError;
use crate::probe::failure::{OpenFailure, OpenFailureKind};
use crate::probe::imap::ImapOptions;
use crate::probe::net::connect;
use crate::probe::pop3::Pop3Options;
use crate::probe::session::MailboxSession;
use crate::probe::tls::TlsInfo;

/// A user name that exists nowhere, for logins that must be refused before they are checked.
pub fn made_up_user() -> String {
    format!("mailcheck-probe-{:08x}", rand::random::<u32>())
}

/// A password nobody has.
pub fn made_up_password() -> String {
    format!("x{:016x}", rand::random::<u64>())
}

/// Options to open an IMAP session on the check's endpoint.
pub fn imap_options(ctx: &Ctx<'_>, starttls: bool) -> ImapOptions {
    let endpoint = ctx.endpoint();
    ImapOptions {
        addr: endpoint.addr(),
        server_name: endpoint.server_name(),
        implicit_tls: endpoint.role.implicit_tls(),
        starttls,
    }
}

/// Options to open a POP3 session on the check's endpoint.
pub fn pop3_options(ctx: &Ctx<'_>, starttls: bool) -> Pop3Options {
    let endpoint = ctx.endpoint();
    Pop3Options {
        addr: endpoint.addr(),
        server_name: endpoint.server_name(),
        implicit_tls: endpoint.role.implicit_tls(),
        starttls,
    }
}

/// Whether the port closed with a refused connection.
pub fn is_closed(failure: &OpenFailure) -> bool {
    matches!(
        failure.kind,
        OpenFailureKind::Unreachable(ProbeError::Refused)
    )
}

/// How a protocol names its STARTTLS step, for the judgement `imap.starttls` and `pop3.stls`
/// share.
pub struct StartTlsTerms {
    /// `IMAP`, `POP3`.
    pub protocol: &'static str,
    /// The cleartext port the check is about.
    pub port: u16,
    /// The command that starts TLS: `STARTTLS`, `STLS`.
    pub command: &'static str,
    /// The command that lists the capabilities: `CAPABILITY`, `CAPA`.
    pub capabilities: &'static str,
    /// What is said when the command is not offered.
    pub not_offered: &'static str,
}

/// The cleartext port offers STARTTLS that works: `Ok` is the session opened with STARTTLS
/// (its TLS, its opening dialog). `None` for a session without TLS, a closed port (judged with
/// its implicit-TLS port by [`closed_cleartext_port`]) and the failures that are not about
/// STARTTLS (the generic verdict applies).
pub fn judge_start_tls(
    terms: &StartTlsTerms,
    outcome: Result<(Option<&TlsInfo>, Vec<String>), &OpenFailure>,
) -> Option<Verdict> {
    let StartTlsTerms {
        protocol,
        port: _,
        command,
        capabilities,
        not_offered,
    } = terms;
    match outcome {
        Ok((tls, opening)) => {
            let tls = tls?;
            Some(
                Verdict::pass(format!(
                    "{command} works: {} {}, {capabilities} answered inside TLS",
                    tls.version, tls.cipher
                ))
                .with_evidence(opening),
            )
        }
        Err(failure) => {
            let verdict = match &failure.kind {
                // A closed port: whether that is a pass depends on the implicit-TLS port
                // ([`closed_cleartext_port`]).
                _ if is_closed(failure) => return None,
                OpenFailureKind::StartTlsNotOffered => {
                    Verdict::fail(format!("{not_offered}: {protocol} only in clear"))
                }
                OpenFailureKind::StartTlsRefused(refusal) => {
                    Verdict::fail(format!("{command} refused: {refusal}"))
                }
                // Silence after the server's go-ahead shows nothing about its TLS: the generic
                // verdict (error) applies.
                OpenFailureKind::StartTlsHandshake(err) if !err.is_timeout() => {
                    Verdict::fail(format!("the TLS handshake after {command} failed: {err}"))
                }
                OpenFailureKind::HelloRefused(refusal) => {
                    Verdict::fail(format!("{capabilities} refused inside TLS: {refusal}"))
                }
                _ => return None,
            };
            Some(verdict.with_evidence(failure.evidence.clone()))
        }
    }
}

/// The frame of `imap.starttls` and `pop3.stls`: the check's judgement of the session opened
/// with STARTTLS (then `close` says goodbye), or of the failed opening; a failure the
/// judgement leaves open gets the generic verdict.
pub async fn start_tls_verdict<S: MailboxSession>(
    ctx: &Ctx<'_>,
    opened: Result<S, OpenFailure>,
    judge: fn(Result<&S, &OpenFailure>) -> Option<Verdict>,
) -> Verdict {
    match opened {
        Ok(session) => {
            let verdict =
                judge(Ok(&session)).unwrap_or_else(|| Verdict::error("session without TLS"));
            session.close().await;
            verdict
        }
        Err(failure) if is_closed(&failure) => closed_cleartext_port(ctx, &failure).await,
        Err(failure) => judge(Err(&failure)).unwrap_or_else(|| ctx.unavailable(&failure)),
    }
}

/// A closed cleartext port (143, 110) of `imap.starttls` and `pop3.stls`: nothing is served in
/// clear, which earns a pass only where the protocol is served over implicit TLS (993, 995);
/// with both closed there is no such protocol here (skip).
pub async fn closed_cleartext_port(ctx: &Ctx<'_>, failure: &OpenFailure) -> Verdict {
    let endpoint = ctx.endpoint();
    let port = endpoint.port;
    let implicit = match endpoint.role {
        Role::Imap => Role::Imaps,
        Role::Pop3 => Role::Pop3s,
        other => other,
    };
    let tls_port = ctx.port(implicit);
    let name = protocol_name(implicit);
    let evidence = failure.evidence.clone();
    match port_open(ctx, implicit).await {
        Some(true) => Verdict::pass(format!(
            "port {port} is closed (connection refused) and port {tls_port} answers: {name} only over implicit TLS"
        ))
        .with_evidence(evidence)
        .with_evidence([format!("* port {tls_port} accepts connections")]),
        Some(false) => Verdict::skip(format!(
            "ports {port} and {tls_port} are closed: no {name} here"
        ))
        .with_evidence(evidence)
        .with_evidence([format!("* port {tls_port}: connection refused")]),
        None => Verdict::error(format!(
            "port {port} is closed (connection refused) and port {tls_port} did not answer: cannot tell whether {name} is served"
        ))
        .with_evidence(evidence),
    }
}

/// A failed opening of an implicit-TLS port (993, 995) that says something about the port
/// itself: it does not speak TLS, or no greeting of `protocol` came inside TLS. `None`: the
/// generic verdict (a silent handshake is a dead endpoint, not a finding).
pub fn judge_implicit_tls_failure(
    failure: &OpenFailure,
    port: u16,
    protocol: &str,
) -> Option<Verdict> {
    let verdict = match &failure.kind {
        OpenFailureKind::ImplicitTls(ProbeError::Timeout { .. }) => return None,
        OpenFailureKind::ImplicitTls(err) => {
            Verdict::fail(format!("port {port} does not speak TLS: {err}"))
        }
        OpenFailureKind::NoGreeting(ProbeError::Garbage(what)) => {
            Verdict::fail(format!("no {protocol} greeting inside TLS: {what}"))
        }
        _ => return None,
    };
    Some(verdict.with_evidence(failure.evidence.clone()))
}

/// The verdict when a check cannot open its session on a cleartext port (143, 110): a closed
/// port serves nothing in clear (not applicable), anything else gets the generic verdict.
pub fn cleartext_port_unavailable(ctx: &Ctx<'_>, failure: OpenFailure) -> Verdict {
    if is_closed(&failure) {
        Verdict::skip(format!(
            "port {} is closed: nothing is served in clear",
            ctx.endpoint().port
        ))
        .with_evidence(failure.evidence)
    } else {
        ctx.unavailable(&failure)
    }
}

/// Words of a refusal that is about the missing TLS, not about the credentials (they cover
/// STARTTLS and STLS: both contain `tls`).
const TLS_WORDS: &[&str] = &[
    "plaintext",
    "cleartext",
    "tls",
    "ssl",
    "secure",
    "encrypt",
    "privacy",
];

/// Whether a refusal's text says that TLS is missing (rather than that the credentials are
/// wrong).
pub fn about_tls(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    TLS_WORDS.iter().any(|w| lower.contains(w))
}

/// The mechanisms among `mechanisms` that send the password as it is (PLAIN, LOGIN).
pub fn cleartext_mechanisms<'a>(mechanisms: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    mechanisms
        .into_iter()
        .filter(|m| m.eq_ignore_ascii_case("PLAIN") || m.eq_ignore_ascii_case("LOGIN"))
        .collect()
}

/// The fix of `imap.login.tls-only` and `pop3.login.tls-only`: one Dovecot setting serves both.
pub const CLEARTEXT_LOGIN_FIX: &str = "Dovecot: `disable_plaintext_auth = yes` (2.3; \
     `auth_allow_cleartext = no` in 2.4) and `ssl = required`; keep `login_trusted_networks` \
     empty or limited to hosts that really are trusted (they are allowed cleartext login).";

/// [`CLEARTEXT_LOGIN_FIX`] in French.
pub const CLEARTEXT_LOGIN_FIX_FR: &str = "Dovecot : `disable_plaintext_auth = yes` (2.3 ; \
     `auth_allow_cleartext = no` en 2.4) et `ssl = required` ; laissez `login_trusted_networks` \
     vide ou limité aux hôtes vraiment de confiance (ils ont le droit de se connecter en clair).";

/// Whether `role`'s port on the endpoint's address accepts TCP connections (one connect,
/// bounded by the timeout; `None` when we could not tell).
pub async fn port_open(ctx: &Ctx<'_>, role: Role) -> Option<bool> {
    let endpoint = ctx.endpoint();
    let addr = std::net::SocketAddr::new(endpoint.ip, ctx.port(role));
    match connect(addr, ctx.net).await {
        Ok(_) => Some(true),
        Err(crate::probe::ProbeError::Refused) => Some(false),
        Err(_) => None,
    }
}

/// The verdict for a closed implicit-TLS port (993, 995): a finding when the protocol is served
/// in clear on `plain` (143, 110) — RFC 8314 §3.3 wants implicit TLS offered — and not
/// applicable when the host serves no such protocol at all.
pub async fn closed_implicit_port(
    ctx: &Ctx<'_>,
    failure: &OpenFailure,
    plain: Role,
    fix: &str,
) -> Verdict {
    let port = ctx.endpoint().port;
    let plain_port = ctx.port(plain);
    let evidence = failure.evidence.clone();
    match port_open(ctx, plain).await {
        Some(true) => Verdict::fail(format!(
            "port {port} is closed (connection refused) while port {plain_port} answers: clients get no implicit TLS (RFC 8314)"
        ))
        .with_evidence(evidence)
        .with_evidence([format!("* port {plain_port} accepts connections")])
        .with_fix(fix),
        // A host that must serve the mailboxes (expect: mailbox) and serves no IMAP at all.
        Some(false) if plain == Role::Imap && ctx.settings.expect.mailbox => Verdict::fail(format!(
            "ports {port} and {plain_port} are closed: no IMAP on this host, which the scenario expects to serve the mailboxes (expect: mailbox)"
        ))
        .with_fix(fix)
        .or_if_host_silent(Verdict::error(format!(
            "ports {port} and {plain_port}: connection refused, and nothing answers on this host (is it down?)"
        )))
        .with_evidence(evidence)
        .with_evidence([format!("* port {plain_port}: connection refused")]),
        Some(false) => Verdict::skip(format!(
            "ports {port} and {plain_port} are closed: no {} here",
            protocol_name(plain)
        ))
        .with_evidence(evidence)
        .with_evidence([format!("* port {plain_port}: connection refused")]),
        None => Verdict::skip(format!("port {port} is closed (connection refused)"))
            .with_evidence(evidence),
    }
}

fn protocol_name(role: Role) -> &'static str {
    match role.protocol() {
        super::Protocol::Imap => "IMAP",
        super::Protocol::Pop3 => "POP3",
        super::Protocol::Smtp => "SMTP",
    }
}

/// Said when a cleartext login was let through: Dovecot treats clients on the server's own
/// address and in `login_trusted_networks` as secure, so a checker there sees a trusted client.
pub fn trusted_client_note(from_server_address: bool) -> String {
    if from_server_address {
        " — NOTE: the checker connects from the server's own address, which Dovecot treats as \
         secure (cleartext login allowed): run from another address (--bind) to see what the \
         world sees"
            .into()
    } else {
        " (if the checker's address is in Dovecot's `login_trusted_networks`, it is treated as \
         secure and allowed a cleartext login: check from outside those networks before \
         changing anything)"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_names_are_fresh() {
        assert_ne!(made_up_user(), made_up_user());
        assert!(made_up_password().len() >= 17);
    }

    #[test]
    fn start_tls_that_works_passes_with_its_cipher_a_session_without_tls_is_undecided() {
        let terms = StartTlsTerms {
            protocol: "POP3",
            port: 110,
            command: "STLS",
            capabilities: "CAPA",
            not_offered: "STLS is not offered",
        };
        let tls = TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            server_name: "mail.ref.test".into(),
            chain: vec![],
        };
        let opening = vec!["S: +OK ready".to_string()];
        let verdict = judge_start_tls(&terms, Ok((Some(&tls), opening.clone()))).unwrap();
        assert_eq!(verdict.status, crate::outcome::Status::Pass);
        assert_eq!(
            verdict.message,
            "STLS works: TLSv1.3 TLS13_AES_256_GCM_SHA384, CAPA answered inside TLS"
        );
        assert_eq!(verdict.evidence, opening);
        assert!(judge_start_tls(&terms, Ok((None, opening))).is_none());
    }

    #[test]
    fn refusals_about_tls_and_cleartext_mechanisms() {
        assert!(about_tls(
            "Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
        ));
        assert!(about_tls("Use STLS first") && about_tls("STARTTLS required"));
        assert!(!about_tls("Authentication failed."));
        assert_eq!(
            cleartext_mechanisms(["SCRAM-SHA-256", "plain", "LOGIN"]),
            ["plain", "LOGIN"]
        );
        assert!(CLEARTEXT_LOGIN_FIX.contains("(2.3; `auth_allow_cleartext = no` in 2.4) and"));
        assert!(CLEARTEXT_LOGIN_FIX_FR.contains("(2.3 ; `auth_allow_cleartext = no` en 2.4) et"));
    }

    #[test]
    fn notes_name_the_trust_rule() {
        assert!(trusted_client_note(true).contains("own address"));
        assert!(trusted_client_note(false).contains("login_trusted_networks"));
    }
}
