//! The one opening step SMTP, IMAP and POP3 share: moving to TLS in the middle of the session
//! ([`start_tls`]). Why an opening failed is in [`super::failure`].

use std::future::Future;
use std::net::SocketAddr;

use super::ProbeError;
use super::conn::Conn;
use super::net::NetOptions;
use super::tls::TlsInfo;
// The failure types lived here before `failure.rs`; the old path stays for callers not yet moved.
pub use super::failure::{OpenFailure, OpenFailureKind, Refusal};

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

/// What the IMAP and POP3 checks ask of a session, whichever the protocol: open it on an
/// endpoint (optionally with STARTTLS/STLS), read its TLS state and dialog, close it.
pub trait MailboxSession: Sized + Send {
    /// Opens a session on `addr`: TLS from the first byte when `implicit_tls`, else in clear
    /// and then STARTTLS/STLS when `starttls`.
    fn open_on(
        addr: SocketAddr,
        server_name: String,
        implicit_tls: bool,
        starttls: bool,
        net: &NetOptions,
    ) -> impl Future<Output = Result<Self, OpenFailure>> + Send;

    fn tls(&self) -> Option<&TlsInfo>;

    /// The opening dialog (greeting, capabilities, STARTTLS and what followed).
    fn opening(&self) -> Vec<String>;

    /// The whole dialog so far.
    fn transcript(&self) -> Vec<String>;

    /// Whether we talk from the server's own address (a trusted client to Dovecot).
    fn talks_from_server_address(&self) -> bool;

    /// Says goodbye (LOGOUT, QUIT) without waiting long.
    fn close(self) -> impl Future<Output = ()> + Send;
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
