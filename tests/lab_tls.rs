//! Integration tests of the `tls.*`, `imap.*` and `pop3.*` checks against the real lab (Postfix
//! and Dovecot on 127.0.100.0/24, started by `scripts/lab-up`): the reference must pass, each
//! weakness of the weak server must be caught, and so must the lab's TLS-1.0-only endpoint
//! (127.0.100.30:465) and the weak server's expired IMAP/POP3 certificate. A lab that cannot be
//! reached fails these tests: it never skips them.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ca_file, json, mailcheck, password_file, stderr, stdout};

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";
const REFERENCE: &str = "mail.ref.test";
const WEAK: &str = "mail.weak.test";
const LEGACY: &str = "127.0.100.30";

fn require_lab() {
    common::require_lab(&["127.0.100.10:993", "127.0.100.20:143", "127.0.100.30:465"]);
}

/// A run of the TLS, IMAP and POP3 checks (unless `extra` selects others) from the checker's
/// address through the lab DNS.
fn run(target: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "run",
        target,
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--timeout",
        "5",
        "--format",
        "json",
    ];
    if !extra.contains(&"--only") {
        args.extend_from_slice(&["--only", "tls.*", "--only", "imap.*", "--only", "pop3.*"]);
    }
    args.extend_from_slice(extra);
    let output = mailcheck(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "mailcheck {args:?} exited {:?}: {}",
        output.status.code(),
        stderr(&output)
    );
    json(&output)
}

/// `id @ port` → the result.
fn results(report: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    common::results_by_port(report)
}

