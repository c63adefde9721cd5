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
    for sub in [
        "run",
        "batch",
        "list",
        "explain",
        "validate",
        "diff",
        "init",
        "completions",
        "man",
    ] {
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
fn the_ci_profile_refuses_to_run_without_a_test_mailbox() {
    // Nothing connects: the refusal comes before the network (a resolver where nothing listens).
    let base = [
        "run",
        "127.0.100.54",
        "--domain",
        "nowhere.test",
        "--resolver",
        "127.0.100.54",
        "--timeout",
        "1",
    ];
    let mut args = base.to_vec();
    args.extend(["-p", "ci"]);
    let output = mailcheck(&args);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the `ci` profile needs a test mailbox: --user USER"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());

    // A scenario that extends ci inherits the rule.
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.yaml");
    std::fs::write(&site, "name: site\nextends: ci\n").unwrap();
    let mut args = base.to_vec();
    args.extend(["-s", site.to_str().unwrap()]);
    assert_eq!(mailcheck(&args).status.code(), Some(2));

    // Without the e2e checks, or with the default profile, it runs (and errors: no DNS).
    for extra in [&["-p", "ci", "--skip", "e2e.*"][..], &["-p", "default"][..]] {
        let mut args = base.to_vec();
        args.extend(extra);
        args.extend(["--only", "dns.mx", "--format", "json"]);
        let output = mailcheck(&args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{extra:?}: {}",
            stderr(&output)
        );
    }
}

/// scripts/need-rust with only the given directory (plus the shell's basics) on PATH.
fn need_rust(path_dir: &std::path::Path) -> std::process::Output {
    std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/need-rust"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", path_dir.display()))
        .env("HOME", path_dir)
        .output()
        .expect("bash runs")
}

#[test]
fn need_rust_says_what_to_run_on_a_machine_without_a_recent_rust() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path();
    let fake = |name: &str, version: &str| {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\necho '{name} {version}'\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let rustup_line =
        "sh -s -- -y --profile minimal --default-toolchain 1.95 --component rustfmt,clippy";

    // No Rust at all (unless /usr/bin has one, as Debian's too-old package would).
    if !std::path::Path::new("/usr/bin/rustc").exists() {
        let output = need_rust(bin);
        assert_eq!(output.status.code(), Some(1));
        let said = stderr(&output);
        assert!(said.contains("not found: rustc cargo"), "{said}");
        assert!(said.contains(rustup_line), "{said}");
    }

    // Debian 12's own rustc.
    fake("rustc", "1.63.0");
    fake("cargo", "1.65.0");
    let output = need_rust(bin);
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    assert!(said.contains("rustc 1.63.0 is too old"), "{said}");
    assert!(said.contains(rustup_line), "{said}");

    // 1.95 and later are fine.
    for version in ["1.95.0", "1.101.2"] {
        fake("rustc", &format!("{version} (abc 2026-04-14)"));
        let output = need_rust(bin);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{version}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).contains(&format!("rustc {version}")));
    }

    // Rust but no C toolchain (rustup installs none): only our fakes and awk on PATH.
    std::os::unix::fs::symlink("/usr/bin/awk", bin.join("awk")).unwrap();
    let output = std::process::Command::new("/bin/bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/need-rust"))
        .env_clear()
        .env("PATH", bin)
        .env("HOME", bin)
        .output()
        .expect("bash runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("apt-get install -y build-essential"),
        "{}",
        stderr(&output)
    );
}

