//! Rosters for `batch` (SPEC "Roster for `batch`"): the students, their servers and what to
//! check for each, from a YAML file or a spreadsheet's CSV (told apart by the extension).
//!
//! ```yaml
//! defaults:                      # run options for every student
//!   profile: course
//!   relay_domain: example.org
//! students:
//!   - name: Alice Martin         # required, unique
//!     target: mail.alice-lab.fr  # required: host, address or mail domain
//!     domain: alice-lab.fr
//!     user: test@alice-lab.fr
//!     password_env: ALICE_PW     # or password_file
//!     skip: [dns.ptr]            # her own options, over the defaults
//!     dkim_selector: mail
//! ```
//!
//! Options a roster may set, in `defaults:` or per student: `profile`, `scenario`, `only`,
//! `skip`, `relay_domain`, `ca_file`, `dkim_selector`; a student also has `name`, `target`,
//! `domain`, `user`, `password_env`/`password_file`. Run-wide options (`--timeout`,
//! `--resolver`, outputs...) are refused with a hint to give them on the command line.
//!
//! ```text
//! name,target,domain,user,password_env
//! Alice Martin,mail.alice-lab.fr,alice-lab.fr,test@alice-lab.fr,ALICE_PW
//! ```
//!
//! [`load`] keeps two kinds of problems apart. A problem with the file itself (unreadable, not
//! YAML, no `students:`, a bad `defaults:` or CSV header) is a [`ScenarioError`]: nothing can be
//! checked. A problem with one student's row is a [`BadRow`] in its [`Row`], with every
//! diagnostic of that row, so that `batch` can either stop (the default) or, with
//! `--keep-going`, grade that row as an error and check the others. YAML problems point at
//! file:line:column exactly as scenario errors do (same renderer); CSV problems name the row (as
//! a spreadsheet numbers it, header = row 1) and the column.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoaderOptions, Node};

use crate::scenario::{
    Diagnostic, Location, ScenarioError, Source, YamlKind, builtin_names, closest, describe,
    is_null, read_bounded, size,
};
use crate::settings::value::{DkimSelector, DomainName, FilePath, ValueError};
use crate::settings::{self, Setting};

/// Run options a roster may set for every student (`defaults:`) or for one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub profile: Option<String>,
    /// Scenario files, relative to the roster's folder.
    pub scenarios: Option<Vec<PathBuf>>,
    pub only: Option<Vec<String>>,
    /// Added to the skips of the command line and of `defaults:` (skipping adds up).
    pub skip: Vec<String>,
    pub relay_domain: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// DKIM selectors to look up (the course's `opendkim-genkey -s mail` makes `mail`).
    pub dkim_selectors: Option<Vec<String>>,
}

/// One student: who, which server, and the student's own options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Student {
    pub name: String,
    pub target: String,
    pub domain: Option<String>,
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub options: Options,
}

/// A roster row that cannot be checked, and what could be read of it to name it in reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    pub name: Option<String>,
    pub target: Option<String>,
    pub problems: Vec<Diagnostic>,
}

/// One row of the roster, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Where it is, for messages: `class.yaml:12:5`, `class.csv row 5`.
    pub place: String,
    pub student: Result<Student, BadRow>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    pub defaults: Options,
    pub rows: Vec<Row>,
}

impl Roster {
    pub fn bad_rows(&self) -> impl Iterator<Item = (&Row, &BadRow)> {
        self.rows
            .iter()
            .filter_map(|row| row.student.as_ref().err().map(|bad| (row, bad)))
    }
}

/// Who a student is: keys of a student (YAML) or columns (CSV), never of `defaults:`.
const IDENTITY_KEYS: &[&str] = &[
    "name",
    "target",
    "domain",
    "user",
    "password_env",
    "password_file",
];
/// What to check: options a roster may set besides the settings of the registry.
const SELECTION_KEYS: &[&str] = &["scenario", "only", "skip"];
/// Keys whose value may be a list (YAML) or several values separated by spaces or `;` (CSV).
fn is_list_key(key: &str) -> bool {
    SELECTION_KEYS.contains(&key) || settings::roster_setting(key).is_some_and(|s| s.kind.is_list())
}

/// The keys `defaults:` takes: the options, not who the student is; the registry's roster
/// columns (`crate::settings`) after the selection keys.
fn option_keys() -> Vec<&'static str> {
    let mut keys = vec!["profile"];
    keys.extend_from_slice(SELECTION_KEYS);
    keys.extend(
        settings::in_roster()
            .filter_map(|s| s.roster)
            .filter(|k| *k != "profile"),
    );
    keys
}

/// Keys of a student (YAML) or columns (CSV).
fn student_keys() -> Vec<&'static str> {
    let mut keys = IDENTITY_KEYS.to_vec();
    keys.extend(option_keys());
    keys
}

const TOP_KEYS: &[&str] = &["defaults", "students"];

