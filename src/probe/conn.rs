//! A bounded, recorded connection under every protocol client (SMTP, IMAP, POP3) and the raw
//! TLS probes: a stream that can be upgraded to TLS in place, a read buffer, and a
//! transcript. Every connect, read, write and handshake is bounded by the run's timeout, and
//! the buffer by [`MAX_BUFFERED`], so no server can hold or grow a probe without limit.
//!
//! The protocol modules own their parsers (sans-I/O functions from bytes to "a value and how
//! many bytes it used", or "need more"); [`Conn::read_with`] drives any of them.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ProbeError;
use super::failure::{OpenFailure, OpenFailureKind};
use super::net::{NetOptions, connect};
use super::stream::Stream;
use super::tls::{TlsInfo, handshake};
use super::transcript::Transcript;

/// Most bytes buffered while waiting for one complete response: far above any greeting,
/// capability list or SELECT answer, far below what would hurt.
pub const MAX_BUFFERED: usize = 256 * 1024;

/// How much longer than the timeout a server may take to answer a login it checked: Dovecot
/// answers a failed one only after `auth_failure_delay` (2 s by default) and holds the next
/// login from an address that failed before for its auth penalty (doubling up to 15 s).
pub const LOGIN_DELAY: Duration = Duration::from_secs(17);

/// What a sans-I/O parser returns: a value and the bytes it used, or `None` for "need more".
pub type Parsed<T> = Result<Option<(T, usize)>, String>;

pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pub transcript: Transcript,
    timeout: Duration,
    tls: Option<TlsInfo>,
    /// Our end of the connection (to tell when we connect from the server's own address).
    pub local: Option<SocketAddr>,
    pub peer: SocketAddr,
}

impl Conn {
    /// Connects, and for implicit TLS completes the handshake before anything is read.
    /// The error keeps the transcript so far.
    pub async fn connect(
        addr: SocketAddr,
        implicit_tls: Option<&str>,
        net: &NetOptions,
    ) -> Result<Conn, (ProbeError, Transcript)> {
        let mut transcript = Transcript::default();
        let tcp = match connect(addr, net).await {
            Ok(tcp) => tcp,
            Err(err) => {
                transcript.note(&format!("connect to {addr}: {err}"));
                return Err((err, transcript));
            }
        };
        let local = tcp.local_addr().ok();
        let mut conn = Conn {
            stream: Stream::Plain(tcp),
            buf: Vec::new(),
            transcript,
            timeout: net.timeout,
            tls: None,
            local,
            peer: addr,
        };
        match local {
            Some(local) => conn
                .transcript
                .note(&format!("connected to {addr} from {local}")),
            None => conn.transcript.note(&format!("connected to {addr}")),
        }
        if let Some(name) = implicit_tls
            && let Err(err) = conn.upgrade(name).await
        {
            return Err((err, conn.transcript));
        }
        Ok(conn)
    }

    /// [`Conn::connect`] as the first step of a session's opening: a failure is the
    /// endpoint out of reach, or its implicit TLS handshake failed, with the dialog so far.
    pub async fn open(
        addr: SocketAddr,
        implicit_tls: Option<&str>,
        net: &NetOptions,
    ) -> Result<Conn, OpenFailure> {
        Conn::connect(addr, implicit_tls, net)
            .await
            .map_err(|(err, transcript)| {
                let kind = if err.is_unreachable() {
                    OpenFailureKind::Unreachable(err)
                } else {
                    OpenFailureKind::ImplicitTls(err)
                };
                OpenFailure {
                    kind,
                    evidence: transcript.lines().to_vec(),
                }
            })
    }