/// Every expected `id @ port` has the expected status, and nothing else was reported.
fn expect(report: &serde_json::Value, expected: &[(&str, &str)]) {
    let actual = results(report);
    let mut wrong = Vec::new();
    for (key, status) in expected {
        match actual.get(*key) {
            Some(result) if result["status"] == *status => {}
            Some(result) => wrong.push(format!(
                "{key}: expected {status}, got {}: {}\n  evidence: {}",
                result["status"], result["message"], result["evidence"]
            )),
            None => wrong.push(format!("{key}: missing")),
        }
    }
    for key in actual.keys() {
        if !expected.iter().any(|(k, _)| k == key) {
            wrong.push(format!(
                "{key}: unexpected result {}: {}",
                actual[key]["status"], actual[key]["message"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn message<'a>(report: &'a serde_json::Value, key: &str) -> &'a str {
    let results = report["targets"][0]["results"].as_array().unwrap();
    let (id, port) = key.split_once(" @ ").unwrap();
    results
        .iter()
        .find(|r| {
            r["id"] == id
                && r["endpoint"]
                    .as_str()
                    .unwrap()
                    .contains(&format!(":{port}/"))
        })
        .unwrap_or_else(|| panic!("no {key}"))["message"]
        .as_str()
        .unwrap()
}

fn evidence(report: &serde_json::Value, key: &str) -> Vec<String> {
    let results = report["targets"][0]["results"].as_array().unwrap();
    let (id, port) = key.split_once(" @ ").unwrap();
    results
        .iter()
        .find(|r| {
            r["id"] == id
                && r["endpoint"]
                    .as_str()
                    .unwrap()
                    .contains(&format!(":{port}/"))
        })
        .unwrap_or_else(|| panic!("no {key}"))["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

const TLS_PORTS: [&str; 7] = ["25", "587", "465", "143", "993", "110", "995"];
const TLS_CHECKS: [&str; 7] = [
    "tls.protocol.min",
    "tls.ciphers.weak",
    "tls.protocol.tls13",
    "tls.cert.trusted",
    "tls.cert.hostname",
    "tls.cert.expiry",
    "tls.cert.key",
];

#[test]
fn reference_passes_every_tls_imap_and_pop3_check() {
    require_lab();
    let started = Instant::now();
    let report = run(
        REFERENCE,
        &[
            "--ca-file",
            &ca_file(),
            "--user",
            "test@ref.test",
            "--password-file",
            &password_file(),
        ],
    );
    eprintln!("reference TLS/IMAP/POP3 run took {:?}", started.elapsed());
    let mut expected: Vec<(String, &str)> = Vec::new();
    for check in TLS_CHECKS {
        for port in TLS_PORTS {
            expected.push((format!("{check} @ {port}"), "pass"));
        }
    }
    for key in [
        "imap.imaps @ 993",
        "imap.starttls @ 143",
        "imap.login.tls-only @ 143",
        "imap.login @ 143",
        "imap.login @ 993",
        "imap.banner.no-software @ 143",
        "imap.banner.no-software @ 993",
        "pop3.pop3s @ 995",
        "pop3.stls @ 110",
        "pop3.login.tls-only @ 110",
    ] {
        expected.push((key.to_string(), "pass"));
    }
    let expected: Vec<(&str, &str)> = expected.iter().map(|(k, s)| (k.as_str(), *s)).collect();
    expect(&report, &expected);
    assert_eq!(report["targets"][0]["score"], 100.0);

    // How each verdict was reached is in its message and evidence.
    assert!(message(&report, "tls.protocol.min @ 25").contains("protocol_version (70)"));
    assert!(
        message(&report, "tls.protocol.min @ 993").contains("closed the connection"),
        "Dovecot closes on a legacy ClientHello"
    );
    assert!(message(&report, "tls.cert.trusted @ 587").contains("--ca-file"));
    assert!(message(&report, "imap.login.tls-only @ 143").contains("PRIVACYREQUIRED"));
    assert!(message(&report, "imap.login @ 993").contains("INBOX selected"));
    assert!(message(&report, "pop3.login.tls-only @ 110").contains("Plaintext authentication"));
    let cert = evidence(&report, "tls.cert.expiry @ 465");
    for wanted in [
        "* negotiated: Protocol TLSv1.3",
        "*  0 s:O=mailcheck lab, CN=mail.ref.test",
        "*    i:O=mailcheck lab, CN=mailcheck lab CA",
        "*    a:PKEY: RSA 2048 bit; sigalg: sha256WithRSAEncryption",
        "*    v:NotBefore: ",
        "*    X509v3 Subject Alternative Name: DNS:mail.ref.test, IP Address:127.0.100.10",
        "* reproduce: openssl s_client -connect 127.0.100.10:465 -servername mail.ref.test",
    ] {
        assert!(
            cert.iter().any(|l| l.starts_with(wanted)),
            "no {wanted:?} in {cert:#?}"
        );
    }
    let imap = evidence(&report, "tls.cert.hostname @ 143");
    assert!(imap.iter().any(|l| l == "C: a1 STARTTLS"), "{imap:#?}");
}

#[test]
fn without_the_lab_ca_the_reference_chain_is_untrusted() {
    require_lab();
    let report = run(REFERENCE, &["--only", "tls.cert.trusted"]);
    let mut expected = vec![("tls.cert.trusted @ 25".to_string(), "warn")];
    for port in &TLS_PORTS[1..] {
        expected.push((format!("tls.cert.trusted @ {port}"), "fail"));
    }
    let expected: Vec<(&str, &str)> = expected.iter().map(|(k, s)| (k.as_str(), *s)).collect();
    expect(&report, &expected);
    let text = message(&report, "tls.cert.trusted @ 993");
    assert!(
        text.contains("issuer is unknown") && text.contains("--ca-file"),
        "{text}"
    );
    assert!(message(&report, "tls.cert.trusted @ 25").contains("RFC 7672"));
}

#[test]
fn weak_server_has_every_tls_imap_and_pop3_weakness_caught() {
    require_lab();
    let report = run(
        WEAK,
        &[
            "--ca-file",
            &ca_file(),
            "--user",
            "test@weak.test",
            "--password-file",
            &password_file(),
        ],
    );
    let mut expected: Vec<(String, &str)> = Vec::new();
    // 465, 993, 995 are closed: no tls.* result there (smtp.smtps, imap.imaps, pop3.pop3s say so).
    for port in ["25", "587", "143", "110"] {
        // @SECLEVEL=0 and `>=TLSv1` / `ssl_min_protocol = TLSv1`.
        expected.push((format!("tls.protocol.min @ {port}"), "fail"));
        expected.push((format!("tls.protocol.tls13 @ {port}"), "pass"));
        expected.push((format!("tls.cert.key @ {port}"), "pass"));
    }
    // NULL and anonymous suites on Postfix (lab_ciphers.rs has the details); Dovecot's
    // `DEFAULT:@SECLEVEL=0` still takes static RSA, a warning everywhere.
    for (port, status) in [
        ("25", "warn"),
        ("587", "fail"),
        ("143", "warn"),
        ("110", "warn"),
    ] {
        expected.push((format!("tls.ciphers.weak @ {port}"), status));
    }
    // Postfix: self-signed for wrong.example (a warning on 25, where senders do not verify).
    for (port, status) in [("25", "warn"), ("587", "fail")] {
        expected.push((format!("tls.cert.trusted @ {port}"), status));
        expected.push((format!("tls.cert.hostname @ {port}"), status));
        expected.push((format!("tls.cert.expiry @ {port}"), "pass"));
    }
    // Dovecot: the lab CA's certificate for mail.weak.test, expired.
    for port in ["143", "110"] {
        expected.push((format!("tls.cert.trusted @ {port}"), "pass"));
        expected.push((format!("tls.cert.hostname @ {port}"), "pass"));
        expected.push((format!("tls.cert.expiry @ {port}"), "fail"));
    }
    for (key, status) in [
        ("imap.imaps @ 993", "fail"),
        ("imap.starttls @ 143", "pass"),
        ("imap.login.tls-only @ 143", "fail"),
        ("imap.login @ 143", "pass"),
        ("imap.login @ 993", "skip"),
        ("imap.banner.no-software @ 143", "fail"),
        ("imap.banner.no-software @ 993", "skip"),
        ("pop3.pop3s @ 995", "fail"),
        ("pop3.stls @ 110", "pass"),
        ("pop3.login.tls-only @ 110", "fail"),
    ] {
        expected.push((key.to_string(), status));
    }
    let expected: Vec<(&str, &str)> = expected.iter().map(|(k, s)| (k.as_str(), *s)).collect();
    expect(&report, &expected);

    let legacy = message(&report, "tls.protocol.min @ 143");
    assert!(legacy.contains("ACCEPTS TLS 1.0 and TLS 1.1"), "{legacy}");
    assert!(message(&report, "tls.cert.expiry @ 110").contains("EXPIRED"));
    assert!(message(&report, "tls.cert.trusted @ 587").contains("self-signed (CN=wrong.example)"));
    assert!(message(&report, "tls.cert.hostname @ 587").contains("DNS:wrong.example"));
    assert!(message(&report, "imap.login.tls-only @ 143").contains("AUTHENTICATIONFAILED"));
    assert!(message(&report, "imap.imaps @ 993").contains("143 answers"));
    assert!(message(&report, "imap.banner.no-software @ 143").contains("`Dovecot`"));
    assert!(message(&report, "pop3.login.tls-only @ 110").contains("Authentication failed"));
    assert!(message(&report, "pop3.pop3s @ 995").contains("110 answers"));
    // The made-up password of the cleartext probes never shows.
    for key in ["imap.login.tls-only @ 143", "pop3.login.tls-only @ 110"] {
        let lines = evidence(&report, key);
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with("<redacted>") && (l.contains("LOGIN") || l.contains("PASS"))),
            "{lines:#?}"
        );
    }
    for result in report["targets"][0]["results"].as_array().unwrap() {
        if matches!(result["status"].as_str(), Some("fail" | "warn")) {
            assert!(result["fix"].is_string(), "no fix: {result}");
        }
        if result["status"] != "skip" {
            assert!(
                !result["evidence"].as_array().unwrap().is_empty(),
                "{result}"
            );
        }
    }
}

#[test]
fn without_the_lab_ca_the_expired_certificate_is_untrusted_too() {
    require_lab();
    let report = run(
        WEAK,
        &["--only", "tls.cert.trusted", "--only", "tls.cert.expiry"],
    );
    expect(
        &report,
        &[
            ("tls.cert.trusted @ 25", "warn"),
            ("tls.cert.trusted @ 587", "fail"),
            ("tls.cert.trusted @ 143", "fail"),
            ("tls.cert.trusted @ 110", "fail"),
            ("tls.cert.expiry @ 25", "pass"),
            ("tls.cert.expiry @ 587", "pass"),
            ("tls.cert.expiry @ 143", "fail"),
            ("tls.cert.expiry @ 110", "fail"),
        ],
    );
}

#[test]
fn the_tls_1_0_only_endpoint_is_caught() {
    require_lab();
    let report = run(LEGACY, &["--domain", "weak.test", "--only", "tls.*"]);
    expect(
        &report,
        &[
            ("tls.protocol.min @ 465", "fail"),
            ("tls.protocol.tls13 @ 465", "fail"),
            // rustls cannot complete a TLS 1.0 handshake: the chain comes from the raw one
            // (the weak Postfix's self-signed certificate for wrong.example).
            ("tls.cert.trusted @ 465", "fail"),
            ("tls.cert.hostname @ 465", "fail"),
            ("tls.cert.expiry @ 465", "pass"),
            ("tls.cert.key @ 465", "pass"),
            // `ALL:@SECLEVEL=0`: anonymous and static-RSA suites at TLS 1.0.
            ("tls.ciphers.weak @ 465", "fail"),
        ],
    );
    let text = message(&report, "tls.protocol.min @ 465");
    assert!(text.starts_with("the server ACCEPTS TLS 1.0:"), "{text}");
    assert!(!text.contains("ACCEPTS TLS 1.0 and"), "{text}");
    assert!(message(&report, "tls.cert.trusted @ 465").contains("CN=wrong.example"));
    assert!(message(&report, "tls.cert.key @ 465").contains("RSA 2048 bit"));
    let cert = evidence(&report, "tls.cert.key @ 465");
    for wanted in [
        "S: <Certificate: 1 certificate(s), ",
        "* negotiated: Protocol TLSv1, Cipher TLS_",
        "*  0 s:CN=wrong.example",
    ] {
        assert!(
            cert.iter().any(|l| l.starts_with(wanted)),
            "no {wanted:?} in {cert:#?}"
        );
    }
    assert!(
        cert.iter()
            .any(|l| l.starts_with("* reproduce: openssl s_client") && l.contains(" -tls1 ")),
        "{cert:#?}"
    );
    let weak = message(&report, "tls.ciphers.weak @ 465");
    assert!(weak.contains("anonymous (aNULL): TLS_DH_anon_"), "{weak}");
}

/// The `* reproduce:` line of a tls.protocol.min result, run with openssl, says the same.
fn openssl_agrees(report: &serde_json::Value, key: &str, accepted: bool) {
    let lines = evidence(report, key);
    let line = lines
        .iter()
        .find_map(|l| l.strip_prefix("* reproduce: "))
        .unwrap_or_else(|| panic!("no reproduce line in {lines:#?}"));
    let args: Vec<String> = line
        .split_whitespace()
        .skip(1)
        .map(|w| w.trim_matches('\'').to_string())
        .chain(["-brief".to_string()])
        .collect();
    let output = Command::new("timeout")
        .arg("10")
        .arg("openssl")
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl runs");
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        text.contains("CONNECTION ESTABLISHED"),
        accepted,
        "openssl {args:?} disagrees with {key}: {text}"
    );
}

#[test]
fn legacy_verdicts_reproduce_with_openssl_s_client() {
    require_lab();
    let reference = run(REFERENCE, &["--only", "tls.protocol.min"]);
    openssl_agrees(&reference, "tls.protocol.min @ 25", false);
    openssl_agrees(&reference, "tls.protocol.min @ 993", false);
    let weak = run(WEAK, &["--only", "tls.protocol.min"]);
    openssl_agrees(&weak, "tls.protocol.min @ 25", true);
    openssl_agrees(&weak, "tls.protocol.min @ 143", true);
    let legacy = run(
        LEGACY,
        &["--domain", "weak.test", "--only", "tls.protocol.min"],
    );
    openssl_agrees(&legacy, "tls.protocol.min @ 465", true);
}

#[test]
fn the_password_reaches_no_report_format() {
    require_lab();
    let password = std::fs::read_to_string(password_file()).expect("the lab password file");
    let password = password.trim();
    assert!(
        password.len() >= 8,
        "the lab password is suspiciously short"
    );
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, std::path::PathBuf)> = ["json", "junit", "markdown"]
        .iter()
        .map(|f| (format!("--{f}"), dir.path().join(format!("report.{f}"))))
        .collect();
    let mut args = vec![
        "run".to_string(),
        REFERENCE.into(),
        "--resolver".into(),
        RESOLVER.into(),
        "--bind".into(),
        CHECKER.into(),
        "--timeout".into(),
        "5".into(),
        "--only".into(),
        "imap.login".into(),
        "--user".into(),
        "test@ref.test".into(),
        "--password-env".into(),
        "MAILCHECK_LAB_TEST_PASSWORD".into(),
        "-v".into(),
    ];
    for (flag, path) in &files {
        args.push(flag.clone());
        args.push(path.to_str().unwrap().into());
    }
    let output = Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(&args)
        .env("NO_COLOR", "1")
        .env("MAILCHECK_LAB_TEST_PASSWORD", password)
        .output()
        .expect("mailcheck runs");
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}\n{}", stderr(&output));
    assert!(text.contains("logged in as test@ref.test"), "{text}");
    assert!(
        text.contains("<redacted>"),
        "the LOGIN line is shown redacted: {text}"
    );
    assert!(!text.contains(password), "text report leaks the password");
    assert!(
        !stderr(&output).contains(password),
        "stderr leaks the password"
    );
    for (flag, path) in &files {
        let written = std::fs::read_to_string(path).unwrap();
        assert!(written.contains("imap.login"), "{flag} wrote no report");
        assert!(
            !written.contains(password),
            "{flag} report leaks the password"
        );
    }
}

#[test]
fn a_missing_password_source_is_a_usage_error() {
    let output = mailcheck(&[
        "run",
        REFERENCE,
        "--user",
        "test@ref.test",
        "--password-env",
        "MAILCHECK_NO_SUCH_VARIABLE_SET",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("MAILCHECK_NO_SUCH_VARIABLE_SET"),
        "{}",
        stderr(&output)
    );
    let output = mailcheck(&[
        "run",
        REFERENCE,
        "--user",
        "test@ref.test",
        "--password-file",
        "/nonexistent/mailcheck-password",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/mailcheck-password"));
    let output = mailcheck(&["run", REFERENCE, "--ca-file", "/etc/hostname"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no PEM certificate"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_full_default_run_on_the_reference_is_quick() {
    require_lab();
    let started = Instant::now();
    let output = mailcheck(&[
        "run",
        REFERENCE,
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--relay-domain",
        "outside.test",
        "--ca-file",
        &ca_file(),
        "--format",
        "json",
    ]);
    let elapsed = started.elapsed();
    let report = json(&output);
    let ids: Vec<&str> = report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for prefix in ["smtp.", "tls.", "imap.", "pop3."] {
        assert!(
            ids.iter().any(|id| id.starts_with(prefix)),
            "no {prefix}* in {ids:?}"
        );
    }
    eprintln!("full default run on the reference: {elapsed:?}");
    // The budget is 2 s on an idle machine; a loaded test machine gets some slack.
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
}