/// The largest roster file: 300 students with every key take 60 KB. Bounds the memory spent on
/// the input: the YAML parser needs up to 70 times the text (a 1 MiB roster of one-key rows
/// peaked at 74 MB).
pub const MAX_ROSTER_BYTES: usize = 512 << 10;
/// The most students a roster lists.
pub const MAX_STUDENTS: usize = 1000;
/// The longest value of a key or cell, in bytes (a file path, a domain).
pub const MAX_VALUE_BYTES: usize = 1024;
/// The longest student name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Options of the whole run that are not settings, which a roster cannot set either.
const RUN_WIDE: &[(&str, &str)] = &[
    ("concurrency", "--concurrency"),
    ("format", "--format"),
    ("json", "--json"),
    ("junit", "--junit"),
    ("markdown", "--markdown"),
    ("html", "--html"),
    ("csv", "--csv"),
    ("scale", "--scale"),
    ("lang", "--lang"),
    ("min_score", "--min-score"),
    ("fail_on", "--fail-on"),
];
/// Words people write for ours.
const SYNONYMS: &[(&str, &str)] = &[
    ("host", "target"),
    ("server", "target"),
    ("hostname", "target"),
    ("address", "target"),
    ("student", "name"),
    ("nom", "name"),
    ("cible", "target"),
    ("domaine", "domain"),
    ("mail_domain", "domain"),
    ("login", "user"),
    ("username", "user"),
    ("password", "password_env"),
    ("scenarios", "scenario"),
    ("relay", "relay_domain"),
    ("selector", "dkim_selector"),
    ("dkim_selectors", "dkim_selector"),
    ("default", "defaults"),
    ("students_list", "students"),
    ("class", "students"),
];

const ROSTER_FILE: YamlKind = YamlKind {
    noun: "roster",
    example_keys: "`defaults:` and `students:`",
    keys: TOP_KEYS,
    split_help: "put every student in the one `students:` list",
};

/// Loads a roster file: YAML for `.yaml`/`.yml`, CSV for `.csv`.
pub fn load(path: &Path) -> Result<Roster, ScenarioError> {
    let file = path.display().to_string();
    let fatal = |message: String| ScenarioError::single(Diagnostic::new(message));
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let yaml = match extension.as_str() {
        "yaml" | "yml" => true,
        "csv" => false,
        _ => {
            return Err(ScenarioError::single(
                Diagnostic::new(format!("cannot tell the format of roster `{file}`"))
                    .help("name it `.yaml` (or `.yml`) for YAML, `.csv` for CSV"),
            ));
        }
    };
    let bytes = read_bounded(path, MAX_ROSTER_BYTES, "roster").map_err(fatal)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ScenarioError::single(
            Diagnostic::new(format!("roster `{file}` is not UTF-8 text"))
                .help("save it as UTF-8 (spreadsheets: CSV UTF-8)"),
        )
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    if yaml {
        load_yaml(&file, &text, base)
    } else {
        load_csv(&file, &text, base)
    }
}

/// A problem with one value: what, a few words under the carets, a hint.
struct Problem {
    message: String,
    label: Option<String>,
    help: Option<String>,
}

impl Problem {
    fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            label: None,
            help: None,
        }
    }

    fn label(mut self, label: impl Into<String>) -> Problem {
        self.label = Some(label.into());
        self
    }

    fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    fn at(self, location: Option<Location>) -> Diagnostic {
        let mut diagnostic = Diagnostic::new(self.message).at(location);
        if let Some(label) = self.label {
            diagnostic = diagnostic.label(label);
        }
        if let Some(help) = self.help {
            diagnostic = diagnostic.help(help);
        }
        diagnostic
    }
}

/// What a roster row or `defaults:` sets, before it is checked as a whole.
#[derive(Default)]
struct Fields {
    name: Option<String>,
    target: Option<String>,
    domain: Option<String>,
    user: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    options: Options,
}

/// Checks one key's value (already a string or a list of strings) into `fields`.
fn set(fields: &mut Fields, key: &str, values: Vec<String>, base: &Path) -> Result<(), Problem> {
    if values.iter().any(|v| v.len() > MAX_VALUE_BYTES) {
        return Err(Problem::new(format!(
            "`{key}` is longer than {} (the limit)",
            size(MAX_VALUE_BYTES)
        )));
    }
    let one = || values.first().cloned().unwrap_or_default();
    let path = |text: String| base.join(text);
    match key {
        "name" => fields.name = Some(name(&one())?),
        "target" => fields.target = Some(target(&one())?),
        "domain" => fields.domain = Some(domain(key, &one())?),
        "relay_domain" => fields.options.relay_domain = Some(domain(key, &one())?),
        "user" => fields.user = Some(word(key, &one(), "a user name")?),
        "password_env" => fields.password_env = Some(env_var(&one())?),
        "password_file" => fields.password_file = Some(path(word(key, &one(), "a file")?)),
        "ca_file" => {
            fields.options.ca_file = Some(path(typed::<FilePath>(key, &one())?.to_string()))
        }
        "profile" => fields.options.profile = Some(profile(&one())?),
        "scenario" => fields.options.scenarios = Some(values.into_iter().map(path).collect()),
        "only" => fields.options.only = Some(globs(key, values)?),
        "skip" => fields.options.skip = globs(key, values)?,
        "dkim_selector" => {
            fields.options.dkim_selectors = Some(
                values
                    .iter()
                    .map(|v| typed::<DkimSelector>(key, v).map(|s| s.to_string()))
                    .collect::<Result<_, _>>()?,
            );
        }
        _ => unreachable!("keys are matched against the student keys first"),
    }
    Ok(())
}

