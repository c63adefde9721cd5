//! Why a session could not be opened, in terms every protocol shares (SMTP, IMAP, POP3): the
//! runner gates endpoints on these and checks turn them into verdicts. Also the one opening
//! step the three protocols share: moving to TLS in the middle of the session ([`start_tls`]).

use std::fmt;

use super::ProbeError;
use super::conn::Conn;

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

/// A session that can move to TLS in its middle: SMTP and IMAP `STARTTLS`, POP3 `STLS`. Each
/// protocol says how it asks; [`start_tls`] walks the steps they share.
pub(crate) trait StartTls {
    /// Whether the capabilities offer the command; `None` when they are unknown (a POP3
    /// server without CAPA).
    fn offers_start_tls(&self) -> Option<bool>;

    /// Sends the command; `Ok(Err(refusal))` when the server refused it.
    async fn ask_start_tls(&mut self) -> Result<Result<(), Refusal>, ProbeError>;

    /// The connection to upgrade.
    fn conn(&mut self) -> &mut Conn;

    /// Asks again inside TLS for what was learnt in clear (capabilities, EHLO), keeping the
    /// cleartext answers apart: they are void after the upgrade (RFC 3207 §4.2, RFC 3501
    /// §6.2.1, RFC 2595 §4) and may have been forged on the way.
    async fn ask_again(&mut self) -> Result<(), OpenFailureKind>;
}

/// Moves `session` to TLS: the command, the handshake (whatever the certificate), and the
/// capabilities asked again. `Err` says which step failed.
pub(crate) async fn start_tls(
    session: &mut impl StartTls,
    server_name: &str,
) -> Result<(), OpenFailureKind> {
    request_tls(session).await?;
    if let Err(err) = session.conn().upgrade(server_name).await {
        return Err(OpenFailureKind::StartTlsHandshake(err));
    }
    session.ask_again().await
}

/// The command half of [`start_tls`]: afterwards the server waits for a ClientHello (the raw
/// TLS probes send their own).
pub(crate) async fn request_tls(session: &mut impl StartTls) -> Result<(), OpenFailureKind> {
    let offered = session.offers_start_tls();
    if offered == Some(false) {
        return Err(OpenFailureKind::StartTlsNotOffered);
    }
    match session.ask_start_tls().await {
        Ok(Ok(())) => {}
        // Without the capabilities we could not know: a refusal then means "not offered".
        Ok(Err(_)) if offered.is_none() => return Err(OpenFailureKind::StartTlsNotOffered),
        Ok(Err(refusal)) => return Err(OpenFailureKind::StartTlsRefused(refusal)),
        Err(err) => return Err(OpenFailureKind::Broken(err)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session that answers the STARTTLS command as told and never reaches the handshake.
    struct Scripted {
        offers: Option<bool>,
        answer: Result<Result<(), Refusal>, ProbeError>,
    }

    impl StartTls for Scripted {
        fn offers_start_tls(&self) -> Option<bool> {
            self.offers
        }

        async fn ask_start_tls(&mut self) -> Result<Result<(), Refusal>, ProbeError> {
            self.answer.clone()
        }

        fn conn(&mut self) -> &mut Conn {
            unreachable!("the scripted answers all stop before the handshake")
        }

        async fn ask_again(&mut self) -> Result<(), OpenFailureKind> {
            unreachable!("the scripted answers all stop before the handshake")
        }
    }

    async fn outcome(
        offers: Option<bool>,
        answer: Result<Result<(), Refusal>, ProbeError>,
    ) -> OpenFailureKind {
        let mut session = Scripted { offers, answer };
        start_tls(&mut session, "mail.ref.test").await.unwrap_err()
    }

    #[tokio::test]
    async fn each_step_of_start_tls_fails_in_its_own_words() {
        let no = || Ok(Err(Refusal::permanent("-ERR no".into())));
        assert!(matches!(
            outcome(Some(false), Ok(Ok(()))).await,
            OpenFailureKind::StartTlsNotOffered
        ));
        assert!(matches!(
            outcome(Some(true), no()).await,
            OpenFailureKind::StartTlsRefused(refusal) if refusal.summary == "-ERR no"
        ));
        // Capabilities unknown: the refusal is how we learn it is not offered.
        assert!(matches!(
            outcome(None, no()).await,
            OpenFailureKind::StartTlsNotOffered
        ));
        assert!(matches!(
            outcome(Some(true), Err(ProbeError::Closed)).await,
            OpenFailureKind::Broken(ProbeError::Closed)
        ));
    }
}
