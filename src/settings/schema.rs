//! What the docs say about settings, generated from the registry: the `settings:` part of
//! `docs/scenario.schema.json` (the rest of the schema is the template
//! `scenario.schema.in.json` beside this file) and the settings table of the README. Tests keep
//! both files equal to what this module generates; `UPDATE_GENERATED=1 cargo test --lib
//! settings::schema` rewrites them.

use std::fmt::Write as _;

use super::{ALL, Kind, Setting, in_scenario};

const TEMPLATE: &str = include_str!("scenario.schema.in.json");

/// Marks around the generated table in README.md.
pub const README_BEGIN: &str =
    "<!-- settings table: generated from src/settings/mod.rs, do not edit by hand -->";
pub const README_END: &str = "<!-- end of settings table -->";

/// A JSON value whose object keys keep their order (serde_json's `Map` sorts them).
enum Json {
    Null,
    Int(u64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

fn string(text: &str) -> Json {
    Json::Str(text.to_string())
}

fn types(names: &[&str]) -> Json {
    Json::Arr(names.iter().map(|n| string(n)).collect())
}

fn domain_ref() -> Json {
    Json::Obj(vec![("$ref", string("#/$defs/domain"))])
}

impl Json {
    /// Pretty-printed with two spaces per level, starting at `indent` spaces.
    fn write(&self, out: &mut String, indent: usize) {
        let pad = |n: usize| " ".repeat(n);
        match self {
            Json::Null => out.push_str("null"),
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(text) => {
                out.push_str(&serde_json::to_string(text).expect("a string serializes"));
            }
            Json::Arr(items)
                if items
                    .iter()
                    .all(|i| matches!(i, Json::Str(_) | Json::Int(_) | Json::Null)) =>
            {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    item.write(out, indent);
                }
                out.push(']');
            }
            Json::Arr(items) => {
                out.push_str("[\n");
                for (index, item) in items.iter().enumerate() {
                    out.push_str(&pad(indent + 2));
                    item.write(out, indent + 2);
                    out.push_str(if index + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            Json::Obj(pairs) => {
                out.push_str("{\n");
                for (index, (key, value)) in pairs.iter().enumerate() {
                    out.push_str(&pad(indent + 2));
                    out.push_str(&serde_json::to_string(key).expect("a string serializes"));
                    out.push_str(": ");
                    value.write(out, indent + 2);
                    out.push_str(if index + 1 < pairs.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
        }
    }
}

/// The schema of one setting's value.
fn value_schema(kind: Kind) -> Vec<(&'static str, Json)> {
    let bounded = |max: u64| {
        vec![
            ("type", types(&["integer", "null"])),
            ("minimum", Json::Int(0)),
            ("maximum", Json::Int(max)),
        ]
    };
    match kind {
        Kind::Domain => vec![("$ref", string("#/$defs/domain"))],
        Kind::Helo => vec![(
            "anyOf",
            Json::Arr(vec![
                domain_ref(),
                Json::Obj(vec![
                    ("type", string("string")),
                    ("pattern", string(r"^\[(IPv6:)?[0-9A-Fa-f.:]+\]$")),
                ]),
            ]),
        )],
        Kind::User => vec![
            ("type", types(&["string", "null"])),
            ("pattern", string(r"^\S+$")),
        ],
        Kind::Millis => bounded(super::value::Millis::MAX),
        Kind::Days => bounded(super::value::Days::MAX),
        Kind::Selectors => vec![
            ("type", types(&["array", "null"])),
            (
                "items",
                Json::Obj(vec![
                    ("type", string("string")),
                    ("maxLength", Json::Int(254)),
                    (
                        "pattern",
                        string(r"^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?$"),
                    ),
                ]),
            ),
        ],
        Kind::Zones => vec![("type", types(&["array", "null"])), ("items", domain_ref())],
        Kind::File | Kind::Seconds | Kind::Resolvers | Kind::Addresses | Kind::Profile => {
            unreachable!("{kind:?} is not a scenario setting's kind")
        }
    }
}

/// The description of a setting in the schema: its doc, its default, the flag that wins.
fn description(setting: &Setting) -> String {
    let mut text = format!("{} Default: {}.", setting.doc, setting.default);
    if let Some(flag) = setting.flag {
        let _ = write!(text, " `--{flag}` wins over it.");
    }
    text
}

fn example(setting: &Setting) -> Json {
    if setting.kind.is_list() {
        Json::Arr(vec![Json::Arr(vec![string(setting.example)])])
    } else if setting.kind.is_integer() {
        Json::Arr(vec![Json::Int(setting.example.parse().unwrap_or(0))])
    } else {
        Json::Arr(vec![string(setting.example)])
    }
}

/// `docs/scenario.schema.json`: the template with the settings and `profiles` (the names
/// `extends:` takes, from the scenario module) filled in.
pub fn scenario_schema(profiles: &[&str]) -> String {
    let properties = Json::Obj(
        in_scenario()
            .map(|setting| {
                let mut schema = vec![("description", Json::Str(description(setting)))];
                schema.extend(value_schema(setting.kind));
                schema.push(("examples", example(setting)));
                (setting.key, Json::Obj(schema))
            })
            .collect(),
    );
    let mut settings = String::new();
    properties.write(&mut settings, 6);
    let mut names: Vec<Json> = profiles.iter().map(|p| string(p)).collect();
    names.push(Json::Null);
    let mut profiles = String::new();
    Json::Arr(names).write(&mut profiles, 0);
    let ids: Vec<String> = crate::check::CATALOG
        .iter()
        .map(|check| format!("\n        \"{}\"", check.info().id))
        .collect();
    let check_ids = format!("[{}\n      ]", ids.join(","));
    TEMPLATE
        .replace("{{settings}}", &settings)
        .replace("{{profiles}}", &profiles)
        .replace("{{check_ids}}", &check_ids)
}

/// The README's settings table (between [`README_BEGIN`] and [`README_END`]).
pub fn readme_table() -> String {
    let mut table = String::from("| setting | set by | default | meaning |\n|---|---|---|---|\n");
    for setting in ALL {
        let mut by = Vec::new();
        if setting.in_scenario {
            by.push("scenario".to_string());
        }
        if let Some(flag) = setting.flag {
            by.push(format!("`--{flag}`"));
        }
        if let Some(column) = setting.roster {
            by.push(format!("roster `{column}`"));
        }
        if let Some(env) = setting.env {
            by.push(format!("`{env}`"));
        }
        let _ = writeln!(
            table,
            "| `{}` | {} | {} | {} |",
            setting.key,
            by.join(", "),
            setting.default,
            setting.doc
        );
    }
    table
}

/// `readme` with its table replaced by [`readme_table`]; `None` without the marks.
pub fn with_readme_table(readme: &str) -> Option<String> {
    let begin = readme.find(README_BEGIN)? + README_BEGIN.len();
    let end = begin + readme[begin..].find(README_END)?;
    Some(format!(
        "{}\n{}{}",
        &readme[..begin],
        readme_table(),
        &readme[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn repo_file(path: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    /// Compares a committed file with its generated text, or rewrites it under
    /// `UPDATE_GENERATED=1`.
    fn keep_equal(path: &str, generated: &str) {
        let file = repo_file(path);
        if std::env::var_os("UPDATE_GENERATED").is_some() {
            std::fs::write(&file, generated).expect("the file is writable");
            return;
        }
        let committed = std::fs::read_to_string(&file).expect("the file is readable");
        assert!(
            committed == generated,
            "{path} differs from what src/settings generates; run \
             `UPDATE_GENERATED=1 cargo test --lib settings::schema` and review the diff"
        );
    }

    #[test]
    fn the_scenario_schema_is_generated() {
        let schema = scenario_schema(&crate::scenario::builtin_names());
        keep_equal("docs/scenario.schema.json", &schema);
    }

    #[test]
    fn the_readme_table_is_generated() {
        let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
        let generated = with_readme_table(&readme).expect("README.md has the table's marks");
        keep_equal("README.md", &generated);
    }

    #[test]
    fn the_schema_is_json_with_every_scenario_setting() {
        let schema: serde_json::Value =
            serde_json::from_str(&scenario_schema(&["default"])).expect("valid JSON");
        let properties = schema["properties"]["settings"]["properties"]
            .as_object()
            .unwrap();
        let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        let mut expected = super::super::scenario_keys();
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(
            properties["retry_pause_ms"]["maximum"],
            serde_json::json!(60_000)
        );
        assert_eq!(
            schema["properties"]["extends"]["enum"],
            serde_json::json!(["default", null])
        );
    }

    #[test]
    fn the_table_has_a_row_per_setting() {
        let table = readme_table();
        assert_eq!(table.lines().count(), ALL.len() + 2);
        assert!(
            table.contains("| `ca_file` | `--ca-file`, roster `ca_file`, `MAILCHECK_CA_FILE` |")
        );
    }
}
