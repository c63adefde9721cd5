//! The opt-in intrusive checks (`-p intrusive`) on the real lab and on a fake that runs a
//! command injected before STARTTLS. Needs the lab (`scripts/lab-up`); fails when it is down.
//! Fakes listen on 127.0.100.231-.240.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{json, lab_dir, password, stderr};

const IDS: [&str; 3] = [
    "smtp.starttls.injection",
    "smtp.smuggling",
    "smtp.rcpt.enumeration",
];

fn require_lab() {
    common::require_lab(&["127.0.100.10:587", "127.0.100.10:993", "127.0.100.20:143"]);
}

/// The three intrusive checks against `target`, as JSON.
fn intrusive(target: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "run",
        target,
        "--resolver",
        "127.0.100.53",
        "--bind",
        "127.0.100.2",
        "--relay-domain",
        "outside.test",
        "--timeout",
        "5",
        "-p",
        "intrusive",
        "--format",
        "json",
    ];
    for id in IDS {
        args.extend(["--only", id]);
    }
    args.extend_from_slice(extra);
    let output = Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(&args)
        .env("NO_COLOR", "1")
        .env("MAILCHECK_TEST_PW", password())
        .output()
        .expect("mailcheck runs");
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    json(&output)
}

fn with_user(user: &str) -> [&str; 4] {
    ["--user", user, "--password-env", "MAILCHECK_TEST_PW"]
}

fn result<'a>(report: &'a serde_json::Value, id: &str, port: &str) -> &'a serde_json::Value {
    report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id && r["endpoint"].as_str().unwrap_or("").contains(port))
        .unwrap_or_else(|| panic!("no {id} on {port} in {report:#}"))
}

