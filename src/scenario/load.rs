//! Reading a scenario: YAML text → [`Scenario`], every value checked where it stands.
//!
//! The YAML is parsed into marked nodes and walked by hand rather than deserialised with serde:
//! serde stops at the first problem and (in marked-yaml without `serde-path`) loses the position
//! of unknown keys, while a person fixing a file wants every problem at once, each with its line,
//! column and a hint. The walk keeps going after a problem and collects them all.

use std::collections::BTreeMap;
use std::path::Path;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoadError, LoaderOptions, Node};

use super::error::{Diagnostic, MAX_SHOWN, ScenarioError, Source, YamlKind};
use super::model::{CheckRule, Scenario, SettingsPatch};
use super::select::{Catalog, closest, selector_problem};
use crate::check::{CATALOG, Role};
use crate::outcome::Severity;
use crate::settings::value::Port;
use crate::settings::{self, Kind, Setting, Value};

mod custom;

/// The built-in profiles, compiled in: `(name, YAML)`, sorted by name.
const PROFILES: &[(&str, &str)] = &[
    ("ci", include_str!("../../scenarios/ci.yaml")),
    ("course", include_str!("../../scenarios/course.yaml")),
    ("default", include_str!("../../scenarios/default.yaml")),
    ("intrusive", include_str!("../../scenarios/intrusive.yaml")),
];

const SCENARIO_KEYS: &[&str] = &[
    "name",
    "description",
    "extends",
    "checks",
    "ports",
    "settings",
    "custom",
    "expect",
];
const OPTION_KEYS: &[&str] = &["severity", "enabled"];
/// How YAML-level errors (syntax, second document, wrong top level) speak of a scenario.
const SCENARIO_FILE: YamlKind = YamlKind {
    noun: "scenario",
    example_keys: "`name:` and `checks:`",
    keys: SCENARIO_KEYS,
    split_help: "put each scenario in its own file and pass `-s FILE` once for each",
};

/// Words people reach for instead of ours; checked before the similarity hints.
const SYNONYMS: &[(&str, &str)] = &[
    ("profile", "extends"),
    ("base", "extends"),
    ("inherits", "extends"),
    ("include", "extends"),
    ("title", "name"),
    ("options", "settings"),
    ("config", "settings"),
    ("parameters", "settings"),
    ("level", "severity"),
    ("priority", "severity"),
    ("enable", "enabled"),
    ("disabled", "enabled"),
    ("active", "enabled"),
    ("role", "port"),
    ("steps", "dialog"),
    ("script", "dialog"),
    ("command", "send"),
    ("expected", "expect"),
    ("reply", "expect"),
];

/// The largest scenario file: the built-in profiles are 2 KB, a big site's own file 20 KB.
/// Bounds the memory a run spends on its input: the YAML parser needs up to 110 times the
/// text (a 50 MB file cost 600 MB; 1 MiB of one-key mappings, 114 MB).
pub const MAX_SCENARIO_BYTES: usize = 256 << 10;

/// Reads at most `limit` bytes of a text file: the error names the limit when it holds more.
pub(crate) fn read_bounded(path: &Path, limit: usize, noun: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let origin = path.display();
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {noun} `{origin}`: {e}"))?;
    let mut bytes = Vec::new();
    // One byte more than the limit tells "too big" from "exactly the limit", whatever the file
    // is (a pipe, /dev/zero) and without trusting its reported size.
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {noun} `{origin}`: {e}"))?;
    if bytes.len() > limit {
        return Err(format!(
            "{noun} `{origin}` is larger than {} (the limit)",
            size(limit)
        ));
    }
    Ok(bytes)
}

/// `1 MiB`, `64 KiB`, `200 bytes`.
pub(crate) fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Loads a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let fatal = |message: String| ScenarioError::single(Diagnostic::new(message));
    let bytes = read_bounded(path, MAX_SCENARIO_BYTES, "scenario").map_err(fatal)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        fatal(format!(
            "cannot read scenario `{origin}`: stream did not contain valid UTF-8"
        ))
    })?;
    load_str(&origin, &text)
}

