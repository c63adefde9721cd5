//! Every check of the catalog has a lab expectation: its status on the reference server and on
//! the weak one, in [`EXPECTED`] (run here, all checks at once), or in its own lab test file
//! ([`ELSEWHERE`], for checks whose lab case needs more than these two servers). A check with
//! neither fails `every_check_has_a_lab_expectation`, which names it. A lab that cannot be
//! reached fails the lab tests: it never skips them.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{json, mailcheck, stderr, stdout};

const LAB: &str = "/var/lib/mailcheck-lab";

/// id → (every result on the reference, the worst result on the weak server). "Worst" ranks
/// pass < skip < warn < fail < error, so `fail` says the weakness is caught on some endpoint
/// and no endpoint errs; `skip`: some port is closed there (465, 993) and the rest pass. A weak
/// `pass` is a weakness the weak lab does not have.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("smtp.banner.no-software", "pass", "fail"),
    ("smtp.banner.fqdn", "pass", "skip"),
    ("smtp.vrfy.disabled", "pass", "fail"),
    ("smtp.expn.disabled", "pass", "pass"),
    ("smtp.starttls", "pass", "pass"),
    ("smtp.submission.tls-required", "pass", "fail"),
    ("smtp.auth.tls-only", "pass", "fail"),
    ("smtp.auth.offered", "pass", "skip"),
    ("smtp.smtps", "pass", "fail"),
    ("smtp.relay.refused", "pass", "fail"),
    ("smtp.helo.invalid-rejected", "pass", "fail"),
    ("smtp.sender.unknown-domain-rejected", "pass", "fail"),
    ("smtp.size.advertised", "pass", "pass"),
    ("tls.protocol.min", "pass", "fail"),
    ("tls.protocol.tls13", "pass", "pass"),
    ("tls.cert.trusted", "pass", "fail"),
    ("tls.cert.hostname", "pass", "fail"),
    ("tls.cert.expiry", "pass", "fail"),
    ("tls.cert.key", "pass", "pass"),
    ("imap.imaps", "pass", "fail"),
    ("imap.starttls", "pass", "pass"),
    ("imap.login.tls-only", "pass", "fail"),
    ("imap.login", "pass", "skip"),
    ("imap.banner.no-software", "pass", "fail"),
    ("pop3.pop3s", "pass", "fail"),
    ("pop3.stls", "pass", "pass"),
    ("pop3.login.tls-only", "pass", "fail"),
    ("dns.a", "pass", "pass"),
    ("dns.mx", "pass", "pass"),
    ("dns.ptr", "pass", "fail"),
    ("dns.spf", "pass", "fail"),
    ("dns.dkim", "pass", "fail"),
    ("dns.dmarc", "pass", "warn"),
    ("dns.rbl", "pass", "fail"),
    ("e2e.submit", "pass", "pass"),
    ("e2e.fetch", "pass", "pass"),
    ("e2e.dkim", "pass", "fail"),
    ("e2e.inbound", "pass", "pass"),
];

/// Checks whose lab expectations live in their own test file (id, file under tests/): the
/// file must exist and name the id once the check is in the catalog.
const ELSEWHERE: &[(&str, &str)] = &[
    ("dns.dnssec", "lab_dnssec.rs"),
    ("dns.tlsa", "lab_dnssec.rs"),
    ("dns.mta-sts", "lab_mtasts.rs"),
    ("dns.tls-rpt", "lab_mtasts.rs"),
    ("tls.ciphers.weak", "lab_ciphers.rs"),
    ("smtp.starttls.injection", "lab_intrusive.rs"),
    ("smtp.smuggling", "lab_intrusive.rs"),
    ("smtp.rcpt.enumeration", "lab_intrusive.rs"),
];