/// Runs `program args...` on `script` written to a file; the shell's own syntax check.
fn shell_check(program: &str, args: &[&str], script: &str, file: &std::path::Path) {
    std::fs::write(file, script).unwrap();
    let checked = std::process::Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{program} is needed to check the completion script ({e}); scripts/test installs it"
            )
        });
    assert!(
        checked.status.success() && checked.stderr.is_empty(),
        "{program} {args:?} rejects {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn completion_scripts_are_valid_for_their_shells() {
    let dir = tempfile::tempdir().unwrap();
    let checks: &[(&str, &str, &[&str], &str)] = &[
        ("bash", "bash", &["-n"], "mailcheck.bash"),
        ("zsh", "zsh", &["-n"], "_mailcheck"),
        ("fish", "fish", &["--no-execute"], "mailcheck.fish"),
        (
            "elvish",
            "elvish",
            &["-compileonly", "-norc"],
            "mailcheck.elv",
        ),
    ];
    for (shell, program, args, file) in checks {
        let output = mailcheck(&["completions", shell]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{shell}: {}",
            stderr(&output)
        );
        let script = stdout(&output);
        // Every subcommand and a flag of run are offered.
        for word in [
            "run",
            "batch",
            "diff",
            "init",
            "completions",
            "relay-domain",
        ] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
        // `edit:` exists only in an interactive elvish, which `-compileonly` is not: the
        // script's one use of it (registering the completer) becomes a variable of our own,
        // and everything else is compiled as written.
        let script = if *shell == "elvish" {
            assert!(script.contains("set edit:completion:arg-completer[mailcheck]"));
            format!(
                "var arg-completer = [&]\n{}",
                script.replace("edit:completion:arg-completer", "arg-completer")
            )
        } else {
            script
        };
        shell_check(program, args, &script, &dir.path().join(file));
    }
    // Bash really completes: check ids after `explain` and `--only`, subcommands after
    // `mailcheck` (the script's function run as bash runs it on TAB).
    let bash = dir.path().join("mailcheck.bash");
    let complete = |words: &str, current: &str, previous: &str| {
        let script = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); \
             _mailcheck mailcheck {current} {previous}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            bash.display()
        );
        let output = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let mut words: Vec<String> = stdout(&output).lines().map(String::from).collect();
        words.sort();
        words
    };
    assert_eq!(
        complete("mailcheck explain smtp.vr", "smtp.vr", "explain"),
        ["smtp.vrfy.disabled"]
    );
    assert_eq!(
        complete("mailcheck run x --only dns.m", "dns.m", "--only"),
        ["dns.mta-sts", "dns.mx"]
    );
    assert!(complete("mailcheck di", "di", "mailcheck").contains(&"diff".to_string()));
    // zsh's and fish's scripts offer the ids too (clap_complete's elvish script completes
    // subcommands and flags only).
    for shell in ["zsh", "fish"] {
        let script = stdout(&mailcheck(&["completions", shell]));
        assert!(script.contains("smtp.relay.refused"), "{shell}");
    }

    // PowerShell is not packaged for Debian: at least the script is generated and names us.
    let output = mailcheck(&["completions", "powershell"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("Register-ArgumentCompleter"));
    let output = mailcheck(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("invalid value 'tcsh'"),
        "{}",
        stderr(&output)
    );
}

