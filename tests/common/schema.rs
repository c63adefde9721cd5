//! Every JSON report the tests produce is checked against `docs/report.schema.json` by a real
//! JSON Schema validator: python's `jsonschema` (PyPI), Draft 2020-12. Without it the tests that
//! read reports fail (never skip); `scripts/test` installs it.

use std::io::Write;
use std::process::{Command, Stdio};

const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
errors = sorted(validator.iter_errors(json.load(sys.stdin)), key=lambda e: list(e.absolute_path))
for error in errors[:10]:
    print("/" + "/".join(str(p) for p in error.absolute_path) + ": " + error.message)
sys.exit(1 if errors else 0)
"#;

/// The schema file of the repository.
pub fn schema_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.schema.json").to_string()
}

/// What the validator says about `json`: `Ok` when it is a valid `mailcheck/report/v1`
/// document, else its complaints (path: message), one a line.
pub fn check_report(json: &str) -> Result<(), String> {
    check_against(&schema_path(), json)
}

/// [`check_report`] against the schema file `schema` (e.g. `docs/diff.schema.json`).
pub fn check_against(schema: &str, json: &str) -> Result<(), String> {
    let mut child = Command::new("python3")
        .args(["-c", VALIDATE, schema])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("python3 is needed to validate reports against the schema ({e}); `pip install jsonschema`")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError") && !stderr.contains("Traceback"),
        "the schema validator did not run (`pip install jsonschema`):\n{stderr}"
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// Parses a report and asserts that it is valid against the schema.
pub fn valid_report(json: &str) -> serde_json::Value {
    if let Err(complaints) = check_report(json) {
        panic!("the report does not follow docs/report.schema.json:\n{complaints}\n{json}");
    }
    serde_json::from_str(json).expect("valid JSON")
}
