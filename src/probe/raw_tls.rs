//! The TLS wire format the raw probes need (RFC 5246 §6-7): ClientHello records offering
//! exactly the versions and suites a probe asks for, and a sans-I/O reader of the server's
//! first flight (ServerHello, then Certificate, or an alert).
//!
//! Why by hand: rustls speaks TLS 1.2/1.3 with modern suites only, so it can offer neither
//! TLS 1.0/1.1 nor a NULL, EXPORT, anonymous, RC4, DES, 3DES or static-RSA suite, which is
//! exactly what these probes must offer; linking OpenSSL would bring a C dependency whose own
//! client-side SECLEVEL refuses them too. The probes never complete a handshake and make no
//! key material: they read the server's first flight and hang up.

use super::ProbeError;
use super::conn::{Conn, Parsed};

pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;

/// RFC 5746: tells the server we support secure renegotiation (not a real suite).
pub const SCSV: u16 = 0x00ff;

/// `TLS 1.0`, `SSL 3.0`, or the number for anything else.
pub fn version_name(wire: u16) -> String {
    match wire {
        0x0300 => "SSL 3.0".into(),
        TLS10 => "TLS 1.0".into(),
        TLS11 => "TLS 1.1".into(),
        TLS12 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("version 0x{other:04x}"),
    }
}

/// A cipher suite this crate may offer: its code, IANA name and OpenSSL name.
pub struct Suite {
    pub code: u16,
    pub iana: &'static str,
    pub openssl: &'static str,
}

const fn s(code: u16, iana: &'static str, openssl: &'static str) -> Suite {
    Suite {
        code,
        iana,
        openssl,
    }
}