/// `man -l FILE` rendered as plain text (no pager, fixed width).
fn render_man(page: &std::path::Path) -> String {
    let output = std::process::Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "80")
        .env("LANG", "C.UTF-8")
        .output()
        .expect("man (man-db) is needed to render the pages; scripts/test installs it");
    assert!(
        output.status.success(),
        "man -l {}: {}",
        page.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let warnings = String::from_utf8_lossy(&output.stderr);
    assert!(
        warnings.trim().is_empty(),
        "man -l {}: {warnings}",
        page.display()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn man_pages_render_for_the_command_and_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let output = mailcheck(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected = [
        "batch",
        "completions",
        "diff",
        "explain",
        "help",
        "init",
        "list",
        "man",
        "merge",
        "run",
        "validate",
    ];
    let mut wanted: Vec<String> = expected
        .iter()
        .map(|s| format!("mailcheck-{s}.1"))
        .collect();
    wanted.push("mailcheck.1".into());
    wanted.sort();
    assert_eq!(names, wanted);
    // The paths written are printed, one a line.
    assert_eq!(stdout(&output).lines().count(), wanted.len());

    // Every page renders, names itself and has a synopsis.
    for name in &wanted {
        let page = render_man(&dir.path().join(name));
        let stem = name.trim_end_matches(".1");
        assert!(
            page.contains("NAME") && page.contains("SYNOPSIS") && page.contains(stem),
            "{name}:\n{page}"
        );
    }
    let main = render_man(&dir.path().join("mailcheck.1"));
    for part in [
        "NAME",
        "SYNOPSIS",
        "mailcheck-run(1)",
        "Checks mail servers",
    ] {
        assert!(main.contains(part), "mailcheck.1 lacks {part}:\n{main}");
    }
    let run = render_man(&dir.path().join("mailcheck-run.1"));
    for part in [
        "mailcheck run",
        "--relay-domain",
        "--password-env",
        "Examples:",
    ] {
        assert!(run.contains(part), "mailcheck-run.1 lacks {part}:\n{run}");
    }
    // Without --dir: the command's own page on stdout.
    let output = mailcheck(&["man"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains(".TH mailcheck 1"),
        "{}",
        stdout(&output)
    );
}

/// `mailcheck` with `args` and exactly the colour variables given (NO_COLOR, CLICOLOR_FORCE and
/// CLICOLOR removed from the environment first); stdout is a pipe.
fn with_color_env(args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"));
    command
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("the mailcheck binary runs")
}

#[test]
fn color_follows_the_flag_then_clicolor_force_then_no_color() {
    // One DNS check (an address target, its domain given) against a resolver where nothing listens: an `error` result, at once.
    let run = [
        "run",
        "127.0.100.54",
        "--domain",
        "nowhere.test",
        "--resolver",
        "127.0.100.54",
        "--timeout",
        "1",
        "--only",
        "dns.mx",
    ];
    let colored = |extra: &[&str], vars: &[(&str, &str)]| {
        let mut args = run.to_vec();
        args.extend(extra);
        let output = with_color_env(&args, vars);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stdout(&output).contains("dns.mx"), "{}", stdout(&output));
        stdout(&output).contains('\u{1b}')
    };
    assert!(!colored(&[], &[]), "a pipe gets no colours by default");
    assert!(colored(&["--color", "always"], &[]));
    assert!(
        colored(&["--color", "always"], &[("NO_COLOR", "1")]),
        "the flag wins"
    );
    assert!(colored(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(colored(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    assert!(!colored(&[], &[("CLICOLOR_FORCE", "0")]));
    assert!(!colored(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!colored(&["--no-color"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!colored(&["--color", "auto"], &[("NO_COLOR", "1")]));
    // Machine formats never get colours.
    assert!(!colored(&["--format", "json", "--color", "always"], &[]));
    let output = mailcheck(&["run", "x.example", "--color", "sometimes"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("[possible values: auto, always, never]"));
}

#[test]
fn a_dash_file_is_stdout_for_every_report_option() {
    let base = [
        "run",
        "127.0.100.54",
        "--domain",
        "nowhere.test",
        "--resolver",
        "127.0.100.54",
        "--timeout",
        "1",
        "--only",
        "dns.mx",
    ];
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("report.json");
    let cases: &[(&str, &str)] = &[
        ("--json", "\"schema\": \"mailcheck/report/v1\""),
        ("--junit", "<testsuites"),
        ("--markdown", "dns.mx"),
        ("--html", "<!DOCTYPE html>"),
    ];
    for (flag, marker) in cases {
        let mut args = base.to_vec();
        args.extend([*flag, "-", "--json", other.to_str().unwrap()]);
        if *flag == "--json" {
            args.truncate(args.len() - 2);
        }
        let output = mailcheck(&args);
        assert_eq!(output.status.code(), Some(1), "{flag}: {}", stderr(&output));
        let text = stdout(&output);
        assert!(text.contains(marker), "{flag} -: {text}");
        assert!(
            !text.contains("1 error —"),
            "{flag} -: no text report as well:\n{text}"
        );
        assert!(!std::path::Path::new("-").exists(), "no file named `-`");
    }
    // The other file option still writes its file.
    assert!(
        std::fs::read_to_string(&other)
            .unwrap()
            .contains("mailcheck/report/v1")
    );

    // Two claims on stdout.
    for extra in [
        &["--json", "-", "--junit", "-"][..],
        &["--json", "-", "--format", "text"][..],
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let output = mailcheck(&args);
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        assert!(
            stderr(&output).contains("both want stdout"),
            "{}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty());
    }
    // The same format twice is one claim.
    let mut args = base.to_vec();
    args.extend(["--json", "-", "--format", "json"]);
    let output = mailcheck(&args);
    assert_eq!(output.status.code(), Some(1));
    common::json(&output);
}

#[test]
fn batch_writes_the_grade_sheet_to_stdout_with_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("class.yaml");
    std::fs::write(
        &roster,
        "students:\n  - name: Nobody\n    target: mail.nowhere.test\n",
    )
    .unwrap();
    let output = mailcheck(&[
        "batch",
        roster.to_str().unwrap(),
        "--resolver",
        "127.0.100.54",
        "--timeout",
        "1",
        "--only",
        "dns.a",
        "--csv",
        "-",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("name,target,domain,score,grade,scale"),
        "{text}"
    );
    assert!(text.contains("Nobody,mail.nowhere.test"), "{text}");
}

#[test]
fn list_and_explain_speak_json() {
    let output = mailcheck(&["list", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let listing = common::json(&output);
    let checks = listing["checks"].as_array().unwrap();
    let text = stdout(&mailcheck(&["list"]));
    assert_eq!(
        checks.len(),
        text.lines().count(),
        "one entry per line of `list`"
    );
    let relay = checks
        .iter()
        .find(|c| c["id"] == "smtp.relay.refused")
        .unwrap();
    assert_eq!(relay["severity"], "critical");
    assert_eq!(relay["category"], "smtp");
    assert_eq!(relay["ports"], serde_json::json!([25, 587]));
    let spf = checks.iter().find(|c| c["id"] == "dns.spf").unwrap();
    assert_eq!(spf["ports"], serde_json::json!([]));
    assert!(listing["profile"].is_null());

    // A profile's severities.
    let course = common::json(&mailcheck(&[
        "list",
        "--profile",
        "course",
        "--format",
        "json",
    ]));
    assert_eq!(course["profile"], "course");
    let vrfy = course["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "smtp.vrfy.disabled")
        .unwrap();
    assert_eq!(vrfy["severity"], "high");

    let output = mailcheck(&["explain", "smtp.vrfy.disabled", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let entry = common::json(&output);
    assert_eq!(entry["id"], "smtp.vrfy.disabled");
    assert_eq!(entry["title"], "VRFY does not reveal mailboxes");
    assert!(
        entry["fix"]
            .as_str()
            .unwrap()
            .contains("disable_vrfy_command = yes")
    );
    for key in ["what", "why"] {
        assert!(!entry[key].as_str().unwrap().is_empty(), "{key}");
    }
    let french = common::json(&mailcheck(&[
        "explain",
        "smtp.vrfy.disabled",
        "--format",
        "json",
        "--lang",
        "fr",
    ]));
    assert_eq!(french["lang"], "fr");
    assert_ne!(french["title"], entry["title"]);
    let output = mailcheck(&["explain", "smtp.vrfy.disable", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
}

#[test]
fn run_help_groups_its_options_under_headings() {
    let help = stdout(&mailcheck(&["run", "--help"]));
    let headings = [
        "Selection:",
        "Output:",
        "Network and DNS:",
        "Credentials:",
        "Check settings:",
        "Exit policy:",
    ];
    let at = |heading: &str| {
        help.lines()
            .position(|l| l == heading)
            .unwrap_or_else(|| panic!("no {heading} in:\n{help}"))
    };
    // Each option under its heading: after it, before the next heading.
    let under = [
        ("Selection:", "--only <GLOB>"),
        ("Output:", "--color <WHEN>"),
        ("Output:", "--junit <FILE>"),
        ("Network and DNS:", "--resolver <IP[:PORT]>"),
        ("Credentials:", "--password-env <VAR>"),
        ("Check settings:", "--relay-domain <DOMAIN>"),
        ("Exit policy:", "--fail-on <SEVERITY>"),
    ];
    for (heading, option) in under {
        let start = at(heading);
        let end = headings
            .iter()
            .map(|h| at(h))
            .filter(|&line| line > start)
            .min()
            .unwrap_or(usize::MAX);
        let line = help
            .lines()
            .position(|l| l.trim_start().starts_with(option))
            .unwrap_or_else(|| panic!("no {option}"));
        assert!(
            start < line && line < end,
            "{option} not under {heading}:\n{help}"
        );
    }
    let batch = stdout(&mailcheck(&["batch", "--help"]));
    assert!(batch.contains("Output:"), "{batch}");
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
