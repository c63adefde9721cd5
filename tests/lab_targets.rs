//! Targets that cannot be checked (they do not resolve, or are no host name) and the reasons
//! for an exit code, as users meet them: one clear line, exit 2 when nothing was checked; among
//! several targets the others are checked; `--min-score` says when it decided the exit code.
//! DNS answers come from the lab's authoritative server (127.0.100.53).

mod common;

use common::{json, mailcheck, stderr, stdout};

const RESOLVER: &str = "127.0.100.53";
const CHECKER: &str = "127.0.100.2";

fn run(targets: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run"];
    args.extend_from_slice(targets);
    args.extend_from_slice(&["--resolver", RESOLVER, "--bind", CHECKER, "--timeout", "5"]);
    args.extend_from_slice(extra);
    mailcheck(&args)
}

#[test]
fn a_target_that_cannot_be_checked_is_one_line_and_exit_2() {
    common::require_lab(&[]);
    let cases = [
        (
            "nosuch.example.test",
            "nosuch.example.test does not exist in DNS (NXDOMAIN)",
        ),
        ("exa mple", "is not a host name or an IP address"),
        (
            "mail.ref.test:25",
            "carries a port: give the host alone (mail.ref.test)",
        ),
    ];
    for (target, expected) in cases {
        let output = run(&[target], &[]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{target}: {err}");
        assert_eq!(err.lines().count(), 1, "{target}: one line:\n{err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{target}: {err}"
        );
        assert!(err.contains("nothing was checked"), "{target}: {err}");
        assert!(stdout(&output).is_empty(), "{target}: {}", stdout(&output));
    }
}

#[test]
fn among_several_targets_the_others_are_checked() {
    common::require_lab(&[]);
    let output = run(
        &["127.0.100.10", "nosuch.example.test"],
        &["--only", "smtp.banner.fqdn", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let checked = &report["targets"][0];
    assert!(checked.get("error").is_none(), "{checked}");
    assert_eq!(checked["results"][0]["status"], "pass", "{checked}");
    let unchecked = &report["targets"][1];
    assert_eq!(
        unchecked["error"],
        "nosuch.example.test does not exist in DNS (NXDOMAIN)"
    );
    assert_eq!(unchecked["results"][0]["status"], "error", "{unchecked}");
    // In text, the target that could not be checked is one line, not one per check.
    let output = run(
        &["127.0.100.10", "nosuch.example.test"],
        &["--only", "smtp.banner.*"],
    );
    let text = stdout(&output);
    let (body, recap) = text.split_once("\nfailed (1):\n").expect("a failure recap");
    let errors: Vec<&str> = body.lines().filter(|l| l.contains("ERR ")).collect();
    assert_eq!(
        errors,
        ["  ERR   not checked: nosuch.example.test does not exist in DNS (NXDOMAIN)"],
        "{text}"
    );
    // The recap names it once too, not once per check.
    let recapped: Vec<&str> = recap.lines().filter(|l| l.contains("ERR ")).collect();
    assert_eq!(recapped.len(), 1, "{text}");
    assert!(
        recapped[0].contains("nosuch.example.test  not checked:"),
        "{text}"
    );
}

#[test]
fn a_score_below_min_score_says_so() {
    common::require_lab(&[]);
    // The weak server's VRFY (medium) fails, below --fail-on high: only the score decides.
    let output = run(
        &["127.0.100.20"],
        &[
            "--only",
            "smtp.vrfy.disabled",
            "--only",
            "smtp.size.advertised",
            "--fail-on",
            "high",
            "--min-score",
            "90",
        ],
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}\n{}", stdout(&output));
    let line = err
        .lines()
        .find(|l| l.contains("--min-score"))
        .unwrap_or_else(|| panic!("no --min-score line:\n{err}"));
    assert!(
        line.starts_with("mailcheck: 127.0.100.20: score ") && line.ends_with(" < --min-score 90"),
        "{line}"
    );
    // Met, it says nothing.
    let output = run(
        &["127.0.100.20"],
        &["--only", "smtp.expn.disabled", "--min-score", "50"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("--min-score"));
}

#[test]
fn a_server_where_nothing_answers_grades_0_in_batch() {
    common::require_lab(&[]);
    // Nothing listens on 127.0.100.250; its domain's DNS (ref.test, the reference's) is right.
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("dead.yaml");
    std::fs::write(
        &roster,
        "defaults:\n  profile: course\nstudents:\n  - name: Dead\n    target: 127.0.100.250\n    domain: ref.test\n",
    )
    .unwrap();
    let output = mailcheck(&[
        "batch",
        roster.to_str().unwrap(),
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--timeout",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let target = &report["targets"][0];
    let results = target["results"].as_array().unwrap();
    // The DNS checks of ref.test still pass: they are shown, and earn nothing.
    assert!(
        results
            .iter()
            .any(|r| r["category"] == "dns" && r["status"] == "pass"),
        "{target}"
    );
    for result in results.iter().filter(|r| !r["endpoint"].is_null()) {
        assert!(
            result["status"] == "error" || result["status"] == "skip",
            "{result}"
        );
    }
    assert_eq!(target["score"], 0.0, "{target}");
    // With --min-score, batch says who is below it, as run does.
    let output = mailcheck(&[
        "batch",
        roster.to_str().unwrap(),
        "--resolver",
        RESOLVER,
        "--bind",
        CHECKER,
        "--timeout",
        "2",
        "--min-score",
        "50",
    ]);
    assert!(
        stderr(&output).contains("mailcheck: Dead: score 0.0 < --min-score 50"),
        "{}",
        stderr(&output)
    );
}
