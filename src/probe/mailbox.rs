//! The test mailbox over IMAPS, through async-imap: wait for a message carrying a token,
//! fetch it, and delete every mailcheck test message so the mailbox is left as it was.
//!
//! This is ordinary mail-client work, which async-imap does well; the byte-exact probing of
//! IMAP servers lives in `imap.rs`. Steps go to a [`Transcript`] with the password redacted.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use futures::TryStreamExt;

use super::ProbeError;
use super::net::{NetOptions, connect};
use super::tls::handshake;
use super::transcript::Transcript;

/// The header that marks mailcheck's test messages (its value is the run's token).
pub const TOKEN_HEADER: &str = "X-Mailcheck-Token";

#[derive(Clone, Debug)]
pub struct MailboxAccess {
    /// IMAPS (993).
    pub addr: SocketAddr,
    /// IMAP with STARTTLS (143), tried when IMAPS is closed.
    pub starttls_fallback: Option<SocketAddr>,
    pub server_name: String,
    pub bind: Option<IpAddr>,
    pub timeout: Duration,
    pub user: String,
    pub password: String,
}

/// A message found in the mailbox.
#[derive(Clone, Debug)]
pub struct Found {
    pub raw: Vec<u8>,
    /// When the message was first seen in the mailbox.
    pub seen_at: Instant,
}

pub struct Collected {
    pub transcript: Transcript,
    /// Each token asked for, with what was found (or why not).
    pub found: Vec<(String, Result<Found, String>)>,
    /// How many test messages were deleted in the end.
    pub removed: usize,
}

type Session = async_imap::Session<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// Waits up to `wait` for a message with each token, fetches them, then deletes them and the
/// stale leftovers of earlier runs (messages carrying [`TOKEN_HEADER`]).
pub async fn collect(access: &MailboxAccess, tokens: &[String], wait: Duration) -> Collected {
    let mut transcript = Transcript::default();
    let mut found = Vec::new();
    let mut removed = 0;
    match open(access, &mut transcript).await {
        Ok(mut session) => {
            for token in tokens {
                let result =
                    wait_for(&mut session, token, wait, access.timeout, &mut transcript).await;
                found.push((token.clone(), result));
            }
            match cleanup(&mut session, tokens, access.timeout, &mut transcript).await {
                Ok(count) => removed = count,
                Err(e) => transcript.note(&format!("cleanup failed: {e}")),
            }
            transcript.client("LOGOUT");
            let _ = tokio::time::timeout(access.timeout, session.logout()).await;
        }
        Err(reason) => {
            transcript.note(&reason);
            found.extend(tokens.iter().map(|t| (t.clone(), Err(reason.clone()))));
        }
    }
    Collected {
        transcript,
        found,
        removed,
    }
}

/// For probes that cannot know which of their messages exist: waits up to `wait` in all for
/// the `expected` tokens, then (after `grace`) looks once for each of `maybe`, and deletes
/// every message of both lists (and stale leftovers), as [`collect`] does.
pub async fn collect_some(
    access: &MailboxAccess,
    expected: &[String],
    maybe: &[String],
    wait: Duration,
    grace: Duration,
) -> Collected {
    let mut transcript = Transcript::default();
    let mut found = Vec::new();
    let mut removed = 0;
    let all: Vec<String> = expected.iter().chain(maybe).cloned().collect();
    match open(access, &mut transcript).await {
        Ok(mut session) => {
            let started = Instant::now();
            for token in expected {
                let left = wait.saturating_sub(started.elapsed());
                let result =
                    wait_for(&mut session, token, left, access.timeout, &mut transcript).await;
                found.push((token.clone(), result));
            }
            if !maybe.is_empty() {
                transcript.note(&format!(
                    "waiting {} ms, then looking once for messages that may not exist",
                    grace.as_millis()
                ));
                tokio::time::sleep(grace).await;
            }
            for token in maybe {
                let result = wait_for(
                    &mut session,
                    token,
                    Duration::ZERO,
                    access.timeout,
                    &mut transcript,
                )
                .await;
                found.push((token.clone(), result));
            }
            match cleanup(&mut session, &all, access.timeout, &mut transcript).await {
                Ok(count) => removed = count,
                Err(e) => transcript.note(&format!("cleanup failed: {e}")),
            }
            transcript.client("LOGOUT");
            let _ = tokio::time::timeout(access.timeout, session.logout()).await;
        }
        Err(reason) => {
            transcript.note(&reason);
            found.extend(all.iter().map(|t| (t.clone(), Err(reason.clone()))));
        }
    }
    Collected {
        transcript,
        found,
        removed,
    }
}