fn name(text: &str) -> Result<String, Problem> {
    let name = text.trim();
    if name.is_empty() {
        return Err(Problem::new("`name` is empty").help("write the student's name"));
    }
    if name.chars().any(char::is_control) {
        return Err(Problem::new("`name` holds control characters"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Problem::new(format!(
            "`name` is longer than {MAX_NAME_CHARS} characters (the limit)"
        )));
    }
    Ok(name.to_string())
}

/// A host name, an address or a mail domain, as `run` takes them.
fn target(text: &str) -> Result<String, Problem> {
    let target = text.trim();
    if target.is_empty() {
        return Err(Problem::new("`target` is empty")
            .help("write the student's server: a host name, an address or a mail domain"));
    }
    let bare = target.trim_start_matches('[').trim_end_matches(']');
    let host_like = target.trim_end_matches('.').split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if bare.parse::<IpAddr>().is_ok() || host_like {
        return Ok(target.to_string());
    }
    Err(Problem::new(format!(
        "`{target}` is not a host name, an address or a domain"
    ))
    .label("not a target")
    .help("write e.g. `mail.alice-lab.fr`, `alice-lab.fr` or `192.0.2.25`"))
}

fn domain(key: &str, text: &str) -> Result<String, Problem> {
    typed::<DomainName>(key, text).map(|domain| domain.to_string())
}

/// A value checked by its type's rule (the one every reader uses), its problem worded for a
/// roster: the key first, the rule as the help.
fn typed<T: std::str::FromStr<Err = ValueError>>(key: &str, text: &str) -> Result<T, Problem> {
    text.parse::<T>().map_err(|error| {
        let mut problem =
            Problem::new(format!("`{key}`: {}", error.message(key))).help(error.rule.clone());
        if let Some(label) = error.label() {
            problem = problem.label(label);
        }
        problem
    })
}

/// A value without spaces.
fn word(key: &str, text: &str, what: &str) -> Result<String, Problem> {
    let word = text.trim();
    if word.is_empty() {
        return Err(Problem::new(format!("`{key}` is empty")));
    }
    if word.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Problem::new(format!(
            "`{key}` must be {what} without spaces"
        )));
    }
    Ok(word.to_string())
}

fn env_var(text: &str) -> Result<String, Problem> {
    let var = text.trim();
    let valid = var
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        return Ok(var.to_string());
    }
    Err(
        Problem::new(format!("`{var}` is not an environment variable name"))
            .label("not a variable name")
            .help(
                "`password_env` names the variable that holds the password (e.g. `ALICE_PW`), \
                 never the password itself",
            ),
    )
}

fn profile(text: &str) -> Result<String, Problem> {
    let name = text.trim();
    let names = builtin_names();
    if names.contains(&name) {
        return Ok(name.to_string());
    }
    let problem = Problem::new(format!("unknown profile `{name}`")).label("not a built-in profile");
    Err(match closest(name, names.iter().copied()) {
        Some(close) => problem.help(format!("did you mean `{close}`?")),
        None => problem.help(format!("the profiles are: {}", names.join(", "))),
    })
}

fn globs(key: &str, values: Vec<String>) -> Result<Vec<String>, Problem> {
    if let Some(bad) = values
        .iter()
        .find(|v| crate::scenario::Selector::parse(v).is_none())
    {
        return Err(
            Problem::new(format!("`{key}`: `{bad}` is not a check id or glob"))
                .label("not a check id or glob")
                .help("check ids are lowercase, e.g. `dns.ptr` or `tls.*`"),
        );
    }
    Ok(values)
}

/// An unknown key or column: a run-wide option, a synonym, or a typo.
fn unknown(key: &str, what: &str, expected: &[&str]) -> Problem {
    if let Some((_, flag)) = RUN_WIDE.iter().find(|(option, _)| *option == key) {
        return Problem::new(format!("`{key}` applies to the whole run, not to a {what}"))
            .label("not a roster key")
            .help(format!("give `{flag}` on the command line"));
    }
    if let Some(setting) = settings::ALL
        .iter()
        .find(|s| s.key == key && s.roster.is_none())
    {
        return elsewhere(setting, what);
    }
    let suggestion = SYNONYMS
        .iter()
        .find(|(synonym, meant)| *synonym == key && expected.contains(meant))
        .map(|(_, meant)| *meant)
        .or_else(|| closest(key, expected.iter().copied()));
    let problem = Problem::new(format!("unknown key `{key}`")).label(format!("not a {what} key"));
    match suggestion {
        Some(close) => problem.help(format!("did you mean `{close}`?")),
        None => problem.help(format!("expected one of: {}", expected.join(", "))),
    }
}

