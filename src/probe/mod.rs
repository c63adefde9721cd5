//! Transports: how mailcheck talks to servers. They record what was said and know nothing of
//! checks or verdicts; a refusal from the server is a value, only a failure to talk is an `Err`.

pub mod conn;
pub mod contact;
pub mod dns;
pub mod dns_source;
pub mod dnssec;
pub mod failure;
pub mod https;
pub mod imap;
pub mod legacy_tls;
pub mod mailbox;
pub mod net;
pub mod pop3;
pub mod raw_tls;
pub mod reply;
pub mod session;
pub mod smtp;
pub mod stream;
pub mod submit;
pub mod tls;
pub mod transcript;

use std::time::Duration;

/// A failure to talk to a server (as opposed to a server that answered wrongly).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("connection refused")]
    Refused,
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("no answer within {after:?} during {during}")]
    Timeout { during: String, after: Duration },
    #[error("server closed the connection")]
    Closed,
    #[error("i/o error: {0}")]
    Io(String),
    #[error("server sent something that is not a valid reply: {0}")]
    Garbage(String),
    #[error("TLS failed: {0}")]
    Tls(String),
}

impl ProbeError {
    /// Whether the server could not be reached at all (nothing listened, or nothing answered).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ProbeError::Refused | ProbeError::Connect(_))
            || matches!(self, ProbeError::Timeout { during, .. } if during == "connect")
    }

    /// Whether nothing came in time: silence says nothing about what the server would have
    /// answered, so it is never a finding on its own (`error`, not `fail`).
    pub fn is_timeout(&self) -> bool {
        matches!(self, ProbeError::Timeout { .. })
    }
}
