//! Raw TLS 1.0 / 1.1 ClientHellos, to learn whether a server still accepts those versions.
//!
//! Why by hand: rustls implements TLS 1.2 and 1.3 only and cannot offer an older version, and
//! linking OpenSSL for one probe would bring a C dependency whose own defaults (SECLEVEL 2 in
//! Debian's OpenSSL 3) refuse TLS 1.0 on the client side too. The probe needs very little: one
//! ClientHello record offering exactly one old version, and the first record of the answer —
//! a ServerHello (the version was accepted), an alert or a closed connection (refused). No
//! handshake is ever completed and no key material is made.
//!
//! The record building and parsing are sans-I/O and unit-tested on bytes; [`probe`] runs the
//! dialog: the STARTTLS preamble of the endpoint's protocol, the hello, the answer, every read
//! bounded by the run's timeout.

use std::net::SocketAddr;

use super::ProbeError;
use super::conn::{Conn, Parsed};
use super::imap::{ImapClient, Status as ImapStatus};
use super::net::NetOptions;
use super::pop3::Pop3Client;
use super::reply::Capabilities as SmtpCapabilities;
use super::session::{OpenFailure, OpenFailureKind, Refusal};
use super::smtp::SmtpClient;

/// A protocol version older than rustls can speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyVersion {
    Tls10,
    Tls11,
}

impl LegacyVersion {
    pub const ALL: [LegacyVersion; 2] = [LegacyVersion::Tls10, LegacyVersion::Tls11];

    /// The version number on the wire.
    pub fn wire(self) -> u16 {
        match self {
            LegacyVersion::Tls10 => 0x0301,
            LegacyVersion::Tls11 => 0x0302,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LegacyVersion::Tls10 => "TLS 1.0",
            LegacyVersion::Tls11 => "TLS 1.1",
        }
    }

    /// The `openssl s_client` option that offers only this version.
    pub fn openssl_flag(self) -> &'static str {
        match self {
            LegacyVersion::Tls10 => "-tls1",
            LegacyVersion::Tls11 => "-tls1_1",
        }
    }
}

/// `TLS 1.0`, `SSL 3.0`, or the number for anything else.
pub fn version_name(wire: u16) -> String {
    match wire {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("version 0x{other:04x}"),
    }
}

/// What a TLS 1.0/1.1 client of the last decade offers (OpenSSL 1.0.2's default order, less
/// the export, RC4 and anonymous suites): a server that accepts the version finds a suite here.
pub const CIPHER_SUITES: &[(u16, &str)] = &[
    (0xc00a, "ECDHE-ECDSA-AES256-SHA"),
    (0xc014, "ECDHE-RSA-AES256-SHA"),
    (0x0039, "DHE-RSA-AES256-SHA"),
    (0xc009, "ECDHE-ECDSA-AES128-SHA"),
    (0xc013, "ECDHE-RSA-AES128-SHA"),
    (0x0033, "DHE-RSA-AES128-SHA"),
    (0x0035, "AES256-SHA"),
    (0x002f, "AES128-SHA"),
    (0x000a, "DES-CBC3-SHA"),
    // RFC 5746: tells the server we support secure renegotiation.
    (0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
];

pub fn suite_name(code: u16) -> String {
    CIPHER_SUITES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| format!("0x{code:04x}"))
}

fn push_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Prefixes `body` with its length in `width` bytes (2 or 3).
fn with_length(width: usize, body: &[u8]) -> Vec<u8> {
    let length = body.len().to_be_bytes();
    let mut out = length[length.len() - width..].to_vec();
    out.extend_from_slice(body);
    out
}

fn extension(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_u16(&mut out, kind);
    out.extend_from_slice(&with_length(2, body));
    out
}

