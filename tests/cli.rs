//! The command line as users meet it: usage errors, exit codes, `list`, `explain`, `validate`.
//! None of these touch the network.

mod common;

use common::{mailcheck, stderr, stdout};

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["run"], "TARGET"),
        (
            &["run", "x.example", "--timeout", "0"],
            "not a number of seconds",
        ),
        (
            &["run", "x.example", "--resolver", "dns.example"],
            "not an IP address",
        ),
        (
            &["run", "x.example", "--min-score", "120"],
            "not a score between 0 and 100",
        ),
        (
            &["run", "x.example", "--format", "pdf"],
            "invalid value 'pdf'",
        ),
        (
            &["run", "x.example", "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
        (
            &["run", "x.example", "--only", "smtp.vrfy.disable"],
            "did you mean `smtp.vrfy.disabled`",
        ),
        (&["run", "x.example", "--profile", "defualt"], "default"),
        (
            &["run", "x.example", "--ca-file", "/nonexistent/ca.pem"],
            "cannot read /nonexistent/ca.pem",
        ),
        (
            &["run", "x.example", "--json", "/nonexistent/dir/report.json"],
            "cannot write /nonexistent/dir/report.json",
        ),
        (
            &["explain", "smtp.relay.refuse"],
            "did you mean smtp.relay.refused?",
        ),
    ];
    for (args, expected) in cases {
        let output = mailcheck(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: stderr lacks {expected:?}:\n{}",
            stderr(&output)
        );
        assert!(
            stdout(&output).is_empty(),
            "{args:?}: nothing was checked, nothing on stdout"
        );
    }
}

#[test]
fn help_shows_examples_for_each_subcommand() {
    for sub in ["run", "list", "explain", "validate"] {
        let output = mailcheck(&[sub, "--help"]);
        assert_eq!(output.status.code(), Some(0));
        assert!(
            stdout(&output).contains("Examples:\n  mailcheck"),
            "{sub} --help:\n{}",
            stdout(&output)
        );
    }
}

#[test]
fn list_shows_the_catalog_and_profiles() {
    let output = mailcheck(&["list"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for id in [
        "smtp.banner.no-software",
        "smtp.relay.refused",
        "smtp.size.advertised",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(id)),
            "{id} missing:\n{text}"
        );
    }
    let relay = text
        .lines()
        .find(|l| l.starts_with("smtp.relay.refused"))
        .unwrap();
    assert!(relay.contains("critical"), "{relay}");
    let course = stdout(&mailcheck(&["list", "--profile", "course"]));
    assert!(
        course
            .lines()
            .any(|l| l.starts_with("smtp.vrfy.disabled") && l.contains("high")),
        "{course}"
    );
}

#[test]
fn explain_names_the_postfix_parameter() {
    let output = mailcheck(&["explain", "smtp.vrfy.disabled"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.starts_with("smtp.vrfy.disabled — VRFY does not reveal mailboxes"),
        "{text}"
    );
    assert!(text.contains("disable_vrfy_command = yes"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn validate_accepts_good_files_and_points_at_bad_ones() {
    let root = env!("CARGO_MANIFEST_DIR");
    let good = format!("{root}/scenarios/course.yaml");
    let output = mailcheck(&["validate", &good]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("ok: "));
    let bad = format!("{root}/tests/fixtures/scenarios/typo-check-id.yaml");
    let output = mailcheck(&["validate", &good, &bad]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).starts_with("ok: "),
        "the good file is still reported"
    );
    assert!(
        stderr(&output).contains("typo-check-id.yaml:4:5"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unresolvable_target_is_one_line_and_exit_2_not_a_crash() {
    // A resolver where nothing listens: the run ends within the timeout; nothing could be
    // checked, so one line says why (exit 2), and the --json file still records it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    let started = std::time::Instant::now();
    let output = mailcheck(&[
        "run",
        "mail.nowhere.test",
        "--resolver",
        "127.0.100.54",
        "--timeout",
        "1",
        "--format",
        "json",
        "--json",
        file.to_str().unwrap(),
    ]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot resolve mail.nowhere.test"),
        "{err}"
    );
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let target = &report["targets"][0];
    assert!(
        target["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot resolve mail.nowhere.test"),
        "{target}"
    );
    let results = target["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        assert_eq!(result["status"], "error", "{result}");
        assert!(
            result["message"]
                .as_str()
                .unwrap()
                .contains("mail.nowhere.test"),
            "{result}"
        );
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_target_that_is_no_host_name_is_refused_without_the_network() {
    for (target, expected) in [
        (
            "exa mple",
            "\"exa mple\" is not a host name or an IP address",
        ),
        ("mail.example.com:2525", "carries a port"),
    ] {
        // The resolver would not answer: the syntax is refused before any look-up.
        let started = std::time::Instant::now();
        let output = mailcheck(&[
            "run",
            target,
            "--resolver",
            "127.0.100.54",
            "--timeout",
            "3",
        ]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
