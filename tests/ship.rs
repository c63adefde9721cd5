//! The CI and deployment files (action.yml, docs/deploy/, the README's CI examples) pass the
//! real validators: check-jsonschema with its vendored GitHub/GitLab schemas and
//! kubernetes-validate with the Kubernetes schemas (both from PyPI, offline; scripts/test
//! installs them).

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validate(tool: &str, args: &[&str]) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("{tool} not found ({e}): run scripts/test"));
    assert!(
        out.status.success(),
        "{tool} {args:?} rejected it:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn action_yml_is_a_valid_github_action() {
    validate(
        "check-jsonschema",
        &["--builtin-schema", "vendor.github-actions", "action.yml"],
    );
}

#[test]
fn matrix_example_is_a_valid_github_workflow() {
    validate(
        "check-jsonschema",
        &[
            "--builtin-schema",
            "vendor.github-workflows",
            "docs/deploy/github-matrix.yml",
        ],
    );
}

#[test]
fn indexed_job_is_valid_kubernetes() {
    let text = std::fs::read_to_string(root().join("docs/deploy/k8s-indexed-job.yaml")).unwrap();
    assert!(text.contains("completionMode: Indexed"));
    assert!(text.contains("$(JOB_COMPLETION_INDEX)/4"));
    validate(
        "kubernetes-validate",
        &["--strict", "docs/deploy/k8s-indexed-job.yaml"],
    );
}

/// The README's two CI examples, each checked against its system's schema.
#[test]
fn readme_ci_examples_are_valid() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let dir = std::env::temp_dir().join(format!("mailcheck-ship-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut seen = 0;
    for block in readme.split("```yaml\n").skip(1) {
        let body = block.split("```").next().unwrap();
        let (schema, file, text) = if body.starts_with("# .github/workflows/") {
            // The README shows the jobs only; a workflow also needs its trigger.
            (
                "vendor.github-workflows",
                "github.yml",
                format!("on: push\n{body}"),
            )
        } else if body.starts_with("# .gitlab-ci.yml") {
            ("vendor.gitlab-ci", "gitlab.yml", body.to_string())
        } else {
            continue;
        };
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        validate(
            "check-jsonschema",
            &["--builtin-schema", schema, path.to_str().unwrap()],
        );
        seen += 1;
    }
    assert_eq!(seen, 2, "the README has one GitHub and one GitLab example");
    let _ = std::fs::remove_dir_all(&dir);
}