/// One TLS record holding a ClientHello that offers only `version`. `sni` is the host name to
/// send in server_name (RFC 6066 forbids addresses there: pass `None` for an address).
pub fn client_hello(version: LegacyVersion, sni: Option<&str>, random: [u8; 32]) -> Vec<u8> {
    let mut hello = Vec::new();
    push_u16(&mut hello, version.wire());
    hello.extend_from_slice(&random);
    hello.push(0); // no session id
    let mut suites = Vec::new();
    for (code, _) in CIPHER_SUITES {
        push_u16(&mut suites, *code);
    }
    hello.extend_from_slice(&with_length(2, &suites));
    hello.extend_from_slice(&[1, 0]); // compression: null only

    let mut extensions = Vec::new();
    if let Some(name) = sni {
        // server_name: list of one host_name entry.
        let mut entry = vec![0u8];
        entry.extend_from_slice(&with_length(2, name.as_bytes()));
        extensions.extend_from_slice(&extension(0x0000, &with_length(2, &entry)));
    }
    // supported_groups: x25519, secp256r1, secp384r1.
    extensions.extend_from_slice(&extension(
        0x000a,
        &with_length(2, &[0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]),
    ));
    // ec_point_formats: uncompressed.
    extensions.extend_from_slice(&extension(0x000b, &[1, 0]));
    // extended_master_secret (RFC 7627), empty.
    extensions.extend_from_slice(&extension(0x0017, &[]));
    hello.extend_from_slice(&with_length(2, &extensions));

    let mut handshake = vec![1u8]; // client_hello
    handshake.extend_from_slice(&with_length(3, &hello));
    // The record layer says TLS 1.0 whatever the offer, as clients do for compatibility.
    let mut record = vec![22u8, 0x03, 0x01];
    record.extend_from_slice(&with_length(2, &handshake));
    record
}

/// The first thing the server answered to a ClientHello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The server chose `version` and `cipher`: the handshake would go on.
    ServerHello { version: u16, cipher: u16 },
    /// A fatal alert (or close_notify).
    Alert { level: u8, description: u8 },
    /// Not a TLS answer, or not the one expected.
    Other(String),
}

/// RFC 8446 §6 / RFC 5246 §7.2 names.
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        47 => "illegal_parameter",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        _ => "unknown alert",
    }
}

/// Largest record a TLS 1.0-1.2 peer may send (2^14 plus compression and MAC overhead).
const MAX_RECORD: usize = 16384 + 2048;

/// Reads the answer from the records in `buf`. Warning alerts other than close_notify (some
/// servers send `unrecognized_name` before their ServerHello) are skipped.
pub fn parse_answer(buf: &[u8]) -> Parsed<Answer> {
    let mut pos = 0;
    let mut handshake = Vec::new();
    loop {
        let Some(header) = buf.get(pos..pos + 5) else {
            return Ok(None);
        };
        let (kind, major, length) = (
            header[0],
            header[1],
            usize::from(u16::from_be_bytes([header[3], header[4]])),
        );
        if !matches!(kind, 20..=23) || major != 3 || length > MAX_RECORD {
            let shown = String::from_utf8_lossy(&buf[pos..buf.len().min(pos + 60)]).into_owned();
            return Ok(Some((
                Answer::Other(format!("not a TLS record: {shown:?}")),
                buf.len(),
            )));
        }
        let Some(body) = buf.get(pos + 5..pos + 5 + length) else {
            return Ok(None);
        };
        pos += 5 + length;
        match kind {
            21 => {
                let (&level, &description) = match body {
                    [level, description, ..] => (level, description),
                    _ => return Ok(Some((Answer::Other("truncated alert".into()), pos))),
                };
                if level == 1 && description != 0 {
                    continue;
                }
                return Ok(Some((Answer::Alert { level, description }, pos)));
            }
            22 => {
                handshake.extend_from_slice(body);
                if handshake.len() < 4 {
                    continue;
                }
                if handshake[0] != 2 {
                    return Ok(Some((
                        Answer::Other(format!(
                            "handshake message type {} instead of ServerHello",
                            handshake[0]
                        )),
                        pos,
                    )));
                }
                // server_version(2) random(32) session_id(1+n) cipher_suite(2)
                let Some(&session_id_length) = handshake.get(4 + 2 + 32) else {
                    continue;
                };
                let cipher_at = 4 + 2 + 32 + 1 + usize::from(session_id_length);
                let Some(cipher) = handshake.get(cipher_at..cipher_at + 2) else {
                    continue;
                };
                return Ok(Some((
                    Answer::ServerHello {
                        version: u16::from_be_bytes([handshake[4], handshake[5]]),
                        cipher: u16::from_be_bytes([cipher[0], cipher[1]]),
                    },
                    pos,
                )));
            }
            _ => {
                return Ok(Some((
                    Answer::Other(format!("unexpected record type {kind} before ServerHello")),
                    pos,
                )));
            }
        }
    }
}

