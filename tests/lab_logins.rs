//! Login probes against the weak lab server's Dovecot, which answers a failed login only after
//! `auth_failure_delay` (2 s) and holds later logins from a failing address for its auth
//! penalty: the verdicts must not depend on which probe went first, nor on the run before.
//! A lab that cannot be reached fails these tests: it never skips them.

mod common;

use std::collections::BTreeMap;

use common::{json, stderr};

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";
const WEAK: &str = "mail.weak.test";
const LAB: &str = "/var/lib/mailcheck-lab";

fn password() -> String {
    std::fs::read_to_string(format!("{LAB}/secrets/test-password"))
        .expect("the lab's test password file is readable (run the tests as root)")
        .trim()
        .to_string()
}

fn require_lab() {
    common::require_lab(&["127.0.100.20:143", "127.0.100.20:110"]);
}

/// `id @ port` → `status: message`, for every result.
fn verdicts(report: &serde_json::Value) -> BTreeMap<String, String> {
    common::results_by_port(report)
        .into_iter()
        .map(|(key, r)| {
            let status = r["status"].as_str().unwrap_or("?").to_string();
            (key, status)
        })
        .collect()
}

fn run_weak(extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "run",
        WEAK,
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--relay-domain",
        "outside.test",
        "--timeout",
        "5",
        "--user",
        "test@weak.test",
        "--password-env",
        "MAILCHECK_TEST_PW",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(&args)
        .env("NO_COLOR", "1")
        .env("MAILCHECK_TEST_PW", password())
        .output()
        .expect("the mailcheck binary runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        stderr(&output)
    );
    json(&output)
}

#[test]
fn imap_and_pop3_logins_get_their_verdict_despite_the_failure_delays() {
    require_lab();
    let mut first: Option<BTreeMap<String, String>> = None;
    for round in 1..=3 {
        let report = run_weak(&["--only", "imap.*", "--only", "pop3.*"]);
        let got = verdicts(&report);
        for (key, expected) in [
            ("imap.login.tls-only @ 143", "fail"),
            ("pop3.login.tls-only @ 110", "fail"),
            ("imap.login @ 143", "pass"),
        ] {
            assert_eq!(
                got.get(key).map(String::as_str),
                Some(expected),
                "round {round}, {key}: {report}"
            );
        }
        let errors: Vec<&String> = got
            .iter()
            .filter(|(_, status)| *status == "error")
            .map(|(key, _)| key)
            .collect();
        assert!(
            errors.is_empty(),
            "round {round}: errors {errors:?}: {report}"
        );
        match &first {
            None => first = Some(got),
            Some(first) => assert_eq!(first, &got, "round {round} differs from round 1"),
        }
    }
}

#[test]
fn the_weak_servers_default_run_gives_the_same_verdicts_three_times() {
    require_lab();
    let mut first: Option<BTreeMap<String, String>> = None;
    for round in 1..=3 {
        let report = run_weak(&[]);
        let got = verdicts(&report);
        // Every login probe got an answer.
        for key in [
            "imap.login.tls-only @ 143",
            "pop3.login.tls-only @ 110",
            "imap.login @ 143",
        ] {
            let status = got.get(key).map(String::as_str);
            assert!(
                matches!(status, Some("pass" | "fail")),
                "round {round}, {key}: {status:?}: {report}"
            );
        }
        match &first {
            None => first = Some(got),
            Some(first) => {
                let differences: Vec<String> = first
                    .iter()
                    .filter(|(key, status)| got.get(*key) != Some(status))
                    .map(|(key, status)| format!("{key}: {status} then {:?}", got.get(key)))
                    .collect();
                assert!(
                    differences.is_empty() && first.len() == got.len(),
                    "round {round}: {differences:?}"
                );
            }
        }
    }
}

#[test]
fn two_identical_weak_servers_get_equal_grades_in_batch() {
    require_lab();
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("two.yaml");
    std::fs::write(
        &roster,
        "defaults:\n  profile: course\n  relay_domain: outside.test\n\
         students:\n  - name: One\n    target: mail.weak.test\n    user: test@weak.test\n    password_env: MAILCHECK_TEST_PW\n\
         \x20 - name: Two\n    target: mail.weak.test\n    user: test@weak.test\n    password_env: MAILCHECK_TEST_PW\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args([
            "batch",
            roster.to_str().unwrap(),
            "--resolver",
            RESOLVER,
            "--bind",
            CHECKER,
            "--timeout",
            "5",
            "--format",
            "json",
        ])
        .env("NO_COLOR", "1")
        .env("MAILCHECK_TEST_PW", password())
        .output()
        .expect("the mailcheck binary runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    let report = json(&output);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    let (one, two) = (verdicts_of(&targets[0]), verdicts_of(&targets[1]));
    let differences: Vec<String> = one
        .iter()
        .filter(|(key, status)| two.get(*key) != Some(status))
        .map(|(key, status)| format!("{key}: {status} vs {:?}", two.get(key)))
        .collect();
    assert!(differences.is_empty(), "{differences:?}");
    assert_eq!(targets[0]["score"], targets[1]["score"], "{report}");
}

/// `id @ port` → status for one target of a batch report.
fn verdicts_of(target: &serde_json::Value) -> BTreeMap<String, String> {
    let wrapped = serde_json::json!({ "targets": [target] });
    verdicts(&wrapped)
}