/// Loads a scenario from text; `origin` names it in errors and reports (usually its path).
pub fn load_str(origin: &str, text: &str) -> Result<Scenario, ScenarioError> {
    load(&Env::builtin(), origin, origin, text, &[])
}

/// A built-in profile by name (`default`, `ci`, `course`).
pub fn builtin(name: &str) -> Result<Scenario, ScenarioError> {
    load_profile(&Env::builtin(), name, &[])
}

/// The names of the built-in profiles, sorted.
pub fn builtin_names() -> Vec<&'static str> {
    PROFILES.iter().map(|(name, _)| *name).collect()
}

/// What a scenario is checked against: the check catalog and the profiles `extends:` may name.
/// Tests swap in their own to exercise opt-in checks and profile cycles.
pub(crate) struct Env {
    pub catalog: Catalog,
    pub profiles: &'static [(&'static str, &'static str)],
}

impl Env {
    pub fn builtin() -> Env {
        Env {
            catalog: CATALOG,
            profiles: PROFILES,
        }
    }

    fn profile_names(&self) -> Vec<&'static str> {
        self.profiles.iter().map(|(name, _)| *name).collect()
    }
}

/// Loads profile `name`; `extending` lists the profiles whose `extends:` led here.
pub(crate) fn load_profile(
    env: &Env,
    name: &str,
    extending: &[String],
) -> Result<Scenario, ScenarioError> {
    let Some((name, text)) = env.profiles.iter().find(|(known, _)| *known == name) else {
        let names = env.profile_names();
        let diagnostic = Diagnostic::new(format!("unknown profile `{name}`"))
            .suggest(closest(name, names.iter().copied()), &names);
        return Err(ScenarioError::single(diagnostic));
    };
    let mut chain = extending.to_vec();
    chain.push(name.to_string());
    let file = format!("scenarios/{name}.yaml");
    load(
        env,
        &format!("built-in profile {name}"),
        &file,
        text,
        &chain,
    )
}

pub(crate) fn load(
    env: &Env,
    origin: &str,
    file: &str,
    text: &str,
    extending: &[String],
) -> Result<Scenario, ScenarioError> {
    // A byte-order mark (Windows editors) would otherwise become part of the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(problem) = not_a_scenario(origin, Source { file, text }) {
        return Err(ScenarioError::single(problem));
    }
    let mut loader = Loader {
        env,
        source: Source { file, text },
        extending,
        problems: Vec::new(),
        omitted: 0,
    };
    let scenario = loader.scenario(origin);
    if loader.problems.is_empty() {
        Ok(scenario.expect("a scenario is built whenever there is no problem"))
    } else {
        Err(ScenarioError::new(loader.problems).with_omitted(loader.omitted))
    }
}

/// A text that cannot be a scenario at all: too big, binary, or empty. An empty file would
/// otherwise validate as a scenario of no checks, which is never what its author meant.
fn not_a_scenario(origin: &str, source: Source<'_>) -> Option<Diagnostic> {
    let text = source.text;
    if text.len() > MAX_SCENARIO_BYTES {
        return Some(Diagnostic::new(format!(
            "scenario `{origin}` is larger than {} (the limit)",
            size(MAX_SCENARIO_BYTES)
        )));
    }
    if let Some(at) = text.find('\0') {
        let line = text[..at].matches('\n').count() + 1;
        let column = text[..at].rsplit('\n').next().unwrap_or("").chars().count() + 1;
        return Some(
            Diagnostic::new(format!("scenario `{origin}` holds a NUL byte"))
                .at(Some(source.locate_line_column(line, column)))
                .label("NUL")
                .note("a scenario is a YAML text file; this looks like a binary file"),
        );
    }
    let blank = text
        .lines()
        .map(str::trim)
        .all(|line| line.is_empty() || line.starts_with('#') || line == "---" || line == "...");
    blank.then(|| {
        Diagnostic::new(format!("scenario `{origin}` is empty"))
            .at(Some(source.locate_line_column(1, 1)))
            .help("start from a built-in profile with `extends: default`, or list `checks:`")
    })
}

