//! Raw TLS probes over the protocol openers: a fresh connection opened by the SMTP, IMAP or
//! POP3 client (greeting, hello, STARTTLS/STLS) or implicit TLS, then a hand-made ClientHello
//! (see [`super::raw_tls`] for why by hand) and the server's first flight. Three uses:
//! TLS 1.0/1.1 offers for `tls.protocol.min`, one offer per weak suite class for
//! `tls.ciphers.weak`, and the certificate chain of a TLS 1.0/1.1 handshake for `tls.cert.*`
//! when the server speaks nothing newer. Every step is bounded by the run's timeout.

use std::net::SocketAddr;

use rustls_pki_types::CertificateDer;

use super::ProbeError;
use super::conn::Conn;
use super::imap::{ImapOptions, ImapSession};
use super::net::NetOptions;
use super::pop3::{Pop3Options, Pop3Session};
use super::raw_tls::{self, Hello, SCSV, TLS12, describe_alert, read_flight};
pub use super::raw_tls::{Answer, WeakClass, alert_name, parse_answer, suite_name, version_name};
use super::session::{OpenFailure, request_tls};
use super::smtp::{OpenOptions, Session};
use super::tls::{TlsInfo, TlsObservation};

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
            LegacyVersion::Tls10 => raw_tls::TLS10,
            LegacyVersion::Tls11 => raw_tls::TLS11,
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

/// What a TLS 1.0/1.1 client of the last decade offers (OpenSSL 1.0.2's default order, less
/// the export, RC4 and anonymous suites): a server that accepts the version finds a suite here.
pub const CIPHER_SUITES: &[u16] = &[
    0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x0035, 0x002f, 0x000a, SCSV,
];

/// One TLS record holding a ClientHello that offers only `version`. `sni` is the host name to
/// send in server_name (RFC 6066 forbids addresses there: pass `None` for an address).
pub fn client_hello(version: LegacyVersion, sni: Option<&str>, random: [u8; 32]) -> Vec<u8> {
    raw_tls::client_hello(&Hello {
        version: version.wire(),
        suites: CIPHER_SUITES,
        sni,
        random,
    })
}

/// What one offer showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with a ServerHello at `version` (the offered one or older).
    Accepted { version: u16, cipher: u16 },
    /// The server refused: an alert, a closed connection, or a ServerHello for a newer
    /// version than offered (which no such client can go on with). The reason, in words.
    Refused(String),
    /// We could not tell (timeout, garbage, a suite that was not offered).
    Unknown(String),
}

/// Judges the answer to an offer of versions up to `max` and, when given, only `offered`.
pub fn judge_answer(
    max: u16,
    offered: Option<&[u16]>,
    answer: Result<Answer, ProbeError>,
) -> Outcome {
    match answer {
        Ok(Answer::ServerHello { version, cipher })
            if offered.is_some_and(|suites| !suites.contains(&cipher)) =>
        {
            Outcome::Unknown(format!(
                "the server chose {} at {}, which was not offered (a broken TLS stack)",
                suite_name(cipher),
                version_name(version)
            ))
        }
        Ok(Answer::ServerHello { version, cipher }) if version <= max => {
            Outcome::Accepted { version, cipher }
        }
        Ok(Answer::ServerHello { version, .. }) => Outcome::Refused(format!(
            "answered with a {} ServerHello, which a {} client aborts",
            version_name(version),
            version_name(max)
        )),
        Ok(Answer::Alert { level, description }) => {
            Outcome::Refused(describe_alert(level, description))
        }
        Ok(Answer::Other(what)) => Outcome::Unknown(what),
        Err(ProbeError::Closed) => {
            Outcome::Refused("closed the connection without a ServerHello".into())
        }
        Err(ProbeError::Io(err)) => Outcome::Refused(format!("dropped the connection ({err})")),
        Err(err) => Outcome::Unknown(err.to_string()),
    }
}

/// Judges the answer to an offer of `offered`.
pub fn outcome(offered: LegacyVersion, answer: Result<Answer, ProbeError>) -> Outcome {
    judge_answer(offered.wire(), None, answer)
}

