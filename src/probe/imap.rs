//! A small IMAP client for probing (RFC 3501 / 9051), and the session opening IMAP checks share.
//!
//! Written here rather than on async-imap (which the project could use) because probing needs
//! what a mail client library hides: the byte-exact dialog for the evidence (async-imap keeps
//! no transcript), `NO`/`BAD` answers with their response codes as values rather than errors
//! (`NO [AUTHENTICATIONFAILED]` versus `NO [PRIVACYREQUIRED]` is the whole verdict of
//! `imap.login.tls-only`), a LOGIN attempted in clear on purpose, a completed TLS handshake
//! whatever the certificate, and one bound on every read shared with the other probes. The
//! handful of commands a probe sends (CAPABILITY, STARTTLS, LOGIN, SELECT, LOGOUT) fit in this
//! file; the response parser is sans-I/O and unit-tested on raw bytes.

use std::future::Future;
use std::net::SocketAddr;

use super::ProbeError;
use super::conn::{Conn, Parsed};
use super::failure::{OpenFailure, OpenFailureKind, Refusal};
use super::net::NetOptions;
use super::session::{MailboxSession, StartTls, start_tls};
use super::tls::TlsInfo;

/// Longest response line accepted (RFC 7162 §4 recommends servers accept 8192-octet lines).
pub const MAX_LINE: usize = 8192;
/// Longest literal accepted inside a response.
pub const MAX_LITERAL: usize = 64 * 1024;
/// Most untagged lines before a command's completion.
pub const MAX_UNTAGGED: usize = 1000;

/// The status word of a status response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    Preauth,
    Bye,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::Preauth => "PREAUTH",
            Status::Bye => "BYE",
        }
    }
}

/// `OK [CODE args] text`, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusResponse {
    pub status: Status,
    /// The response code without its brackets: `AUTHENTICATIONFAILED`, `CAPABILITY IMAP4rev1 ...`.
    pub code: Option<String>,
    pub text: String,
}

impl StatusResponse {
    /// The code's first word, uppercased: `PRIVACYREQUIRED`.
    pub fn code_name(&self) -> Option<String> {
        self.code
            .as_deref()
            .and_then(|code| code.split_whitespace().next())
            .map(str::to_ascii_uppercase)
    }

    /// `NO [AUTHENTICATIONFAILED] Authentication failed.`
    pub fn summary(&self) -> String {
        let mut out = self.status.as_str().to_string();
        if let Some(code) = &self.code {
            out.push_str(&format!(" [{code}]"));
        }
        if !self.text.is_empty() {
            out.push(' ');
            out.push_str(&self.text);
        }
        out
    }
}

/// Parses `OK [CODE] text` (the part after `* ` or after the tag).
pub fn parse_status(text: &str) -> Option<StatusResponse> {
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    let status = match word.to_ascii_uppercase().as_str() {
        "OK" => Status::Ok,
        "NO" => Status::No,
        "BAD" => Status::Bad,
        "PREAUTH" => Status::Preauth,
        "BYE" => Status::Bye,
        _ => return None,
    };
    let rest = rest.trim_start();
    let (code, text) = match rest.strip_prefix('[') {
        Some(inner) => match inner.find(']') {
            Some(end) => (
                Some(inner[..end].to_string()),
                inner[end + 1..].trim_start(),
            ),
            None => (None, rest),
        },
        None => (None, rest),
    };
    Some(StatusResponse {
        status,
        code,
        text: text.to_string(),
    })
}

/// One server response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// `* ...`: data or an untagged status (the text after `* `).
    Untagged(String),
    /// `+ ...`: the server waits for more from us.
    Continuation(String),
    /// `tag OK|NO|BAD ...`: a command's completion.
    Tagged { tag: String, status: StatusResponse },
}

/// A response and the line that carried it, as the transcript shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub response: Response,
    pub raw: String,
}