struct Loader<'a> {
    env: &'a Env,
    source: Source<'a>,
    extending: &'a [String],
    problems: Vec<Diagnostic>,
    /// Problems past [`MAX_SHOWN`], counted only.
    omitted: usize,
}

impl Loader<'_> {
    fn report(&mut self, diagnostic: Diagnostic) {
        if self.problems.len() < MAX_SHOWN {
            self.problems.push(diagnostic);
            if self.problems.len() == MAX_SHOWN {
                // Later problems are only counted: locating them against an empty text costs
                // nothing, where finding their line would cost a scan of the file each (the
                // YAML is parsed already; the text is only read to show lines).
                self.source = Source {
                    file: self.source.file,
                    text: "",
                };
            }
        } else {
            self.omitted += 1;
        }
    }

    fn scenario(&mut self, origin: &str) -> Option<Scenario> {
        let options = LoaderOptions::default()
            .error_on_duplicate_keys(true)
            .prevent_coercion(true);
        let root = match marked_yaml::parse_yaml_with_options(0, self.source.text, options) {
            Ok(root) => root,
            Err(error) => {
                let diagnostic = self.load_error(error);
                self.report(diagnostic);
                return None;
            }
        };
        self.single_document();
        let map = root
            .as_mapping()
            .expect("marked-yaml returns a mapping at the top level");
        if map.is_empty() {
            let diagnostic = Diagnostic::new(format!("scenario `{origin}` is empty"))
                .at(self.source.node_at(&root))
                .help("start from a built-in profile with `extends: default`, or list `checks:`");
            self.report(diagnostic);
            return None;
        }

        let mut scenario = Scenario {
            name: Path::new(self.source.file)
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.source.file.to_string()),
            description: None,
            origin: origin.to_string(),
            extends: None,
            checks: Vec::new(),
            ports: BTreeMap::new(),
            settings: SettingsPatch::default(),
            custom: Vec::new(),
            expect: None,
        };
        for (key, value) in map.iter() {
            match key.as_str() {
                "name" => {
                    if let Some(name) = self.text(key, value) {
                        scenario.name = name;
                    }
                }
                "description" => scenario.description = self.text(key, value),
                "extends" => scenario.extends = self.extends(key, value),
                "checks" => scenario.checks = self.checks(key, value),
                "ports" => scenario.ports = self.ports(key, value),
                "settings" => scenario.settings = self.settings(key, value),
                "custom" => scenario.custom = self.custom(key, value, origin),
                "expect" => scenario.expect = self.services(key, value),
                _ => self.unknown_key(key, "scenario key", SCENARIO_KEYS),
            }
        }
        Some(scenario)
    }

    /// marked-yaml reads the first YAML document only; a second one would be ignored silently.
    fn single_document(&mut self) {
        if let Some(diagnostic) = self.source.second_document(&SCENARIO_FILE) {
            self.report(diagnostic);
        }
    }

    fn load_error(&self, error: LoadError) -> Diagnostic {
        self.source.yaml_error(error, &SCENARIO_FILE)
    }

    fn unknown_key(&mut self, key: &MarkedScalarNode, what: &str, expected: &[&str]) {
        let word = key.as_str();
        let suggestion = SYNONYMS
            .iter()
            .find(|(synonym, meant)| *synonym == word && expected.contains(meant))
            .map(|(_, meant)| *meant)
            .or_else(|| closest(word, expected.iter().copied()));
        let diagnostic = Diagnostic::new(format!("unknown key `{word}`"))
            .at(self.source.at(key.span().start()))
            .label(format!("not a {what}"))
            .suggest(suggestion, expected);
        self.report(diagnostic);
    }

    /// A wrong kind of value: `found` says what was there.
    fn wrong_type(&mut self, key: &MarkedScalarNode, value: &Node, expected: &str) -> Diagnostic {
        Diagnostic::new(format!(
            "`{}` must be {expected}, found {}",
            key.as_str(),
            describe(value)
        ))
        .at(self.source.value_at(key, value))
    }

    /// A string value; `None` when empty (same as leaving the key out) or of the wrong kind.
    fn text(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<String> {
        match value {
            Node::Scalar(scalar) if is_null(scalar) => None,
            Node::Scalar(scalar) => Some(scalar.as_str().to_string()),
            other => {
                let diagnostic = self.wrong_type(key, other, "a string");
                self.report(diagnostic);
                None
            }
        }
    }

    fn extends(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<Box<Scenario>> {
        let name = self.text(key, value)?;
        let names = self.env.profile_names();
        let at = self.source.value_at(key, value);
        if self.extending.contains(&name) {
            let mut chain = self.extending.to_vec();
            chain.push(name.clone());
            let diagnostic = Diagnostic::new(format!("profile `{name}` extends itself"))
                .at(at)
                .label("makes a cycle")
                .note(format!("the chain is {}", chain.join(" → ")));
            self.report(diagnostic);
            return None;
        }
        if !names.contains(&name.as_str()) {
            let diagnostic = Diagnostic::new(format!("unknown profile `{name}`"))
                .at(at)
                .label("not a built-in profile")
                .suggest(closest(&name, names.iter().copied()), &names)
                .help("to combine your own files, pass `-s FILE` once for each, in order");
            self.report(diagnostic);
            return None;
        }
        match load_profile(self.env, &name, self.extending) {
            Ok(base) => Some(Box::new(base)),
            Err(error) => {
                for diagnostic in error.diagnostics() {
                    self.report(diagnostic.clone());
                }
                self.omitted += error.omitted();
                None
            }
        }
    }

    fn checks(&mut self, key: &MarkedScalarNode, value: &Node) -> Vec<CheckRule> {
        let items = match value {
            Node::Sequence(items) => items,
            Node::Scalar(scalar) if is_null(scalar) => return Vec::new(),
            Node::Scalar(scalar) => {
                let diagnostic = self.wrong_type(key, value, "a list").help(format!(
                    "write `checks: [{}]`, or each item on its own line after `- `",
                    scalar.as_str()
                ));
                self.report(diagnostic);
                return Vec::new();
            }
            Node::Mapping(_) => {
                let diagnostic = self.wrong_type(key, value, "a list").help(
                    "start each item with `- `, e.g. `  - smtp.vrfy.disabled: { severity: high }`",
                );
                self.report(diagnostic);
                return Vec::new();
            }
        };
        items
            .iter()
            .filter_map(|item| self.check_rule(item))
            .collect()
    }

    fn check_rule(&mut self, item: &Node) -> Option<CheckRule> {
        match item {
            Node::Scalar(scalar) if is_null(scalar) => {
                let diagnostic = Diagnostic::new("empty item in `checks`")
                    .at(self.source.node_at(item))
                    .help("write a check id or a glob after `- `");
                self.report(diagnostic);
                None
            }
            Node::Scalar(id) => self.rule(id, None, true),
            Node::Mapping(map) => {
                let mut entries = map.iter();
                let Some((id, options)) = entries.next() else {
                    let diagnostic = Diagnostic::new("empty mapping in `checks`")
                        .at(self.source.node_at(item))
                        .help("write `- CHECK_ID` or `- CHECK_ID: { severity: high }`");
                    self.report(diagnostic);
                    return None;
                };
                if let Some((extra, _)) = entries.next() {
                    self.extra_key(id, options, map, extra);
                }
                let (severity, enabled) = self.options(id, options);
                self.rule(id, severity, enabled)
            }
            Node::Sequence(_) => {
                let diagnostic = Diagnostic::new(format!(
                    "a check item must be a check id, a glob or `id: {{ options }}`, found {}",
                    describe(item)
                ))
                .at(self.source.node_at(item));
                self.report(diagnostic);
                None
            }
        }
    }

    /// A check item with two keys, most often options indented level with the id:
    /// `- smtp.vrfy.disabled:` then `  severity: high` on the next line.
    fn extra_key(
        &mut self,
        id: &MarkedScalarNode,
        options: &Node,
        map: &MarkedMappingNode,
        extra: &MarkedScalarNode,
    ) {
        let diagnostic = Diagnostic::new(format!(
            "a check item names one check, found a second key `{}`",
            extra.as_str()
        ))
        .at(self.source.at(extra.span().start()))
        .label("second key");
        let misplaced: Vec<String> = map
            .iter()
            .skip(1)
            .filter(|(key, _)| OPTION_KEYS.contains(&key.as_str()))
            .map(|(key, value)| match value {
                Node::Scalar(value) => format!("{}: {}", key.as_str(), value.as_str()),
                _ => format!("{}: ...", key.as_str()),
            })
            .collect();
        let options_empty = matches!(options, Node::Scalar(scalar) if is_null(scalar));
        let diagnostic = if options_empty && !misplaced.is_empty() {
            diagnostic.help(format!(
                "options belong to the check: indent them further than the id, or write `- {}: {{ {} }}`",
                id.as_str(),
                misplaced.join(", ")
            ))
        } else {
            diagnostic.help("give each check its own `- ` item")
        };
        self.report(diagnostic);
    }

    /// The options of one check item: `(severity, enabled)`, best effort after a problem.
    fn options(&mut self, id: &MarkedScalarNode, value: &Node) -> (Option<Severity>, bool) {
        let (mut severity, mut enabled) = (None, true);
        match value {
            Node::Scalar(scalar) if is_null(scalar) => {}
            Node::Mapping(map) => {
                for (key, value) in map.iter() {
                    match key.as_str() {
                        "severity" => severity = self.severity(key, value),
                        "enabled" => enabled = self.boolean(key, value).unwrap_or(true),
                        _ => self.unknown_key(key, "check option", OPTION_KEYS),
                    }
                }
            }
            Node::Scalar(scalar) => {
                let word = scalar.as_str();
                let diagnostic = self.wrong_type(
                    id,
                    value,
                    "followed by options such as `{ severity: high }`",
                );
                let diagnostic = if Severity::parse(word).is_some() {
                    diagnostic.help(format!("write `{}: {{ severity: {word} }}`", id.as_str()))
                } else if matches!(word, "true" | "false") {
                    diagnostic.help(format!("write `{}: {{ enabled: {word} }}`", id.as_str()))
                } else {
                    diagnostic.note("the options are `severity` and `enabled`")
                };
                self.report(diagnostic);
            }
            Node::Sequence(_) => {
                let diagnostic = self
                    .wrong_type(
                        id,
                        value,
                        "followed by options such as `{ severity: high }`",
                    )
                    .note("the options are `severity` and `enabled`");
                self.report(diagnostic);
            }
        }
        (severity, enabled)
    }

    fn rule(
        &mut self,
        id: &MarkedScalarNode,
        severity: Option<Severity>,
        enabled: bool,
    ) -> Option<CheckRule> {
        // A glob that only matches opt-in checks turns nothing on; it still means something when
        // it sets their severity (for when they are named elsewhere) or turns them off.
        let enabling = enabled && severity.is_none();
        match selector_problem(self.env.catalog, &[], id.as_str(), enabling) {
            Ok(selector) => Some(CheckRule {
                selector,
                severity,
                enabled,
            }),
            Err(diagnostic) => {
                let mut diagnostic = diagnostic.at(self.source.at(id.span().start()));
                if id.as_str().starts_with("custom.") {
                    diagnostic = diagnostic.note(
                        "custom checks are defined under `custom:`, with their severity, and run whenever the scenario does",
                    );
                }
                self.report(diagnostic);
                None
            }
        }
    }

    fn severity(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<Severity> {
        let names: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let scalar = self.scalar(key, value, "a severity")?;
        let word = scalar.as_str();
        if let Some(severity) = Severity::parse(word) {
            return Some(severity);
        }
        let lower = word.to_ascii_lowercase();
        let suggestion = Severity::parse(&lower)
            .map(Severity::as_str)
            .or_else(|| closest(&lower, names.iter().copied()));
        let diagnostic = Diagnostic::new(format!("unknown severity `{word}`"))
            .at(self.source.value_at(key, value))
            .label("not a severity")
            .suggest(suggestion, &names);
        self.report(diagnostic);
        None
    }

    fn boolean(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<bool> {
        let scalar = self.scalar(key, value, "`true` or `false`")?;
        if let Some(flag) = scalar.as_bool() {
            return Some(flag);
        }
        let word = scalar.as_str();
        let diagnostic = Diagnostic::new(format!(
            "`{}` must be `true` or `false`, found {}",
            key.as_str(),
            describe(value)
        ))
        .at(self.source.value_at(key, value));
        let meant = match word.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" => Some(true),
            "false" | "no" | "n" | "off" => Some(false),
            _ => None,
        };
        let diagnostic = match meant {
            Some(flag) if !scalar.may_coerce() => {
                diagnostic.help(format!("remove the quotes: `{flag}`"))
            }
            Some(flag) => diagnostic.help(format!("write `{flag}`")),
            None => diagnostic,
        };
        self.report(diagnostic);
        None
    }

    /// A non-empty scalar, or a reported problem: an empty value here is a mistake (the key
    /// promises a value).
    fn scalar<'n>(
        &mut self,
        key: &MarkedScalarNode,
        value: &'n Node,
        expected: &str,
    ) -> Option<&'n MarkedScalarNode> {
        match value {
            Node::Scalar(scalar) if !is_null(scalar) => Some(scalar),
            other => {
                let diagnostic = self.wrong_type(key, other, expected);
                self.report(diagnostic);
                None
            }
        }
    }

    fn ports(&mut self, key: &MarkedScalarNode, value: &Node) -> BTreeMap<Role, u16> {
        let mut ports = BTreeMap::new();
        let roles: Vec<String> = Role::ALL
            .iter()
            .map(|r| format!("{} ({})", r.key(), r.default_port()))
            .collect();
        let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
        let map = match value {
            Node::Mapping(map) => map,
            Node::Scalar(scalar) if is_null(scalar) => return ports,
            other => {
                let diagnostic = self
                    .wrong_type(key, other, "a mapping")
                    .help("write one `name: number` per line, e.g. `  smtp: 2525`")
                    .note(format!("the names are: {}", roles.join(", ")));
                self.report(diagnostic);
                return ports;
            }
        };
        for (name, value) in map.iter() {
            let role = Role::ALL
                .into_iter()
                .find(|role| role.key() == name.as_str());
            let port = self.port(name, value);
            match (role, port) {
                (Some(role), Some(port)) => {
                    ports.insert(role, port);
                }
                (Some(_), None) => {}
                (None, _) => {
                    let keys: Vec<&str> = Role::ALL.iter().map(|r| r.key()).collect();
                    let by_number = Role::ALL
                        .into_iter()
                        .find(|role| role.default_port().to_string() == name.as_str())
                        .map(Role::key);
                    let suggestion =
                        by_number.or_else(|| closest(name.as_str(), keys.iter().copied()));
                    let diagnostic =
                        Diagnostic::new(format!("unknown port name `{}`", name.as_str()))
                            .at(self.source.at(name.span().start()))
                            .label("not a port name")
                            .suggest(suggestion, &roles);
                    self.report(diagnostic);
                }
            }
        }
        ports
    }

    fn port(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<u16> {
        let scalar = self.scalar(key, value, "a port number")?;
        let at = self.source.value_at(key, value);
        let number = self.integer(key, value, scalar, "a port number")?;
        match Port::from_number(number) {
            Ok(port) => Some(port.get()),
            Err(error) => {
                let diagnostic = Diagnostic::new(format!("port {number} is out of range"))
                    .at(at)
                    .label("not a TCP port")
                    .note(error.rule);
                self.report(diagnostic);
                None
            }
        }
    }

    /// A whole number written as one (`25`, not `"25"` nor `2.5e1`).
    fn integer(
        &mut self,
        key: &MarkedScalarNode,
        value: &Node,
        scalar: &MarkedScalarNode,
        expected: &str,
    ) -> Option<i128> {
        let word = scalar.as_str();
        match word.parse::<i128>() {
            Ok(number) if scalar.may_coerce() => Some(number),
            Ok(_) => {
                let diagnostic = self
                    .wrong_type(key, value, expected)
                    .help(format!("remove the quotes: `{word}`"));
                self.report(diagnostic);
                None
            }
            Err(_) => {
                let diagnostic = self.wrong_type(key, value, expected);
                self.report(diagnostic);
                None
            }
        }
    }

    fn settings(&mut self, key: &MarkedScalarNode, value: &Node) -> SettingsPatch {
        let mut settings = SettingsPatch::default();
        let keys = settings::scenario_keys();
        let map = match value {
            Node::Mapping(map) => map,
            Node::Scalar(scalar) if is_null(scalar) => return settings,
            other => {
                let diagnostic = self
                    .wrong_type(key, other, "a mapping")
                    .help("write one `name: value` per line, e.g. `  relay_domain: example.org`")
                    .note(format!("the settings are: {}", keys.join(", ")));
                self.report(diagnostic);
                return settings;
            }
        };
        for (key, value) in map.iter() {
            match settings::scenario_setting(key.as_str()) {
                Some(setting) => {
                    if let Some(read) = self.setting(setting, key, value) {
                        settings.set(setting.key, read);
                    }
                }
                None => match settings::ALL.iter().find(|s| s.key == key.as_str()) {
                    Some(setting) => self.run_wide(setting, key),
                    None => self.unknown_key(key, "setting", &keys),
                },
            }
        }
        settings
    }

    /// A setting of the machine the run is on (`timeout`, `ca_file`), which no scenario sets.
    fn run_wide(&mut self, setting: &Setting, key: &MarkedScalarNode) {
        let mut help = match setting.flag {
            Some(flag) => format!("give `--{flag}` on the command line"),
            None => "it is not set in a scenario".to_string(),
        };
        if let Some(var) = setting.env {
            help.push_str(&format!(", or set `{var}`"));
        }
        let diagnostic = Diagnostic::new(format!("`{}` is not a scenario setting", key.as_str()))
            .at(self.source.at(key.span().start()))
            .label("set on the command line")
            .help(help);
        self.report(diagnostic);
    }

    /// One setting's value, read the way its [`Kind`] is written and checked by its type.
    fn setting(
        &mut self,
        setting: &Setting,
        key: &MarkedScalarNode,
        value: &Node,
    ) -> Option<Value> {
        let kind = setting.kind;
        if kind.is_list() {
            return self.names(setting, key, value);
        }
        let expected = kind.expected();
        let scalar = self.scalar(key, value, expected)?;
        let at = self.source.value_at(key, value);
        let read = if kind.is_integer() {
            if let Some(millis) = duration_millis(scalar.as_str()).filter(|_| kind == Kind::Millis)
            {
                let diagnostic = self
                    .wrong_type(key, value, expected)
                    .help(format!("write `{millis}`"));
                self.report(diagnostic);
                return None;
            }
            let number = self.integer(key, value, scalar, expected)?;
            kind.parse(&number.to_string())
        } else {
            kind.parse(scalar.as_str())
        };
        match read {
            Ok(read) => Some(read),
            Err(error) => {
                let mut diagnostic = Diagnostic::new(error.message(key.as_str())).at(at);
                if let Some(label) = error.label() {
                    diagnostic = diagnostic.label(label);
                }
                self.report(diagnostic.note(error.rule));
                None
            }
        }
    }
    /// `expect: [mx, submission, mailbox]`: the services the host must offer.
    fn services(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<crate::check::Services> {
        use crate::check::Service;
        let items = match value {
            Node::Sequence(items) => items,
            other => {
                let diagnostic = self.wrong_type(key, other, "a list").help(
                    "write `expect: [mx, submission, mailbox]` (the services the host must offer)",
                );
                self.report(diagnostic);
                return None;
            }
        };
        let known: Vec<&str> = Service::ALL.iter().map(|s| s.key()).collect();
        let mut services = Vec::new();
        for item in items.iter() {
            let word = match item {
                Node::Scalar(scalar) => scalar.as_str(),
                _ => "",
            };
            match Service::parse(word) {
                Some(service) => services.push(service),
                None => {
                    let mut diagnostic = Diagnostic::new(format!(
                        "{} is not a service a host can be expected to offer",
                        describe(item)
                    ))
                    .at(self.source.node_at(item))
                    .label("not mx, submission or mailbox")
                    .note(
                        "mx: receives mail on 25; submission: takes mail from clients on 587; \
                         mailbox: serves IMAP (143/993)",
                    );
                    if let Some(close) = closest(word, known.iter().copied()) {
                        diagnostic = diagnostic.help(format!("did you mean `{close}`?"));
                    }
                    self.report(diagnostic);
                }
            }
        }
        Some(crate::check::Services::of(&services))
    }

    /// A list of DNS names (`dkim_selectors: [mail, s2024]`, `dnsbl: [zen.spamhaus.org]`).
    fn names(&mut self, setting: &Setting, key: &MarkedScalarNode, value: &Node) -> Option<Value> {
        let items = match value {
            Node::Sequence(items) => items,
            Node::Scalar(scalar) if is_null(scalar) => return None,
            other => {
                let shown = match other {
                    Node::Scalar(scalar) => scalar.as_str().to_string(),
                    _ => setting.example.to_string(),
                };
                let diagnostic = self
                    .wrong_type(key, other, "a list")
                    .help(format!("write `{}: [{shown}]`", key.as_str()));
                self.report(diagnostic);
                return None;
            }
        };
        // A non-scalar item reads as text no name can be, so its problem is reported in place.
        let texts: Vec<&str> = items
            .iter()
            .map(|item| match item {
                Node::Scalar(scalar) if !is_null(scalar) => scalar.as_str(),
                _ => "",
            })
            .collect();
        match setting.kind.parse_list(texts) {
            Ok(read) => Some(read),
            Err(problems) => {
                let what = setting.kind.item();
                for (index, error) in problems {
                    let item = &items[index];
                    let diagnostic = Diagnostic::new(format!("{} is not {what}", describe(item)))
                        .at(self.source.node_at(item))
                        .label(format!("not {what}"))
                        .note(error.rule);
                    self.report(diagnostic);
                }
                None
            }
        }
    }
}

/// Milliseconds in a duration written with a unit (`2s`, `1.5 s`, `500ms`), for the hint.
fn duration_millis(text: &str) -> Option<u64> {
    let (number, scale) = if let Some(number) = text.strip_suffix("ms") {
        (number, 1.0)
    } else {
        (text.strip_suffix('s')?, 1000.0)
    };
    let value: f64 = number.trim().parse().ok()?;
    (value >= 0.0 && value.is_finite()).then(|| (value * scale).round() as u64)
}

/// An empty value, `~` or `null`: the same as leaving the key out.
pub(crate) fn is_null(scalar: &MarkedScalarNode) -> bool {
    scalar.may_coerce() && matches!(scalar.as_str(), "" | "~" | "null" | "Null" | "NULL")
}

/// How a value reads in an error message.
pub(crate) fn describe(node: &Node) -> String {
    match node {
        Node::Scalar(scalar) if is_null(scalar) => "nothing".to_string(),
        Node::Scalar(scalar) if !scalar.may_coerce() => {
            format!("the string \"{}\"", shorten(scalar))
        }
        Node::Scalar(scalar) => format!("`{}`", shorten(scalar)),
        Node::Mapping(_) => "a mapping".to_string(),
        Node::Sequence(_) => "a list".to_string(),
    }
}

fn shorten(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() > 40 || first_line.len() < text.trim_end().len() {
        format!("{}…", first_line.chars().take(40).collect::<String>())
    } else {
        first_line.to_string()
    }
}
