//! Hostile and dead servers: the run must end within its timeouts, report `error` (never
//! `pass`), and never panic. Fakes listen on 127.0.100.2xx, standard ports (tests run as root).

mod common;

use std::time::{Duration, Instant};

use common::{Fake, json, mailcheck, spawn_fake, statuses, stderr};

const TIMEOUT: &str = "1";

fn run_against(ip: &str, extra: &[&str]) -> (serde_json::Value, Duration, i32) {
    let started = Instant::now();
    let mut args = vec![
        "run",
        ip,
        "--format",
        "json",
        "--timeout",
        TIMEOUT,
        "--domain",
        "example.test",
        // The fakes are SMTP servers: the DNS checks (tests/lab_dns.rs) would only ask the
        // machine's resolver about example.test.
        "--skip",
        "dns.*",
    ];
    args.extend_from_slice(extra);
    let output = mailcheck(&args);
    let elapsed = started.elapsed();
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    (json(&output), elapsed, output.status.code().unwrap_or(-1))
}

fn assert_nothing_passes(report: &serde_json::Value) {
    for result in report["targets"][0]["results"].as_array().unwrap() {
        let (id, endpoint, status) = (&result["id"], &result["endpoint"], &result["status"]);
        // The one pass a dead host earns: no IMAP/POP3 in clear on a closed 143/110 (SPEC).
        let closed_cleartext_port = (id == "imap.starttls" || id == "pop3.stls")
            && result["message"].as_str().unwrap().contains("is closed");
        assert!(
            status == "error" || status == "skip" || status == "fail" || closed_cleartext_port,
            "{id} @ {endpoint} is {status}"
        );
    }
}

fn message_of<'a>(report: &'a serde_json::Value, id: &str, port: &str) -> &'a str {
    report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id && r["endpoint"].as_str().unwrap_or("").contains(port))
        .unwrap_or_else(|| panic!("no {id} on {port}"))["message"]
        .as_str()
        .unwrap()
}

#[test]
fn closed_ports_give_errors_quickly() {
    // Nothing listens on 127.0.100.250.
    let (report, elapsed, code) = run_against("127.0.100.250", &[]);
    assert_eq!(code, 1);
    assert_nothing_passes(&report);
    assert!(message_of(&report, "smtp.vrfy.disabled", ":25/").contains("refused"));
    // A closed 465 is the finding of smtp.smtps; the other checks skip it.
    let smtps = statuses(&report)
        .into_iter()
        .find(|(id, _, _)| id == "smtp.smtps")
        .unwrap();
    assert_eq!(smtps.2, "fail");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn tarpit_costs_about_one_timeout_not_one_per_check() {
    for port in [25, 587, 465] {
        spawn_fake(&format!("127.0.100.201:{port}"), Fake::Tarpit);
    }
    let (report, elapsed, code) = run_against("127.0.100.201", &[]);
    assert_eq!(code, 1);
    assert_nothing_passes(&report);
    let message = message_of(&report, "smtp.banner.fqdn", ":25/");
    assert!(message.contains("no greeting"), "{message}");
    // 13 checks over 3 ports at a 1 s timeout: one timeout per endpoint, endpoints in parallel.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    spawn_fake("127.0.100.202:25", Fake::Garbage);
    let (report, _, _) = run_against("127.0.100.202", &["--only", "smtp.banner.*"]);
    assert_nothing_passes(&report);
    let message = message_of(&report, "smtp.banner.fqdn", ":25/");
    assert!(message.contains("not a valid reply"), "{message}");
}

#[test]
fn endless_greeting_is_cut_off() {
    spawn_fake("127.0.100.203:25", Fake::Endless);
    let (report, elapsed, _) = run_against("127.0.100.203", &["--only", "smtp.banner.*"]);
    assert_nothing_passes(&report);
    let message = message_of(&report, "smtp.banner.no-software", ":25/");
    assert!(message.contains("lines"), "{message}");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn a_421_greeting_is_retried_once_then_reported() {
    spawn_fake("127.0.100.204:25", Fake::Busy);
    let (report, _, _) = run_against("127.0.100.204", &["--only", "smtp.vrfy.disabled"]);
    let result = &report["targets"][0]["results"][0];
    assert_eq!(result["status"], "error");
    let message = result["message"].as_str().unwrap();
    assert!(
        message.contains("421") && message.contains("retry"),
        "{message}"
    );
    let evidence: Vec<&str> = result["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        evidence.iter().filter(|l| l.starts_with("S: 421")).count(),
        2,
        "{evidence:?}"
    );
}

#[test]
fn a_server_that_stops_answering_mid_dialog_is_bounded() {
    spawn_fake("127.0.100.205:25", Fake::MuteAfterEhlo);
    let (report, elapsed, _) = run_against(
        "127.0.100.205",
        &[
            "--only",
            "smtp.vrfy.disabled",
            "--only",
            "smtp.size.advertised",
        ],
    );
    let rows = statuses(&report);
    let vrfy = rows
        .iter()
        .find(|(id, _, _)| id == "smtp.vrfy.disabled")
        .unwrap();
    assert_eq!(vrfy.2, "error");
    // The EHLO reply was complete, so what it shows is still judged.
    let size = rows
        .iter()
        .find(|(id, _, _)| id == "smtp.size.advertised")
        .unwrap();
    assert_eq!(size.2, "pass");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn silence_after_the_go_ahead_for_tls_is_an_error_not_a_finding() {
    // `220 Ready to start TLS` (OK / +OK), then nothing: we cannot tell whether TLS works.
    for port in [25, 143, 110] {
        spawn_fake(&format!("127.0.100.206:{port}"), Fake::SilentAfterStartTls);
    }
    let (report, elapsed, _) = run_against(
        "127.0.100.206",
        &[
            "--only",
            "smtp.starttls",
            "--only",
            "imap.starttls",
            "--only",
            "pop3.stls",
        ],
    );
    for (id, port) in [
        ("smtp.starttls", ":25/"),
        ("imap.starttls", ":143/"),
        ("pop3.stls", ":110/"),
    ] {
        let result = report["targets"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id && r["endpoint"].as_str().unwrap_or("").contains(port))
            .unwrap_or_else(|| panic!("no {id} on {port}: {report}"));
        assert_eq!(result["status"], "error", "{id}: {result}");
        let message = result["message"].as_str().unwrap();
        assert!(
            message.contains("went silent") && message.contains("TLS handshake"),
            "{id}: {message}"
        );
    }
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
}
