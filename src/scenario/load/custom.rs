//! `custom:` — a scenario's own dialog checks, walked like the rest of the file: every problem
//! is reported where it stands, with a hint, and the walk goes on.
//!
//! ```yaml
//! custom:
//!   - id: custom.no-root-vrfy
//!     title: VRFY root is refused
//!     port: smtp
//!     dialog:
//!       - send: VRFY root
//!         expect: { code: 5xx }
//! ```
//!
//! Each item becomes a [`CustomSpec`] (see `src/check/custom.rs` for what runs it). What a
//! dialog may send is checked here, before the network: one line per step, no message content
//! (DATA, BDAT), no command that changes the connection (STARTTLS: `tls: starttls` does that)
//! or waits for more than a line (AUTHENTICATE, APPEND, IDLE, POP3 AUTH).

use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use regex::Regex;

use super::{Loader, describe, is_null};
use crate::check::{
    CodePattern, CustomSpec, EnhancedPattern, Expect, Protocol, ReplyPattern, Role, Step,
};
use crate::outcome::Severity;
use crate::probe::imap;
use crate::scenario::{CustomDefinition, Diagnostic, Location, closest};

const CUSTOM_KEYS: &[&str] = &["id", "title", "severity", "port", "tls", "fix", "dialog"];
const STEP_KEYS: &[&str] = &["send", "expect"];
const SMTP_EXPECT_KEYS: &[&str] = &["code", "enhanced", "text", "matches"];
const MAILBOX_EXPECT_KEYS: &[&str] = &["status", "code", "text", "matches"];
const TLS_VALUES: &[&str] = &["none", "starttls"];
/// Longest line a step may send: SMTP allows 512 octets with CRLF (RFC 5321 §4.5.3.1.4).
const MAX_SEND: usize = 510;
/// IMAP commands, to tell a tag the user wrote (`a1 LOGIN x y`) from a command.
const IMAP_COMMANDS: &[&str] = &[
    "APPEND",
    "AUTHENTICATE",
    "CAPABILITY",
    "CHECK",
    "CLOSE",
    "COMPRESS",
    "COPY",
    "CREATE",
    "DELETE",
    "ENABLE",
    "EXAMINE",
    "EXPUNGE",
    "FETCH",
    "GETQUOTA",
    "GETQUOTAROOT",
    "ID",
    "IDLE",
    "LIST",
    "LOGIN",
    "LOGOUT",
    "LSUB",
    "MOVE",
    "NAMESPACE",
    "NOOP",
    "RENAME",
    "SEARCH",
    "SELECT",
    "STARTTLS",
    "STATUS",
    "STORE",
    "SUBSCRIBE",
    "UID",
    "UNSELECT",
    "UNSUBSCRIBE",
];

/// How a step of `protocol` is written, for hints.
fn step_example(protocol: Option<Protocol>) -> &'static str {
    match protocol {
        Some(Protocol::Smtp) | None => "`- send: VRFY root` and, under it, `expect: { code: 5xx }`",
        Some(Protocol::Imap) => "`- send: LOGIN x y` and, under it, `expect: { status: NO }`",
        Some(Protocol::Pop3) => "`- send: USER x` and, under it, `expect: { status: -ERR }`",
    }
}

fn expect_example(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Smtp => "expect: { code: 5xx }",
        Protocol::Imap => "expect: { status: NO }",
        Protocol::Pop3 => "expect: { status: -ERR }",
    }
}

/// An id people meant: lowercase, `-` for spaces and underscores, with the `custom.` prefix.
fn id_suggestion(word: &str) -> String {
    let cleaned: String = word
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c == '_' || c.is_whitespace() {
                '-'
            } else {
                c
            }
        })
        .filter(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '-'))
        .collect();
    let rest = cleaned.strip_prefix("custom.").unwrap_or(&cleaned);
    format!("custom.{}", rest.trim_matches('.'))
}

/// `custom.` then dot-separated words of lowercase letters, digits and `-`.
fn is_custom_id(word: &str) -> bool {
    word.strip_prefix("custom.").is_some_and(|rest| {
        rest.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
        })
    })
}