/// A setting a roster does not take: where it goes instead.
fn elsewhere(setting: &Setting, what: &str) -> Problem {
    let key = setting.key;
    let problem = Problem::new(format!(
        "`{key}` is set by a scenario or the command line, not by a {what}"
    ))
    .label("not a roster key");
    match (setting.in_scenario, setting.flag) {
        (true, Some(flag)) => problem.help(format!(
            "give `--{flag}` on the command line, or `{key}:` under `settings:` in a scenario file (`scenario:`)"
        )),
        (true, None) => problem.help(format!(
            "write `{key}:` under `settings:` in a scenario file, and name it with `scenario:`"
        )),
        (false, Some(flag)) => Problem::new(format!("`{key}` applies to the whole run, not to a {what}"))
            .label("not a roster key")
            .help(format!("give `--{flag}` on the command line")),
        (false, None) => problem,
    }
}

/// Turns a row's fields into a student, or says what is missing.
fn student(fields: Fields) -> Result<Student, Vec<Problem>> {
    let mut problems = Vec::new();
    if fields.name.is_none() {
        problems.push(Problem::new("a student without `name`").help("every student needs a name"));
    }
    if fields.target.is_none() {
        problems.push(
            Problem::new("a student without `target`")
                .help("every student needs a server: a host name, an address or a mail domain"),
        );
    }
    if fields.password_env.is_some() && fields.password_file.is_some() {
        problems.push(
            Problem::new("`password_env` and `password_file` are both given")
                .help("keep one of them"),
        );
    }
    if fields.user.is_none() && (fields.password_env.is_some() || fields.password_file.is_some()) {
        problems
            .push(Problem::new("a password without `user`").help("add the test mailbox as `user`"));
    }
    match (fields.name, fields.target) {
        (Some(name), Some(target)) if problems.is_empty() => Ok(Student {
            name,
            target,
            domain: fields.domain,
            user: fields.user,
            password_env: fields.password_env,
            password_file: fields.password_file,
            options: fields.options,
        }),
        _ => Err(problems),
    }
}

fn too_many(file: &str) -> Diagnostic {
    Diagnostic::new(format!(
        "roster `{file}` lists more than {MAX_STUDENTS} students (the limit)"
    ))
    .help("split the class into several rosters")
}