/// The catalog's ids, from `mailcheck list`.
fn catalog() -> Vec<String> {
    let output = mailcheck(&["list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_check_has_a_lab_expectation() {
    let catalog = catalog();
    assert!(catalog.len() >= EXPECTED.len(), "{catalog:?}");
    let missing: Vec<&String> = catalog
        .iter()
        .filter(|id| {
            !EXPECTED.iter().any(|(e, _, _)| e == id) && !ELSEWHERE.iter().any(|(e, _)| e == id)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "checks without a lab expectation (add them to EXPECTED in tests/lab_expectations.rs, \
         or to ELSEWHERE with the lab test file that covers them): {missing:?}"
    );
    let unknown: Vec<&str> = EXPECTED
        .iter()
        .map(|(id, _, _)| *id)
        .filter(|id| !catalog.iter().any(|c| c == id))
        .collect();
    assert!(
        unknown.is_empty(),
        "EXPECTED names no such check: {unknown:?}"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for (id, file) in ELSEWHERE {
        if !catalog.iter().any(|c| c == id) {
            continue; // not in the catalog yet: its helper's branch brings both
        }
        let text = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("{id} is said to be covered in tests/{file}: {e}"));
        assert!(text.contains(id), "tests/{file} does not mention {id}");
    }
}

fn rank(status: &str) -> usize {
    ["pass", "skip", "warn", "fail", "error"]
        .iter()
        .position(|s| *s == status)
        .unwrap_or(usize::MAX)
}

/// Every check of the catalog on `host`, as the course would run it (test mailbox included).
fn run_all(host: &str, user: &str) -> serde_json::Value {
    let password = std::fs::read_to_string(format!("{LAB}/secrets/test-password"))
        .expect("the lab's test password file is readable (run the tests as root)");
    let ca = format!("{LAB}/ca/ca.pem");
    let mut args = vec![
        "run",
        host,
        "--resolver",
        "127.0.100.53",
        "--bind",
        "127.0.100.2",
        "--relay-domain",
        "outside.test",
        "--dnsbl",
        "dnsbl.test",
        "--ca-file",
        &ca,
        "--timeout",
        "5",
        "--user",
        user,
        "--password-env",
        "MAILCHECK_TEST_PW",
        "--format",
        "json",
    ];
    for (id, _, _) in EXPECTED {
        args.extend_from_slice(&["--only", id]);
    }
    let output = Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(&args)
        .env("NO_COLOR", "1")
        .env("MAILCHECK_TEST_PW", password.trim())
        .output()
        .expect("mailcheck runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        output.status.code(),
        stderr(&output)
    );
    json(&output)
}

/// id → every status it got.
fn statuses(report: &serde_json::Value) -> BTreeMap<String, Vec<(String, String)>> {
    let mut by_id: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (id, endpoint, status) in common::statuses(report) {
        by_id.entry(id).or_default().push((endpoint, status));
    }
    by_id
}

#[test]
fn reference_and_weak_servers_meet_every_expectation() {
    common::require_lab(&["127.0.100.10:993", "127.0.100.20:143"]);
    let reference = statuses(&run_all("mail.ref.test", "test@ref.test"));
    let weak = statuses(&run_all("mail.weak.test", "test@weak.test"));
    let mut wrong = Vec::new();
    for (id, on_reference, on_weak) in EXPECTED {
        match reference.get(*id) {
            None => wrong.push(format!("{id}: no result on the reference")),
            Some(results) => {
                for (endpoint, status) in results.iter().filter(|(_, s)| s != on_reference) {
                    wrong.push(format!(
                        "{id} @ {endpoint}: {status} on the reference, expected {on_reference}"
                    ));
                }
            }
        }
        match weak.get(*id) {
            None => wrong.push(format!("{id}: no result on the weak server")),
            Some(results) => {
                let worst = results
                    .iter()
                    .max_by_key(|(_, s)| rank(s))
                    .expect("at least one result");
                if worst.1 != *on_weak {
                    wrong.push(format!(
                        "{id}: worst result on the weak server {} @ {}, expected {on_weak} ({results:?})",
                        worst.1, worst.0
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
