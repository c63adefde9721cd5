//! Bounded cost on any input (SPEC "Bounded input"): oversized scenarios, rosters and fields
//! are refused with an error that names the limit, long lists of problems are cut to the first
//! ones and a count, and the peak memory of the process stays under 100 MB on every one of
//! these inputs (measured with `/usr/bin/time -v`). None of these touch the network.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

use common::{mailcheck, stderr, stdout};

/// The peak memory allowed for any input here.
const MAX_RSS_KB: u64 = 100 * 1024;

/// Runs mailcheck under `/usr/bin/time -v`: its output and its peak resident set, in KiB.
fn measured(args: &[&str]) -> (Output, u64) {
    assert!(
        Path::new("/usr/bin/time").exists(),
        "these tests measure memory with /usr/bin/time (Debian: apt-get install time)"
    );
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_mailcheck"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("/usr/bin/time runs");
    let text = stderr(&output);
    let rss = text
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|kb| kb.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in:\n{text}"));
    let file = args
        .last()
        .map(|a| Path::new(a).file_name().unwrap_or_default());
    eprintln!("mailcheck {} {file:?}: peak RSS {rss} KiB", args[0]);
    (output, rss)
}

/// Runs `args` on a file holding `content`, expects exit 2 with `expected` on stderr, and the
/// peak memory under the bound.
fn refused(args: &[&str], name: &str, content: &[u8], expected: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    let mut argv = args.to_vec();
    let path = path.to_str().unwrap();
    argv.push(path);
    let (output, rss) = measured(&argv);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains(expected),
        "stderr lacks {expected:?}:\n{text}"
    );
    assert!(stdout(&output).is_empty() || args[0] == "validate");
    assert!(rss < MAX_RSS_KB, "peak RSS {rss} KiB on {name}");
    text
}

#[test]
fn a_50_mb_scenario_is_refused_naming_the_limit() {
    let line = "  - smtp.vrfy.disabled\n";
    let mut text = String::from("checks:\n");
    while text.len() < 50 << 20 {
        text.push_str(line);
    }
    refused(
        &["validate"],
        "big.yaml",
        text.as_bytes(),
        "is larger than 256 KiB (the limit)",
    );
}

#[test]
fn scenarios_just_under_the_limit_cost_little() {
    let limit = 256 << 10;
    // The parser's worst cases: as many tiny mappings as the limit holds, or one line of
    // items; every item wrong.
    let mut mappings = String::from("checks:\n");
    while mappings.len() < limit - 16 {
        mappings.push_str("- {a: }\n");
    }
    refused(
        &["validate"],
        "mappings.yaml",
        mappings.as_bytes(),
        "more problems",
    );
    let mut line = String::from("checks: [");
    while line.len() < limit - 16 {
        line.push_str("a, ");
    }
    line.push_str("a]\n");
    let shown = refused(&["validate"], "line.yaml", line.as_bytes(), "more problems");
    assert!(shown.lines().all(|l| l.chars().count() < 200), "{shown}");
}

#[test]
fn a_scenario_just_under_the_limit_shows_20_problems_and_a_count() {
    let mut text = String::from("checks:\n");
    let mut count = 0;
    while text.len() < (256 << 10) - 64 {
        let _ = writeln!(text, "  - smtp.nosuch{count}");
        count += 1;
    }
    let shown = refused(&["validate"], "many.yaml", text.as_bytes(), "more problems");
    assert_eq!(shown.matches("error: unknown check").count(), 20, "{shown}");
    assert!(
        shown.contains(&format!("... and {} more problems", count - 20)),
        "{}",
        &shown[shown.len().saturating_sub(300)..]
    );
}

#[test]
fn an_empty_scenario_is_an_error() {
    for (name, content) in [
        ("empty.yaml", &b""[..]),
        ("blank.yaml", b"\n  \n# only a comment\n---\n"),
        ("braces.yaml", b"{}\n"),
    ] {
        refused(&["validate"], name, content, "is empty");
    }
    refused(&["validate"], "nul.yaml", b"\0", "holds a NUL byte");
    refused(
        &["validate"],
        "nul2.yaml",
        b"checks: [smtp.*]\n\0\n",
        "holds a NUL byte",
    );
}