/// How the endpoint reaches the point where the server waits for a ClientHello.
#[derive(Clone, Debug)]
pub enum Opener {
    /// TLS from the first byte (465, 993, 995).
    Implicit,
    /// The SMTP opening (greeting, EHLO, polite retry), then `STARTTLS`.
    Smtp(OpenOptions),
    /// The IMAP opening (greeting, CAPABILITY), then `STARTTLS`.
    Imap(ImapOptions),
    /// The POP3 opening (greeting, CAPA), then `STLS`.
    Pop3(Pop3Options),
}

impl Opener {
    /// `-starttls smtp` for the reproduction command line.
    fn openssl_option(&self) -> &'static str {
        match self {
            Opener::Implicit => "",
            Opener::Smtp(_) => " -starttls smtp",
            Opener::Imap(_) => " -starttls imap",
            Opener::Pop3(_) => " -starttls pop3",
        }
    }
}

/// Opens a connection with the protocol's own opener and stops where the server waits for
/// a ClientHello. `Err` when the opening itself failed (no STARTTLS, refused, dead endpoint).
pub async fn open_raw(
    addr: SocketAddr,
    opener: &Opener,
    net: &NetOptions,
) -> Result<Conn, OpenFailure> {
    let mut conn = match opener {
        Opener::Implicit => Conn::open(addr, None, net).await?,
        Opener::Smtp(options) => {
            let options = OpenOptions {
                implicit_tls: false,
                starttls: false,
                ..options.clone()
            };
            let mut session = Session::open(&options, net).await?;
            if let Err(kind) = request_tls(&mut session).await {
                return Err(session.client.conn.abandon(kind));
            }
            session.client.conn
        }
        Opener::Imap(options) => {
            let options = ImapOptions {
                implicit_tls: false,
                starttls: false,
                ..options.clone()
            };
            let mut session = ImapSession::open(&options, net).await?;
            if let Err(kind) = request_tls(&mut session).await {
                return Err(session.client.conn.abandon(kind));
            }
            session.client.conn
        }
        Opener::Pop3(options) => {
            let options = Pop3Options {
                implicit_tls: false,
                starttls: false,
                ..options.clone()
            };
            let mut session = Pop3Session::open(&options, net).await?;
            if let Err(kind) = request_tls(&mut session).await {
                return Err(session.client.conn.abandon(kind));
            }
            session.client.conn
        }
    };
    conn.discard_buffered();
    Ok(conn)
}

/// No SNI for an address (RFC 6066 §3), as the probes themselves send none.
fn sni(server_name: &str) -> Option<&str> {
    server_name
        .parse::<std::net::IpAddr>()
        .is_err()
        .then_some(server_name)
}

fn openssl_base(addr: SocketAddr, opener: &Opener, server_name: &str) -> String {
    let sni = match sni(server_name) {
        Some(name) => format!(" -servername {name}"),
        None => String::new(),
    };
    format!(
        "openssl s_client -connect {addr}{}{sni}",
        opener.openssl_option()
    )
}

/// The `openssl s_client` line that makes the same legacy offer.
pub fn reproduce(
    addr: SocketAddr,
    opener: &Opener,
    server_name: &str,
    version: LegacyVersion,
) -> String {
    format!(
        "{} {} -cipher 'DEFAULT:@SECLEVEL=0'",
        openssl_base(addr, opener, server_name),
        version.openssl_flag()
    )
}

/// The `openssl s_client` line that offers the same class at TLS 1.2 (what a local OpenSSL
/// still has of it: Debian's OpenSSL 3 lacks EXPORT, and RC4/DES without the legacy provider).
pub fn reproduce_class(
    addr: SocketAddr,
    opener: &Opener,
    server_name: &str,
    class: WeakClass,
) -> String {
    format!(
        "{} -tls1_2 -cipher '{}:@SECLEVEL=0'",
        openssl_base(addr, opener, server_name),
        class.openssl_cipher()
    )
}

/// What the server answered to one hand-made hello, on the connection that carried it.
struct Exchange {
    conn: Conn,
    answer: Result<Answer, ProbeError>,
    chain: Option<Result<Vec<Vec<u8>>, String>>,
}

