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
fn an_unresolvable_target_is_an_error_result_not_a_crash() {
    // A resolver where nothing listens: the run ends within the timeout with `error` results.
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
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = common::json(&output);
    let results = report["targets"][0]["results"].as_array().unwrap();
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

/// Runs `mailcheck` with the `MAILCHECK_*` variables of `vars` set and every other one unset.
fn mailcheck_with_env(args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"));
    command.args(args).env("NO_COLOR", "1");
    for (name, _) in std::env::vars() {
        if name.starts_with("MAILCHECK_") {
            command.env_remove(name);
        }
    }
    command.envs(vars.iter().copied());
    command.output().expect("the mailcheck binary runs")
}

const VARIABLES: [&str; 6] = [
    "MAILCHECK_RESOLVER",
    "MAILCHECK_CA_FILE",
    "MAILCHECK_TIMEOUT",
    "MAILCHECK_BIND",
    "MAILCHECK_TRUST_ANCHOR",
    "MAILCHECK_PROFILE",
];

#[test]
fn help_names_the_environment_variables() {
    for sub in ["run", "batch"] {
        let output = mailcheck_with_env(&[sub, "--help"], &[]);
        let help = stdout(&output);
        for var in VARIABLES {
            assert!(
                help.contains(&format!("[env: {var}=]")),
                "{sub}: {var}:\n{help}"
            );
        }
    }
}

/// Arguments after `run x.example`, the variables set, and what stderr must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn environment_variables_are_read_and_a_flag_beats_them() {
    // Each case stops before the network: a bad value, or a file that cannot be read.
    let cases: &[Case] = &[
        (
            &[],
            &[("MAILCHECK_TIMEOUT", "0")],
            "not a number of seconds",
        ),
        (
            &["--timeout", "5", "--ca-file", "/nonexistent/flag.pem"],
            &[("MAILCHECK_TIMEOUT", "0")],
            "cannot read /nonexistent/flag.pem",
        ),
        (
            &[],
            &[("MAILCHECK_CA_FILE", "/nonexistent/env.pem")],
            "cannot read /nonexistent/env.pem",
        ),
        (
            &["--ca-file", "/nonexistent/flag.pem"],
            &[("MAILCHECK_CA_FILE", "/nonexistent/env.pem")],
            "cannot read /nonexistent/flag.pem",
        ),
        (
            &[],
            &[("MAILCHECK_PROFILE", "defualt")],
            "unknown profile `defualt`",
        ),
        (
            &["-p", "ci", "--ca-file", "/nonexistent/flag.pem"],
            &[("MAILCHECK_PROFILE", "defualt")],
            "cannot read /nonexistent/flag.pem",
        ),
        (
            &[],
            &[("MAILCHECK_TRUST_ANCHOR", "/nonexistent/root.ds")],
            "cannot read /nonexistent/root.ds",
        ),
        // A list in a variable is split at commas: the second item is the bad one.
        (
            &[],
            &[("MAILCHECK_RESOLVER", "127.0.100.53,dns.example")],
            "\"dns.example\" is not an IP address",
        ),
        (&[], &[("MAILCHECK_BIND", "127.0.100.2,nowhere")], "nowhere"),
        (
            &[],
            &[("MAILCHECK_HELO_NAME", "probe")],
            "`probe` is not a fully qualified host name",
        ),
    ];
    for (args, vars, expected) in cases {
        let mut argv = vec!["run", "x.example"];
        argv.extend_from_slice(args);
        let output = mailcheck_with_env(&argv, vars);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?} {vars:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?} {vars:?}: stderr lacks {expected:?}:\n{}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?} {vars:?}");
    }
}

#[test]
fn a_repeated_scalar_flag_takes_its_last_value() {
    let output = mailcheck_with_env(
        &[
            "run",
            "x.example",
            "--timeout",
            "3",
            "--timeout",
            "4",
            "--ca-file",
            "/nonexistent/first.pem",
            "--ca-file",
            "/nonexistent/last.pem",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("cannot read /nonexistent/last.pem"), "{text}");
    assert!(!text.contains("cannot be used multiple times"), "{text}");
}

#[test]
fn setting_flags_follow_the_settings_rules() {
    let output = mailcheck_with_env(&["run", "x.example", "--relay-domain", "localhost"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`localhost` is not a domain name"),
        "{}",
        stderr(&output)
    );
}