/// Parses one response from `buf`: `Ok(None)` until a whole one is there. A line that ends in
/// a literal announcement (`{12}`) continues after the literal's bytes (RFC 3501 §4.3).
pub fn parse_response(buf: &[u8]) -> Parsed<Line> {
    let mut raw = String::new();
    let mut pos = 0;
    loop {
        let rest = &buf[pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > MAX_LINE {
                return Err(format!("response line longer than {MAX_LINE} bytes"));
            }
            return Ok(None);
        };
        if end > MAX_LINE {
            return Err(format!("response line longer than {MAX_LINE} bytes"));
        }
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        raw.push_str(&text);
        pos += end + 1;
        match literal_length(&text) {
            Some(length) if length > MAX_LITERAL => {
                return Err(format!("literal of {length} bytes is too long"));
            }
            Some(length) => {
                if buf.len() < pos + length {
                    return Ok(None);
                }
                let literal = &buf[pos..pos + length];
                if length <= 200 && literal.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
                    raw.push_str(&String::from_utf8_lossy(literal));
                } else {
                    raw.push_str(&format!("<{length} bytes>"));
                }
                pos += length;
            }
            None => break,
        }
        if raw.len() > MAX_LITERAL + MAX_LINE {
            return Err("response too long".into());
        }
    }
    let response = classify(&raw)?;
    Ok(Some((Line { response, raw }, pos)))
}

/// `{12}` or `{12+}` at the end of a line.
fn literal_length(line: &str) -> Option<usize> {
    let inner = line.strip_suffix('}')?;
    let open = inner.rfind('{')?;
    inner[open + 1..].trim_end_matches('+').parse().ok()
}

fn classify(raw: &str) -> Result<Response, String> {
    if let Some(rest) = raw.strip_prefix("* ") {
        return Ok(Response::Untagged(rest.to_string()));
    }
    if raw == "+" || raw.starts_with("+ ") {
        return Ok(Response::Continuation(
            raw.get(2..).unwrap_or("").to_string(),
        ));
    }
    let (tag, rest) = raw
        .split_once(' ')
        .ok_or_else(|| format!("not an IMAP response: {raw:?}"))?;
    let valid_tag = !tag.is_empty()
        && tag
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"(){%*\"\\+".contains(&b));
    match parse_status(rest) {
        Some(status) if valid_tag && !matches!(status.status, Status::Preauth | Status::Bye) => {
            Ok(Response::Tagged {
                tag: tag.to_string(),
                status,
            })
        }
        _ => Err(format!("not an IMAP response: {raw:?}")),
    }
}

/// What the server says it can do (RFC 3501 §7.2.1), uppercased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities(Vec<String>);

impl Capabilities {
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Capabilities {
        Capabilities(words.into_iter().map(str::to_ascii_uppercase).collect())
    }

    /// From a status response's `[CAPABILITY ...]` code.
    pub fn from_code(status: &StatusResponse) -> Option<Capabilities> {
        let code = status.code.as_deref()?;
        let (name, rest) = code.split_once(' ')?;
        name.eq_ignore_ascii_case("CAPABILITY")
            .then(|| Capabilities::from_words(rest.split_whitespace()))
    }