/// What one legacy offer showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with a ServerHello at `version` (the offered one or older).
    Accepted { version: u16, cipher: u16 },
    /// The server refused: an alert, a closed connection, or a ServerHello for a newer
    /// version than offered (which no legacy client can go on with). The reason, in words.
    Refused(String),
    /// We could not tell (timeout, garbage).
    Unknown(String),
}

/// Judges the answer to an offer of `offered`.
pub fn outcome(offered: LegacyVersion, answer: Result<Answer, ProbeError>) -> Outcome {
    match answer {
        Ok(Answer::ServerHello { version, cipher }) if version <= offered.wire() => {
            Outcome::Accepted { version, cipher }
        }
        Ok(Answer::ServerHello { version, .. }) => Outcome::Refused(format!(
            "answered with a {} ServerHello, which a {} client aborts",
            version_name(version),
            offered.name()
        )),
        Ok(Answer::Alert { level, description }) => Outcome::Refused(format!(
            "{} alert {} ({description})",
            if level == 2 { "fatal" } else { "warning" },
            alert_name(description)
        )),
        Ok(Answer::Other(what)) => Outcome::Unknown(what),
        Err(ProbeError::Closed) => {
            Outcome::Refused("closed the connection without a ServerHello".into())
        }
        Err(ProbeError::Io(err)) => Outcome::Refused(format!("dropped the connection ({err})")),
        Err(err) => Outcome::Unknown(err.to_string()),
    }
}

/// How the endpoint starts TLS.
#[derive(Clone, Debug)]
pub enum Preamble {
    /// TLS from the first byte (465, 993, 995).
    Implicit,
    /// Greeting, `EHLO name`, `STARTTLS`, `220`.
    Smtp { helo: Option<String> },
    /// Greeting, `a1 STARTTLS`, `a1 OK`.
    Imap,
    /// Greeting, `STLS`, `+OK`.
    Pop3,
}

impl Preamble {
    /// `-starttls smtp` for the reproduction command line.
    fn openssl_option(&self) -> &'static str {
        match self {
            Preamble::Implicit => "",
            Preamble::Smtp { .. } => " -starttls smtp",
            Preamble::Imap => " -starttls imap",
            Preamble::Pop3 => " -starttls pop3",
        }
    }
}

/// One legacy offer on one connection, with its dialog.
#[derive(Clone, Debug)]
pub struct LegacyProbe {
    pub version: LegacyVersion,
    pub outcome: Outcome,
    pub evidence: Vec<String>,
}

/// The `openssl s_client` line that makes the same offer.
pub fn reproduce(
    addr: SocketAddr,
    preamble: &Preamble,
    server_name: &str,
    version: LegacyVersion,
) -> String {
    // No SNI for an address (RFC 6066 §3), as the probe itself sends none.
    let sni = if server_name.parse::<std::net::IpAddr>().is_ok() {
        String::new()
    } else {
        format!(" -servername {server_name}")
    };
    format!(
        "openssl s_client -connect {addr}{}{sni} {} -cipher 'DEFAULT:@SECLEVEL=0'",
        preamble.openssl_option(),
        version.openssl_flag()
    )
}

/// Connects, runs the preamble, offers only `version` and reads the first answer.
/// `Err` when the preamble itself failed (no STARTTLS, refused, dead endpoint).
pub async fn probe(
    addr: SocketAddr,
    preamble: &Preamble,
    server_name: &str,
    version: LegacyVersion,
    net: &NetOptions,
) -> Result<LegacyProbe, OpenFailure> {
    let mut conn = run_preamble(Conn::open(addr, None, net).await?, preamble).await?;
    conn.discard_buffered();
    let sni = server_name
        .parse::<std::net::IpAddr>()
        .is_err()
        .then_some(server_name);
    let hello = client_hello(version, sni, rand::random());
    let names: Vec<&str> = CIPHER_SUITES[..CIPHER_SUITES.len() - 1]
        .iter()
        .map(|(_, name)| *name)
        .collect();
    conn.transcript.client(&format!(
        "<{} ClientHello, {} bytes: only {} offered; suites {}; SNI {}>",
        version.name(),
        hello.len(),
        version.name(),
        names.join(":"),
        sni.unwrap_or("(none: an address)")
    ));
    let answer = match conn.write_raw(&hello).await {
        Ok(()) => {
            conn.read_with(parse_answer, "answer to the ClientHello")
                .await
        }
        Err(err) => Err(err),
    };
    let outcome = outcome(version, answer.clone());
    match (&answer, &outcome) {
        (Ok(Answer::ServerHello { version, cipher }), _) => conn.transcript.server(&format!(
            "<ServerHello: {}, cipher {}>",
            version_name(*version),
            suite_name(*cipher)
        )),
        (Ok(Answer::Alert { .. }), Outcome::Refused(how)) => {
            conn.transcript.server(&format!("<TLS {how}>"))
        }
        (Ok(Answer::Other(what)), _) => conn.transcript.note(what),
        _ => {}
    }
    conn.transcript.note(&format!(
        "reproduce: {}",
        reproduce(addr, preamble, server_name, version)
    ));
    let evidence = conn.transcript.lines().to_vec();
    conn.close().await;
    Ok(LegacyProbe {
        version,
        outcome,
        evidence,
    })
}

