//! The schemas as artifacts: `docs/report.schema.json` is a valid JSON Schema 2020-12 that a
//! real validator (python's `jsonschema`) accepts real reports with and rejects broken ones
//! with (every report the other tests read passes it too: see `common/schema.rs`); and the check
//! ids of `docs/scenario.schema.json` are the catalog's.

mod common;
mod report_fixture;

use common::schema::{check_report, valid_report};
use mailcheck::report::{Format, RenderOptions, render_to_string};
use serde_json::{Value, json};

fn fixture_json() -> String {
    render_to_string(
        Format::Json,
        &report_fixture::sample_report(),
        &RenderOptions::default(),
    )
}

/// One way to break a report.
type Damage = Box<dyn Fn(&mut Value)>;

#[test]
fn the_fixture_report_is_valid_and_broken_copies_are_not() {
    let text = fixture_json();
    let report = valid_report(&text);
    let broken: Vec<(&str, Damage)> = vec![
        (
            "/schema",
            Box::new(|r| r["schema"] = json!("mailcheck/report/v2")),
        ),
        (
            "targets",
            Box::new(|r| drop(r.as_object_mut().unwrap().remove("targets"))),
        ),
        (
            "/targets/0/results/0/status",
            Box::new(|r| r["targets"][0]["results"][0]["status"] = json!("maybe")),
        ),
        (
            "/targets/0/results/0/severity",
            Box::new(|r| r["targets"][0]["results"][0]["severity"] = json!("urgent")),
        ),
        (
            "/targets/0/results/0/evidence",
            Box::new(|r| r["targets"][0]["results"][0]["evidence"] = json!("C: EHLO")),
        ),
        (
            "/targets/0/score",
            Box::new(|r| r["targets"][0]["score"] = json!(120.5)),
        ),
        (
            "/targets/0/summary/pass",
            Box::new(|r| r["targets"][0]["summary"]["pass"] = json!(-1)),
        ),
        (
            "/started_at",
            Box::new(|r| r["started_at"] = json!("yesterday")),
        ),
        (
            "/targets/0/results/0/id",
            Box::new(|r| r["targets"][0]["results"][0]["id"] = json!("Not An Id")),
        ),
        (
            "endpoint",
            Box::new(|r| {
                drop(
                    r["targets"][0]["results"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("endpoint"),
                )
            }),
        ),
    ];
    for (path, damage) in broken {
        let mut copy = report.clone();
        damage(&mut copy);
        let complaints = check_report(&copy.to_string())
            .expect_err(&format!("the validator accepts a report broken at {path}"));
        assert!(complaints.contains(path), "{path}: {complaints}");
    }
    // Fields may be added (v1 is additive): an unknown field is fine.
    let mut extended = report.clone();
    extended["targets"][0]["results"][0]["new_field"] = json!(1);
    extended["targets"][0]["duration_ms"] = json!(840);
    assert!(check_report(&extended.to_string()).is_ok());
}

#[test]
fn real_reports_of_the_lab_pass_the_schema() {
    common::require_lab(&[]);
    let lab = "/var/lib/mailcheck-lab";
    // The reference and the weak server in one run, everything but e2e (tests/lab_e2e.rs).
    let ca = format!("{lab}/ca/ca.pem");
    let output = common::mailcheck(&[
        "run",
        "mail.ref.test",
        "mail.weak.test",
        "--resolver",
        "127.0.100.53",
        "--bind",
        "127.0.100.2",
        "--relay-domain",
        "outside.test",
        "--dnsbl",
        "dnsbl.test",
        "--ca-file",
        &ca,
        "--timeout",
        "5",
        "--skip",
        "e2e.*",
        "--format",
        "json",
    ]);
    // `common::json` validates it against the schema.
    let report = common::json(&output);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    for target in targets {
        assert!(
            target["results"].as_array().unwrap().len() > 30,
            "{}",
            target["target"]
        );
        assert!(target["duration_ms"].is_u64());
    }
}

#[test]
fn the_scenario_schema_lists_the_catalog_check_ids() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenario.schema.json");
    let text = std::fs::read_to_string(path).unwrap();
    let ids: Vec<&str> = mailcheck::check::CATALOG
        .iter()
        .map(|check| check.info().id)
        .collect();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let listed: Vec<&str> = schema["$defs"]["check_id"]["enum"]
        .as_array()
        .expect("$defs.check_id.enum")
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    assert_eq!(
        listed, ids,
        "docs/scenario.schema.json's check ids differ from the catalog: run \
         `UPDATE_GENERATED=1 cargo test --lib settings::schema` and review the diff"
    );
    // The selector offers them and still takes globs.
    let selector = &schema["$defs"]["selector"]["anyOf"];
    assert_eq!(selector[0]["$ref"], "#/$defs/check_id");
    assert!(selector[1]["pattern"].is_string());
}
