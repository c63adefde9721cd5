//! `batch` at scale: results streamed as JSONL while the run goes on, `--resume`, Ctrl-C,
//! `--shard` and `merge`, over the lab's reference server (127.0.100.10) and a tarpit this
//! test starts on 127.0.100.249:25 (a slow target: it accepts and never greets).
//!
//! The lab tests fail (never skip) when the lab is down.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use common::{Fake, mailcheck, require_lab, spawn_fake, stderr};
use serde_json::Value;

const TARPIT: &str = "127.0.100.249";

fn start_tarpit() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        spawn_fake(&format!("{TARPIT}:25"), Fake::Tarpit);
    });
}

fn dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("scale-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A roster of `lab` students on the reference server, then `slow` on the tarpit.
fn write_roster(dir: &Path, lab: usize, slow: usize) -> String {
    let mut text = String::from("students:\n");
    for n in 0..lab {
        text.push_str(&format!(
            "  - {{ name: Lab {n}, target: 127.0.100.10, domain: ref.test }}\n"
        ));
    }
    for n in 0..slow {
        text.push_str(&format!("  - {{ name: Slow {n}, target: {TARPIT} }}\n"));
    }
    let path = dir.join("class.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const ARGS: &[&str] = &[
    "--only",
    "smtp.banner.*",
    "--resolver",
    "127.0.100.53",
    "--bind",
    "127.0.100.2",
];

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(args)
        .args(ARGS)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailcheck")
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

/// Waits until `path` holds `count` lines (at most `limit`).
fn wait_for_lines(path: &Path, count: usize, limit: Duration) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let now = lines(path);
        if now.len() >= count || start.elapsed() > limit {
            return now;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn names(report: &Value) -> Vec<String> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn jsonl_lines_appear_as_targets_finish() {
    require_lab(&[]);
    start_tarpit();
    let dir = dir("stream");
    let roster = write_roster(&dir, 1, 1);
    let jsonl = dir.join("run.jsonl");
    let mut child = spawn(&[
        "batch",
        &roster,
        "--timeout",
        "5",
        "--jsonl",
        jsonl.to_str().unwrap(),
    ]);
    let first = wait_for_lines(&jsonl, 1, Duration::from_secs(4));
    assert_eq!(
        first.len(),
        1,
        "the lab target's line is written before the end"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run is still going (the tarpit holds it)"
    );
    assert_eq!(first[0]["key"], "Lab 0|127.0.100.10");
    assert_eq!(first[0]["name"], "Lab 0");
    assert_eq!(first[0]["target"], "127.0.100.10");
    let banner = first[0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "smtp.banner.fqdn")
        .expect("smtp.banner.fqdn in the line");
    assert_eq!(banner["status"], "pass", "{banner}");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the tarpit fails");
    let all = lines(&jsonl);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["key"], format!("Slow 0|{TARPIT}"));
}

#[test]
fn resume_skips_what_an_earlier_run_finished() {
    require_lab(&[]);
    start_tarpit();
    let dir = dir("resume");
    let roster = write_roster(&dir, 1, 1);
    let jsonl = dir.join("run.jsonl");
    let first = mailcheck(
        &[
            &["batch", &roster, "--timeout", "1", "--jsonl"][..],
            &[jsonl.to_str().unwrap()],
            ARGS,
        ]
        .concat(),
    );
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let mut done = lines(&jsonl);
    assert_eq!(done.len(), 2);
    // Keep the lab target only, marked so that a rerun would show.
    done.retain(|l| l["name"] == "Lab 0");
    done[0]["duration_ms"] = 424242.into();
    let kept = serde_json::to_string(&done[0]).unwrap();
    std::fs::write(&jsonl, format!("{kept}\n")).unwrap();

    let json = dir.join("class.json");
    let again = mailcheck(
        &[
            &["batch", &roster, "--timeout", "1", "-v", "--json"][..],
            &[json.to_str().unwrap(), "--jsonl", jsonl.to_str().unwrap()],
            &["--resume", jsonl.to_str().unwrap()],
            ARGS,
        ]
        .concat(),
    );
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("1 target(s) already done, 1 to check"),
        "{}",
        stderr(&again)
    );
    let report = common::report_file(&json);
    assert_eq!(names(&report), ["Lab 0", "Slow 0"]);
    assert_eq!(report["targets"][0]["duration_ms"], 424242, "not run again");
    assert_ne!(report["targets"][1]["duration_ms"], Value::Null);
    let after = lines(&jsonl);
    assert_eq!(after.len(), 2, "the resumed file is extended");
    assert_eq!(
        after[0].to_string(),
        kept,
        "the earlier line stays as it was"
    );
    assert_eq!(after[1]["name"], "Slow 0");
}

#[test]
fn ctrl_c_stops_at_once_and_keeps_what_is_done() {
    require_lab(&[]);
    start_tarpit();
    let dir = dir("sigint");
    let roster = write_roster(&dir, 2, 2);
    let jsonl = dir.join("run.jsonl");
    let json = dir.join("class.json");
    let csv = dir.join("grades.csv");
    let mut child = spawn(&[
        "batch",
        &roster,
        "--timeout",
        "30",
        "--jsonl",
        jsonl.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let done = wait_for_lines(&jsonl, 2, Duration::from_secs(8));
    assert_eq!(done.len(), 2, "the lab targets are done");
    let sent = Instant::now();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(3),
            "still running 3 s after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = sent.elapsed();
    assert!(took < Duration::from_millis(1500), "stopped in {took:?}");
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("interrupted: 2 of 4 target(s) done"), "{err}");
    let report = common::report_file(&json);
    assert_eq!(
        names(&report),
        ["Lab 0", "Lab 1"],
        "targets in flight are dropped"
    );
    assert_eq!(lines(&jsonl).len(), 2);
    let grades = std::fs::read_to_string(&csv).unwrap();
    assert!(grades.contains("Lab 0") && grades.contains("Lab 1") && !grades.contains("Slow"));
}

/// Each target's verdicts by name: (check, endpoint, status), sorted.
fn verdicts(report: &Value) -> std::collections::BTreeMap<String, Vec<(String, String, String)>> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let mut results: Vec<(String, String, String)> = t["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_string(),
                        r["endpoint"].to_string(),
                        r["status"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            results.sort();
            (t["name"].as_str().unwrap().to_string(), results)
        })
        .collect()
}

#[test]
fn three_shards_merged_equal_one_run() {
    require_lab(&[]);
    let dir = dir("shards");
    let mut text = String::from("defaults: { relay_domain: outside.test }\nstudents:\n");
    for n in 0..5 {
        text.push_str(&format!(
            "  - {{ name: Ref {n}, target: 127.0.100.10, domain: ref.test }}\n  \
             - {{ name: Weak {n}, target: 127.0.100.20, domain: weak.test }}\n"
        ));
    }
    let roster = dir.join("class.yaml");
    std::fs::write(&roster, text).unwrap();
    let roster = roster.to_str().unwrap();
    let only = ["--only", "smtp.*", "--timeout", "5", "--concurrency", "4"];
    let single = dir.join("single.json");
    let run = mailcheck(
        &[
            &["batch", roster, "--json", single.to_str().unwrap()][..],
            &only,
            ARGS,
        ]
        .concat(),
    );
    assert_eq!(run.status.code(), Some(1), "weak fails: {}", stderr(&run));
    let single = common::report_file(&single);
    assert_eq!(single["targets"].as_array().unwrap().len(), 10);

    let mut shard_files = Vec::new();
    let mut seen = Vec::new();
    for k in 0..3 {
        let file = dir.join(format!("shard-{k}.jsonl"));
        let shard = format!("{k}/3");
        let out = mailcheck(
            &[
                &["batch", roster, "--shard", &shard, "--jsonl"][..],
                &[file.to_str().unwrap()],
                &only,
                ARGS,
            ]
            .concat(),
        );
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let names: Vec<String> = lines(&file)
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_string())
            .collect();
        seen.extend(names);
        shard_files.push(file.to_str().unwrap().to_string());
    }
    seen.sort();
    let mut all: Vec<String> = verdicts(&single).keys().cloned().collect();
    all.sort();
    assert_eq!(seen, all, "every target in exactly one shard");

    let json = dir.join("merged.json");
    let html = dir.join("merged.html");
    let csv = dir.join("merged.csv");
    let junit = dir.join("merged.xml");
    let markdown = dir.join("merged.md");
    let mut args = vec!["merge".to_string()];
    args.extend(shard_files.iter().cloned());
    for (flag, path) in [
        ("--json", &json),
        ("--html", &html),
        ("--csv", &csv),
        ("--junit", &junit),
        ("--markdown", &markdown),
    ] {
        args.push(flag.into());
        args.push(path.to_str().unwrap().into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let merged = mailcheck(&args);
    assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
    let summary = common::stdout(&merged);
    let report = common::report_file(&json);
    assert_eq!(
        verdicts(&report),
        verdicts(&single),
        "same targets, same verdicts"
    );
    for name in all {
        assert!(
            summary.contains(&name),
            "class summary lacks {name}:\n{summary}"
        );
        for path in [&html, &csv, &junit, &markdown] {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(text.contains(&name), "{} lacks {name}", path.display());
        }
    }
    // A JSON report merges too, and a file that is no report is exit 2.
    let again = mailcheck(&["merge", json.to_str().unwrap(), "--format", "json"]);
    assert_eq!(verdicts(&common::json(&again)), verdicts(&single));
    let bad = mailcheck(&["merge", roster]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