impl Loader<'_> {
    /// `custom:`: a list of custom checks.
    pub(super) fn custom(
        &mut self,
        key: &MarkedScalarNode,
        value: &Node,
        origin: &str,
    ) -> Vec<CustomDefinition> {
        let items = match value {
            Node::Sequence(items) => items,
            Node::Scalar(scalar) if is_null(scalar) => return Vec::new(),
            other => {
                let diagnostic = self
                    .wrong_type(key, other, "a list")
                    .help("start each custom check with `- id: custom.NAME`, its other keys indented under `id`");
                self.report(diagnostic);
                return Vec::new();
            }
        };
        // Ids seen so far in this file, with the line they are on.
        let mut seen: Vec<(String, usize)> = Vec::new();
        items
            .iter()
            .filter_map(|item| self.custom_check(item, origin, &mut seen))
            .collect()
    }

    fn custom_check(
        &mut self,
        item: &Node,
        origin: &str,
        seen: &mut Vec<(String, usize)>,
    ) -> Option<CustomDefinition> {
        let Node::Mapping(map) = item else {
            let diagnostic = Diagnostic::new(format!(
                "a custom check must be a mapping of keys such as `id:`, `port:` and `dialog:`, found {}",
                describe(item)
            ))
            .at(self.source.node_at(item))
            .help("write `- id: custom.NAME` and, indented under `id`, `title:`, `port:` and `dialog:`");
            self.report(diagnostic);
            return None;
        };
        let before = self.problems.len();
        let mut id = None;
        let mut title = None;
        let mut severity = Severity::Medium;
        let mut role = None;
        // The role a wrong `port:` most likely meant, to check the dialog against its protocol.
        let mut meant = None;
        let mut fix = None;
        let mut tls = None;
        let mut dialog = None;
        for (key, value) in map.iter() {
            match key.as_str() {
                "id" => id = self.custom_id(key, value, seen),
                "title" => title = self.required_text(key, value, "a title"),
                "severity" => severity = self.severity(key, value).unwrap_or(severity),
                "port" => match self.custom_role(key, value) {
                    Ok(known) => role = Some(known),
                    Err(guess) => meant = guess,
                },
                "tls" => tls = Some((key, value)),
                "fix" => fix = self.required_text(key, value, "a fix hint"),
                "dialog" => dialog = Some((key, value)),
                _ => self.unknown_key(key, "custom check key", CUSTOM_KEYS),
            }
        }
        self.missing_keys(item, map);
        let starttls = match (tls, role) {
            (Some((key, value)), role) => self.tls(key, value, role),
            (None, _) => false,
        };
        let steps = match dialog {
            Some((key, value)) => self.dialog(key, value, role.or(meant).map(Role::protocol)),
            None => None,
        };
        if self.problems.len() > before {
            return None;
        }
        let (id, location) = id?;
        Some(CustomDefinition {
            spec: CustomSpec {
                id,
                title: title?,
                severity,
                role: role?,
                starttls,
                fix,
                origin: origin.to_string(),
                steps: steps?,
            },
            location,
        })
    }

    /// One problem per required key that is not there, at the item.
    fn missing_keys(&mut self, item: &Node, map: &MarkedMappingNode) {
        let roles: Vec<&str> = Role::ALL.iter().map(|role| role.key()).collect();
        let required = [
            (
                "id",
                "add `id: custom.NAME` (the name is yours: lowercase, digits, `-`)".to_string(),
            ),
            (
                "title",
                "add `title:` saying what passes, e.g. `title: VRFY root is refused`".to_string(),
            ),
            (
                "port",
                format!("add `port:` naming where to talk: {}", roles.join(", ")),
            ),
            (
                "dialog",
                format!(
                    "add `dialog:` with at least one step: {}",
                    step_example(None)
                ),
            ),
        ];
        let named = map
            .get_scalar("id")
            .map(|id| format!("custom check `{}`", id.as_str()))
            .unwrap_or_else(|| "this custom check".to_string());
        for (key, help) in required {
            if map.get_node(key).is_none() {
                let diagnostic = Diagnostic::new(format!("{named} has no `{key}:`"))
                    .at(self.source.node_at(item))
                    .label(format!("`{key}:` is missing"))
                    .help(help);
                self.report(diagnostic);
            }
        }
    }

    /// A non-empty string.
    fn required_text(
        &mut self,
        key: &MarkedScalarNode,
        value: &Node,
        expected: &str,
    ) -> Option<String> {
        let scalar = self.scalar(key, value, expected)?;
        let text = scalar.as_str().trim();
        if text.is_empty() {
            let diagnostic = Diagnostic::new(format!("`{}` must not be empty", key.as_str()))
                .at(self.source.value_at(key, value));
            self.report(diagnostic);
            return None;
        }
        Some(text.to_string())
    }

    fn custom_id(
        &mut self,
        key: &MarkedScalarNode,
        value: &Node,
        seen: &mut Vec<(String, usize)>,
    ) -> Option<(String, Option<Location>)> {
        let scalar = self.scalar(key, value, "a check id")?;
        let at = self.source.value_at(key, value);
        let word = scalar.as_str();
        let in_catalog = self.env.catalog.iter().any(|c| c.info().id == word);
        let diagnostic = if in_catalog {
            Diagnostic::new(format!("`{word}` is a catalog check, not a custom one"))
                .label("a catalog id")
                .help(format!(
                    "give the custom check its own id, such as `{}`; to change `{word}` itself, list it under `checks:`",
                    id_suggestion(word)
                ))
        } else if !word.starts_with("custom.") {
            Diagnostic::new(format!("custom check id `{word}` does not start with `custom.`"))
                .label("not a custom id")
                .help(format!("did you mean `{}`?", id_suggestion(word)))
                .note("custom ids start with `custom.`: `--only 'custom.*'` selects them, and they never clash with the catalog")
        } else if !is_custom_id(word) {
            Diagnostic::new(format!("`{word}` is not a valid custom check id"))
                .label("not a check id")
                .help(format!("did you mean `{}`?", id_suggestion(word)))
                .note("after `custom.`: lowercase letters, digits and `-`, in words joined by dots")
        } else if let Some((_, line)) = seen.iter().find(|(id, _)| id == word) {
            Diagnostic::new(format!("custom check `{word}` is defined twice"))
                .label("defined again here")
                .note(format!("first defined on line {line}"))
                .help("give each custom check its own id")
        } else {
            seen.push((word.to_string(), at.as_ref().map_or(0, |at| at.line)));
            return Some((word.to_string(), at));
        };
        self.report(diagnostic.at(at));
        None
    }

    /// `port:` names a role of `ports:` (`smtp`, `imap`, ...), never a number. `Err` holds the
    /// role the suggestion names, if any.
    fn custom_role(&mut self, key: &MarkedScalarNode, value: &Node) -> Result<Role, Option<Role>> {
        let scalar = self.scalar(key, value, "a port name").ok_or(None)?;
        let word = scalar.as_str();
        if let Some(role) = Role::ALL.into_iter().find(|role| role.key() == word) {
            return Ok(role);
        }
        let keys: Vec<&str> = Role::ALL.iter().map(|role| role.key()).collect();
        let by_number = Role::ALL
            .into_iter()
            .find(|role| role.default_port().to_string() == word)
            .map(Role::key);
        let lower = word.to_ascii_lowercase();
        let synonym = match lower.as_str() {
            "mx" | "smtp+starttls" => Some("smtp"),
            "pop" => Some("pop3"),
            "pops" => Some("pop3s"),
            _ => None,
        };
        let suggestion = by_number
            .or(synonym)
            .or_else(|| closest(&lower, keys.iter().copied()));
        let mut diagnostic = Diagnostic::new(format!("unknown port name `{word}`"))
            .at(self.source.value_at(key, value))
            .label("not a port name")
            .suggest(suggestion, &keys);
        if by_number.is_some() {
            diagnostic = diagnostic.note(
                "`port:` names a role; the number comes from `ports:` (e.g. `ports: { smtp: 2525 }`)",
            );
        }
        self.report(diagnostic);
        Err(suggestion.and_then(|key| Role::ALL.into_iter().find(|role| role.key() == key)))
    }

    /// `tls: none | starttls`; implicit-TLS roles take no `tls:`.
    fn tls(&mut self, key: &MarkedScalarNode, value: &Node, role: Option<Role>) -> bool {
        let Some(scalar) = self.scalar(key, value, "`none` or `starttls`") else {
            return false;
        };
        let word = scalar.as_str();
        let at = self.source.value_at(key, value);
        let starttls = match word {
            "none" => false,
            "starttls" => true,
            _ => {
                let lower = word.to_ascii_lowercase();
                let suggestion = match lower.as_str() {
                    "true" | "yes" | "on" | "stls" | "tls" => Some("starttls"),
                    "false" | "no" | "off" | "plain" | "clear" => Some("none"),
                    _ => closest(&lower, TLS_VALUES.iter().copied()),
                };
                let diagnostic = Diagnostic::new(format!("unknown `tls` value `{word}`"))
                    .at(at)
                    .label("not `none` or `starttls`")
                    .suggest(suggestion, TLS_VALUES);
                self.report(diagnostic);
                return false;
            }
        };
        if let Some(role) = role.filter(|role| role.implicit_tls()) {
            let diagnostic = Diagnostic::new(format!(
                "`tls` does not apply to `{}`: it speaks TLS from the first byte",
                role.key()
            ))
            .at(at)
            .label("leave this out")
            .help("remove `tls:`; it is for `smtp`, `submission`, `imap` and `pop3`");
            self.report(diagnostic);
            return false;
        }
        starttls
    }

    /// `dialog:`: the steps, in order. `protocol` is `None` when `port:` is missing or wrong
    /// (already reported): the steps are then checked for everything but their `expect:`.
    fn dialog(
        &mut self,
        key: &MarkedScalarNode,
        value: &Node,
        protocol: Option<Protocol>,
    ) -> Option<Vec<Step>> {
        let items = match value {
            Node::Sequence(items) if !items.is_empty() => items,
            Node::Sequence(_) => {
                self.empty_dialog(key, protocol);
                return None;
            }
            Node::Scalar(scalar) if is_null(scalar) => {
                self.empty_dialog(key, protocol);
                return None;
            }
            other => {
                let diagnostic = self
                    .wrong_type(key, other, "a list of steps")
                    .help(format!("write each step as {}", step_example(protocol)));
                self.report(diagnostic);
                return None;
            }
        };
        let before = self.problems.len();
        let steps: Vec<Step> = items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.step(item, index, protocol))
            .collect();
        (self.problems.len() == before && steps.len() == items.len()).then_some(steps)
    }

    fn empty_dialog(&mut self, key: &MarkedScalarNode, protocol: Option<Protocol>) {
        let diagnostic = Diagnostic::new("`dialog` has no step")
            .at(self.source.at(key.span().start()))
            .label("empty dialog")
            .help(format!("add at least one step: {}", step_example(protocol)));
        self.report(diagnostic);
    }

    fn step(&mut self, item: &Node, index: usize, protocol: Option<Protocol>) -> Option<Step> {
        let number = index + 1;
        let Node::Mapping(map) = item else {
            let diagnostic = Diagnostic::new(format!(
                "a dialog step must be a mapping of `send:` and `expect:`, found {}",
                describe(item)
            ))
            .at(self.source.node_at(item))
            .help(format!("write {}", step_example(protocol)));
            self.report(diagnostic);
            return None;
        };
        let before = self.problems.len();
        let mut send = None;
        let mut expect = None;
        for (key, value) in map.iter() {
            match key.as_str() {
                "send" => send = self.send(key, value, protocol),
                "expect" => expect = protocol.and_then(|p| self.expect(key, value, p)),
                _ => self.unknown_key(key, "dialog step key", STEP_KEYS),
            }
        }
        if map.get_node("send").is_none() && index > 0 {
            let diagnostic = Diagnostic::new(format!("step {number} has no `send:`"))
                .at(self.source.node_at(item))
                .label("nothing to send")
                .help("only the first step may leave out `send:`: it then checks the server's greeting");
            self.report(diagnostic);
        }
        if map.get_node("expect").is_none() {
            let example = protocol.map_or("expect: { code: 250 }", expect_example);
            let diagnostic = Diagnostic::new(format!("step {number} has no `expect:`"))
                .at(self.source.node_at(item))
                .label("no expected reply")
                .help(format!("say what the reply must be, e.g. `{example}`"));
            self.report(diagnostic);
        }
        if self.problems.len() > before {
            return None;
        }
        Some(Step {
            send,
            expect: expect?,
        })
    }

    /// The line a step sends: one line, no message content, nothing that changes the
    /// connection or waits for more than a line.
    fn send(
        &mut self,
        key: &MarkedScalarNode,
        value: &Node,
        protocol: Option<Protocol>,
    ) -> Option<String> {
        let scalar = self.scalar(key, value, "a command line")?;
        let line = scalar.as_str();
        let at = self.source.value_at(key, value);
        let problem = if line.trim().is_empty() {
            Some(Diagnostic::new("`send` must not be empty").label("empty line"))
        } else if line.chars().any(char::is_control) {
            Some(
                Diagnostic::new("`send` must be one line")
                    .label("holds a line break or a control character")
                    .help("send each line in its own step"),
            )
        } else if line.len() > MAX_SEND {
            Some(
                Diagnostic::new(format!("`send` is longer than {MAX_SEND} characters"))
                    .label("too long")
                    .note("SMTP allows 512 octets per command line, line break included (RFC 5321 §4.5.3.1.4)"),
            )
        } else {
            protocol.and_then(|protocol| forbidden(protocol, line))
        };
        match problem {
            Some(diagnostic) => {
                self.report(diagnostic.at(at));
                None
            }
            None => Some(line.to_string()),
        }
    }

    fn expect(
        &mut self,
        key: &MarkedScalarNode,
        value: &Node,
        protocol: Protocol,
    ) -> Option<Expect> {
        let Node::Mapping(map) = value else {
            let diagnostic = self
                .wrong_type(key, value, "a mapping")
                .help(format!("write `{}`", expect_example(protocol)));
            self.report(diagnostic);
            return None;
        };
        let before = self.problems.len();
        let (mut smtp_code, mut enhanced, mut status, mut code) = (None, None, None, None);
        let (mut text, mut matches) = (None, None);
        for (key, value) in map.iter() {
            match (protocol, key.as_str()) {
                (Protocol::Smtp, "code") => smtp_code = self.smtp_code(key, value),
                (Protocol::Smtp, "enhanced") => enhanced = self.enhanced(key, value),
                (Protocol::Imap, "status") => {
                    status = self.imap_status(key, value).map(Status::Imap)
                }
                (Protocol::Pop3, "status") => {
                    status = self.pop3_status(key, value).map(Status::Pop3)
                }
                (Protocol::Imap | Protocol::Pop3, "code") => {
                    code = self.response_code(key, value, protocol)
                }
                (_, "text") => {
                    text = self
                        .required_text(key, value, "a piece of text")
                        .map(|text| text.to_lowercase())
                }
                (_, "matches") => matches = self.regex(key, value),
                _ => self.unknown_expect_key(key, protocol),
            }
        }
        let required = match protocol {
            Protocol::Smtp => (
                "code",
                "every SMTP expectation names the reply code: `code: 250`, `code: 5xx`",
            ),
            Protocol::Imap => (
                "status",
                "every IMAP expectation names the status: `status: OK`, `NO` or `BAD`",
            ),
            Protocol::Pop3 => (
                "status",
                "every POP3 expectation names the status: `status: +OK` or `-ERR`",
            ),
        };
        // `status:` on SMTP already got its own hint, which names `code:`.
        let hinted = protocol == Protocol::Smtp && map.get_node("status").is_some();
        if map.get_node(required.0).is_none() && !hinted {
            let diagnostic = Diagnostic::new(format!("`expect` has no `{}:`", required.0))
                .at(self.source.node_at(value))
                .label(format!("`{}:` is missing", required.0))
                .help(required.1);
            self.report(diagnostic);
        }
        if self.problems.len() > before {
            return None;
        }
        let reply = match (protocol, status) {
            (Protocol::Smtp, _) => ReplyPattern::Smtp {
                code: smtp_code?,
                enhanced,
            },
            (Protocol::Imap, Some(Status::Imap(status))) => ReplyPattern::Imap { status, code },
            (Protocol::Pop3, Some(Status::Pop3(ok))) => ReplyPattern::Pop3 { ok, code },
            _ => return None,
        };
        Some(Expect {
            reply,
            text,
            matches,
        })
    }

    /// A key that belongs to another protocol's `expect:` gets a hint saying so.
    fn unknown_expect_key(&mut self, key: &MarkedScalarNode, protocol: Protocol) {
        let (expected, help) = match (protocol, key.as_str()) {
            (Protocol::Smtp, "status") => (
                SMTP_EXPECT_KEYS,
                "an SMTP reply is matched by its `code:` (e.g. `code: 5xx`); `status:` is for IMAP and POP3",
            ),
            (Protocol::Imap | Protocol::Pop3, "enhanced") => (
                MAILBOX_EXPECT_KEYS,
                "`enhanced:` is for SMTP; an IMAP or POP3 reply is matched by its `status:` and response `code:`",
            ),
            (Protocol::Smtp, _) => {
                return self.unknown_key(key, "key of an SMTP `expect`", SMTP_EXPECT_KEYS);
            }
            (Protocol::Imap, _) => {
                return self.unknown_key(key, "key of an IMAP `expect`", MAILBOX_EXPECT_KEYS);
            }
            (Protocol::Pop3, _) => {
                return self.unknown_key(key, "key of a POP3 `expect`", MAILBOX_EXPECT_KEYS);
            }
        };
        let diagnostic = Diagnostic::new(format!("unknown key `{}`", key.as_str()))
            .at(self.source.at(key.span().start()))
            .label("not for this protocol")
            .help(help)
            .note(format!("expected one of: {}", expected.join(", ")));
        self.report(diagnostic);
    }

    fn smtp_code(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<CodePattern> {
        let scalar = self.scalar(key, value, "a reply code")?;
        let word = scalar.as_str();
        if let Some(pattern) = CodePattern::parse(word) {
            return Some(pattern);
        }
        let wildcards = word.replace(['*', '?', '#', '.'], "x");
        let suggestion = if CodePattern::parse(&wildcards).is_some() {
            Some(wildcards.to_ascii_lowercase())
        } else if CodePattern::parse(&format!("{word}xx")).is_some() {
            Some(format!("{word}xx"))
        } else if CodePattern::parse(&format!("{word}x")).is_some() {
            Some(format!("{word}x"))
        } else {
            None
        };
        let diagnostic = Diagnostic::new(format!("`{word}` is not an SMTP reply code"))
            .at(self.source.value_at(key, value))
            .label("not a reply code")
            .note("a reply code is three characters, digits or `x` for any digit: `250`, `5xx`, `55x` (first digit 2 to 5)");
        let diagnostic = match suggestion {
            Some(suggestion) => diagnostic.help(format!("did you mean `{suggestion}`?")),
            None => diagnostic,
        };
        self.report(diagnostic);
        None
    }

    fn enhanced(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<EnhancedPattern> {
        let scalar = self.scalar(key, value, "an enhanced status code")?;
        let word = scalar.as_str();
        if let Some(pattern) = EnhancedPattern::parse(word) {
            return Some(pattern);
        }
        let diagnostic = Diagnostic::new(format!("`{word}` is not an enhanced status code"))
            .at(self.source.value_at(key, value))
            .label("not an enhanced status code")
            .note("an enhanced status code (RFC 3463) is class.subject.detail, class 2, 4 or 5, `x` for any number: `5.5.1`, `5.7.x`");
        self.report(diagnostic);
        None
    }

    fn imap_status(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<imap::Status> {
        let scalar = self.scalar(key, value, "an IMAP status")?;
        let word = scalar.as_str();
        let upper = word.to_ascii_uppercase();
        match upper.as_str() {
            "OK" => return Some(imap::Status::Ok),
            "NO" => return Some(imap::Status::No),
            "BAD" => return Some(imap::Status::Bad),
            _ => {}
        }
        let names = ["OK", "NO", "BAD"];
        let suggestion = match upper.as_str() {
            "+OK" => Some("OK"),
            "-ERR" | "ERR" | "ERROR" => Some("NO"),
            _ => closest(&upper, names),
        };
        let diagnostic = Diagnostic::new(format!("unknown IMAP status `{word}`"))
            .at(self.source.value_at(key, value))
            .label("not an IMAP status")
            .suggest(suggestion, &names);
        self.report(diagnostic);
        None
    }

    /// `+OK` is `true`.
    fn pop3_status(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<bool> {
        let scalar = self.scalar(key, value, "a POP3 status")?;
        let word = scalar.as_str();
        let upper = word.to_ascii_uppercase();
        match upper.as_str() {
            "+OK" => return Some(true),
            "-ERR" => return Some(false),
            _ => {}
        }
        let suggestion = match upper.trim_start_matches(['+', '-']) {
            "OK" => Some("+OK"),
            "ERR" | "ERROR" | "NO" | "BAD" => Some("-ERR"),
            _ => None,
        };
        let diagnostic = Diagnostic::new(format!("unknown POP3 status `{word}`"))
            .at(self.source.value_at(key, value))
            .label("not a POP3 status")
            .suggest(suggestion, &["+OK", "-ERR"]);
        self.report(diagnostic);
        None
    }

    /// An IMAP response code (`PRIVACYREQUIRED`) or a POP3 one (`AUTH`, `SYS/TEMP`), uppercased.
    fn response_code(
        &mut self,
        key: &MarkedScalarNode,
        value: &Node,
        protocol: Protocol,
    ) -> Option<String> {
        let scalar = self.scalar(key, value, "a response code")?;
        let word = scalar.as_str();
        let (name, example) = match protocol {
            Protocol::Pop3 => ("POP3", "`AUTH` or `SYS/TEMP`"),
            _ => ("IMAP", "`PRIVACYREQUIRED` or `AUTHENTICATIONFAILED`"),
        };
        let allowed = |c: char| {
            c.is_ascii_alphanumeric() || c == '-' || (c == '/' && protocol == Protocol::Pop3)
        };
        if !word.is_empty() && word.chars().all(allowed) {
            return Some(word.to_ascii_uppercase());
        }
        let bare = word.trim_matches(|c| c == '[' || c == ']');
        let diagnostic = Diagnostic::new(format!("`{word}` is not an {name} response code"))
            .at(self.source.value_at(key, value))
            .label("not a response code")
            .note(format!(
                "a response code is one word such as {example}, without brackets"
            ));
        let diagnostic = if bare != word && !bare.is_empty() && bare.chars().all(allowed) {
            diagnostic.help(format!("write `code: {bare}`"))
        } else {
            diagnostic
        };
        self.report(diagnostic);
        None
    }

    fn regex(&mut self, key: &MarkedScalarNode, value: &Node) -> Option<Regex> {
        let scalar = self.scalar(key, value, "a regular expression")?;
        match Regex::new(scalar.as_str()) {
            Ok(regex) => Some(regex),
            Err(error) => {
                // regex's own message draws the pattern with carets; its last line says what.
                let shown = error.to_string();
                let reason = shown
                    .lines()
                    .rev()
                    .find(|line| !line.trim().is_empty())
                    .unwrap_or("invalid")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string();
                let diagnostic = Diagnostic::new("`matches` is not a valid regular expression")
                    .at(self.source.value_at(key, value))
                    .label(reason)
                    .note("`matches` uses Rust regex syntax; in YAML, single quotes keep backslashes as written: `matches: '^5\\d\\d'`");
                self.report(diagnostic);
                None
            }
        }
    }
}

/// What a dialog may not send, and why.
fn forbidden(protocol: Protocol, line: &str) -> Option<Diagnostic> {
    let mut words = line.split_whitespace();
    let command = words.next().unwrap_or("").to_ascii_uppercase();
    let second = words.next().map(str::to_ascii_uppercase);
    let starttls_help = |again: &str| {
        format!(
            "write `tls: starttls` beside `port:`: the opening then does STARTTLS and {again} again"
        )
    };
    let continuation = |command: &str, instead: &str| {
        Diagnostic::new(format!("a dialog cannot send `{command}`"))
            .label("waits for more than one line")
            .note(format!(
                "`{command}` makes the server wait for data a one-line step cannot give"
            ))
            .help(instead.to_string())
    };
    match (protocol, command.as_str()) {
        (Protocol::Smtp, "DATA" | "BDAT") => Some(
            Diagnostic::new(format!("a dialog cannot send `{command}`"))
                .label("message content")
                .note("mailcheck never sends message content: a custom dialog stops at `RCPT TO`"),
        ),
        (Protocol::Smtp, "STARTTLS") => Some(
            Diagnostic::new("a dialog cannot send `STARTTLS`")
                .label("changes the connection")
                .help(starttls_help("EHLO")),
        ),
        (Protocol::Imap, "STARTTLS") => Some(
            Diagnostic::new("a dialog cannot send `STARTTLS`")
                .label("changes the connection")
                .help(starttls_help("CAPABILITY")),
        ),
        (Protocol::Pop3, "STLS") => Some(
            Diagnostic::new("a dialog cannot send `STLS`")
                .label("changes the connection")
                .help(starttls_help("CAPA")),
        ),
        (Protocol::Imap, "AUTHENTICATE" | "APPEND" | "IDLE") => Some(continuation(
            &command,
            "to test authentication, send `LOGIN` with made-up credentials",
        )),
        (Protocol::Pop3, "AUTH") => Some(continuation(
            &command,
            "to test authentication, send `USER` and `PASS` with made-up credentials",
        )),
        (Protocol::Imap, first)
            if !IMAP_COMMANDS.contains(&first)
                && second.is_some_and(|s| IMAP_COMMANDS.contains(&s.as_str())) =>
        {
            let rest = line
                .split_once(char::is_whitespace)
                .map_or("", |(_, rest)| rest.trim_start());
            Some(
                Diagnostic::new("IMAP commands are tagged by mailcheck")
                    .label("a tag")
                    .help(format!(
                        "write `{rest}`: mailcheck adds its own tag (`a1`, `a2`, ...)"
                    )),
            )
        }
        _ => None,
    }
}

/// The status of an IMAP or POP3 expectation, while walking `expect:`.
enum Status {
    Imap(imap::Status),
    Pop3(bool),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids() {
        assert!(is_custom_id("custom.no-root-vrfy"));
        assert!(is_custom_id("custom.site.vrfy-2"));
        for bad in [
            "custom.",
            "custom",
            "custom..x",
            "custom.X",
            "custom.a_b",
            "custom.*",
            "smtp.x",
        ] {
            assert!(!is_custom_id(bad), "{bad}");
        }
        assert_eq!(id_suggestion("no_root vrfy"), "custom.no-root-vrfy");
        assert_eq!(id_suggestion("Custom.No-Root"), "custom.no-root");
    }

    #[test]
    fn forbidden_commands() {
        assert!(forbidden(Protocol::Smtp, "DATA").is_some());
        assert!(forbidden(Protocol::Smtp, "bdat 10 LAST").is_some());
        assert!(forbidden(Protocol::Smtp, "starttls").is_some());
        assert!(forbidden(Protocol::Smtp, "VRFY root").is_none());
        assert!(forbidden(Protocol::Smtp, "AUTH PLAIN AGZvbwBiYXI=").is_none());
        assert!(forbidden(Protocol::Imap, "AUTHENTICATE PLAIN").is_some());
        assert!(forbidden(Protocol::Imap, "a1 LOGIN x y").is_some());
        assert!(forbidden(Protocol::Imap, "LOGIN x y").is_none());
        assert!(forbidden(Protocol::Imap, "LIST \"\" *").is_none());
        assert!(forbidden(Protocol::Pop3, "STLS").is_some());
        assert!(forbidden(Protocol::Pop3, "USER x").is_none());
    }
}
