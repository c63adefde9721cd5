//! `tls.ciphers.weak` against the real lab (the reference refuses every weak class, the weak
//! Postfix accepts NULL, anonymous and static-RSA suites, see docker/README.md), cross-checked
//! with `openssl s_client`, and against hostile in-process fakes on 127.0.100.226-.228:465
//! (garbage, a truncated ServerHello, an endless handshake), which must end in `error` within
//! the timeouts.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{json, mailcheck};

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";

fn run(target: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "run",
        target,
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--format",
        "json",
        "--only",
        "tls.ciphers.weak",
    ];
    args.extend_from_slice(extra);
    json(&mailcheck(&args))
}

/// `(status, message, evidence)` of the result at `port`.
fn result(report: &serde_json::Value, port: u16) -> (String, String, Vec<String>) {
    let found = report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["id"] == "tls.ciphers.weak"
                && r["endpoint"]
                    .as_str()
                    .is_some_and(|e| e.contains(&format!(":{port}/")))
        })
        .unwrap_or_else(|| panic!("no tls.ciphers.weak at {port}: {report}"));
    let evidence = found["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    (
        found["status"].as_str().unwrap().to_string(),
        found["message"].as_str().unwrap().to_string(),
        evidence,
    )
}

/// Whether `openssl s_client` completes a TLS 1.2 handshake offering only `cipher`.
fn openssl_accepts(connect: &str, starttls: Option<&str>, cipher: &str) -> bool {
    let mut command = Command::new("timeout");
    command.args(["10", "openssl", "s_client", "-connect", connect, "-brief"]);
    if let Some(protocol) = starttls {
        command.args(["-starttls", protocol]);
    }
    let output = command
        .args(["-tls1_2", "-cipher", &format!("{cipher}:@SECLEVEL=0")])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl runs");
    String::from_utf8_lossy(&output.stderr).contains("CONNECTION ESTABLISHED")
}

#[test]
fn the_reference_refuses_every_weak_class_on_every_port() {
    common::require_lab(&["127.0.100.10:25", "127.0.100.10:993"]);
    let started = Instant::now();
    let report = run("mail.ref.test", &[]);
    eprintln!("reference tls.ciphers.weak took {:?}", started.elapsed());
    for port in [25, 587, 465, 143, 993, 110, 995] {
        let (status, message, evidence) = result(&report, port);
        assert_eq!(status, "pass", "{port}: {message}");
        for class in [
            "NULL (",
            "EXPORT (",
            "anonymous (aNULL) (",
            "RC4 (",
            "single DES (",
            "3DES (",
            "static RSA",
        ] {
            assert!(message.contains(class), "{port}: {class} in {message}");
        }
        // Every class's hello and the server's answer are in the evidence.
        let hellos = evidence
            .iter()
            .filter(|l| l.starts_with("C: <TLS 1.2 ClientHello"))
            .count();
        assert_eq!(hellos, 7, "{port}: {evidence:#?}");
        assert!(
            evidence
                .iter()
                .any(|l| l.contains("TLS_DH_anon_WITH_AES_256_GCM_SHA384")),
            "the offered suites are named"
        );
    }
    // Postfix alerts, Dovecot closes.
    assert!(result(&report, 587).1.contains("handshake_failure (40)"));
    assert!(result(&report, 993).1.contains("closed the connection"));
    // openssl agrees: the reference refuses an anonymous suite that the weak server takes.
    assert!(!openssl_accepts("127.0.100.10:587", Some("smtp"), "aNULL"));
}