/// Opens, sends `hello` (recorded as `shown`), reads the first flight.
async fn exchange(
    addr: SocketAddr,
    opener: &Opener,
    net: &NetOptions,
    hello: &[u8],
    shown: &str,
    want_chain: bool,
) -> Result<Exchange, OpenFailure> {
    let mut conn = open_raw(addr, opener, net).await?;
    conn.transcript.client(shown);
    let (answer, chain) = match conn.write_raw(hello).await {
        Ok(()) => read_flight(&mut conn, want_chain).await,
        Err(err) => (Err(err), None),
    };
    match &answer {
        Ok(Answer::ServerHello { version, cipher }) => conn.transcript.server(&format!(
            "<ServerHello: {}, cipher {}>",
            version_name(*version),
            suite_name(*cipher)
        )),
        Ok(Answer::Alert { level, description }) => conn
            .transcript
            .server(&format!("<TLS {}>", describe_alert(*level, *description))),
        Ok(Answer::Other(what)) => conn.transcript.note(what),
        Err(_) => {}
    }
    match &chain {
        Some(Ok(certs)) => conn.transcript.server(&format!(
            "<Certificate: {} certificate(s), {} bytes>",
            certs.len(),
            certs.iter().map(Vec::len).sum::<usize>()
        )),
        Some(Err(why)) => conn
            .transcript
            .note(&format!("no certificate chain: {why}")),
        None => {}
    }
    Ok(Exchange {
        conn,
        answer,
        chain,
    })
}

/// One legacy offer on one connection, with its dialog.
#[derive(Clone, Debug)]
pub struct LegacyProbe {
    pub version: LegacyVersion,
    pub outcome: Outcome,
    pub evidence: Vec<String>,
    /// When the chain was asked for and the offer accepted: the handshake as the
    /// `tls.cert.*` checks judge it, or why the chain could not be read.
    pub handshake: Option<Result<TlsObservation, String>>,
}

/// An accepted legacy handshake as the `tls.cert.*` checks see a rustls one.
pub fn legacy_observation(
    version: u16,
    cipher: u16,
    server_name: &str,
    chain: Vec<Vec<u8>>,
    evidence: Vec<String>,
) -> TlsObservation {
    TlsObservation {
        info: TlsInfo {
            // As openssl names them.
            version: match version {
                raw_tls::TLS10 => "TLSv1".into(),
                raw_tls::TLS11 => "TLSv1.1".into(),
                other => version_name(other),
            },
            cipher: suite_name(cipher),
            server_name: server_name.to_string(),
            chain: chain.into_iter().map(CertificateDer::from).collect(),
        },
        evidence,
    }
}

/// Offers only `version` and reads the answer (and, with `want_chain`, the certificates).
pub async fn probe(
    addr: SocketAddr,
    opener: &Opener,
    server_name: &str,
    version: LegacyVersion,
    net: &NetOptions,
    want_chain: bool,
) -> Result<LegacyProbe, OpenFailure> {
    let sni = sni(server_name);
    let hello = client_hello(version, sni, rand::random());
    let names: Vec<String> = CIPHER_SUITES[..CIPHER_SUITES.len() - 1]
        .iter()
        .map(|code| suite_name(*code))
        .collect();
    let shown = format!(
        "<{} ClientHello, {} bytes: only {} offered; suites {}; SNI {}>",
        version.name(),
        hello.len(),
        version.name(),
        names.join(":"),
        sni.unwrap_or("(none: an address)")
    );
    let mut done = exchange(addr, opener, net, &hello, &shown, want_chain).await?;
    let outcome = outcome(version, done.answer);
    done.conn.transcript.note(&format!(
        "reproduce: {}",
        reproduce(addr, opener, server_name, version)
    ));
    let evidence = done.conn.transcript.lines().to_vec();
    done.conn.close().await;
    let handshake = match (&outcome, done.chain) {
        (Outcome::Accepted { version, cipher }, Some(chain)) => Some(chain.map(|certs| {
            legacy_observation(*version, *cipher, server_name, certs, evidence.clone())
        })),
        _ => None,
    };
    Ok(LegacyProbe {
        version,
        outcome,
        evidence,
        handshake,
    })
}

/// One weak-class offer on one connection, with its dialog.
#[derive(Clone, Debug)]
pub struct CipherProbe {
    pub class: WeakClass,
    pub outcome: Outcome,
    pub evidence: Vec<String>,
}