async fn bounded<T, E: std::fmt::Display>(
    timeout: Duration,
    what: &str,
    step: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, step).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{what} failed: {e}")),
        Err(_) => Err(format!(
            "{what}: no answer within {} s",
            timeout.as_secs_f32()
        )),
    }
}

async fn open(access: &MailboxAccess, transcript: &mut Transcript) -> Result<Session, String> {
    let net = NetOptions {
        timeout: access.timeout,
        bind: access.bind.into_iter().collect(),
    };
    let (tcp, starttls) = match connect(access.addr, &net).await {
        Ok(tcp) => {
            transcript.note(&format!("connected to {} (IMAPS, async-imap)", access.addr));
            (tcp, false)
        }
        Err(ProbeError::Refused) if access.starttls_fallback.is_some() => {
            let fallback = access.starttls_fallback.expect("checked just above");
            transcript.note(&format!(
                "{} is closed: trying IMAP with STARTTLS on {fallback}",
                access.addr
            ));
            let tcp = connect(fallback, &net)
                .await
                .map_err(|e| format!("cannot connect to {fallback}: {e}"))?;
            transcript.note(&format!("connected to {fallback} (IMAP, async-imap)"));
            (tcp, true)
        }
        Err(e) => return Err(format!("cannot connect to {}: {e}", access.addr)),
    };
    let tcp = if starttls {
        starttls_preamble(tcp, access.timeout, transcript).await?
    } else {
        tcp
    };
    let (tls, info) = handshake(tcp, &access.server_name, access.timeout)
        .await
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    transcript.note(&info.describe());
    let mut client = async_imap::Client::new(tls);
    if !starttls {
        match bounded(access.timeout, "greeting", client.read_response()).await? {
            Some(_) => transcript.server("* OK (greeting)"),
            None => return Err("the server closed the connection before greeting".into()),
        }
    }
    transcript.client_redacted(&format!("a1 LOGIN {} <redacted>", access.user));
    let mut session =
        match tokio::time::timeout(access.timeout, client.login(&access.user, &access.password))
            .await
        {
            Ok(Ok(session)) => session,
            Ok(Err((e, _))) => return Err(format!("LOGIN failed: {e}")),
            Err(_) => return Err("LOGIN: no answer within the timeout".into()),
        };
    transcript.server("a1 OK logged in");
    transcript.client("a2 SELECT INBOX");
    let mailbox = bounded(access.timeout, "SELECT INBOX", session.select("INBOX")).await?;
    transcript.server(&format!("* {} EXISTS; a2 OK", mailbox.exists));
    Ok(session)
}

/// Greeting, `a0 STARTTLS`, its `OK`: the clear-text part before the handshake (RFC 3501
/// §6.2.1), read line by line with a bound on time and size.
async fn starttls_preamble(
    mut tcp: tokio::net::TcpStream,
    timeout: Duration,
    transcript: &mut Transcript,
) -> Result<tokio::net::TcpStream, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn line(tcp: &mut tokio::net::TcpStream, timeout: Duration) -> Result<String, String> {
        let mut bytes = Vec::new();
        let mut byte = [0u8; 1];
        while !bytes.ends_with(b"\n") {
            if bytes.len() > 8192 {
                return Err("a line longer than 8192 bytes".into());
            }
            match tokio::time::timeout(timeout, tcp.read(&mut byte)).await {
                Ok(Ok(1)) => bytes.push(byte[0]),
                Ok(Ok(_)) => return Err("the server closed the connection".into()),
                Ok(Err(e)) => return Err(e.to_string()),
                Err(_) => return Err(format!("no answer within {} s", timeout.as_secs_f32())),
            }
        }
        Ok(String::from_utf8_lossy(&bytes).trim_end().to_string())
    }
    let greeting = line(&mut tcp, timeout).await?;
    transcript.server(&greeting);
    transcript.client("a0 STARTTLS");
    tcp.write_all(b"a0 STARTTLS\r\n")
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let reply = line(&mut tcp, timeout).await?;
        transcript.server(&reply);
        if reply.starts_with("a0 OK") {
            return Ok(tcp);
        }
        if reply.starts_with("a0 ") {
            return Err(format!("STARTTLS refused: {reply}"));
        }
    }
}