/// Runs the plain-text part up to the point where the server waits for a ClientHello.
async fn run_preamble(conn: Conn, preamble: &Preamble) -> Result<Conn, OpenFailure> {
    match preamble {
        Preamble::Implicit => Ok(conn),
        Preamble::Smtp { helo } => {
            let name = helo.clone().unwrap_or_else(|| match conn.local {
                Some(local) if local.is_ipv6() => format!("[IPv6:{}]", local.ip()),
                Some(local) => format!("[{}]", local.ip()),
                None => "mailcheck.invalid".into(),
            });
            let mut client = SmtpClient::new(conn);
            match client.read_reply().await {
                Ok(reply) if reply.code == 220 => {}
                Ok(reply) => {
                    let kind = OpenFailureKind::GreetingRefused(Refusal::from(&reply));
                    return Err(client.conn.abandon(kind));
                }
                Err(err) => return Err(client.conn.abandon(OpenFailureKind::NoGreeting(err))),
            }
            let ehlo = match client.command(&format!("EHLO {name}")).await {
                Ok(reply) if reply.code == 250 => reply,
                Ok(reply) => {
                    let kind = OpenFailureKind::HelloRefused(Refusal::from(&reply));
                    return Err(client.conn.abandon(kind));
                }
                Err(err) => return Err(client.conn.abandon(OpenFailureKind::Broken(err))),
            };
            if !SmtpCapabilities::from_ehlo(&ehlo).has("STARTTLS") {
                return Err(client.conn.abandon(OpenFailureKind::StartTlsNotOffered));
            }
            match client.command("STARTTLS").await {
                Ok(reply) if reply.code == 220 => Ok(client.conn),
                Ok(reply) => {
                    let kind = OpenFailureKind::StartTlsRefused(Refusal::from(&reply));
                    Err(client.conn.abandon(kind))
                }
                Err(err) => Err(client.conn.abandon(OpenFailureKind::Broken(err))),
            }
        }
        Preamble::Imap => {
            let mut client = ImapClient::new(conn);
            match client.read().await {
                Ok(line) if line.raw.to_ascii_uppercase().starts_with("* OK") => {}
                Ok(line) => {
                    let kind = OpenFailureKind::GreetingRefused(Refusal::permanent(line.raw));
                    return Err(client.conn.abandon(kind));
                }
                Err(err) => return Err(client.conn.abandon(OpenFailureKind::NoGreeting(err))),
            }
            match client.command("STARTTLS").await {
                Ok(done) if done.status.status == ImapStatus::Ok => Ok(client.conn),
                Ok(done) => {
                    let refusal = Refusal::permanent(done.status.summary());
                    Err(client
                        .conn
                        .abandon(OpenFailureKind::StartTlsRefused(refusal)))
                }
                Err(err) => Err(client.conn.abandon(OpenFailureKind::Broken(err))),
            }
        }
        Preamble::Pop3 => {
            let mut client = Pop3Client { conn };
            match client.read(false).await {
                Ok(reply) if reply.ok => {}
                Ok(reply) => {
                    let kind =
                        OpenFailureKind::GreetingRefused(Refusal::permanent(reply.summary()));
                    return Err(client.conn.abandon(kind));
                }
                Err(err) => return Err(client.conn.abandon(OpenFailureKind::NoGreeting(err))),
            }
            match client.command("STLS").await {
                Ok(reply) if reply.ok => Ok(client.conn),
                Ok(reply) => {
                    let refusal = Refusal::permanent(reply.summary());
                    Err(client
                        .conn
                        .abandon(OpenFailureKind::StartTlsRefused(refusal)))
                }
                Err(err) => Err(client.conn.abandon(OpenFailureKind::Broken(err))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(version: LegacyVersion, sni: Option<&str>) -> Vec<u8> {
        client_hello(version, sni, [0x42; 32])
    }

    #[test]
    fn client_hello_is_a_well_formed_record() {
        let record = hello(LegacyVersion::Tls10, Some("mail.ref.test"));
        // Record header: handshake, TLS 1.0 record layer, length of the rest.
        assert_eq!(&record[..3], &[22, 3, 1]);
        assert_eq!(
            usize::from(u16::from_be_bytes([record[3], record[4]])),
            record.len() - 5
        );
        // Handshake header: client_hello and its 24-bit length.
        assert_eq!(record[5], 1);
        let body_length =
            (usize::from(record[6]) << 16) | (usize::from(record[7]) << 8) | usize::from(record[8]);
        assert_eq!(body_length, record.len() - 9);
        // client_version, random, empty session id.
        assert_eq!(&record[9..11], &[3, 1]);
        assert_eq!(&record[11..43], &[0x42; 32]);
        assert_eq!(record[43], 0);
        // Cipher suites: the whole list, SCSV last.
        let suites_length = usize::from(u16::from_be_bytes([record[44], record[45]]));
        assert_eq!(suites_length, CIPHER_SUITES.len() * 2);
        assert_eq!(&record[46..48], &[0xc0, 0x0a]);
        let after_suites = 46 + suites_length;
        assert_eq!(&record[after_suites - 2..after_suites], &[0x00, 0xff]);
        // Compression: null only.
        assert_eq!(&record[after_suites..after_suites + 2], &[1, 0]);
        // Extensions: length matches; SNI first, carrying the name.
        let ext_at = after_suites + 2;
        let ext_length = usize::from(u16::from_be_bytes([record[ext_at], record[ext_at + 1]]));
        assert_eq!(ext_at + 2 + ext_length, record.len());
        assert_eq!(&record[ext_at + 2..ext_at + 4], &[0, 0]);
        let sni = b"mail.ref.test";
        assert!(record.windows(sni.len()).any(|w| w == sni));
    }

    #[test]
    fn tls11_hello_differs_only_in_version_and_addresses_get_no_sni() {
        let v10 = hello(LegacyVersion::Tls10, None);
        let v11 = hello(LegacyVersion::Tls11, None);
        assert_eq!(v10.len(), v11.len());
        assert_eq!(&v11[9..11], &[3, 2]);
        let differing: Vec<usize> = (0..v10.len()).filter(|&i| v10[i] != v11[i]).collect();
        assert_eq!(differing, [10]);
        // Without SNI, the extensions start with supported_groups.
        let ext_at = 46 + CIPHER_SUITES.len() * 2 + 2;
        assert_eq!(&v10[ext_at + 2..ext_at + 4], &[0x00, 0x0a]);
    }

    /// A ServerHello record as OpenSSL sends it for TLS 1.0 with ECDHE-RSA-AES256-SHA,
    /// followed by the start of a Certificate message.
    fn server_hello(version: [u8; 2], cipher: [u8; 2]) -> Vec<u8> {
        let mut body = vec![2, 0, 0, 0];
        body.extend_from_slice(&version);
        body.extend_from_slice(&[7; 32]);
        body.push(32);
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&cipher);
        body.push(0);
        let length = body.len() - 4;
        body[3] = length as u8;
        let mut record = vec![22, 3, version[1]];
        record.extend_from_slice(&(body.len() as u16).to_be_bytes());
        record.extend_from_slice(&body);
        record.extend_from_slice(&[22, 3, 1, 0, 10, 11, 0, 0]);
        record
    }

    #[test]
    fn server_hello_is_read_and_judged_accepted() {
        let raw = server_hello([3, 1], [0xc0, 0x14]);
        let (answer, _) = parse_answer(&raw).unwrap().unwrap();
        assert_eq!(
            answer,
            Answer::ServerHello {
                version: 0x0301,
                cipher: 0xc014
            }
        );
        assert_eq!(
            outcome(LegacyVersion::Tls10, Ok(answer)),
            Outcome::Accepted {
                version: 0x0301,
                cipher: 0xc014
            }
        );
        // Fed a byte at a time it waits, then answers the same.
        for end in 0..48 {
            assert_eq!(parse_answer(&raw[..end]).unwrap(), None, "at {end}");
        }
    }

    #[test]
    fn server_hello_split_over_records_is_reassembled() {
        let whole = server_hello([3, 2], [0x00, 0x2f]);
        let handshake = &whole[5..whole.len() - 8];
        let mut raw = vec![22, 3, 2, 0, 10];
        raw.extend_from_slice(&handshake[..10]);
        raw.extend_from_slice(&[22, 3, 2]);
        raw.extend_from_slice(&((handshake.len() - 10) as u16).to_be_bytes());
        raw.extend_from_slice(&handshake[10..]);
        assert_eq!(
            parse_answer(&raw).unwrap().unwrap().0,
            Answer::ServerHello {
                version: 0x0302,
                cipher: 0x002f
            }
        );
    }

    #[test]
    fn alerts_and_closes_are_refusals() {
        // Postfix: fatal protocol_version.
        let (answer, used) = parse_answer(&[21, 3, 1, 0, 2, 2, 70]).unwrap().unwrap();
        assert_eq!(used, 7);
        let refused = outcome(LegacyVersion::Tls10, Ok(answer));
        assert_eq!(
            refused,
            Outcome::Refused("fatal alert protocol_version (70)".into())
        );
        // A warning unrecognized_name is skipped; the ServerHello after it counts.
        let mut raw = vec![21, 3, 1, 0, 2, 1, 112];
        raw.extend_from_slice(&server_hello([3, 1], [0x00, 0x35]));
        assert!(matches!(
            parse_answer(&raw).unwrap().unwrap().0,
            Answer::ServerHello { .. }
        ));
        // Dovecot: just closes.
        assert!(matches!(
            outcome(LegacyVersion::Tls11, Err(ProbeError::Closed)),
            Outcome::Refused(_)
        ));
        assert!(matches!(
            outcome(
                LegacyVersion::Tls11,
                Err(ProbeError::Io("Connection reset by peer".into()))
            ),
            Outcome::Refused(_)
        ));
        // A newer ServerHello than offered cannot go on.
        let newer = parse_answer(&server_hello([3, 3], [0xc0, 0x2f]))
            .unwrap()
            .unwrap()
            .0;
        assert!(matches!(
            outcome(LegacyVersion::Tls10, Ok(newer)),
            Outcome::Refused(_)
        ));
    }

    #[test]
    fn timeouts_and_plain_text_are_unknown() {
        let timeout = ProbeError::Timeout {
            during: "answer".into(),
            after: std::time::Duration::from_secs(1),
        };
        assert!(matches!(
            outcome(LegacyVersion::Tls10, Err(timeout)),
            Outcome::Unknown(_)
        ));
        let (answer, _) = parse_answer(b"500 5.5.2 Error: bad syntax\r\n")
            .unwrap()
            .unwrap();
        assert!(matches!(answer, Answer::Other(ref what) if what.contains("not a TLS record")));
        assert!(matches!(
            outcome(LegacyVersion::Tls10, Ok(answer)),
            Outcome::Unknown(_)
        ));
        // Oversized record lengths are refused, not awaited.
        assert!(matches!(
            parse_answer(&[22, 3, 1, 0xff, 0xff]).unwrap().unwrap().0,
            Answer::Other(_)
        ));
    }

    #[test]
    fn reproduction_lines() {
        let addr: SocketAddr = "127.0.100.10:25".parse().unwrap();
        assert_eq!(
            reproduce(
                addr,
                &Preamble::Smtp { helo: None },
                "mail.ref.test",
                LegacyVersion::Tls10
            ),
            "openssl s_client -connect 127.0.100.10:25 -starttls smtp -servername mail.ref.test -tls1 -cipher 'DEFAULT:@SECLEVEL=0'"
        );
        assert!(
            reproduce(addr, &Preamble::Implicit, "x.test", LegacyVersion::Tls11)
                .contains(" -tls1_1 ")
        );
        assert_eq!(
            reproduce(
                addr,
                &Preamble::Implicit,
                "127.0.100.10",
                LegacyVersion::Tls10
            ),
            "openssl s_client -connect 127.0.100.10:25 -tls1 -cipher 'DEFAULT:@SECLEVEL=0'"
        );
    }
}