#[test]
fn the_weak_server_warns_on_25_and_fails_on_587() {
    common::require_lab(&["127.0.100.20:25", "127.0.100.20:587"]);
    let report = run("mail.weak.test", &[]);
    let (status25, message25, _) = result(&report, 25);
    assert_eq!(status25, "warn", "{message25}");
    assert!(message25.contains("RFC 7435"), "{message25}");
    let (status, message, evidence) = result(&report, 587);
    assert_eq!(status, "fail", "{message}");
    for wanted in [
        "NULL: TLS_",
        "anonymous (aNULL): TLS_",
        "without forward secrecy",
    ] {
        assert!(message.contains(wanted), "{wanted} in {message}");
    }
    assert!(
        evidence
            .iter()
            .any(|l| l.starts_with("S: <ServerHello: TLS 1.2, cipher TLS_DH_anon_")),
        "{evidence:#?}"
    );
    // The classes Debian's OpenSSL does not have are refused with an alert.
    assert!(
        evidence
            .iter()
            .any(|l| l == "S: <TLS fatal alert handshake_failure (40)>"),
        "{evidence:#?}"
    );
    // openssl agrees with each verdict it can reproduce.
    assert!(openssl_accepts("127.0.100.20:587", Some("smtp"), "aNULL"));
    assert!(openssl_accepts("127.0.100.20:587", Some("smtp"), "eNULL"));
    assert!(openssl_accepts("127.0.100.20:25", Some("smtp"), "kRSA"));
    // The reproduce line of the anonymous probe is that command.
    assert!(evidence.iter().any(|l| l
        == "* reproduce: openssl s_client -connect 127.0.100.20:587 -starttls smtp -servername mail.weak.test -tls1_2 -cipher 'aNULL:@SECLEVEL=0'"));
}

/// How a fake answers the hand-made ClientHellos (rustls's own hello gets an alert, so that
/// the raw probes run).
#[derive(Clone, Copy)]
enum Hostile {
    Garbage,
    TruncatedServerHello,
    EndlessHandshake,
}

fn read_hello(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}

fn serve(mut stream: TcpStream, hostile: Hostile) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let Some(hello) = read_hello(&mut stream) else {
        return;
    };
    // rustls always offers supported_versions (0x002b); the raw probes never do.
    if hello.windows(2).any(|w| w == [0x00, 0x2b]) {
        let _ = stream.write_all(&[21, 3, 3, 0, 2, 2, 40]);
        return;
    }
    match hostile {
        Hostile::Garbage => {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
        Hostile::TruncatedServerHello => {
            // A record of 80 bytes of which 20 arrive, then silence.
            let mut partial = vec![22, 3, 3, 0, 80, 2, 0, 0, 76, 3, 3];
            partial.extend_from_slice(&[7; 15]);
            let _ = stream.write_all(&partial);
            thread::sleep(Duration::from_secs(15));
        }
        Hostile::EndlessHandshake => {
            // A ServerHello claiming almost 128 KiB, then handshake records that never end it.
            let _ = stream.write_all(&[22, 3, 3, 0, 4, 2, 1, 0xff, 0xf0]);
            let record = [&[22u8, 3, 3, 0x40, 0x00][..], &[0u8; 0x4000]].concat();
            for _ in 0..10_000 {
                if stream.write_all(&record).is_err() {
                    break;
                }
            }
        }
    }
}

fn spawn(addr: &str, hostile: Hostile) {
    let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream, hostile));
        }
    });
}

#[test]
fn hostile_servers_end_in_error_within_the_timeouts() {
    for (ip, hostile, why) in [
        ("127.0.100.226", Hostile::Garbage, "not a TLS record"),
        (
            "127.0.100.227",
            Hostile::TruncatedServerHello,
            "no answer within",
        ),
        (
            "127.0.100.228",
            Hostile::EndlessHandshake,
            "handshake bytes",
        ),
    ] {
        spawn(&format!("{ip}:465"), hostile);
        let started = Instant::now();
        let report = json(&mailcheck(&[
            "run",
            ip,
            "--domain",
            "example.test",
            "--resolver",
            RESOLVER,
            "--bind",
            CHECKER,
            "--timeout",
            "2",
            "--format",
            "json",
            "--only",
            "tls.ciphers.weak",
        ]));
        let took = started.elapsed();
        let (status, message, _) = result(&report, 465);
        assert_eq!(status, "error", "{ip}: {message}");
        assert!(message.contains(why), "{ip}: {why} in {message}");
        // Seven probes, each bounded by one timeout, within the concurrency limit.
        assert!(took < Duration::from_secs(20), "{ip} took {took:?}");
    }
}
