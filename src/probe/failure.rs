//! Why a session could not be opened, in terms every protocol shares (SMTP, IMAP, POP3): the
//! runner gates endpoints on these and checks turn them into verdicts. Kept apart from the
//! connection and the openers so that both can name them without importing each other.

use std::fmt;

use super::ProbeError;

/// A server's refusal, reduced to what judgements need across protocols.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The reply as one line: `421 4.3.2 busy`, `* BYE too many connections`, `-ERR ...`.
    pub summary: String,
    /// A temporary refusal (SMTP 4xx): worth one polite retry.
    pub transient: bool,
    /// The SMTP reply code, when there is one.
    pub code: Option<u16>,
}

impl Refusal {
    /// A refusal that waiting will not change (IMAP and POP3 have no temporary codes for it).
    pub fn permanent(summary: String) -> Refusal {
        Refusal {
            summary,
            transient: false,
            code: None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// Why a session could not be opened. Clone-able so one dead endpoint's failure can be shared
/// by every check that wanted it.
#[derive(Clone, Debug)]
pub struct OpenFailure {
    pub kind: OpenFailureKind,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum OpenFailureKind {
    /// TCP connect failed (refused, timed out, no route).
    Unreachable(ProbeError),
    /// Implicit TLS handshake failed before the protocol began.
    ImplicitTls(ProbeError),
    /// Connected, but no (valid) greeting came.
    NoGreeting(ProbeError),
    /// The greeting refused service (`421`, `554`, postscreen `4xx`, `* BYE`), also after one retry.
    GreetingRefused(Refusal),
    /// The hello (EHLO/HELO, CAPABILITY) was refused.
    HelloRefused(Refusal),
    /// STARTTLS/STLS not advertised.
    StartTlsNotOffered,
    /// STARTTLS answered with a refusal (a temporary one that persisted after one retry).
    StartTlsRefused(Refusal),
    /// The handshake after STARTTLS failed.
    StartTlsHandshake(ProbeError),
    /// The dialog broke (timeout, close, garbage) after the greeting.
    Broken(ProbeError),
}

impl OpenFailureKind {
    /// Whether the endpoint itself is out of reach: no point in any other check trying again.
    pub fn is_endpoint_down(&self) -> bool {
        matches!(
            self,
            OpenFailureKind::Unreachable(_)
                | OpenFailureKind::NoGreeting(_)
                | OpenFailureKind::GreetingRefused(_)
                | OpenFailureKind::ImplicitTls(ProbeError::Timeout { .. })
        )
    }

    /// One line for messages.
    pub fn describe(&self) -> String {
        match self {
            OpenFailureKind::Unreachable(err) => format!("cannot connect: {err}"),
            OpenFailureKind::ImplicitTls(err) => format!("implicit TLS handshake failed: {err}"),
            OpenFailureKind::NoGreeting(ProbeError::Timeout { after, .. }) => format!(
                "connected, but no greeting within {} s (tarpit or overloaded server)",
                after.as_secs_f32()
            ),
            OpenFailureKind::NoGreeting(err) => format!("connected, but no valid greeting: {err}"),
            OpenFailureKind::GreetingRefused(refusal) if refusal.code == Some(421) => {
                format!("server refused the session (also after one retry): {refusal}")
            }
            OpenFailureKind::GreetingRefused(refusal) if refusal.transient => format!(
                "server deferred the session (also after one retry; postscreen or greylisting?): {refusal}"
            ),
            OpenFailureKind::GreetingRefused(refusal) => {
                format!("server refused the session: {refusal}")
            }
            OpenFailureKind::HelloRefused(refusal) => {
                format!("greeting command refused: {refusal}")
            }
            OpenFailureKind::StartTlsNotOffered => "STARTTLS is not advertised".into(),
            OpenFailureKind::StartTlsRefused(refusal) => {
                format!("STARTTLS refused (also after one retry): {refusal}")
            }
            OpenFailureKind::StartTlsHandshake(err) if err.is_timeout() => format!(
                "the server accepted STARTTLS, then went silent: {err} (we could not tell whether its TLS works)"
            ),
            OpenFailureKind::StartTlsHandshake(err) => format!("STARTTLS handshake failed: {err}"),
            OpenFailureKind::Broken(err) => format!("session broke during its opening: {err}"),
        }
    }
}

impl OpenFailure {
    /// Worth the one polite retry: a temporary refusal of the greeting or of STARTTLS.
    pub fn retryable(&self) -> bool {
        match &self.kind {
            OpenFailureKind::GreetingRefused(refusal)
            | OpenFailureKind::StartTlsRefused(refusal) => refusal.transient,
            _ => false,
        }
    }
}