    /// Gives up on a session's opening: the dialog so far is the failure's evidence, and the
    /// connection closes in the background (the failure is already known).
    pub fn abandon(self, kind: OpenFailureKind) -> OpenFailure {
        let evidence = self.transcript.lines().to_vec();
        tokio::spawn(self.close());
        OpenFailure { kind, evidence }
    }

    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Gives each read [`LOGIN_DELAY`] more than the timeout, for the answer to a login; the
    /// caller puts the returned timeout back with [`Conn::set_timeout`] once it came.
    pub fn allow_login_delay(&mut self) -> Duration {
        let normal = self.timeout;
        self.timeout = normal + LOGIN_DELAY;
        normal
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Whether we talk to the server from its own address: Dovecot (and Postfix's
    /// `mynetworks`) treat such a client as trusted, so what it sees is not what the world sees.
    pub fn from_server_address(&self) -> bool {
        self.local.is_some_and(|local| local.ip() == self.peer.ip())
    }

    /// Reads until `parse` returns a value, bounded by the timeout and [`MAX_BUFFERED`].
    /// `during` names what was awaited, for the error and the transcript.
    pub async fn read_with<T>(
        &mut self,
        parse: impl Fn(&[u8]) -> Parsed<T>,
        during: &str,
    ) -> Result<T, ProbeError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match parse(&self.buf) {
                Ok(Some((value, used))) => {
                    self.buf.drain(..used.min(self.buf.len()));
                    return Ok(value);
                }
                Ok(None) if self.buf.len() > MAX_BUFFERED => {
                    self.transcript.note(&format!(
                        "more than {MAX_BUFFERED} bytes without a complete {during}: giving up"
                    ));
                    return Err(ProbeError::Garbage(format!("{during} too long")));
                }
                Ok(None) => {}
                Err(err) => {
                    let shown =
                        String::from_utf8_lossy(&self.buf[..self.buf.len().min(120)]).into_owned();
                    self.transcript
                        .note(&format!("unparseable {during}: {shown:?}"));
                    return Err(ProbeError::Garbage(err));
                }
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => {
                    self.transcript.note(&format!(
                        "no complete {during} within {} s",
                        self.timeout.as_secs_f32()
                    ));
                    return Err(ProbeError::Timeout {
                        during: during.into(),
                        after: self.timeout,
                    });
                }
                Ok(Err(err)) => {
                    self.transcript.note(&format!("read failed: {err}"));
                    return Err(ProbeError::Io(err.to_string()));
                }
                Ok(Ok(0)) => {
                    self.transcript.note("server closed the connection");
                    return Err(ProbeError::Closed);
                }
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Writes bytes as they are (no transcript line: the caller records what it sent).
    pub async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), ProbeError> {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => {
                self.transcript.note(&format!("write failed: {err}"));
                Err(ProbeError::Io(err.to_string()))
            }
            Err(_) => Err(ProbeError::Timeout {
                during: "write".into(),
                after: self.timeout,
            }),
        }
    }

    /// Sends one line (CRLF added) and records it.
    pub async fn send(&mut self, line: &str) -> Result<(), ProbeError> {
        self.transcript.client(line);
        self.write_raw(format!("{line}\r\n").as_bytes()).await
    }

    /// Sends a line that carries a secret; the transcript shows `shown` instead.
    pub async fn send_redacted(&mut self, line: &str, shown: &str) -> Result<(), ProbeError> {
        self.transcript.client_redacted(shown);
        self.write_raw(format!("{line}\r\n").as_bytes()).await
    }

    /// Upgrades to TLS (after the server agreed to STARTTLS/STLS, or at once for implicit TLS).
    pub async fn upgrade(&mut self, server_name: &str) -> Result<&TlsInfo, ProbeError> {
        if !self.buf.is_empty() {
            // RFC 3207 §6 / RFC 2595 §3.1: what came before the handshake must be thrown away
            // (a server that sends it may be under a command-injection attack).
            self.transcript.note(&format!(
                "discarding {} byte(s) sent before the TLS handshake",
                self.buf.len()
            ));
            self.buf.clear();
        }
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(ProbeError::Tls("connection is already TLS".into()));
        };
        match handshake(tcp, server_name, self.timeout).await {
            Ok((tls, info)) => {
                self.transcript.note(&info.describe());
                self.stream = Stream::Tls(Box::new(tls));
                Ok(self.tls.insert(info))
            }
            Err(err) => {
                self.transcript
                    .note(&format!("TLS handshake failed: {err}"));
                Err(err)
            }
        }
    }

    /// Drops what the server sent beyond the last complete response, saying so in the
    /// transcript; returns how many bytes that was. Used before speaking TLS by hand.
    pub fn discard_buffered(&mut self) -> usize {
        let count = self.buf.len();
        if count > 0 {
            self.transcript.note(&format!(
                "discarding {count} byte(s) sent before the TLS handshake"
            ));
            self.buf.clear();
        }
        count
    }

    /// Closes without waiting long.
    pub async fn close(mut self) {
        let quick = Duration::from_millis(300).min(self.timeout);
        let _ = tokio::time::timeout(quick, self.stream.shutdown()).await;
    }
}

/// One line ending in LF (CRLF or a bare LF), at most `max` bytes: the line without its end,
/// and the bytes used. Longer lines are an error, not a wait.
pub fn split_line(buf: &[u8], max: usize) -> Parsed<String> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(end) if end > max => Err(format!("line longer than {max} bytes")),
        Some(end) => {
            let line = &buf[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Ok(Some((String::from_utf8_lossy(line).into_owned(), end + 1)))
        }
        None if buf.len() > max => Err(format!("line longer than {max} bytes")),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_crlf_or_lf_and_are_capped() {
        assert_eq!(
            split_line(b"* OK ready\r\nrest", 100).unwrap(),
            Some(("* OK ready".to_string(), 12))
        );
        assert_eq!(
            split_line(b"+OK\nx", 100).unwrap(),
            Some(("+OK".to_string(), 4))
        );
        assert_eq!(split_line(b"* OK no end yet", 100).unwrap(), None);
        assert!(split_line(&[b'a'; 200], 100).is_err());
        let mut long = vec![b'a'; 150];
        long.extend_from_slice(b"\r\n");
        assert!(split_line(&long, 100).is_err());
        // Invalid UTF-8 is shown, not refused.
        assert_eq!(
            split_line(b"\xff\xfe\r\n", 100).unwrap().unwrap().0,
            "\u{fffd}\u{fffd}"
        );
    }
}