/// The second and later rows with a name already used become bad rows.
fn reject_duplicate_names(rows: &mut [Row]) {
    let mut first: HashMap<String, String> = HashMap::new();
    for row in rows.iter_mut() {
        let Ok(student) = &row.student else { continue };
        let key = student.name.to_lowercase();
        if let Some(place) = first.get(&key) {
            let diagnostic = Diagnostic::new(format!(
                "{}: student name `{}` is used twice",
                row.place, student.name
            ))
            .note(format!("first used at {place}"))
            .help("names must be unique: add an initial or a number");
            row.student = Err(BadRow {
                name: Some(student.name.clone()),
                target: Some(student.target.clone()),
                problems: vec![diagnostic],
            });
        } else {
            first.insert(key, row.place.clone());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML

/// Reads a YAML roster; `base` is the folder relative paths start from.
pub fn load_yaml(file: &str, text: &str, base: &Path) -> Result<Roster, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let source = Source { file, text };
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    let root = marked_yaml::parse_yaml_with_options(0, text, options)
        .map_err(|error| ScenarioError::single(source.yaml_error(error, &ROSTER_FILE)))?;
    if let Some(diagnostic) = source.second_document(&ROSTER_FILE) {
        return Err(ScenarioError::single(diagnostic));
    }
    let walker = Walker { source, base };
    let map = root
        .as_mapping()
        .expect("marked-yaml returns a mapping at the top level");

    let mut fatal = Vec::new();
    let mut defaults = Options::default();
    let mut students = None;
    for (key, value) in map.iter() {
        match key.as_str() {
            "defaults" => match walker.defaults(key, value) {
                Ok(options) => defaults = options,
                Err(problems) => fatal.extend(problems),
            },
            "students" => students = Some((key, value)),
            other => fatal
                .push(unknown(other, "roster", TOP_KEYS).at(walker.source.at(key.span().start()))),
        }
    }
    let rows = match students {
        None => {
            fatal.push(
                Diagnostic::new(format!("roster `{file}` has no `students:` list"))
                    .help("list the students under `students:`, one `- name: ...` item each"),
            );
            Vec::new()
        }
        Some((key, value)) => match walker.students(key, value) {
            Ok(rows) => rows,
            Err(problem) => {
                fatal.push(*problem);
                Vec::new()
            }
        },
    };
    if !fatal.is_empty() {
        return Err(ScenarioError::new(fatal));
    }
    let mut rows = rows;
    reject_duplicate_names(&mut rows);
    Ok(Roster { defaults, rows })
}

struct Walker<'a> {
    source: Source<'a>,
    base: &'a Path,
}

impl Walker<'_> {
    /// The strings of a value: a scalar, or (for list keys) a list of scalars.
    fn strings(
        &self,
        key: &MarkedScalarNode,
        value: &Node,
    ) -> Result<Vec<String>, Box<Diagnostic>> {
        let list_key = is_list_key(key.as_str());
        let wrong = |expected: &str| {
            Problem::new(format!(
                "`{}` must be {expected}, found {}",
                key.as_str(),
                describe(value)
            ))
            .at(self.source.value_at(key, value))
            .into()
        };
        match value {
            Node::Scalar(scalar) if is_null(scalar) => {
                Err(Problem::new(format!("`{}` has no value", key.as_str()))
                    .help("write a value after the colon, or leave the key out")
                    .at(self.source.value_at(key, value))
                    .into())
            }
            Node::Scalar(scalar) => Ok(vec![scalar.as_str().to_string()]),
            Node::Sequence(items) if list_key => items
                .iter()
                .map(|item| match item {
                    Node::Scalar(scalar) if !is_null(scalar) => Ok(scalar.as_str().to_string()),
                    other => Err(Problem::new(format!(
                        "`{}` must list strings, found {}",
                        key.as_str(),
                        describe(other)
                    ))
                    .at(self.source.node_at(other))
                    .into()),
                })
                .collect(),
            _ if list_key => Err(wrong("a string or a list of strings")),
            _ => Err(wrong("a string")),
        }
    }

    /// Reads every key of a mapping into fields; problems are located diagnostics.
    fn fields(
        &self,
        map: &MarkedMappingNode,
        allowed: &[&'static str],
        what: &str,
    ) -> (Fields, Vec<Diagnostic>) {
        let mut fields = Fields::default();
        let mut problems = Vec::new();
        for (key, value) in map.iter() {
            let word = key.as_str();
            if !allowed.contains(&word) {
                let problem = if IDENTITY_KEYS.contains(&word) {
                    Problem::new(format!(
                        "`{word}` belongs to each student, not to `defaults`"
                    ))
                    .label("not a default")
                    .help(format!("give `{word}` in each student's entry"))
                } else {
                    unknown(word, what, allowed)
                };
                problems.push(problem.at(self.source.at(key.span().start())));
                continue;
            }
            match self.strings(key, value) {
                Ok(values) => {
                    if let Err(problem) = set(&mut fields, word, values, self.base) {
                        problems.push(problem.at(self.source.value_at(key, value)));
                    }
                }
                Err(diagnostic) => problems.push(*diagnostic),
            }
        }
        (fields, problems)
    }

    fn defaults(&self, key: &MarkedScalarNode, value: &Node) -> Result<Options, Vec<Diagnostic>> {
        match value {
            Node::Scalar(scalar) if is_null(scalar) => Ok(Options::default()),
            Node::Mapping(map) => {
                let (fields, problems) = self.fields(map, &option_keys(), "`defaults`");
                if problems.is_empty() {
                    Ok(fields.options)
                } else {
                    Err(problems)
                }
            }
            other => Err(vec![
                Problem::new(format!(
                    "`defaults` must be a mapping, found {}",
                    describe(other)
                ))
                .help("write one `option: value` per line, e.g. `  profile: course`")
                .at(self.source.value_at(key, value)),
            ]),
        }
    }

    fn students(&self, key: &MarkedScalarNode, value: &Node) -> Result<Vec<Row>, Box<Diagnostic>> {
        let items = match value {
            Node::Sequence(items) if !items.is_empty() => items,
            Node::Sequence(_) => {
                return Err(Problem::new("`students` is an empty list")
                    .help("add one `- name: ...` item per student")
                    .at(self.source.value_at(key, value))
                    .into());
            }
            Node::Scalar(scalar) if is_null(scalar) => {
                return Err(Problem::new("`students` is empty")
                    .help("add one `- name: ...` item per student")
                    .at(self.source.value_at(key, value))
                    .into());
            }
            other => {
                return Err(Problem::new(format!(
                    "`students` must be a list, found {}",
                    describe(other)
                ))
                .help("start each student with `- `, e.g. `  - name: Alice Martin`")
                .at(self.source.value_at(key, value))
                .into());
            }
        };
        if items.len() > MAX_STUDENTS {
            return Err(Box::new(too_many(self.source.file)));
        }
        Ok(items.iter().map(|item| self.row(item)).collect())
    }

    fn row(&self, item: &Node) -> Row {
        let at = self.source.node_at(item);
        let place = at
            .as_ref()
            .map(|l| format!("{}:{}:{}", l.file, l.line, l.column))
            .unwrap_or_else(|| self.source.file.to_string());
        let Node::Mapping(map) = item else {
            let diagnostic = Problem::new(format!(
                "a student must be a mapping of `name:`, `target:`..., found {}",
                describe(item)
            ))
            .help(
                "write `- name: Alice Martin` and, indented under it, `target: mail.alice-lab.fr`",
            )
            .at(at);
            return Row {
                place,
                student: Err(BadRow {
                    name: None,
                    target: None,
                    problems: vec![diagnostic],
                }),
            };
        };
        let (fields, mut problems) = self.fields(map, &student_keys(), "student");
        let (name, target) = (fields.name.clone(), fields.target.clone());
        let student = match student(fields) {
            Ok(student) if problems.is_empty() => Ok(student),
            Ok(_) => Err(Vec::new()),
            Err(missing) => Err(missing),
        };
        let student = student.map_err(|missing| {
            problems.extend(missing.into_iter().map(|p| p.at(at.clone())));
            BadRow {
                name,
                target,
                problems,
            }
        });
        Row { place, student }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

/// Reads a CSV roster (a spreadsheet's export); `base` is the folder relative paths start from.
/// The header names the columns (any order, any case); list cells (`scenario`, `only`, `skip`)
/// take several values separated by spaces or `;`. Lines starting with `#` are comments.
pub fn load_csv(file: &str, text: &str, base: &Path) -> Result<Roster, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .comment(Some(b'#'))
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| {
        ScenarioError::single(Diagnostic::new(format!(
            "roster `{file}`: cannot read the header: {e}"
        )))
    })?;
    let columns: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();

    let mut fatal = Vec::new();
    let student_keys = student_keys();
    for (index, column) in columns.iter().enumerate() {
        let place = format!("{file}, row 1, column {}", index + 1);
        if column.is_empty() {
            fatal.push(Diagnostic::new(format!("{place}: empty column name")));
        } else if !student_keys.contains(&column.as_str()) {
            let problem = unknown(column, "roster column", &student_keys);
            fatal.push(
                Problem {
                    message: format!("{place}: {}", problem.message),
                    ..problem
                }
                .at(None),
            );
        } else if columns[..index].contains(column) {
            fatal.push(Diagnostic::new(format!(
                "{place}: column `{column}` is given twice"
            )));
        }
    }
    for required in ["name", "target"] {
        if !columns.iter().any(|c| c == required) {
            fatal.push(
                Diagnostic::new(format!("roster `{file}` has no `{required}` column"))
                    .note("the header is `name,target,domain,user,password_env` (domain, user and password_env may be left out)"),
            );
        }
    }
    if !fatal.is_empty() {
        return Err(ScenarioError::new(fatal));
    }

    let mut rows = Vec::new();
    for record in reader.records() {
        if rows.len() == MAX_STUDENTS {
            return Err(ScenarioError::single(too_many(file)));
        }
        let (line, record) = match record {
            Ok(record) => (record.position().map_or(0, |p| p.line()), Ok(record)),
            Err(error) => (error.position().map_or(0, |p| p.line()), Err(error)),
        };
        let place = format!("{file} row {line}");
        let row = match record {
            Ok(record) => csv_row(file, line, &columns, &record, base),
            Err(error) => Err(BadRow {
                name: None,
                target: None,
                problems: vec![Diagnostic::new(format!("{file}, row {line}: {error}"))],
            }),
        };
        rows.push(Row {
            place,
            student: row,
        });
    }
    if rows.is_empty() {
        return Err(ScenarioError::single(
            Diagnostic::new(format!("roster `{file}` lists no student"))
                .help("add one row per student under the header"),
        ));
    }
    reject_duplicate_names(&mut rows);
    Ok(Roster {
        defaults: Options::default(),
        rows,
    })
}

fn csv_row(
    file: &str,
    line: u64,
    columns: &[String],
    record: &::csv::StringRecord,
    base: &Path,
) -> Result<Student, BadRow> {
    let mut problems = Vec::new();
    if record.len() != columns.len() {
        problems.push(
            Diagnostic::new(format!(
                "{file}, row {line}: {} cells, the header has {}",
                record.len(),
                columns.len()
            ))
            .help("a cell that holds a comma must be quoted: \"Martin, Alice\""),
        );
    }
    let mut fields = Fields::default();
    for (column, cell) in columns.iter().zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        let values: Vec<String> = if is_list_key(column) {
            cell.split([';', ' ', '\t'])
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        } else {
            vec![cell.to_string()]
        };
        if let Err(problem) = set(&mut fields, column, values, base) {
            problems.push(csv_problem(file, line, Some(column), problem));
        }
    }
    let (name, target) = (fields.name.clone(), fields.target.clone());
    match student(fields) {
        Ok(student) if problems.is_empty() => Ok(student),
        result => {
            if let Err(missing) = result {
                problems.extend(missing.into_iter().map(|problem| {
                    let column = ["name", "target"]
                        .into_iter()
                        .find(|c| problem.message.contains(&format!("`{c}`")));
                    csv_problem(file, line, column, problem)
                }));
            }
            Err(BadRow {
                name,
                target,
                problems,
            })
        }
    }
}