fn evidence(result: &serde_json::Value) -> Vec<String> {
    result["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// How many messages the user's INBOX holds, counted by a real IMAP client (Python's imaplib).
/// IMAPS on 993, or IMAP with STARTTLS on 143 (the weak variant has no 993).
fn inbox_count(host: &str, port: &str, user: &str) -> usize {
    let script = "import imaplib, ssl, sys\n\
        host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]\n\
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE\n\
        if port == 993:\n    m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx)\n\
        else:\n    m = imaplib.IMAP4(host, port); m.starttls(ssl_context=ctx)\n\
        m.login(user, pw); typ, data = m.select('INBOX', readonly=True); print(int(data[0])); m.logout()";
    let output = Command::new("python3")
        .args(["-c", script, host, port, user, &password()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "imaplib: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

/// The queue ids of a smuggling result (`queued as X` in its evidence).
fn queue_ids(result: &serde_json::Value) -> Vec<String> {
    evidence(result)
        .iter()
        .filter_map(|l| {
            l.split_once("queued as ")
                .map(|(_, id)| id.trim().to_string())
        })
        .collect()
}

/// Every `to=<...>` the server's log gives for these queue ids (each delivery attempt).
fn logged_recipients(variant: &str, ids: &[String]) -> Vec<(String, String)> {
    let log = std::fs::read_to_string(format!("{}/log/{variant}-postfix.log", lab_dir()))
        .expect("the lab's Postfix log is readable");
    let mut found = Vec::new();
    for line in log.lines() {
        for id in ids {
            if let Some((_, rest)) = line.split_once(&format!(" {id}: to=<")) {
                let to = rest.split('>').next().unwrap_or("").to_string();
                found.push((id.clone(), to));
            }
        }
    }
    found
}

/// Runs smuggling on one lab variant and checks what every variant must show: the mailbox
/// left as found, and DATA delivered to the test mailbox only (from the server's log).
fn smuggling_on(variant: &str) -> serde_json::Value {
    let host = format!("mail.{variant}.test");
    let user = format!("test@{variant}.test");
    let (addr, port) = if variant == "ref" {
        ("127.0.100.10", "993")
    } else {
        ("127.0.100.20", "143")
    };
    let before = inbox_count(addr, port, &user);
    let report = intrusive(&host, &with_user(&user));
    let smuggling = result(&report, "smtp.smuggling", ":25").clone();
    assert_eq!(
        inbox_count(addr, port, &user),
        before,
        "the mailbox is left as found: {smuggling:#}"
    );
    let ids = queue_ids(&smuggling);
    assert!(ids.len() >= 4, "one queued message per variant: {ids:?}");
    // Postfix logs each delivery some time after the queue id: wait for all of them.
    let mut logged = Vec::new();
    for _ in 0..50 {
        logged = logged_recipients(variant, &ids);
        if ids.iter().all(|id| logged.iter().any(|(i, _)| i == id)) {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    for id in &ids {
        assert!(
            logged.iter().any(|(i, _)| i == id),
            "{id} has no delivery in the log"
        );
    }
    for (id, to) in &logged {
        assert_eq!(to, &user, "{id} went to {to}, not the test mailbox");
    }
    smuggling
}

#[test]
fn smuggling_fails_on_the_vulnerable_weak_postfix() {
    require_lab();
    let smuggling = smuggling_on("weak");
    assert_eq!(smuggling["status"], "fail", "{smuggling:#}");
    let message = smuggling["message"].as_str().unwrap();
    // Postfix 3.7's default (`smtpd_forbid_bare_newline = no`) ends DATA at a bare LF.
    assert!(message.contains("<LF>.<LF>"), "{message}");
    assert!(message.contains("arrived on its own"), "{message}");
    // Each smuggled message was fetched, then deleted.
    let evidence = evidence(&smuggling).join("\n");
    assert!(evidence.contains("UID FETCH"), "{evidence}");
    assert!(evidence.contains("UID STORE"), "{evidence}");
}

#[test]
fn smuggling_passes_on_the_reference_that_normalizes() {
    require_lab();
    let smuggling = smuggling_on("ref");
    assert_eq!(smuggling["status"], "pass", "{smuggling:#}");
    let message = smuggling["message"].as_str().unwrap();
    assert_eq!(
        message.matches("holding all the text").count(),
        4,
        "{message}"
    );
}

#[test]
fn smuggling_skips_without_a_test_mailbox() {
    require_lab();
    let report = intrusive("mail.ref.test", &[]);
    let smuggling = result(&report, "smtp.smuggling", ":25");
    assert_eq!(smuggling["status"], "skip", "{smuggling:#}");
}

#[test]
fn injection_passes_on_the_real_postfix() {
    require_lab();
    let report = intrusive("mail.ref.test", &[]);
    for port in [":25/", ":587/"] {
        let injection = result(&report, "smtp.starttls.injection", port);
        assert_eq!(injection["status"], "pass", "{injection:#}");
        let evidence = evidence(injection);
        let starttls = evidence.iter().position(|l| l == "C: STARTTLS").unwrap();
        assert_eq!(evidence[starttls + 1], "C: NOOP", "{evidence:#?}");
        assert!(
            evidence
                .iter()
                .any(|l| l.starts_with("* TLS handshake complete")),
            "{evidence:#?}"
        );
        assert!(
            evidence.iter().any(|l| l == "* nothing came inside TLS"),
            "{evidence:#?}"
        );
    }
}

#[test]
fn enumeration_sends_a_handful_of_rcpts_and_no_data() {
    require_lab();
    for target in ["mail.ref.test", "mail.weak.test"] {
        let report = intrusive(target, &[]);
        let enumeration = result(&report, "smtp.rcpt.enumeration", ":25/");
        // Both lab servers reject unknown users at RCPT at full speed (Postfix's tarpit
        // starts after `smtpd_soft_error_limit` = 10 errors).
        assert_eq!(enumeration["status"], "warn", "{enumeration:#}");
        assert_eq!(enumeration["severity"], "info");
        let evidence = evidence(enumeration);
        let rcpts = evidence
            .iter()
            .filter(|l| l.starts_with("C: RCPT TO"))
            .count();
        assert!((2..=5).contains(&rcpts), "{rcpts} RCPTs: {evidence:#?}");
        assert!(
            evidence.iter().any(|l| l.contains("RCPT TO:<postmaster@")),
            "{evidence:#?}"
        );
        assert!(!evidence.iter().any(|l| l == "C: DATA"), "{evidence:#?}");
        assert!(evidence.iter().any(|l| l.starts_with("S: 550 5.1.1")));
    }
}

#[test]
fn opt_in_checks_stay_out_of_the_other_profiles() {
    for profile in ["default", "course", "ci"] {
        let output = common::mailcheck(&["list", "--profile", profile]);
        let listed = common::stdout(&output);
        for id in IDS {
            assert!(!listed.contains(id), "{profile} lists {id}");
        }
    }
    let listed = common::stdout(&common::mailcheck(&["list", "--profile", "intrusive"]));
    for id in IDS {
        assert!(listed.contains(id), "intrusive does not list {id}");
    }
}

// --- a fake that runs what was injected before STARTTLS -------------------------------------

fn tls_config() -> Arc<rustls::ServerConfig> {
    let certified = rcgen::generate_simple_self_signed(vec!["fake.intrusive.test".into()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap(),
    )
}

/// Answers one SMTP command line (without its CRLF); `None` for QUIT.
fn answer(line: &str) -> Option<&'static [u8]> {
    let verb = line
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    match verb.as_str() {
        "EHLO" => Some(b"250-fake.intrusive.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
        "NOOP" | "RSET" => Some(b"250 2.0.0 Ok\r\n"),
        "QUIT" => None,
        _ => Some(b"502 5.5.2 Error: command not recognized\r\n"),
    }
}

/// The CVE-2011-0411 flaw on purpose: what was read with STARTTLS stays buffered and is
/// answered inside TLS.
fn serve_vulnerable(tcp: TcpStream, config: Arc<rustls::ServerConfig>) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(20)));
    let mut clear = BufReader::new(tcp);
    clear
        .get_mut()
        .write_all(b"220 fake.intrusive.test ESMTP\r\n")
        .unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        if clear.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line.trim().eq_ignore_ascii_case("STARTTLS") {
            break;
        }
        match answer(line.trim_end()) {
            Some(reply) => clear.get_mut().write_all(reply).unwrap(),
            None => return,
        }
    }
    let injected = clear.buffer().to_vec();
    let mut tcp = clear.into_inner();
    tcp.write_all(b"220 2.0.0 Ready to start TLS\r\n").unwrap();
    let connection = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    // The bug: the plaintext read along with STARTTLS runs as if it came through TLS.
    let mut pending = String::from_utf8_lossy(&injected).into_owned();
    loop {
        while let Some(end) = pending.find('\n') {
            let command: String = pending.drain(..=end).collect();
            match answer(command.trim_end()) {
                Some(reply) => {
                    if tls.write_all(reply).is_err() {
                        return;
                    }
                }
                None => {
                    let _ = tls.write_all(b"221 2.0.0 Bye\r\n");
                    return;
                }
            }
        }
        let mut chunk = [0u8; 1024];
        match tls.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.push_str(&String::from_utf8_lossy(&chunk[..n])),
        }
    }
}

fn spawn_vulnerable(addr: &str) {
    let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("cannot bind {addr}: {e}"));
    let config = tls_config();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = config.clone();
            thread::spawn(move || serve_vulnerable(stream, config));
        }
    });
}

#[test]
fn injection_fails_on_a_server_that_runs_the_injected_command() {
    spawn_vulnerable("127.0.100.231:25");
    spawn_vulnerable("127.0.100.231:587");
    let output = common::mailcheck(&[
        "run",
        "127.0.100.231",
        "--timeout",
        "3",
        "-p",
        "intrusive",
        "--only",
        "smtp.starttls.injection",
        "--format",
        "json",
    ]);
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    let report = json(&output);
    for port in [":25/", ":587/"] {
        let injection = result(&report, "smtp.starttls.injection", port);
        assert_eq!(injection["status"], "fail", "{injection:#}");
        assert!(
            injection["message"]
                .as_str()
                .unwrap()
                .contains("250 2.0.0 Ok"),
            "{injection:#}"
        );
        // The answer came after the handshake, before we sent anything inside TLS.
        let evidence = evidence(injection);
        let handshake = evidence
            .iter()
            .position(|l| l.starts_with("* TLS handshake complete"))
            .unwrap_or_else(|| panic!("{evidence:#?}"));
        assert_eq!(evidence[handshake + 2], "S: 250 2.0.0 Ok", "{evidence:#?}");
    }
}