/// Every suite a probe offers (IANA TLS Cipher Suites registry; OpenSSL's names where it has
/// one), so the evidence can name what the server chose.
pub const SUITES: &[Suite] = &[
    // NULL encryption.
    s(0x0001, "TLS_RSA_WITH_NULL_MD5", "NULL-MD5"),
    s(0x0002, "TLS_RSA_WITH_NULL_SHA", "NULL-SHA"),
    s(0x003b, "TLS_RSA_WITH_NULL_SHA256", "NULL-SHA256"),
    s(
        0xc006,
        "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
        "ECDHE-ECDSA-NULL-SHA",
    ),
    s(0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA", "ECDHE-RSA-NULL-SHA"),
    s(
        0xc001,
        "TLS_ECDH_ECDSA_WITH_NULL_SHA",
        "ECDH-ECDSA-NULL-SHA",
    ),
    s(0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA", "ECDH-RSA-NULL-SHA"),
    s(0xc015, "TLS_ECDH_anon_WITH_NULL_SHA", "AECDH-NULL-SHA"),
    // EXPORT (40/56-bit keys).
    s(0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5"),
    s(
        0x0006,
        "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
        "EXP-RC2-CBC-MD5",
    ),
    s(
        0x0008,
        "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-DES-CBC-SHA",
    ),
    s(
        0x000b,
        "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-DH-DSS-DES-CBC-SHA",
    ),
    s(
        0x000e,
        "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-DH-RSA-DES-CBC-SHA",
    ),
    s(
        0x0011,
        "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-DHE-DSS-DES-CBC-SHA",
    ),
    s(
        0x0014,
        "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-DHE-RSA-DES-CBC-SHA",
    ),
    s(
        0x0017,
        "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5",
        "EXP-ADH-RC4-MD5",
    ),
    s(
        0x0019,
        "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-ADH-DES-CBC-SHA",
    ),
    // Anonymous (no server authentication).
    s(0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "ADH-AES128-SHA"),
    s(0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA", "ADH-AES256-SHA"),
    s(
        0x006c,
        "TLS_DH_anon_WITH_AES_128_CBC_SHA256",
        "ADH-AES128-SHA256",
    ),
    s(
        0x006d,
        "TLS_DH_anon_WITH_AES_256_CBC_SHA256",
        "ADH-AES256-SHA256",
    ),
    s(
        0x00a6,
        "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
        "ADH-AES128-GCM-SHA256",
    ),
    s(
        0x00a7,
        "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
        "ADH-AES256-GCM-SHA384",
    ),
    s(
        0x0046,
        "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",
        "ADH-CAMELLIA128-SHA",
    ),
    s(
        0x0089,
        "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",
        "ADH-CAMELLIA256-SHA",
    ),
    s(
        0x001b,
        "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
        "ADH-DES-CBC3-SHA",
    ),
    s(0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", "ADH-RC4-MD5"),
    s(
        0xc018,
        "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
        "AECDH-AES128-SHA",
    ),
    s(
        0xc019,
        "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
        "AECDH-AES256-SHA",
    ),
    s(
        0xc017,
        "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",
        "AECDH-DES-CBC3-SHA",
    ),
    s(0xc016, "TLS_ECDH_anon_WITH_RC4_128_SHA", "AECDH-RC4-SHA"),
    // RC4.
    s(0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5"),
    s(0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"),
    s(
        0xc007,
        "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
        "ECDHE-ECDSA-RC4-SHA",
    ),
    s(
        0xc011,
        "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        "ECDHE-RSA-RC4-SHA",
    ),
    s(
        0xc002,
        "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",
        "ECDH-ECDSA-RC4-SHA",
    ),
    s(0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA", "ECDH-RSA-RC4-SHA"),
    // Single DES.
    s(0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA"),
    s(0x000c, "TLS_DH_DSS_WITH_DES_CBC_SHA", "DH-DSS-DES-CBC-SHA"),
    s(0x000f, "TLS_DH_RSA_WITH_DES_CBC_SHA", "DH-RSA-DES-CBC-SHA"),
    s(
        0x0012,
        "TLS_DHE_DSS_WITH_DES_CBC_SHA",
        "EDH-DSS-DES-CBC-SHA",
    ),
    s(
        0x0015,
        "TLS_DHE_RSA_WITH_DES_CBC_SHA",
        "EDH-RSA-DES-CBC-SHA",
    ),
    // Triple DES.
    s(0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"),
    s(
        0x0013,
        "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
        "EDH-DSS-DES-CBC3-SHA",
    ),
    s(
        0x0016,
        "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "EDH-RSA-DES-CBC3-SHA",
    ),
    s(
        0xc008,
        "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        "ECDHE-ECDSA-DES-CBC3-SHA",
    ),
    s(
        0xc012,
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "ECDHE-RSA-DES-CBC3-SHA",
    ),
    s(
        0xc003,
        "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
        "ECDH-ECDSA-DES-CBC3-SHA",
    ),
    s(
        0xc00d,
        "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
        "ECDH-RSA-DES-CBC3-SHA",
    ),
    // Static RSA key exchange with strong ciphers (no forward secrecy).
    s(
        0x009c,
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "AES128-GCM-SHA256",
    ),
    s(
        0x009d,
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "AES256-GCM-SHA384",
    ),
    s(0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"),
    s(0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256"),
    s(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"),
    s(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"),
    s(0xc09c, "TLS_RSA_WITH_AES_128_CCM", "AES128-CCM"),
    s(0xc09d, "TLS_RSA_WITH_AES_256_CCM", "AES256-CCM"),
    s(
        0x0041,
        "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
        "CAMELLIA128-SHA",
    ),
    s(
        0x0084,
        "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
        "CAMELLIA256-SHA",
    ),
    // What the TLS 1.0/1.1 probes offer besides 3DES and static RSA.
    s(
        0xc00a,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "ECDHE-ECDSA-AES256-SHA",
    ),
    s(
        0xc014,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "ECDHE-RSA-AES256-SHA",
    ),
    s(
        0x0039,
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        "DHE-RSA-AES256-SHA",
    ),
    s(
        0xc009,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDHE-ECDSA-AES128-SHA",
    ),
    s(
        0xc013,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "ECDHE-RSA-AES128-SHA",
    ),
    s(
        0x0033,
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        "DHE-RSA-AES128-SHA",
    ),
    s(SCSV, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", ""),
];

/// The IANA name of a suite, or its number when we do not know it.
pub fn suite_name(code: u16) -> String {
    SUITES
        .iter()
        .find(|suite| suite.code == code)
        .map(|suite| suite.iana.to_string())
        .unwrap_or_else(|| format!("0x{code:04x}"))
}

/// A class of suites that a server should not accept, probed on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeakClass {
    Null,
    Export,
    Anonymous,
    Rc4,
    Des,
    TripleDes,
    /// Strong ciphers, but RSA key transport: no forward secrecy.
    StaticRsa,
}

impl WeakClass {
    pub const ALL: [WeakClass; 7] = [
        WeakClass::Null,
        WeakClass::Export,
        WeakClass::Anonymous,
        WeakClass::Rc4,
        WeakClass::Des,
        WeakClass::TripleDes,
        WeakClass::StaticRsa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WeakClass::Null => "NULL",
            WeakClass::Export => "EXPORT",
            WeakClass::Anonymous => "anonymous (aNULL)",
            WeakClass::Rc4 => "RC4",
            WeakClass::Des => "single DES",
            WeakClass::TripleDes => "3DES",
            WeakClass::StaticRsa => "static RSA (no forward secrecy)",
        }
    }

    /// The OpenSSL cipher string that offers the same class, for the reproduction line.
    pub fn openssl_cipher(self) -> &'static str {
        match self {
            WeakClass::Null => "eNULL",
            WeakClass::Export => "EXP",
            WeakClass::Anonymous => "aNULL",
            WeakClass::Rc4 => "RC4",
            WeakClass::Des => "DES",
            WeakClass::TripleDes => "3DES",
            WeakClass::StaticRsa => "kRSA",
        }
    }

    /// The suites offered for this class (SCSV not included).
    pub fn suites(self) -> Vec<u16> {
        let range = |first: u16, last: u16| {
            let start = SUITES.iter().position(|s| s.code == first).unwrap_or(0);
            let end = SUITES.iter().position(|s| s.code == last).unwrap_or(0);
            SUITES[start..=end.max(start)]
                .iter()
                .map(|s| s.code)
                .collect()
        };
        match self {
            WeakClass::Null => range(0x0001, 0xc015),
            WeakClass::Export => range(0x0003, 0x0019),
            WeakClass::Anonymous => range(0x0034, 0xc016),
            WeakClass::Rc4 => range(0x0004, 0xc00c),
            WeakClass::Des => range(0x0009, 0x0015),
            WeakClass::TripleDes => range(0x000a, 0xc00d),
            WeakClass::StaticRsa => range(0x009c, 0x0084),
        }
    }
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

/// What one ClientHello offers.
pub struct Hello<'a> {
    /// The highest version offered (`client_version`).
    pub version: u16,
    /// The suites, in order, as they go on the wire.
    pub suites: &'a [u16],
    /// The host name for server_name (RFC 6066 forbids addresses there: `None` for one).
    pub sni: Option<&'a str>,
    pub random: [u8; 32],
}

/// Signature algorithms a TLS 1.2 hello offers, SHA-1 last (RFC 5246 §7.4.1.4.1: without
/// the extension a server must sign with SHA-1, which most refuse today).
const SIGNATURE_ALGORITHMS: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203,
];

/// One TLS record holding a ClientHello with `hello`'s offer.
pub fn client_hello(hello: &Hello<'_>) -> Vec<u8> {
    let mut body = Vec::new();
    push_u16(&mut body, hello.version);
    body.extend_from_slice(&hello.random);
    body.push(0); // no session id: the server cannot resume anything
    let mut suites = Vec::new();
    for code in hello.suites {
        push_u16(&mut suites, *code);
    }
    body.extend_from_slice(&with_length(2, &suites));
    body.extend_from_slice(&[1, 0]); // compression: null only

    let mut extensions = Vec::new();
    if let Some(name) = hello.sni {
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
    if hello.version >= TLS12 {
        let mut algorithms = Vec::new();
        for code in SIGNATURE_ALGORITHMS {
            push_u16(&mut algorithms, *code);
        }
        extensions.extend_from_slice(&extension(0x000d, &with_length(2, &algorithms)));
    }
    // extended_master_secret (RFC 7627), empty.
    extensions.extend_from_slice(&extension(0x0017, &[]));
    body.extend_from_slice(&with_length(2, &extensions));

    let mut handshake = vec![1u8]; // client_hello
    handshake.extend_from_slice(&with_length(3, &body));
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

/// `fatal alert handshake_failure (40)`.
pub fn describe_alert(level: u8, description: u8) -> String {
    format!(
        "{} alert {} ({description})",
        if level == 2 { "fatal" } else { "warning" },
        alert_name(description)
    )
}

/// Largest record a TLS 1.0-1.2 peer may send (2^14 plus compression and MAC overhead).
pub const MAX_RECORD: usize = 16384 + 2048;

/// Most handshake bytes read before giving up on a Certificate message: a chain of several
/// 4096-bit certificates is far below it.
pub const MAX_FLIGHT: usize = 128 * 1024;

/// One record of the server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Tls {
        kind: u8,
        body: Vec<u8>,
    },
    /// Bytes that cannot start a TLS record, shown.
    NotTls(String),
}

/// Reads one record from `buf`. Anything that is not a record header (plain text, an SMTP
/// reply, an oversized length) is `NotTls` and uses the whole buffer.
pub fn parse_record(buf: &[u8]) -> Parsed<Record> {
    let Some(header) = buf.get(..5) else {
        return Ok(None);
    };
    let (kind, major, length) = (
        header[0],
        header[1],
        usize::from(u16::from_be_bytes([header[3], header[4]])),
    );
    if !matches!(kind, 20..=23) || major != 3 || length > MAX_RECORD {
        let shown = String::from_utf8_lossy(&buf[..buf.len().min(60)]).into_owned();
        return Ok(Some((Record::NotTls(format!("{shown:?}")), buf.len())));
    }
    let Some(body) = buf.get(5..5 + length) else {
        return Ok(None);
    };
    Ok(Some((
        Record::Tls {
            kind,
            body: body.to_vec(),
        },
        5 + length,
    )))
}

/// The server's first flight as far as a probe reads it: the answer to the hello and, when
/// asked for, the certificate chain that follows a ServerHello.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flight {
    pub answer: Option<Answer>,
    /// `Ok(empty)`: the server sent no Certificate (an anonymous suite); `Err`: why no chain
    /// could be read.
    pub chain: Option<Result<Vec<Vec<u8>>, String>>,
    want_chain: bool,
    handshake: Vec<u8>,
}

impl Flight {
    pub fn new(want_chain: bool) -> Flight {
        Flight {
            want_chain,
            ..Flight::default()
        }
    }

    /// Whether nothing more is needed.
    pub fn done(&self) -> bool {
        match &self.answer {
            None => false,
            Some(Answer::ServerHello { .. }) => !self.want_chain || self.chain.is_some(),
            Some(_) => true,
        }
    }

    /// Something went wrong: before the ServerHello it is the answer, after it the chain's.
    fn fail(&mut self, why: String) {
        if self.answer.is_none() {
            self.answer = Some(Answer::Other(why));
        } else if self.chain.is_none() {
            self.chain = Some(Err(why));
        }
    }

    /// Takes one record. Warning alerts other than close_notify (some servers send
    /// `unrecognized_name` before their ServerHello) are skipped.
    pub fn push(&mut self, record: Record) {
        if self.done() {
            return;
        }
        match record {
            Record::NotTls(shown) => self.fail(format!("not a TLS record: {shown}")),
            Record::Tls { kind: 21, body } => match body[..] {
                [1, description, ..] if description != 0 => {}
                [level, description, ..] if self.answer.is_none() => {
                    self.answer = Some(Answer::Alert { level, description });
                }
                [level, description, ..] => self.fail(format!(
                    "{} after the ServerHello",
                    describe_alert(level, description)
                )),
                _ => self.fail("truncated alert".into()),
            },
            Record::Tls { kind: 22, body } => {
                self.handshake.extend_from_slice(&body);
                if self.handshake.len() > MAX_FLIGHT {
                    self.fail(format!(
                        "more than {MAX_FLIGHT} handshake bytes without the message awaited"
                    ));
                    return;
                }
                self.read_messages();
            }
            Record::Tls { kind, .. } => self.fail(format!(
                "unexpected record type {kind} before the {}",
                if self.answer.is_none() {
                    "ServerHello"
                } else {
                    "Certificate"
                }
            )),
        }
    }

    fn read_messages(&mut self) {
        while !self.done() {
            let Some(header) = self.handshake.get(..4) else {
                return;
            };
            let kind = header[0];
            let length = (usize::from(header[1]) << 16)
                | (usize::from(header[2]) << 8)
                | usize::from(header[3]);
            if length > MAX_FLIGHT {
                self.fail(format!(
                    "handshake message type {kind} claims {length} bytes"
                ));
                return;
            }
            if self.handshake.len() < 4 + length {
                return;
            }
            let body: Vec<u8> = self.handshake.drain(..4 + length).skip(4).collect();
            self.message(kind, &body);
        }
    }

    fn message(&mut self, kind: u8, body: &[u8]) {
        if self.answer.is_none() {
            if kind != 2 {
                self.fail(format!(
                    "handshake message type {kind} instead of ServerHello"
                ));
                return;
            }
            match parse_server_hello(body) {
                Some((version, cipher)) => {
                    self.answer = Some(Answer::ServerHello { version, cipher });
                }
                None => self.fail(format!("malformed ServerHello ({} bytes)", body.len())),
            }
            return;
        }
        match kind {
            11 => self.chain = Some(parse_certificates(body)),
            // ServerHelloDone without a Certificate: an anonymous suite.
            14 => self.chain = Some(Ok(Vec::new())),
            // ServerKeyExchange, CertificateRequest, CertificateStatus: not needed.
            12 | 13 | 22 => {}
            other => self.fail(format!(
                "unexpected handshake message type {other} after the ServerHello"
            )),
        }
    }
}

/// `server_version(2) random(32) session_id(1+n) cipher_suite(2) compression(1) ...`.
fn parse_server_hello(body: &[u8]) -> Option<(u16, u16)> {
    let version = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    let session_id_length = usize::from(*body.get(34)?);
    if session_id_length > 32 {
        return None;
    }
    let cipher_at = 35 + session_id_length;
    let cipher = body.get(cipher_at..cipher_at + 2)?;
    body.get(cipher_at + 2)?; // the compression method
    Some((version, u16::from_be_bytes([cipher[0], cipher[1]])))
}

/// A Certificate message: a 24-bit list length, then each DER certificate with its own.
fn parse_certificates(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let u24 = |at: usize| -> Option<usize> {
        let b = body.get(at..at + 3)?;
        Some((usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    };
    let malformed = || format!("malformed Certificate message ({} bytes)", body.len());
    let total = u24(0).ok_or_else(malformed)?;
    if 3 + total != body.len() {
        return Err(malformed());
    }
    let mut chain = Vec::new();
    let mut at = 3;
    while at < body.len() {
        let length = u24(at).ok_or_else(malformed)?;
        let der = body.get(at + 3..at + 3 + length).ok_or_else(malformed)?;
        chain.push(der.to_vec());
        at += 3 + length;
    }
    Ok(chain)
}

/// Reads the flight in `buf` (records one after the other), for tests and fuzzing: the
/// flight once done, with the bytes used.
pub fn parse_flight(buf: &[u8], want_chain: bool) -> Parsed<Flight> {
    let mut flight = Flight::new(want_chain);
    let mut pos = 0;
    while !flight.done() {
        match parse_record(&buf[pos..])? {
            Some((record, used)) => {
                pos += used;
                flight.push(record);
            }
            None => return Ok(None),
        }
    }
    Ok(Some((flight, pos)))
}

/// The answer alone: what the version and cipher probes need.
pub fn parse_answer(buf: &[u8]) -> Parsed<Answer> {
    Ok(parse_flight(buf, false)?.and_then(|(flight, used)| Some((flight.answer?, used))))
}

/// Reads the server's first flight off `conn`, record by record, all within one timeout
/// (so a server trickling records cannot stretch it). The answer is `Err` when none came;
/// the chain (when `want_chain`) says why it is missing when the answer came but not it.
pub async fn read_flight(
    conn: &mut Conn,
    want_chain: bool,
) -> (
    Result<Answer, ProbeError>,
    Option<Result<Vec<Vec<u8>>, String>>,
) {
    let timeout = conn.timeout();
    let mut flight = Flight::new(want_chain);
    let read = async {
        while !flight.done() {
            let during = if flight.answer.is_none() {
                "answer to the ClientHello"
            } else {
                "Certificate"
            };
            match conn.read_with(parse_record, during).await {
                Ok(record) => flight.push(record),
                Err(err) => return Err(err),
            }
        }
        Ok(())
    };
    let ended = match tokio::time::timeout(timeout, read).await {
        Ok(result) => result,
        Err(_) => Err(ProbeError::Timeout {
            during: "the server's first TLS flight".into(),
            after: timeout,
        }),
    };
    let Flight { answer, chain, .. } = flight;
    match (answer, ended) {
        (Some(answer), Ok(())) => (Ok(answer), chain),
        (Some(answer), Err(err)) => (Ok(answer), Some(Err(err.to_string()))),
        (None, Err(err)) => (Err(err), None),
        (None, Ok(())) => (
            Err(ProbeError::Garbage("no answer to the ClientHello".into())),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ServerHello handshake message (header included) for `version` and `cipher`.
    pub(crate) fn server_hello_message(version: u16, cipher: u16) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&version.to_be_bytes());
        body.extend_from_slice(&[7; 32]);
        body.push(32);
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&cipher.to_be_bytes());
        body.push(0);
        let mut message = vec![2];
        message.extend_from_slice(&with_length(3, &body));
        message
    }

    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, 3, 3];
        out.extend_from_slice(&with_length(2, body));
        out
    }

    fn certificate_message(certs: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for cert in certs {
            list.extend_from_slice(&with_length(3, cert));
        }
        let mut message = vec![11];
        message.extend_from_slice(&with_length(3, &with_length(3, &list)));
        message
    }

    #[test]
    fn tls12_hello_offers_the_suites_and_signature_algorithms() {
        let suites = WeakClass::Anonymous.suites();
        let record = client_hello(&Hello {
            version: TLS12,
            suites: &suites,
            sni: Some("mail.ref.test"),
            random: [1; 32],
        });
        assert_eq!(&record[..3], &[22, 3, 1]);
        assert_eq!(
            usize::from(u16::from_be_bytes([record[3], record[4]])),
            record.len() - 5
        );
        assert_eq!(&record[9..11], &[3, 3]);
        let suites_length = usize::from(u16::from_be_bytes([record[44], record[45]]));
        assert_eq!(suites_length, suites.len() * 2);
        assert_eq!(&record[46..48], &[0x00, 0x34]);
        // signature_algorithms is there, with SHA-256 ECDSA first.
        assert!(
            record
                .windows(6)
                .any(|w| w[..2] == [0x00, 0x0d] && w[4..] == [0x00, 0x16])
        );
        // A TLS 1.0 hello has none (the extension is TLS 1.2's).
        let old = client_hello(&Hello {
            version: TLS10,
            suites: &suites,
            sni: None,
            random: [1; 32],
        });
        assert!(!old.windows(4).any(|w| w == [0x00, 0x0d, 0x00, 0x18]));
    }

    #[test]
    fn every_class_has_its_own_suites_and_names() {
        for class in WeakClass::ALL {
            let suites = class.suites();
            assert!(suites.len() >= 4, "{class:?}");
            for code in &suites {
                assert!(!suite_name(*code).starts_with("0x"), "{code:04x}");
                // No suite in two classes: each probe says something of its own.
                for other in WeakClass::ALL {
                    if other != class {
                        assert!(!other.suites().contains(code), "{code:04x} in {other:?}");
                    }
                }
            }
        }
        assert_eq!(WeakClass::StaticRsa.suites()[0], 0x009c);
        assert_eq!(*WeakClass::StaticRsa.suites().last().unwrap(), 0x0084);
        assert!(WeakClass::TripleDes.suites().contains(&0x000a));
        assert!(!WeakClass::Des.suites().contains(&0x000a));
        assert_eq!(suite_name(0x1301), "0x1301");
    }

    #[test]
    fn a_server_hello_then_its_certificates_are_read() {
        let mut raw = record(22, &server_hello_message(TLS10, 0xc014));
        let mut rest = certificate_message(&[b"leaf-der", b"ca-der"]);
        rest.extend_from_slice(&[14, 0, 0, 0]);
        raw.extend_from_slice(&record(22, &rest));
        let (flight, used) = parse_flight(&raw, true).unwrap().unwrap();
        assert_eq!(used, raw.len());
        assert_eq!(
            flight.answer,
            Some(Answer::ServerHello {
                version: TLS10,
                cipher: 0xc014
            })
        );
        assert_eq!(
            flight.chain,
            Some(Ok(vec![b"leaf-der".to_vec(), b"ca-der".to_vec()]))
        );
        // Without the chain wanted, the ServerHello record is enough.
        let (answer, used) = parse_answer(&raw).unwrap().unwrap();
        assert!(matches!(answer, Answer::ServerHello { cipher: 0xc014, .. }));
        assert_eq!(used, 5 + server_hello_message(TLS10, 0xc014).len());
        // Every prefix short of the Certificate waits.
        let whole = raw.len() - 4 - 5;
        for end in 0..whole {
            assert_eq!(parse_flight(&raw[..end], true).unwrap(), None, "at {end}");
        }
    }

    #[test]
    fn messages_coalesced_or_split_across_records_are_reassembled() {
        let mut messages = server_hello_message(TLS12, 0x002f);
        messages.extend_from_slice(&certificate_message(&[b"x"]));
        // One record holding both.
        let one = record(22, &messages);
        let (flight, _) = parse_flight(&one, true).unwrap().unwrap();
        assert_eq!(flight.chain, Some(Ok(vec![b"x".to_vec()])));
        // Three records cutting through both messages.
        let mut split = record(22, &messages[..10]);
        split.extend_from_slice(&record(22, &messages[10..80]));
        split.extend_from_slice(&record(22, &messages[80..]));
        let (again, _) = parse_flight(&split, true).unwrap().unwrap();
        assert_eq!(again, flight);
    }

    #[test]
    fn anonymous_suites_have_no_certificate() {
        let mut messages = server_hello_message(TLS12, 0x00a7);
        messages.extend_from_slice(&[12, 0, 0, 2, 0xaa, 0xbb]); // ServerKeyExchange
        messages.extend_from_slice(&[14, 0, 0, 0]);
        let (flight, _) = parse_flight(&record(22, &messages), true).unwrap().unwrap();
        assert_eq!(flight.chain, Some(Ok(vec![])));
    }

    #[test]
    fn alerts_garbage_and_bounds() {
        // A fatal alert is the answer; a warning unrecognized_name before it is skipped.
        let mut raw = record(21, &[1, 112]);
        raw.extend_from_slice(&record(21, &[2, 40]));
        assert_eq!(
            parse_answer(&raw).unwrap().unwrap().0,
            Answer::Alert {
                level: 2,
                description: 40
            }
        );
        assert_eq!(describe_alert(2, 40), "fatal alert handshake_failure (40)");
        // Plain text is not TLS.
        let (answer, used) = parse_answer(b"454 4.7.0 TLS not available\r\n")
            .unwrap()
            .unwrap();
        assert!(matches!(answer, Answer::Other(ref w) if w.contains("not a TLS record")));
        assert_eq!(used, 29);
        // Oversized record lengths are refused, not awaited.
        assert!(matches!(
            parse_answer(&[22, 3, 1, 0xff, 0xff]).unwrap().unwrap().0,
            Answer::Other(_)
        ));
        // A handshake message claiming 16 MB is refused, not awaited.
        assert!(matches!(
            parse_answer(&record(22, &[2, 0xff, 0xff, 0xff])).unwrap().unwrap().0,
            Answer::Other(ref w) if w.contains("claims")
        ));
        // A ServerHello too short to hold a cipher suite is malformed.
        assert!(matches!(
            parse_answer(&record(22, &[2, 0, 0, 3, 3, 3, 0])).unwrap().unwrap().0,
            Answer::Other(ref w) if w.contains("malformed ServerHello")
        ));
        // Another message first.
        assert!(matches!(
            parse_answer(&record(22, &[11, 0, 0, 0])).unwrap().unwrap().0,
            Answer::Other(ref w) if w.contains("instead of ServerHello")
        ));
        // Application data before anything.
        assert!(matches!(
            parse_answer(&record(23, &[0; 4])).unwrap().unwrap().0,
            Answer::Other(ref w) if w.contains("record type 23")
        ));
        // An alert after the ServerHello spoils the chain, not the answer.
        let mut raw = record(22, &server_hello_message(TLS10, 0x002f));
        raw.extend_from_slice(&record(21, &[2, 80]));
        let (flight, _) = parse_flight(&raw, true).unwrap().unwrap();
        assert!(matches!(flight.answer, Some(Answer::ServerHello { .. })));
        assert!(matches!(flight.chain, Some(Err(ref w)) if w.contains("internal_error")));
        // A broken certificate list is an error, not a panic.
        let mut raw = record(22, &server_hello_message(TLS10, 0x002f));
        raw.extend_from_slice(&record(22, &[11, 0, 0, 6, 0, 0, 3, 0, 0, 9]));
        let (flight, _) = parse_flight(&raw, true).unwrap().unwrap();
        assert!(matches!(flight.chain, Some(Err(ref w)) if w.contains("malformed Certificate")));
    }

    #[test]
    fn no_input_makes_the_parser_panic() {
        // Every short prefix and a few byte patterns: a value or "need more", never a panic.
        let mut raw = record(22, &server_hello_message(TLS12, 0xc012));
        raw.extend_from_slice(&record(22, &certificate_message(&[&[0x30; 40]])));
        for end in 0..raw.len() {
            let _ = parse_flight(&raw[..end], true);
            let mut bent = raw.clone();
            bent[end] ^= 0xff;
            let _ = parse_flight(&bent, true);
            bent[end] = 0;
            let _ = parse_flight(&bent, true);
        }
    }
}