fn csv_problem(file: &str, line: u64, column: Option<&str>, problem: Problem) -> Diagnostic {
    let place = match column {
        Some(column) => format!("{file}, row {line}, column `{column}`"),
        None => format!("{file}, row {line}"),
    };
    Problem {
        message: format!("{place}: {}", problem.message),
        label: None,
        help: problem.help,
    }
    .at(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Result<Roster, ScenarioError> {
        load_yaml("class.yaml", text, Path::new("rosters"))
    }

    fn csv(text: &str) -> Result<Roster, ScenarioError> {
        load_csv("class.csv", text, Path::new("rosters"))
    }

    fn students(roster: &Roster) -> Vec<&Student> {
        roster
            .rows
            .iter()
            .map(|row| row.student.as_ref().expect("a good row"))
            .collect()
    }

    fn problems(row: &Row) -> String {
        let bad = row.student.as_ref().expect_err("a bad row");
        bad.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    #[test]
    fn a_full_yaml_roster() {
        let roster = yaml(
            "defaults:\n  profile: course\n  relay_domain: Example.ORG.\n  skip: dns.ptr\n\
             students:\n\
             \x20 - name: Alice Martin\n    target: mail.alice-lab.fr\n    domain: alice-lab.fr\n\
             \x20   user: test@alice-lab.fr\n    password_env: ALICE_PW\n    skip: [dns.dkim, 'tls.*']\n\
             \x20   dkim_selector: Mail\n\
             \x20 - { name: Bob, target: 192.0.2.25, scenario: [extra.yaml], password_file: pw.txt, user: b }\n",
        )
        .unwrap();
        assert_eq!(roster.defaults.profile.as_deref(), Some("course"));
        assert_eq!(roster.defaults.relay_domain.as_deref(), Some("example.org"));
        assert_eq!(roster.defaults.skip, ["dns.ptr"]);
        let students = students(&roster);
        assert_eq!(students[0].name, "Alice Martin");
        assert_eq!(students[0].domain.as_deref(), Some("alice-lab.fr"));
        assert_eq!(students[0].password_env.as_deref(), Some("ALICE_PW"));
        assert_eq!(students[0].options.skip, ["dns.dkim", "tls.*"]);
        assert_eq!(
            students[0].options.dkim_selectors,
            Some(vec!["mail".to_string()])
        );
        assert_eq!(students[1].target, "192.0.2.25");
        assert_eq!(
            students[1].options.scenarios,
            Some(vec![PathBuf::from("rosters/extra.yaml")])
        );
        assert_eq!(
            students[1].password_file,
            Some(PathBuf::from("rosters/pw.txt"))
        );
        assert_eq!(roster.rows[0].place, "class.yaml:6:5");
    }

    #[test]
    fn bad_yaml_rows_point_at_file_line_and_column() {
        let roster = yaml(
            "students:\n  - name: Alice\n    target: mail.alice.test\n  - name: Bob\n    taget: mail.bob.test\n  - name: Chloé\n    target: not a host\n  - name: alice\n    target: mail.other.test\n",
        )
        .unwrap();
        assert!(roster.rows[0].student.is_ok());
        assert_eq!(
            problems(&roster.rows[1]),
            "error: unknown key `taget`
 --> class.yaml:5:5
  |
5 |     taget: mail.bob.test
  |     ^^^^^ not a student key
  |
  = help: did you mean `target`?

error: a student without `target`
 --> class.yaml:4:5
  |
4 |   - name: Bob
  |     ^^^^
  |
  = help: every student needs a server: a host name, an address or a mail domain"
        );
        let chloe = problems(&roster.rows[2]);
        assert!(chloe.contains("`not a host` is not a host name"), "{chloe}");
        assert!(chloe.contains("--> class.yaml:7:13"), "{chloe}");
        let duplicate = problems(&roster.rows[3]);
        assert!(
            duplicate.contains("class.yaml:8:5: student name `alice` is used twice"),
            "{duplicate}"
        );
        assert!(
            duplicate.contains("first used at class.yaml:2:5"),
            "{duplicate}"
        );
        let bad = roster.rows[1].student.as_ref().unwrap_err();
        assert_eq!(bad.name.as_deref(), Some("Bob"));
    }

    #[test]
    fn file_level_problems_stop_everything() {
        let error = yaml("students: []\n").unwrap_err().to_string();
        assert!(error.contains("`students` is an empty list"), "{error}");
        let error =
            yaml("defaults:\n  timeout: 2\n  name: x\nstudents:\n  - {name: a, target: b.test}\n")
                .unwrap_err()
                .to_string();
        assert!(
            error.contains("`timeout` applies to the whole run"),
            "{error}"
        );
        assert!(
            error.contains("give `--timeout` on the command line"),
            "{error}"
        );
        assert!(error.contains("`name` belongs to each student"), "{error}");
        let error = yaml("studnets:\n  - {name: a, target: b.test}\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("did you mean `students`?"), "{error}");
        assert!(error.contains("has no `students:` list"), "{error}");
        let error = yaml("students:\n  - {name: a, target: b.test\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("error: invalid YAML"), "{error}");
        assert!(error.contains("class.yaml:"), "{error}");
        let error = yaml("students:\n  - {name: a, target: b.test}\n---\nstudents: []\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("a roster file holds one YAML document"),
            "{error}"
        );
        let error = yaml("defaults:\n  profile: cours\nstudents:\n  - {name: a, target: b.test}\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("did you mean `course`?"), "{error}");
    }

    #[test]
    fn passwords_need_a_user_and_one_source() {
        let roster = yaml(
            "students:\n  - {name: a, target: a.test, password_env: A_PW}\n  - {name: b, target: b.test, user: u, password_env: B, password_file: f}\n  - {name: c, target: c.test, user: u, password_env: 'hunter2!'}\n",
        )
        .unwrap();
        assert!(problems(&roster.rows[0]).contains("a password without `user`"));
        assert!(problems(&roster.rows[1]).contains("both given"));
        assert!(problems(&roster.rows[2]).contains("not an environment variable name"));
    }

    #[test]
    fn a_csv_roster_from_a_spreadsheet() {
        let roster = csv(
            "\u{feff}Name,Target,domain,user,password_env,skip\n\
             # a comment line\n\
             \"Martin, Alice\",mail.alice-lab.fr,alice-lab.fr,test@alice-lab.fr,ALICE_PW,dns.ptr;dns.dkim\n\
             Bob, 192.0.2.25 ,,,,\n",
        )
        .unwrap();
        let students = students(&roster);
        assert_eq!(students[0].name, "Martin, Alice");
        assert_eq!(students[0].options.skip, ["dns.ptr", "dns.dkim"]);
        assert_eq!(students[1].target, "192.0.2.25");
        assert_eq!(students[1].domain, None);
        assert_eq!(roster.rows[1].place, "class.csv row 4");
    }

    #[test]
    fn bad_csv_rows_name_row_and_column() {
        let roster = csv(
            "name,target,domain\nAlice,mail.alice.test,alice\n,mail.x.test,\nBob,mail.bob.test\n",
        )
        .unwrap();
        assert_eq!(
            problems(&roster.rows[0]),
            "error: class.csv, row 2, column `domain`: `domain`: `alice` is not a domain name\n  \
             = help: a domain name is two or more labels of letters, digits and `-` joined by \
             dots, e.g. `example.org`"
        );
        assert!(
            problems(&roster.rows[1])
                .contains("class.csv, row 3, column `name`: a student without `name`"),
            "{}",
            problems(&roster.rows[1])
        );
        assert!(problems(&roster.rows[2]).contains("row 4: 2 cells, the header has 3"));
        let bad = roster.rows[0].student.as_ref().unwrap_err();
        assert_eq!(bad.name.as_deref(), Some("Alice"));
    }

    #[test]
    fn bad_csv_headers_stop_everything() {
        let error = csv("name,host\nAlice,mail.alice.test\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("row 1, column 2: unknown key `host`"),
            "{error}"
        );
        assert!(error.contains("did you mean `target`?"), "{error}");
        assert!(error.contains("has no `target` column"), "{error}");
        let error = csv("name,target,timeout\n").unwrap_err().to_string();
        assert!(
            error.contains("`timeout` applies to the whole run"),
            "{error}"
        );
        let error = csv("name,target\n").unwrap_err().to_string();
        assert!(error.contains("lists no student"), "{error}");
    }

    #[test]
    fn roster_values_follow_the_settings_rules() {
        let long_label = "a".repeat(64);
        let roster = yaml(&format!(
            "students:\n\
             \x20 - {{name: a, target: a.test, dkim_selector: Mail., relay_domain: Example.ORG.}}\n\
             \x20 - {{name: b, target: b.test, relay_domain: {long_label}.org}}\n\
             \x20 - {{name: c, target: c.test, helo_name: probe.c.test}}\n\
             \x20 - {{name: d, target: d.test, resolver: 127.0.100.53}}\n"
        ))
        .unwrap();
        let alice = roster.rows[0].student.as_ref().unwrap();
        // The same rule as the scenario and the command line: the final dot goes.
        assert_eq!(alice.options.dkim_selectors, Some(vec!["mail".to_string()]));
        assert_eq!(alice.options.relay_domain.as_deref(), Some("example.org"));
        // The 63-character label limit holds here too.
        assert!(problems(&roster.rows[1]).contains("is not a domain name"));
        let helo = problems(&roster.rows[2]);
        assert!(
            helo.contains("`helo_name` is set by a scenario or the command line"),
            "{helo}"
        );
        assert!(
            helo.contains("under `settings:` in a scenario file"),
            "{helo}"
        );
        let resolver = problems(&roster.rows[3]);
        assert!(
            resolver.contains("give `--resolver` on the command line"),
            "{resolver}"
        );
    }

    #[test]
    fn roster_values_are_bounded() {
        let roster = csv(&format!(
            "name,target,ca_file\n{},a.test,\nb,b.test,{}\n",
            "N".repeat(201),
            "f".repeat(1025)
        ))
        .unwrap();
        assert!(
            problems(&roster.rows[0]).contains("`name` is longer than 200 characters (the limit)")
        );
        assert!(problems(&roster.rows[1]).contains("`ca_file` is longer than 1 KiB (the limit)"));
        let mut many = String::from("name,target\n");
        for index in 0..=MAX_STUDENTS {
            many.push_str(&format!("s{index},t.test\n"));
        }
        let error = csv(&many).unwrap_err().to_string();
        assert!(
            error.contains("more than 1000 students (the limit)"),
            "{error}"
        );
    }

    #[test]
    fn the_format_comes_from_the_extension() {
        let error = load(Path::new("class.txt")).unwrap_err().to_string();
        assert!(error.contains("cannot tell the format"), "{error}");
        let error = load(Path::new("/nonexistent/class.csv"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot read roster"), "{error}");
    }
}