    /// From the untagged `CAPABILITY ...` data of a completion.
    pub fn from_untagged(untagged: &[String]) -> Option<Capabilities> {
        untagged.iter().find_map(|line| {
            let (name, rest) = line.split_once(' ').unwrap_or((line, ""));
            name.eq_ignore_ascii_case("CAPABILITY")
                .then(|| Capabilities::from_words(rest.split_whitespace()))
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|c| c.eq_ignore_ascii_case(name))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// `AUTH=` mechanisms offered.
    pub fn auth_mechanisms(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|c| c.strip_prefix("AUTH="))
            .collect()
    }
}

/// An IMAP quoted string (RFC 3501 §4.3), or `None` for a value a quoted string cannot carry.
pub fn quote(value: &str) -> Option<String> {
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return None;
    }
    Some(format!(
        "\"{}\"",
        value.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// A command's completion: the untagged data it brought and its tagged status.
#[derive(Clone, Debug)]
pub struct Completion {
    pub untagged: Vec<String>,
    pub status: StatusResponse,
}

/// One IMAP connection: tags commands, reads responses, records everything said.
pub struct ImapClient {
    pub conn: Conn,
    next_tag: u32,
}

impl ImapClient {
    pub fn new(conn: Conn) -> ImapClient {
        ImapClient { conn, next_tag: 1 }
    }

    /// Reads one response and records it.
    pub async fn read(&mut self) -> Result<Line, ProbeError> {
        let line = self.conn.read_with(parse_response, "IMAP response").await?;
        self.conn.transcript.server(&line.raw);
        Ok(line)
    }

    fn tag(&mut self) -> String {
        let tag = format!("a{}", self.next_tag);
        self.next_tag += 1;
        tag
    }

    /// Sends `command` under a new tag and reads until its completion.
    pub async fn command(&mut self, command: &str) -> Result<Completion, ProbeError> {
        let tag = self.tag();
        self.conn.send(&format!("{tag} {command}")).await?;
        self.complete(&tag).await
    }

    /// As [`ImapClient::command`], for a command that carries a secret: the transcript shows
    /// `shown` (e.g. `LOGIN "user" <redacted>`) after the tag.
    pub async fn command_redacted(
        &mut self,
        command: &str,
        shown: &str,
    ) -> Result<Completion, ProbeError> {
        let tag = self.tag();
        self.conn
            .send_redacted(&format!("{tag} {command}"), &format!("{tag} {shown}"))
            .await?;
        self.complete(&tag).await
    }

    async fn complete(&mut self, tag: &str) -> Result<Completion, ProbeError> {
        let mut untagged = Vec::new();
        loop {
            match self.read().await?.response {
                Response::Tagged { tag: got, status } if got == tag => {
                    return Ok(Completion { untagged, status });
                }
                Response::Tagged { tag: got, .. } => {
                    return Err(ProbeError::Garbage(format!(
                        "completion for tag {got} while waiting for {tag}"
                    )));
                }
                Response::Continuation(_) => {
                    return Err(ProbeError::Garbage(
                        "unexpected continuation request".into(),
                    ));
                }
                Response::Untagged(data) => {
                    if untagged.len() >= MAX_UNTAGGED {
                        self.conn
                            .transcript
                            .note(&format!("more than {MAX_UNTAGGED} untagged lines"));
                        return Err(ProbeError::Garbage("endless untagged data".into()));
                    }
                    untagged.push(data);
                }
            }
        }
    }

    /// LOGOUT without waiting long: the verdicts are already in.
    pub async fn logout(mut self) {
        let quick = std::time::Duration::from_millis(500).min(self.conn.timeout());
        let _ = tokio::time::timeout(quick, async {
            let tag = self.tag();
            if self.conn.send(&format!("{tag} LOGOUT")).await.is_ok() {
                let _ = self.complete(&tag).await;
            }
        })
        .await;
        self.conn.close().await;
    }
}

/// How to open an IMAP session.
#[derive(Clone, Debug)]
pub struct ImapOptions {
    pub addr: SocketAddr,
    /// Host name for SNI (the address when there is none).
    pub server_name: String,
    /// TLS from the first byte (993).
    pub implicit_tls: bool,
    /// STARTTLS after the greeting, then CAPABILITY again.
    pub starttls: bool,
}

/// An opened IMAP session: greeted, capabilities known (and upgraded, when asked).
pub struct ImapSession {
    pub client: ImapClient,
    /// The greeting (`* OK ...`, or `* PREAUTH ...`).
    pub greeting: StatusResponse,
    /// The capabilities in force: after STARTTLS, those asked for inside TLS.
    pub capabilities: Capabilities,
    /// Before STARTTLS: the capabilities seen in clear.
    pub before_tls: Option<Capabilities>,
    opening_lines: usize,
}

impl ImapSession {
    /// The opening dialog: greeting, CAPABILITY, STARTTLS and the CAPABILITY after it.
    pub fn opening(&self) -> Vec<String> {
        let lines = self.client.conn.transcript.lines();
        lines[..self.opening_lines.min(lines.len())].to_vec()
    }

    /// The whole dialog so far.
    pub fn transcript(&self) -> Vec<String> {
        self.client.conn.transcript.lines().to_vec()
    }

    pub fn tls(&self) -> Option<&TlsInfo> {
        self.client.conn.tls()
    }

    pub async fn logout(self) {
        self.client.logout().await;
    }

    /// Opens a session. IMAP has no temporary greeting refusal, so there is no retry.
    pub async fn open(options: &ImapOptions, net: &NetOptions) -> Result<ImapSession, OpenFailure> {
        let tls_name = options.implicit_tls.then_some(options.server_name.as_str());
        let mut client = ImapClient::new(Conn::open(options.addr, tls_name, net).await?);
        let greeting = match read_greeting(&mut client).await {
            Ok(greeting) => greeting,
            Err(kind) => return Err(client.conn.abandon(kind)),
        };
        let capabilities = match Capabilities::from_code(&greeting) {
            Some(caps) => caps,
            None => match ask_capabilities(&mut client).await {
                Ok(caps) => caps,
                Err(kind) => return Err(client.conn.abandon(kind)),
            },
        };
        let mut session = ImapSession {
            client,
            greeting,
            capabilities,
            before_tls: None,
            opening_lines: 0,
        };
        if options.starttls
            && !options.implicit_tls
            && let Err(kind) = start_tls(&mut session, &options.server_name).await
        {
            return Err(session.client.conn.abandon(kind));
        }
        session.opening_lines = session.client.conn.transcript.lines().len();
        Ok(session)
    }
}

impl StartTls for ImapSession {
    fn offers_start_tls(&self) -> Option<bool> {
        Some(self.capabilities.has("STARTTLS"))
    }

    async fn ask_start_tls(&mut self) -> Result<Result<(), Refusal>, ProbeError> {
        let done = self.client.command("STARTTLS").await?;
        Ok(match done.status.status {
            Status::Ok => Ok(()),
            _ => Err(Refusal::permanent(done.status.summary())),
        })
    }

    fn conn(&mut self) -> &mut Conn {
        &mut self.client.conn
    }

    async fn ask_again(&mut self) -> Result<(), OpenFailureKind> {
        let capabilities = ask_capabilities(&mut self.client).await?;
        self.before_tls = Some(std::mem::replace(&mut self.capabilities, capabilities));
        Ok(())
    }
}

/// `* OK` or `* PREAUTH`; `* BYE` is a refusal, anything else no greeting.
async fn read_greeting(client: &mut ImapClient) -> Result<StatusResponse, OpenFailureKind> {
    let text = match client.read().await {
        Ok(Line {
            response: Response::Untagged(text),
            ..
        }) => text,
        Ok(line) => {
            let err = ProbeError::Garbage(format!("not an IMAP greeting: {}", line.raw));
            return Err(OpenFailureKind::NoGreeting(err));
        }
        Err(err) => return Err(OpenFailureKind::NoGreeting(err)),
    };
    match parse_status(&text) {
        Some(status) if matches!(status.status, Status::Ok | Status::Preauth) => Ok(status),
        Some(status) if status.status == Status::Bye => Err(OpenFailureKind::GreetingRefused(
            Refusal::permanent(format!("* {}", status.summary())),
        )),
        _ => {
            let err = ProbeError::Garbage(format!("not an IMAP greeting: * {text}"));
            Err(OpenFailureKind::NoGreeting(err))
        }
    }
}

/// CAPABILITY: a refusal, or a broken dialog, is the failure.
async fn ask_capabilities(client: &mut ImapClient) -> Result<Capabilities, OpenFailureKind> {
    let done = client
        .command("CAPABILITY")
        .await
        .map_err(OpenFailureKind::Broken)?;
    if done.status.status != Status::Ok {
        return Err(OpenFailureKind::HelloRefused(Refusal::permanent(
            done.status.summary(),
        )));
    }
    Ok(Capabilities::from_untagged(&done.untagged)
        .or_else(|| Capabilities::from_code(&done.status))
        .unwrap_or_default())
}

impl MailboxSession for ImapSession {
    fn open_on(
        addr: SocketAddr,
        server_name: String,
        implicit_tls: bool,
        starttls: bool,
        net: &NetOptions,
    ) -> impl Future<Output = Result<Self, OpenFailure>> + Send {
        let options = ImapOptions {
            addr,
            server_name,
            implicit_tls,
            starttls,
        };
        async move { ImapSession::open(&options, net).await }
    }

    fn tls(&self) -> Option<&TlsInfo> {
        self.client.conn.tls()
    }

    fn opening(&self) -> Vec<String> {
        ImapSession::opening(self)
    }

    fn transcript(&self) -> Vec<String> {
        ImapSession::transcript(self)
    }

    fn talks_from_server_address(&self) -> bool {
        self.client.conn.from_server_address()
    }

    fn close(self) -> impl Future<Output = ()> + Send {
        ImapSession::logout(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(raw: &[u8]) -> (Line, usize) {
        parse_response(raw).unwrap().unwrap()
    }

    #[test]
    fn dovecot_greeting_with_capabilities() {
        let raw = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] mail.ref.test ready.\r\n";
        let (line, used) = one(raw);
        assert_eq!(used, raw.len());
        let Response::Untagged(text) = line.response else {
            panic!("untagged expected")
        };
        let status = parse_status(&text).unwrap();
        assert_eq!(status.status, Status::Ok);
        assert_eq!(status.text, "mail.ref.test ready.");
        let caps = Capabilities::from_code(&status).unwrap();
        assert!(caps.has("imap4rev1") && caps.has("STARTTLS") && caps.has("LOGINDISABLED"));
        assert!(!caps.has("AUTH=PLAIN"));
    }

    #[test]
    fn tagged_completions_with_codes() {
        let (line, _) = one(b"a2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n");
        let Response::Tagged { tag, status } = line.response else {
            panic!("tagged expected")
        };
        assert_eq!(tag, "a2");
        assert_eq!(status.status, Status::No);
        assert_eq!(status.code_name().as_deref(), Some("PRIVACYREQUIRED"));
        let (line, _) = one(b"a3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
        let Response::Tagged { status, .. } = line.response else {
            panic!("tagged expected")
        };
        assert_eq!(
            status.summary(),
            "NO [AUTHENTICATIONFAILED] Authentication failed."
        );
        let (line, _) = one(b"a1 bad Error in IMAP command\n");
        assert!(matches!(
            line.response,
            Response::Tagged {
                status: StatusResponse {
                    status: Status::Bad,
                    code: None,
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn partial_input_waits_and_garbage_is_refused() {
        assert_eq!(parse_response(b"* OK [CAPA").unwrap(), None);
        assert_eq!(parse_response(b"").unwrap(), None);
        assert!(parse_response(b"HTTP/1.1 400 Bad Request\r\n").is_err());
        assert!(parse_response(b"a1 MAYBE fine\r\n").is_err());
        assert!(parse_response(&[b'x'; MAX_LINE + 10]).is_err());
        // No panic on any prefix of a valid exchange.
        let raw =
            b"* 3 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\na4 OK [READ-WRITE] Select completed.\r\n";
        for end in 0..raw.len() {
            let _ = parse_response(&raw[..end]);
        }
    }

    #[test]
    fn literals_are_read_whole() {
        let raw = b"* LIST () \"/\" {5}\r\nINBOX\r\nnext";
        let (line, used) = one(raw);
        assert_eq!(used, raw.len() - 4);
        assert_eq!(line.raw, "* LIST () \"/\" {5}INBOX");
        assert_eq!(parse_response(b"* LIST () \"/\" {5}\r\nINB").unwrap(), None);
        assert!(parse_response(b"* X {99999999}\r\n").is_err());
    }

    #[test]
    fn continuation_and_bye() {
        assert_eq!(
            one(b"+ Ready for literal\r\n").0.response,
            Response::Continuation("Ready for literal".into())
        );
        let (line, _) = one(b"* BYE Too many invalid IMAP commands.\r\n");
        let Response::Untagged(text) = line.response else {
            panic!()
        };
        assert_eq!(parse_status(&text).unwrap().status, Status::Bye);
    }

    #[test]
    fn capabilities_from_untagged_data() {
        let caps = Capabilities::from_untagged(&[
            "CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=LOGIN".to_string(),
        ])
        .unwrap();
        assert_eq!(caps.auth_mechanisms(), ["PLAIN", "LOGIN"]);
        assert!(Capabilities::from_untagged(&["3 EXISTS".to_string()]).is_none());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("test@ref.test").unwrap(), "\"test@ref.test\"");
        assert_eq!(quote(r#"pa"ss\"#).unwrap(), r#""pa\"ss\\""#);
        assert!(quote("a\r\nb").is_none());
    }
}