async fn search(
    session: &mut Session,
    query: &str,
    timeout: Duration,
) -> Result<HashSet<u32>, String> {
    bounded(timeout, "UID SEARCH", session.uid_search(query)).await
}

async fn wait_for(
    session: &mut Session,
    token: &str,
    wait: Duration,
    timeout: Duration,
    transcript: &mut Transcript,
) -> Result<Found, String> {
    let started = Instant::now();
    let query = format!("HEADER {TOKEN_HEADER} {token}");
    transcript.client(&format!(
        "UID SEARCH {query} (polled with backoff, up to {} s)",
        wait.as_secs_f32()
    ));
    let mut pause = Duration::from_millis(50);
    let uid = loop {
        let uids = search(session, &query, timeout).await?;
        if let Some(uid) = uids.into_iter().min() {
            break uid;
        }
        if started.elapsed() + pause > wait {
            transcript.note(&format!(
                "no message with token {token} after {} ms",
                started.elapsed().as_millis()
            ));
            return Err(format!("not delivered within {} s", wait.as_secs_f32()));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    };
    let waited = started.elapsed();
    let seen_at = Instant::now();
    transcript.server(&format!("* SEARCH {uid} (after {} ms)", waited.as_millis()));
    transcript.client(&format!("UID FETCH {uid} BODY.PEEK[]"));
    let fetched: Vec<_> = bounded(timeout, "UID FETCH", async {
        session
            .uid_fetch(uid.to_string(), "BODY.PEEK[]")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let raw = fetched
        .iter()
        .find_map(|f| f.body().map(<[u8]>::to_vec))
        .ok_or("the message had no body")?;
    transcript.server(&format!("* {uid} FETCH (BODY[] {{{}}})", raw.len()));
    Ok(Found { raw, seen_at })
}

/// How old another run's test message must be before this run deletes it: younger ones may
/// belong to a run still waiting for them (parallel CI jobs on one mailbox).
const STALE_SECS: u32 = 600;

/// Deletes this run's messages, and other runs' test messages once they are stale, and
/// nothing else (UID EXPUNGE when the server has UIDPLUS, so other messages flagged \Deleted
/// are left alone).
async fn cleanup(
    session: &mut Session,
    tokens: &[String],
    timeout: Duration,
    transcript: &mut Transcript,
) -> Result<usize, String> {
    let capabilities = bounded(timeout, "CAPABILITY", session.capabilities()).await?;
    let mut queries: Vec<String> = tokens
        .iter()
        .map(|t| format!("HEADER {TOKEN_HEADER} {t}"))
        .collect();
    if capabilities.has_str("WITHIN") {
        queries.push(format!("HEADER {TOKEN_HEADER} \"\" OLDER {STALE_SECS}"));
    }
    let mut uids = HashSet::new();
    for query in &queries {
        transcript.client(&format!("UID SEARCH {query}"));
        uids.extend(search(session, query, timeout).await?);
    }
    if uids.is_empty() {
        transcript.server("* SEARCH (none)");
        return Ok(0);
    }
    let mut sorted: Vec<u32> = uids.into_iter().collect();
    sorted.sort_unstable();
    let set = sorted
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    transcript.server(&format!("* SEARCH {}", set.replace(',', " ")));
    transcript.client(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)"));
    bounded(timeout, "UID STORE", async {
        session
            .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    if capabilities.has_str("UIDPLUS") {
        transcript.client(&format!("UID EXPUNGE {set}"));
        bounded(timeout, "UID EXPUNGE", async {
            session
                .uid_expunge(&set)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
    } else {
        transcript.client("EXPUNGE (no UIDPLUS)");
        bounded(timeout, "EXPUNGE", async {
            session.expunge().await?.try_collect::<Vec<_>>().await
        })
        .await?;
    }
    transcript.note(&format!("deleted {} test message(s)", sorted.len()));
    Ok(sorted.len())
}
