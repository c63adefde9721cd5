//! Integration tests against the real lab (Postfix + Dovecot + DNS on 127.0.100.0/24, started by
//! `scripts/lab-up`). A lab that cannot be reached fails these tests: it never skips them.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::{json, mailcheck, stderr, stdout};

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";
const REFERENCE: &str = "mail.ref.test";
const WEAK: &str = "mail.weak.test";

fn require_lab() {
    common::require_lab(&[]);
}

fn lab_args<'a>(target: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        target,
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--relay-domain",
        "outside.test",
        "--timeout",
        "5",
    ];
    // The SMTP checks only: tls.*, imap.*, pop3.* have their own file (tests/lab_tls.rs), and
    // the expectations below list every result.
    if !extra.contains(&"--only") {
        args.extend_from_slice(&["--only", "smtp.*"]);
    }
    args.extend_from_slice(extra);
    args
}

/// `id @ port` → status, for every result.
fn verdicts(report: &serde_json::Value) -> BTreeMap<String, String> {
    common::results_by_port(report)
        .into_iter()
        .map(|(key, r)| (key, r["status"].as_str().unwrap_or("?").to_string()))
        .collect()
}

fn expect(report: &serde_json::Value, expected: &[(&str, &str)]) {
    let actual = verdicts(report);
    let mut wrong = Vec::new();
    for (key, status) in expected {
        match actual.get(*key) {
            Some(got) if got == status => {}
            Some(got) => {
                let result = report["targets"][0]["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| {
                        key.starts_with(r["id"].as_str().unwrap())
                            && r["endpoint"]
                                .as_str()
                                .unwrap_or("")
                                .contains(&format!(":{}/", key.rsplit(' ').next().unwrap()))
                    })
                    .cloned()
                    .unwrap_or_default();
                wrong.push(format!(
                    "{key}: expected {status}, got {got}: {}\n  evidence: {}",
                    result["message"], result["evidence"]
                ));
            }
            None => wrong.push(format!(
                "{key}: missing (have {:?})",
                actual.keys().collect::<Vec<_>>()
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        actual.len(),
        expected.len(),
        "unexpected extra results: {actual:?}"
    );
}

#[test]
fn reference_server_passes_every_smtp_check() {
    require_lab();
    let started = Instant::now();
    let output = mailcheck(&lab_args(REFERENCE, &["--format", "json"]));
    let elapsed = started.elapsed();
    let report = json(&output);
    expect(
        &report,
        &[
            ("smtp.banner.no-software @ 25", "pass"),
            ("smtp.banner.no-software @ 587", "pass"),
            ("smtp.banner.no-software @ 465", "pass"),
            ("smtp.banner.fqdn @ 25", "pass"),
            ("smtp.banner.fqdn @ 587", "pass"),
            ("smtp.banner.fqdn @ 465", "pass"),
            ("smtp.vrfy.disabled @ 25", "pass"),
            ("smtp.expn.disabled @ 25", "pass"),
            ("smtp.starttls @ 25", "pass"),
            ("smtp.starttls @ 587", "pass"),
            ("smtp.submission.tls-required @ 587", "pass"),
            ("smtp.auth.tls-only @ 25", "pass"),
            ("smtp.auth.tls-only @ 587", "pass"),
            ("smtp.auth.offered @ 587", "pass"),
            ("smtp.auth.offered @ 465", "pass"),
            ("smtp.smtps @ 465", "pass"),
            ("smtp.relay.refused @ 25", "pass"),
            ("smtp.relay.refused @ 587", "pass"),
            ("smtp.helo.invalid-rejected @ 25", "pass"),
            ("smtp.sender.unknown-domain-rejected @ 25", "pass"),
            ("smtp.size.advertised @ 25", "pass"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let target = &report["targets"][0];
    assert_eq!(target["score"], 100.0);
    assert_eq!(target["domain"], "ref.test");
    assert_eq!(target["addresses"][0], "127.0.100.10");
    eprintln!("reference run took {elapsed:?}");
}

#[test]
fn weak_server_has_every_weakness_caught() {
    require_lab();
    let output = mailcheck(&lab_args(WEAK, &["--format", "json"]));
    let report = json(&output);
    expect(
        &report,
        &[
            ("smtp.banner.no-software @ 25", "fail"),
            ("smtp.banner.no-software @ 587", "fail"),
            ("smtp.banner.no-software @ 465", "skip"),
            ("smtp.banner.fqdn @ 25", "pass"),
            ("smtp.banner.fqdn @ 587", "pass"),
            ("smtp.banner.fqdn @ 465", "skip"),
            ("smtp.vrfy.disabled @ 25", "fail"),
            ("smtp.expn.disabled @ 25", "pass"),
            ("smtp.starttls @ 25", "pass"),
            ("smtp.starttls @ 587", "pass"),
            ("smtp.submission.tls-required @ 587", "fail"),
            ("smtp.auth.tls-only @ 25", "fail"),
            ("smtp.auth.tls-only @ 587", "fail"),
            ("smtp.auth.offered @ 587", "pass"),
            ("smtp.auth.offered @ 465", "skip"),
            ("smtp.smtps @ 465", "fail"),
            ("smtp.relay.refused @ 25", "fail"),
            ("smtp.relay.refused @ 587", "fail"),
            ("smtp.helo.invalid-rejected @ 25", "fail"),
            ("smtp.sender.unknown-domain-rejected @ 25", "fail"),
            ("smtp.size.advertised @ 25", "pass"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let score = report["targets"][0]["score"].as_f64().unwrap();
    assert!(score < 50.0, "weak server scored {score}");
}

#[test]
fn every_result_carries_spec_fields_and_evidence() {
    require_lab();
    for target in [REFERENCE, WEAK] {
        let report = json(&mailcheck(&lab_args(target, &["--format", "json"])));
        assert_eq!(report["schema"], "mailcheck/report/v1");
        assert_eq!(report["tool"]["name"], "mailcheck");
        assert!(report["started_at"].as_str().unwrap().ends_with('Z'));
        assert!(report["duration_ms"].is_u64());
        let target_report = &report["targets"][0];
        for key in ["pass", "fail", "warn", "skip", "error"] {
            assert!(target_report["summary"][key].is_u64(), "summary.{key}");
        }
        for result in target_report["results"].as_array().unwrap() {
            for key in ["id", "title", "category", "severity", "status", "message"] {
                assert!(result[key].is_string(), "{key} in {result}");
            }
            assert!(
                result["endpoint"]
                    .as_str()
                    .unwrap()
                    .starts_with("127.0.100."),
                "{result}"
            );
            assert!(result["duration_ms"].is_u64());
            let evidence = result["evidence"].as_array().unwrap();
            if result["status"] != "skip" {
                assert!(!evidence.is_empty(), "no evidence for {result}");
            }
            match result["status"].as_str().unwrap() {
                "fail" | "warn" => assert!(result["fix"].is_string(), "fail without fix: {result}"),
                "pass" | "skip" => assert!(result["fix"].is_null()),
                _ => {}
            }
        }
    }
}

#[test]
fn evidence_shows_the_dialog_that_proves_the_verdict() {
    require_lab();
    let report = json(&mailcheck(&lab_args(
        WEAK,
        &[
            "--format",
            "json",
            "--only",
            "smtp.vrfy.disabled",
            "--only",
            "smtp.relay.refused",
        ],
    )));
    let results = report["targets"][0]["results"].as_array().unwrap();
    let vrfy = results
        .iter()
        .find(|r| r["id"] == "smtp.vrfy.disabled")
        .unwrap();
    let lines: Vec<&str> = vrfy["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(lines.contains(&"C: VRFY postmaster"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("S: 252")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("S: 550")), "{lines:?}");
    let relay = results
        .iter()
        .find(|r| {
            r["id"] == "smtp.relay.refused" && r["endpoint"].as_str().unwrap().contains(":25/")
        })
        .unwrap();
    let lines: Vec<&str> = relay["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("C: RCPT TO:<relaytest@outside.test>")),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("C: DATA")),
        "relay probes must never send DATA: {lines:?}"
    );
    assert!(relay["message"].as_str().unwrap().contains("OPEN RELAY"));
}

#[test]
fn the_checker_is_not_trusted_by_the_lab_servers() {
    require_lab();
    // From the checker's address, and from the default source address, the reference server
    // refuses relaying: neither is in its mynetworks (a trusted client would be let through).
    for bind in [Some(CHECKER), None] {
        let mut args = vec![
            "run",
            REFERENCE,
            "--resolver",
            RESOLVER,
            "--relay-domain",
            "outside.test",
            "--format",
            "json",
            "--only",
            "smtp.relay.refused",
        ];
        if let Some(bind) = bind {
            args.extend(["--bind", bind]);
        }
        let report = json(&mailcheck(&args));
        for result in report["targets"][0]["results"].as_array().unwrap() {
            assert_eq!(result["status"], "pass", "bind {bind:?}: {result}");
            // On 25 the refusal is the relay policy itself; 587 refuses unauthenticated
            // clients before that ("Client host rejected").
            if result["endpoint"].as_str().unwrap().contains(":25/") {
                let evidence = result["evidence"].to_string();
                assert!(
                    evidence.contains("Relay access denied"),
                    "bind {bind:?}: {evidence}"
                );
            }
        }
    }
}

#[test]
fn junit_and_markdown_files_are_written_in_the_same_run() {
    require_lab();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let markdown = dir.path().join("summary.md");
    let jsonfile = dir.path().join("report.json");
    let output = mailcheck(&lab_args(
        WEAK,
        &[
            "--junit",
            junit.to_str().unwrap(),
            "--markdown",
            markdown.to_str().unwrap(),
            "--json",
            jsonfile.to_str().unwrap(),
        ],
    ));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("smtp.relay.refused"),
        "text report on stdout"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure"), "{xml}");
    assert!(
        xml.contains("smtp.relay.refused @ 127.0.100.20:25/smtp"),
        "{xml}"
    );
    assert!(
        std::fs::read_to_string(&markdown)
            .unwrap()
            .contains("smtp.vrfy.disabled")
    );
    let report = common::report_file(&jsonfile);
    assert_eq!(report["targets"][0]["target"], WEAK);
    // The JUnit file loads in a real consumer (junitparser, from PyPI).
    let counts = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, junitparser\nx = junitparser.JUnitXml.fromfile(sys.argv[1])\nsuites = list(x) if hasattr(x, '__iter__') else [x]\ncases = [c for s in suites for c in s]\nfail = sum(1 for c in cases for r in c.result if isinstance(r, junitparser.Failure))\nprint(len(suites), len(cases), fail)",
            junit.to_str().unwrap(),
        ])
        .output()
        .expect("python3 runs");
    assert!(
        counts.status.success(),
        "junitparser could not load the file (pip install junitparser): {}",
        String::from_utf8_lossy(&counts.stderr)
    );
    let counts = String::from_utf8_lossy(&counts.stdout);
    let numbers: Vec<usize> = counts
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let summary = &report["targets"][0]["summary"];
    assert_eq!(numbers[0], 1);
    assert_eq!(
        numbers[1],
        report["targets"][0]["results"].as_array().unwrap().len()
    );
    assert_eq!(numbers[2] as u64, summary["fail"].as_u64().unwrap());
}

#[test]
fn a_domain_target_is_checked_through_its_mx() {
    require_lab();
    let report = json(&mailcheck(&lab_args(
        "ref.test",
        &["--format", "json", "--only", "smtp.banner.fqdn"],
    )));
    let target = &report["targets"][0];
    assert_eq!(target["domain"], "ref.test");
    assert_eq!(target["addresses"][0], "127.0.100.10");
    assert_eq!(target["results"].as_array().unwrap().len(), 3);
}

#[test]
fn several_targets_in_one_run() {
    require_lab();
    let output = mailcheck(&lab_args(
        REFERENCE,
        &[WEAK, "--format", "json", "--only", "smtp.vrfy.disabled"],
    ));
    let report = json(&output);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["results"][0]["status"], "pass");
    assert_eq!(targets[1]["results"][0]["status"], "fail");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn an_address_target_finds_its_domain_through_a_confirmed_ptr_or_skips_the_probes() {
    // `mailcheck run 127.0.100.10` without --domain: the HELO and sender probes need
    // `postmaster@<domain>` (a bare `postmaster` is refused by the hardened server for its
    // missing domain, which used to read as the server's fail). 127.0.100.10's PTR is
    // mail.ref.test, which resolves back to it: the domain is ref.test. 127.0.100.20 has no PTR.
    require_lab();
    let probes = [
        "--only",
        "smtp.helo.invalid-rejected",
        "--only",
        "smtp.sender.unknown-domain-rejected",
        "--format",
        "json",
    ];
    let reference = common::json(&common::mailcheck(&lab_args("127.0.100.10", &probes)));
    expect(
        &reference,
        &[
            ("smtp.helo.invalid-rejected @ 25", "pass"),
            ("smtp.sender.unknown-domain-rejected @ 25", "pass"),
        ],
    );
    assert_eq!(reference["targets"][0]["domain"], "ref.test", "{reference}");
    let weak = common::json(&common::mailcheck(&lab_args("127.0.100.20", &probes)));
    expect(
        &weak,
        &[
            ("smtp.helo.invalid-rejected @ 25", "skip"),
            ("smtp.sender.unknown-domain-rejected @ 25", "skip"),
        ],
    );
    let message = weak["targets"][0]["results"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("give --domain"), "{message}");
}