#[test]
fn a_roster_of_a_million_bad_rows_is_refused_naming_the_limit() {
    let mut text = String::from("name,target\n");
    for _ in 0..1_000_000 {
        text.push_str(",bad target\n");
    }
    refused(
        &["batch"],
        "class.csv",
        text.as_bytes(),
        "is larger than 512 KiB (the limit)",
    );
}

#[test]
fn a_yaml_roster_just_under_the_limit_costs_little() {
    // The parser's worst case: as many one-key rows as the limit holds.
    let mut text = String::from("students:\n");
    while text.len() < (512 << 10) - 16 {
        text.push_str("  - {name: a}\n");
    }
    refused(&["batch"], "class.yaml", text.as_bytes(), "(the limit)");
}

#[test]
fn too_many_students_are_refused_naming_the_limit() {
    let mut text = String::from("name,target\n");
    for index in 0..1001 {
        let _ = writeln!(text, "s{index},t.test");
    }
    refused(
        &["batch"],
        "class.csv",
        text.as_bytes(),
        "lists more than 1000 students (the limit)",
    );
}

#[test]
fn thousands_of_bad_rows_print_the_first_ones_and_a_count() {
    let mut text = String::from("name,target\n");
    for index in 0..1000 {
        let _ = writeln!(text, "s{index},not a host");
    }
    let shown = refused(
        &["batch"],
        "class.csv",
        text.as_bytes(),
        "980 more bad rows",
    );
    assert_eq!(shown.matches("is not a host name").count(), 20, "{shown}");
    assert!(shown.contains("error: 1000 bad rows"), "{shown}");
}

#[test]
fn keep_going_on_a_full_roster_of_bad_rows_costs_little() {
    // Every row graded as an `error` student: a report of 1000 targets, still bounded.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("class.csv");
    let mut text = String::from("name,target\n");
    for index in 0..1000 {
        let _ = writeln!(text, "s{index},not a host");
    }
    std::fs::write(&path, text).unwrap();
    let (output, rss) = measured(&[
        "batch",
        path.to_str().unwrap(),
        "--keep-going",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["targets"].as_array().unwrap().len(), 1000);
    assert!(rss < MAX_RSS_KB, "peak RSS {rss} KiB");
}

#[test]
fn a_50_mb_student_name_is_refused() {
    let mut text = String::from("name,target\n");
    text.push_str(&"A".repeat(50 << 20));
    text.push_str(",t.test\n");
    refused(&["batch"], "class.csv", text.as_bytes(), "(the limit)");
    // Under the file's limit, the name's own limit speaks.
    let text = format!("name,target\n{},t.test\n", "A".repeat(300));
    refused(
        &["batch"],
        "class.csv",
        text.as_bytes(),
        "`name` is longer than 200 characters (the limit)",
    );
    let text = format!(
        "students:\n  - name: Alice\n    target: t.test\n    ca_file: {}\n",
        "a".repeat(2000)
    );
    refused(
        &["batch"],
        "class.yaml",
        text.as_bytes(),
        "`ca_file` is longer than 1 KiB (the limit)",
    );
}

#[test]
fn every_fixture_is_read_in_little_memory() {
    let root = env!("CARGO_MANIFEST_DIR");
    for dir in ["tests/fixtures/scenarios", "scenarios"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            let (_, rss) = measured(&["validate", path.to_str().unwrap()]);
            assert!(rss < MAX_RSS_KB, "peak RSS {rss} KiB on {}", path.display());
        }
    }
    // The rosters with bad rows stop before the network (no --keep-going).
    for roster in ["bad-rows.yaml", "bad-rows.csv"] {
        let path = format!("{root}/tests/fixtures/rosters/{roster}");
        let (output, rss) = measured(&["batch", &path]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(rss < MAX_RSS_KB, "peak RSS {rss} KiB on {roster}");
    }
    assert_eq!(mailcheck(&["list"]).status.code(), Some(0));
}
