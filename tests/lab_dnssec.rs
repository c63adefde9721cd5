//! dns.dnssec, dns.tlsa and DANE-EE's effect on tls.cert.* against the lab's signed tree
//! (NSD on 127.0.100.53, `test.` anchored by L/dns/trust-anchor.ds; cases in LAB-V2 /
//! docker/README.md). A lab that cannot be reached fails these tests.

mod common;

use std::time::{Duration, Instant};

use common::{json, mailcheck, stderr};
use serde_json::Value;

const LAB: &str = "/var/lib/mailcheck-lab";

fn run(target: &str, extra: &[&str]) -> Value {
    common::require_lab(&[]);
    let anchor = format!("{LAB}/dns/trust-anchor.ds");
    let mut args = vec![
        "run",
        target,
        "--resolver",
        "127.0.100.53",
        "--bind",
        "127.0.100.2",
        "--timeout",
        "5",
        "--format",
        "json",
    ];
    if !extra.contains(&"--trust-anchor") {
        args.extend_from_slice(&["--trust-anchor", &anchor]);
    }
    if !extra.contains(&"--only") {
        args.extend_from_slice(&["--only", "dns.dnssec", "--only", "dns.tlsa"]);
    }
    args.extend_from_slice(extra);
    let output = mailcheck(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "mailcheck failed to run: {}",
        stderr(&output)
    );
    json(&output)
}

/// (status, message, evidence) of every result of `id`.
fn results(report: &Value, id: &str) -> Vec<(String, String, Vec<String>)> {
    report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == id)
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
                r["evidence"]
                    .as_array()
                    .map(|e| {
                        e.iter()
                            .map(|l| l.as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn one(report: &Value, id: &str) -> (String, String, Vec<String>) {
    let mut all = results(report, id);
    assert_eq!(all.len(), 1, "{id}: {all:?}");
    all.remove(0)
}

#[test]
fn the_reference_is_secure_and_its_tlsa_matches() {
    let report = run("ref.test", &[]);
    let (status, message, evidence) = one(&report, "dns.dnssec");
    assert_eq!(status, "pass", "{message}");
    assert!(message.contains("zone ref.test. is secure"), "{message}");
    // The chain: the anchor's DNSKEY, then ref.test's DS and DNSKEY with key tags.
    assert!(
        evidence
            .iter()
            .any(|l| l.contains("test.: trust anchor DS 57700")
                || l.contains("test.: trust anchor DS")),
        "{evidence:?}"
    );
    assert!(
        evidence
            .iter()
            .any(|l| l.starts_with("* ref.test.: DS") && l.contains("RRSIG valid")),
        "{evidence:?}"
    );
    let (status, message, _) = one(&report, "dns.tlsa");
    assert_eq!(status, "pass", "{message}");
    assert!(message.contains("3 1 1"), "{message}");
    // A rollover record is published: no note about its absence.
    assert!(!message.contains("no rollover"), "{message}");
}

#[test]
fn the_weak_side_is_insecure_and_skips_dane() {
    let report = run("weak.test", &[]);
    let (status, message, evidence) = one(&report, "dns.dnssec");
    assert_eq!(status, "warn", "{message}");
    assert!(message.contains("insecure"), "{message}");
    assert!(
        evidence.iter().any(|l| l.contains("NSEC weak.test.")),
        "{evidence:?}"
    );
    let (status, message, _) = one(&report, "dns.tlsa");
    assert_eq!(status, "skip", "{message}");
    assert!(message.contains("DANE needs DNSSEC"), "{message}");
}

#[test]
fn a_ds_that_matches_no_key_is_bogus() {
    let report = run("bogus.test", &["--only", "dns.dnssec"]);
    let (status, message, _) = one(&report, "dns.dnssec");
    assert_eq!(status, "fail", "{message}");
    assert!(message.contains("matches no DNSKEY"), "{message}");
}

#[test]
fn a_tlsa_that_matches_nothing_fails() {
    let report = run("dane.test", &[]);
    let (status, message, _) = one(&report, "dns.dnssec");
    assert_eq!(status, "pass", "{message}");
    let (status, message, evidence) = one(&report, "dns.tlsa");
    assert_eq!(status, "fail", "{message}");
    assert!(message.contains("no TLSA record"), "{message}");
    // Matched against the shared port-25 handshake.
    assert!(
        evidence
            .iter()
            .any(|l| l.contains("TLS handshake complete")),
        "{evidence:?}"
    );
}

#[test]
fn an_insecure_domain_with_a_secure_mx() {
    let report = run("stsmiss.test", &[]);
    let (status, message, _) = one(&report, "dns.dnssec");
    assert_eq!(status, "warn", "{message}");
    let (status, message, _) = one(&report, "dns.tlsa");
    assert_eq!(status, "pass", "{message}");
}

#[test]
fn dane_ee_makes_port_25_certificate_checks_pass() {
    // Without --ca-file the lab CA is unknown: on 25 that would be a warning, but a
    // matching 3 1 1 record makes the issuer irrelevant (RFC 7672 §3.1.1).
    let report = run("ref.test", &["--only", "tls.cert.trusted"]);
    let at_25: Vec<_> = report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoint"].as_str().unwrap_or("").contains(":25/"))
        .collect();
    assert!(!at_25.is_empty(), "{report}");
    for result in at_25 {
        assert_eq!(result["status"], "pass", "{result}");
        assert!(
            result["message"].as_str().unwrap().starts_with("DANE-EE"),
            "{result}"
        );
    }
    // On 587 the same certificate still fails: clients there must verify it.
    let at_587 = report["targets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["endpoint"].as_str().unwrap_or("").contains(":587/"))
        .expect("a 587 result");
    assert_eq!(at_587["status"], "fail", "{at_587}");
}

#[test]
fn a_dnskey_anchor_works_too() {
    let anchor = format!("{LAB}/dns/trust-anchor.dnskey");
    let report = run(
        "ref.test",
        &["--trust-anchor", &anchor, "--only", "dns.dnssec"],
    );
    let (status, message, _) = one(&report, "dns.dnssec");
    assert_eq!(status, "pass", "{message}");
}

#[test]
fn the_iana_root_against_a_private_tree_fails_fast_with_the_reason() {
    common::require_lab(&[]);
    let started = Instant::now();
    let output = mailcheck(&[
        "run",
        "ref.test",
        "--resolver",
        "127.0.100.53",
        "--bind",
        "127.0.100.2",
        "--only",
        "dns.dnssec",
        "--only",
        "dns.tlsa",
        "--timeout",
        "5",
        "--format",
        "json",
    ]);
    let elapsed = started.elapsed();
    let report = json(&output);
    let (status, message, _) = one(&report, "dns.dnssec");
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("--trust-anchor"), "{message}");
    let (status, _, _) = one(&report, "dns.tlsa");
    assert_eq!(status, "error");
    // No timeout waited out.
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}