/// Offers TLS 1.2 and below with only `class`'s suites and reads the answer.
pub async fn probe_class(
    addr: SocketAddr,
    opener: &Opener,
    server_name: &str,
    class: WeakClass,
    net: &NetOptions,
) -> Result<CipherProbe, OpenFailure> {
    let sni = sni(server_name);
    let mut suites = class.suites();
    let offered = suites.clone();
    suites.push(SCSV);
    let hello = raw_tls::client_hello(&Hello {
        version: TLS12,
        suites: &suites,
        sni,
        random: rand::random(),
    });
    let names: Vec<String> = offered.iter().map(|code| suite_name(*code)).collect();
    let shown = format!(
        "<TLS 1.2 ClientHello, {} bytes: only {} suites offered: {}; SNI {}>",
        hello.len(),
        class.name(),
        names.join(":"),
        sni.unwrap_or("(none: an address)")
    );
    let mut done = exchange(addr, opener, net, &hello, &shown, false).await?;
    let outcome = judge_answer(TLS12, Some(&offered), done.answer);
    done.conn.transcript.note(&format!(
        "reproduce: {}",
        reproduce_class(addr, opener, server_name, class)
    ));
    let evidence = done.conn.transcript.lines().to_vec();
    done.conn.close().await;
    Ok(CipherProbe {
        class,
        outcome,
        evidence,
    })
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

    fn smtp_opener(addr: SocketAddr) -> Opener {
        Opener::Smtp(OpenOptions {
            addr,
            server_name: "mail.ref.test".into(),
            implicit_tls: false,
            starttls: false,
            helo_name: None,
            retry_pause: std::time::Duration::ZERO,
        })
    }

    #[test]
    fn weak_class_answers_are_judged_against_what_was_offered() {
        let offered = WeakClass::Anonymous.suites();
        let hello = |cipher| {
            Ok(Answer::ServerHello {
                version: TLS12,
                cipher,
            })
        };
        assert_eq!(
            judge_answer(TLS12, Some(&offered), hello(0x00a7)),
            Outcome::Accepted {
                version: TLS12,
                cipher: 0x00a7
            }
        );
        // A suite of another class than offered: the server is broken, we cannot tell.
        assert!(matches!(
            judge_answer(TLS12, Some(&offered), hello(0xc02f)),
            Outcome::Unknown(why) if why.contains("0xc02f") && why.contains("not offered")
        ));
        // An older version than offered is still acceptance.
        assert!(matches!(
            judge_answer(
                TLS12,
                Some(&offered),
                Ok(Answer::ServerHello {
                    version: 0x0301,
                    cipher: 0x0034
                })
            ),
            Outcome::Accepted {
                version: 0x0301,
                ..
            }
        ));
        assert_eq!(
            judge_answer(
                TLS12,
                Some(&offered),
                Ok(Answer::Alert {
                    level: 2,
                    description: 40
                })
            ),
            Outcome::Refused("fatal alert handshake_failure (40)".into())
        );
    }

    #[test]
    fn an_accepted_legacy_handshake_is_an_observation() {
        let evidence = vec!["C: <TLS 1.1 ClientHello>".to_string()];
        let observation = legacy_observation(
            0x0301,
            0xc014,
            "mail.weak.test",
            vec![vec![0x30, 0x00]],
            evidence.clone(),
        );
        assert_eq!(observation.info.version, "TLSv1");
        assert_eq!(
            observation.info.cipher,
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
        );
        assert_eq!(observation.info.server_name, "mail.weak.test");
        assert_eq!(observation.info.chain.len(), 1);
        assert_eq!(observation.evidence, evidence);
        let v11 = legacy_observation(0x0302, 0x002f, "x", vec![], vec![]);
        assert_eq!(v11.info.version, "TLSv1.1");
    }

    #[test]
    fn reproduction_lines() {
        let addr: SocketAddr = "127.0.100.10:25".parse().unwrap();
        assert_eq!(
            reproduce(
                addr,
                &smtp_opener(addr),
                "mail.ref.test",
                LegacyVersion::Tls10
            ),
            "openssl s_client -connect 127.0.100.10:25 -starttls smtp -servername mail.ref.test -tls1 -cipher 'DEFAULT:@SECLEVEL=0'"
        );
        assert!(
            reproduce(addr, &Opener::Implicit, "x.test", LegacyVersion::Tls11)
                .contains(" -tls1_1 ")
        );
        assert_eq!(
            reproduce(
                addr,
                &Opener::Implicit,
                "127.0.100.10",
                LegacyVersion::Tls10
            ),
            "openssl s_client -connect 127.0.100.10:25 -tls1 -cipher 'DEFAULT:@SECLEVEL=0'"
        );
    }
}
