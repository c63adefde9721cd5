//! Custom dialog checks: a scripted SMTP, IMAP or POP3 exchange from a scenario's `custom:`
//! list, so a site can test its own rule without writing Rust.
//!
//! The scenario loader (`src/scenario/load/custom.rs`) turns each item into a [`CustomSpec`]:
//! a port role, whether to STARTTLS first, and [`Step`]s of "send this line, expect that
//! reply". [`CustomCheck`] runs one: the probe code of the protocol opens the session
//! (connect, greeting, EHLO/CAPABILITY/CAPA, STARTTLS), then each line is sent and its reply
//! matched against its [`Expect`]. The first mismatch is a `fail` that shows expected and
//! actual side by side; a broken connection is an `error`; every step matching is a `pass`.
//! The matcher is pure ([`Expect::check`]) and unit-tested on parsed replies.

use regex::Regex;

use crate::check::mailbox::{imap_options, pop3_options};
use crate::check::{Check, CheckInfo, Ctx, Protocol, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::ProbeError;
use crate::probe::failure::OpenFailure;
use crate::probe::imap::{self, Completion, ImapSession};
use crate::probe::pop3::{self, Pop3Session};
use crate::probe::reply::{EnhancedCode, Reply};
use crate::probe::smtp::Session;

/// One `custom:` item of a scenario, validated.
#[derive(Clone, Debug)]
pub struct CustomSpec {
    /// `custom.` followed by lowercase letters, digits, `.` and `-`.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// Where the dialog happens (`port: smtp`); the scenario's `ports:` say which port that is.
    pub role: Role,
    /// `tls: starttls`: STARTTLS (STLS) before the first step.
    pub starttls: bool,
    /// `fix:`, shown when the check fails.
    pub fix: Option<String>,
    /// The scenario that defines it, for `why`.
    pub origin: String,
    pub steps: Vec<Step>,
}

/// One line sent and the reply it must get.
#[derive(Clone, Debug)]
pub struct Step {
    /// `None` (first step only): the step checks the server's greeting.
    pub send: Option<String>,
    pub expect: Expect,
}

/// What a reply must look like: its status, and optionally a line's text.
#[derive(Clone, Debug)]
pub struct Expect {
    pub reply: ReplyPattern,
    /// `text:`, lowercased: some line of the reply contains it, ignoring case.
    pub text: Option<String>,
    /// `matches:`: some line of the reply matches it.
    pub matches: Option<Regex>,
}

/// The protocol's own verdict on a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyPattern {
    /// `code: 5xx`, `enhanced: 5.5.1`.
    Smtp {
        code: CodePattern,
        enhanced: Option<EnhancedPattern>,
    },
    /// `status: NO`, `code: PRIVACYREQUIRED` (the response code, without brackets).
    Imap {
        status: imap::Status,
        code: Option<String>,
    },
    /// `status: -ERR`, `code: AUTH` (RFC 2449 response code).
    Pop3 { ok: bool, code: Option<String> },
}

/// A three-digit SMTP reply code where `x` matches any digit: `250`, `5xx`, `55x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePattern([Option<u8>; 3]);

impl CodePattern {
    /// `None` unless `text` is three characters, digits or `x`, that some reply code can match
    /// (first digit 2 to 5, second 0 to 5: RFC 5321 §4.2.1).
    pub fn parse(text: &str) -> Option<CodePattern> {
        let chars: Vec<char> = text.chars().collect();
        let [first, second, third] = chars.as_slice() else {
            return None;
        };
        let digit = |c: char, max: u32| -> Option<Option<u8>> {
            match c {
                'x' | 'X' => Some(None),
                _ => c.to_digit(10).filter(|d| *d <= max).map(|d| Some(d as u8)),
            }
        };
        let first = digit(*first, 5).filter(|d| d.is_none_or(|d| d >= 2))?;
        Some(CodePattern([first, digit(*second, 5)?, digit(*third, 9)?]))
    }

    pub fn matches(self, code: u16) -> bool {
        let digits = [code / 100, code / 10 % 10, code % 10];
        code < 1000
            && self
                .0
                .iter()
                .zip(digits)
                .all(|(want, got)| want.is_none_or(|want| u16::from(want) == got))
    }
}

impl std::fmt::Display for CodePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for digit in self.0 {
            match digit {
                Some(d) => write!(f, "{d}")?,
                None => f.write_str("x")?,
            }
        }
        Ok(())
    }
}

/// An enhanced status code (RFC 3463) where subject and detail may be `x`: `5.5.1`, `5.7.x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnhancedPattern {
    class: u8,
    subject: Option<u16>,
    detail: Option<u16>,
}

impl EnhancedPattern {
    /// `None` unless `text` is `class.subject.detail` with class 2, 4 or 5 and numbers of at
    /// most three digits (or `x`).
    pub fn parse(text: &str) -> Option<EnhancedPattern> {
        let mut parts = text.split('.');
        let (Some(class), Some(subject), Some(detail), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let number = |part: &str| -> Option<Option<u16>> {
            match part {
                "x" | "X" => Some(None),
                _ if (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()) => {
                    part.parse().ok().map(Some)
                }
                _ => None,
            }
        };
        let class = match class {
            "2" | "4" | "5" => class.parse().ok()?,
            _ => return None,
        };
        Some(EnhancedPattern {
            class,
            subject: number(subject)?,
            detail: number(detail)?,
        })
    }

    pub fn matches(self, code: &EnhancedCode) -> bool {
        self.class == code.class
            && self.subject.is_none_or(|s| s == code.subject)
            && self.detail.is_none_or(|d| d == code.detail)
    }
}

impl std::fmt::Display for EnhancedPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let part = |n: Option<u16>| n.map_or("x".to_string(), |n| n.to_string());
        write!(
            f,
            "{}.{}.{}",
            self.class,
            part(self.subject),
            part(self.detail)
        )
    }
}

/// A reply as the matcher sees it, whatever the protocol.
#[derive(Clone, Debug)]
pub enum Answer {
    Smtp(Reply),
    /// A command's completion; a greeting is a completion without untagged data.
    Imap(Completion),
    Pop3(pop3::Reply),
}

impl Answer {
    /// Every line as the evidence shows it, IMAP lines without their `*` or tag: what `text`
    /// and `matches` look at.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Answer::Smtp(reply) => reply.wire_lines().collect(),
            Answer::Imap(completion) => {
                let mut lines = completion.untagged.clone();
                lines.push(completion.status.summary());
                lines
            }
            Answer::Pop3(reply) => reply.wire_lines(),
        }
    }

    /// The reply in one line, for "actual": the first line, or the IMAP completion.
    pub fn summary(&self) -> String {
        match self {
            Answer::Smtp(reply) if reply.lines.len() > 1 => {
                format!("{} (+{} lines)", reply.summary(), reply.lines.len() - 1)
            }
            Answer::Smtp(reply) => reply.summary(),
            Answer::Imap(completion) => completion.status.summary(),
            Answer::Pop3(reply) => reply.summary(),
        }
    }

    /// The status alone (`502 5.5.1`, `NO [PRIVACYREQUIRED]`, `-ERR [AUTH]`), for a pass.
    pub fn status(&self) -> String {
        match self {
            Answer::Smtp(reply) => match reply.enhanced {
                Some(enhanced) => format!("{} {enhanced}", reply.code),
                None => reply.code.to_string(),
            },
            Answer::Imap(completion) => status_with_code(
                completion.status.status.as_str(),
                completion.status.code_name(),
            ),
            Answer::Pop3(reply) => {
                status_with_code(if reply.ok { "+OK" } else { "-ERR" }, reply.code.clone())
            }
        }
    }
}

fn status_with_code(status: &str, code: Option<String>) -> String {
    match code {
        Some(code) => format!("{status} [{code}]"),
        None => status.to_string(),
    }
}

impl Expect {
    /// Whether `answer` is as expected; `Err` says which part is not, when the status matched
    /// (the status itself is plain from the expected/actual pair).
    pub fn check(&self, answer: &Answer) -> Result<(), Option<String>> {
        let status_ok = match (&self.reply, answer) {
            (ReplyPattern::Smtp { code, enhanced }, Answer::Smtp(reply)) => {
                code.matches(reply.code)
                    && enhanced
                        .is_none_or(|want| reply.enhanced.is_some_and(|got| want.matches(&got)))
            }
            (ReplyPattern::Imap { status, code }, Answer::Imap(completion)) => {
                completion.status.status == *status
                    && code.as_ref().is_none_or(|want| {
                        completion
                            .status
                            .code_name()
                            .is_some_and(|got| got.eq_ignore_ascii_case(want))
                    })
            }
            (ReplyPattern::Pop3 { ok, code }, Answer::Pop3(reply)) => {
                reply.ok == *ok
                    && code.as_ref().is_none_or(|want| {
                        reply
                            .code
                            .as_deref()
                            .is_some_and(|got| pop3_code_matches(want, got))
                    })
            }
            _ => return Err(Some("a reply of another protocol".into())),
        };
        if !status_ok {
            return Err(None);
        }
        let lines = answer.lines();
        if let Some(text) = &self.text
            && !lines
                .iter()
                .any(|l| l.to_lowercase().contains(text.as_str()))
        {
            return Err(Some(format!("no line contains \"{text}\"")));
        }
        if let Some(regex) = &self.matches
            && !lines.iter().any(|l| regex.is_match(l))
        {
            return Err(Some(format!("no line matches /{regex}/")));
        }
        Ok(())
    }

    /// The expectation as it reads in a message: `5xx 5.5.1 containing "disabled"`.
    pub fn describe(&self) -> String {
        let mut out = match &self.reply {
            ReplyPattern::Smtp { code, enhanced } => match enhanced {
                Some(enhanced) => format!("{code} {enhanced}"),
                None => code.to_string(),
            },
            ReplyPattern::Imap { status, code } => status_with_code(status.as_str(), code.clone()),
            ReplyPattern::Pop3 { ok, code } => {
                status_with_code(if *ok { "+OK" } else { "-ERR" }, code.clone())
            }
        };
        if let Some(text) = &self.text {
            out.push_str(&format!(" containing \"{text}\""));
        }
        if let Some(regex) = &self.matches {
            out.push_str(&format!(" matching /{regex}/"));
        }
        out
    }
}

/// RFC 2449/3206 codes are hierarchical: `SYS` matches `SYS/TEMP`.
fn pop3_code_matches(want: &str, got: &str) -> bool {
    let (want, got) = (want.to_ascii_uppercase(), got.to_ascii_uppercase());
    got == want || got.starts_with(&format!("{want}/"))
}

/// Whether a POP3 command's positive reply has a multi-line body (RFC 1939, RFC 2449).
fn pop3_multiline(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let command = words.next().unwrap_or("").to_ascii_uppercase();
    let has_argument = words.next().is_some();
    match command.as_str() {
        "CAPA" | "RETR" | "TOP" => true,
        "LIST" | "UIDL" => !has_argument,
        _ => false,
    }
}

/// A custom check, made at run time from a scenario; [`Check`] needs `&'static` data.
pub struct CustomCheck {
    info: &'static CheckInfo,
    spec: CustomSpec,
}

/// A role as a one-role `&'static` slice, for the check's scope.
static ROLES: [Role; 7] = Role::ALL;

impl CustomCheck {
    /// Makes the check and leaks it (with its `CheckInfo`), since the runner and the reports
    /// hold checks as `&'static dyn Check`, like the catalog's. A CLI run plans once (`batch`
    /// once per distinct set of options), so this is a few hundred bytes per custom check for
    /// the life of a process that is about to end anyway.
    pub fn leak(spec: CustomSpec) -> &'static CustomCheck {
        let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
        let role = ROLES
            .iter()
            .find(|role| **role == spec.role)
            .expect("every role is in Role::ALL");
        let tls = if spec.role.implicit_tls() {
            " (implicit TLS)"
        } else if spec.starttls {
            " after STARTTLS"
        } else {
            ""
        };
        let dialog: Vec<String> = spec
            .steps
            .iter()
            .map(|step| {
                let sent = step.send.as_deref().unwrap_or("(greeting)");
                format!("`{sent}` → {}", step.expect.describe())
            })
            .collect();
        let info = CheckInfo {
            id: leak(spec.id.clone()),
            title: leak(spec.title.clone()),
            category: Category::Custom,
            severity: spec.severity,
            scope: Scope::Endpoints {
                roles: std::slice::from_ref(role),
                stage: Stage::Own,
            },
            what: leak(format!(
                "A custom dialog on {}{tls}: {}.",
                spec.role.key(),
                dialog.join("; ")
            )),
            why: leak(format!("Defined by the scenario {}.", spec.origin)),
            fix: leak(spec.fix.clone().unwrap_or_else(|| {
                format!(
                    "The server does not answer as {} expects: compare the expected and actual \
                     replies in the evidence.",
                    spec.origin
                )
            })),
            opt_in: false,
            title_fr: None,
            fix_fr: None,
        };
        Box::leak(Box::new(CustomCheck {
            info: Box::leak(Box::new(info)),
            spec,
        }))
    }

    pub fn spec(&self) -> &CustomSpec {
        &self.spec
    }
}

/// An opened session of the spec's protocol.
enum Dialog {
    Smtp(Session),
    Imap(ImapSession),
    Pop3(Pop3Session),
}

impl Dialog {
    async fn open(ctx: &Ctx<'_>, spec: &CustomSpec) -> Result<Dialog, OpenFailure> {
        match spec.role.protocol() {
            Protocol::Smtp => {
                let mut options = ctx.open_options();
                options.starttls = spec.starttls;
                ctx.open(&options).await.map(Dialog::Smtp)
            }
            Protocol::Imap => {
                let options = imap_options(ctx, spec.starttls);
                let open = ImapSession::open(&options, ctx.net);
                ctx.gate(open).await.map(Dialog::Imap)
            }
            Protocol::Pop3 => {
                let options = pop3_options(ctx, spec.starttls);
                let open = Pop3Session::open(&options, ctx.net);
                ctx.gate(open).await.map(Dialog::Pop3)
            }
        }
    }

    fn greeting(&self) -> Answer {
        match self {
            Dialog::Smtp(session) => Answer::Smtp(session.greeting.clone()),
            Dialog::Imap(session) => Answer::Imap(Completion {
                untagged: Vec::new(),
                status: session.greeting.clone(),
            }),
            Dialog::Pop3(session) => Answer::Pop3(session.greeting.clone()),
        }
    }

    /// Sends one line (IMAP: under a tag of ours) and reads its whole reply.
    async fn exchange(&mut self, line: &str) -> Result<Answer, ProbeError> {
        match self {
            Dialog::Smtp(session) => session.client.command(line).await.map(Answer::Smtp),
            Dialog::Imap(session) => session.client.command(line).await.map(Answer::Imap),
            Dialog::Pop3(session) if pop3_multiline(line) => session
                .client
                .command_multiline(line)
                .await
                .map(Answer::Pop3),
            Dialog::Pop3(session) => session.client.command(line).await.map(Answer::Pop3),
        }
    }

    /// The whole dialog so far, as recorded by the protocol's client.
    fn transcript(&self) -> Vec<String> {
        match self {
            Dialog::Smtp(session) => {
                let mut lines = session.opening();
                lines.extend(session.since(session.opening_mark()));
                lines
            }
            Dialog::Imap(session) => session.transcript(),
            Dialog::Pop3(session) => session.transcript(),
        }
    }

    async fn close(self) {
        match self {
            Dialog::Smtp(session) => session.client.quit().await,
            Dialog::Imap(session) => session.logout().await,
            Dialog::Pop3(session) => session.quit().await,
        }
    }
}

/// The evidence: the dialog's transcript with a note after each step's reply.
#[derive(Default)]
struct Evidence {
    lines: Vec<String>,
    /// How many transcript lines are in `lines` already.
    taken: usize,
}

impl Evidence {
    /// Takes the transcript lines recorded since the last call, then `notes`.
    fn step(&mut self, dialog: &Dialog, notes: &[String]) {
        let transcript = dialog.transcript();
        self.lines
            .extend(transcript.iter().skip(self.taken).cloned());
        self.taken = transcript.len();
        self.lines
            .extend(notes.iter().map(|note| format!("* {note}")));
    }
}

/// What became of one step.
enum Outcome {
    Matched(String),
    Mismatch(String),
}

/// Judges one step's reply: `Matched` with the status for the pass message, or `Mismatch` with
/// expected and actual side by side.
fn judge_step(label: &str, expect: &Expect, answer: &Answer) -> Outcome {
    match expect.check(answer) {
        Ok(()) => Outcome::Matched(format!("{label} → {}", answer.status())),
        Err(why) => {
            let why = why.map(|why| format!(" ({why})")).unwrap_or_default();
            Outcome::Mismatch(format!(
                "{label}: expected `{}`, actual `{}`{why}",
                expect.describe(),
                answer.summary()
            ))
        }
    }
}

/// `step 2 `NOOP``, or `greeting`.
fn step_label(index: usize, step: &Step) -> String {
    match &step.send {
        Some(line) => format!("step {} `{line}`", index + 1),
        None => "greeting".to_string(),
    }
}

#[async_trait::async_trait]
impl Check for CustomCheck {
    fn info(&self) -> &'static CheckInfo {
        self.info
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let mut dialog = match Dialog::open(ctx, &self.spec).await {
            Ok(dialog) => dialog,
            Err(failure) => return ctx.unavailable(&failure),
        };
        let mut evidence = Evidence::default();
        let mut matched = Vec::new();
        let mut verdict = None;
        for (index, step) in self.spec.steps.iter().enumerate() {
            let label = step_label(index, step);
            let answer = match &step.send {
                None => dialog.greeting(),
                Some(line) => match dialog.exchange(line).await {
                    Ok(answer) => answer,
                    Err(err) => {
                        evidence.step(&dialog, &[]);
                        verdict = Some(Verdict::error(format!("{label}: {err}")));
                        break;
                    }
                },
            };
            match judge_step(&label, &step.expect, &answer) {
                Outcome::Matched(summary) => {
                    let note = format!("{label}: as expected ({})", step.expect.describe());
                    evidence.step(&dialog, &[note]);
                    matched.push(summary);
                }
                Outcome::Mismatch(message) => {
                    let notes = [
                        format!("{label}: NOT as expected"),
                        format!("  expected: {}", step.expect.describe()),
                        format!("  actual:   {}", answer.summary()),
                    ];
                    evidence.step(&dialog, &notes);
                    verdict = Some(Verdict::fail(message));
                    break;
                }
            }
        }
        dialog.close().await;
        verdict
            .unwrap_or_else(|| {
                Verdict::pass(format!("every step as expected: {}", matched.join(", ")))
            })
            .with_evidence(evidence.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::imap::parse_status;
    use crate::probe::reply::parse_reply;

    fn smtp(raw: &str) -> Answer {
        let (reply, _) = parse_reply(raw.as_bytes()).unwrap().unwrap();
        Answer::Smtp(reply)
    }

    fn imap(untagged: &[&str], status: &str) -> Answer {
        Answer::Imap(Completion {
            untagged: untagged.iter().map(|s| s.to_string()).collect(),
            status: parse_status(status).unwrap(),
        })
    }

    fn pop3(raw: &str) -> Answer {
        Answer::Pop3(pop3::parse_status_line(raw).unwrap())
    }

    fn smtp_expect(code: &str, enhanced: Option<&str>) -> Expect {
        Expect {
            reply: ReplyPattern::Smtp {
                code: CodePattern::parse(code).unwrap(),
                enhanced: enhanced.map(|e| EnhancedPattern::parse(e).unwrap()),
            },
            text: None,
            matches: None,
        }
    }

    #[test]
    fn code_patterns() {
        let p = |text: &str| CodePattern::parse(text).unwrap();
        assert!(p("502").matches(502));
        assert!(p("5xx").matches(502) && p("5xx").matches(550));
        assert!(p("5XX").matches(599));
        assert!(p("55x").matches(554) && !p("55x").matches(502));
        assert!(p("x5x").matches(250) && p("x5x").matches(550));
        assert!(!p("5xx").matches(252) && !p("250").matches(251));
        assert_eq!(p("5Xx").to_string(), "5xx");
        for bad in [
            "", "5", "50", "5000", "600", "160", "abc", "5**", "5 x", "5.5", "260",
        ] {
            assert!(CodePattern::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn enhanced_patterns() {
        let p = |text: &str| EnhancedPattern::parse(text).unwrap();
        let code = |class, subject, detail| EnhancedCode {
            class,
            subject,
            detail,
        };
        assert!(p("5.5.1").matches(&code(5, 5, 1)));
        assert!(p("5.7.x").matches(&code(5, 7, 23)));
        assert!(p("5.x.x").matches(&code(5, 1, 1)));
        assert!(!p("5.5.1").matches(&code(5, 5, 2)));
        assert!(!p("4.x.x").matches(&code(5, 5, 1)));
        assert_eq!(p("5.7.X").to_string(), "5.7.x");
        for bad in [
            "", "5", "5.5", "5.5.1.1", "3.5.1", "5.a.1", "5.1000.1", "x.5.1", "5..1",
        ] {
            assert!(EnhancedPattern::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn smtp_code_and_enhanced_code() {
        let refused = smtp("502 5.5.1 VRFY command is disabled\r\n");
        assert!(smtp_expect("5xx", None).check(&refused).is_ok());
        assert!(smtp_expect("502", Some("5.5.1")).check(&refused).is_ok());
        assert_eq!(smtp_expect("2xx", None).check(&refused), Err(None));
        assert_eq!(smtp_expect("502", Some("5.5.2")).check(&refused), Err(None));
        // No enhanced code in the reply: an expected one cannot match.
        let bare = smtp("502 VRFY command is disabled\r\n");
        assert_eq!(smtp_expect("5xx", Some("5.x.x")).check(&bare), Err(None));
    }

    #[test]
    fn text_looks_at_every_line_ignoring_case() {
        let ehlo = smtp("250-mail.ref.test\r\n250-STARTTLS\r\n250 CHUNKING\r\n");
        let mut expect = smtp_expect("250", None);
        expect.text = Some("starttls".into());
        assert!(expect.check(&ehlo).is_ok());
        expect.text = Some("auth".into());
        assert_eq!(
            expect.check(&ehlo),
            Err(Some("no line contains \"auth\"".into()))
        );
    }

    #[test]
    fn regexes_match_lines_as_the_evidence_shows_them() {
        let refused = smtp("550 5.1.1 <root>: Recipient address rejected\r\n");
        let mut expect = smtp_expect("5xx", None);
        expect.matches = Some(Regex::new(r"^550 5\.1\.1 <\w+>:").unwrap());
        assert!(expect.check(&refused).is_ok());
        expect.matches = Some(Regex::new("(?i)user unknown").unwrap());
        assert_eq!(
            expect.check(&refused),
            Err(Some("no line matches /(?i)user unknown/".into()))
        );
    }

    #[test]
    fn imap_status_and_response_code() {
        let expect = |status, code: Option<&str>| Expect {
            reply: ReplyPattern::Imap {
                status,
                code: code.map(str::to_string),
            },
            text: None,
            matches: None,
        };
        let privacy = imap(
            &["BAD [ALERT] Plaintext authentication not allowed"],
            "NO [PRIVACYREQUIRED] Plaintext authentication disallowed",
        );
        assert!(expect(imap::Status::No, None).check(&privacy).is_ok());
        assert!(
            expect(imap::Status::No, Some("privacyrequired"))
                .check(&privacy)
                .is_ok()
        );
        let failed = imap(&[], "NO [AUTHENTICATIONFAILED] Authentication failed.");
        assert_eq!(
            expect(imap::Status::No, Some("PRIVACYREQUIRED")).check(&failed),
            Err(None)
        );
        assert_eq!(expect(imap::Status::Ok, None).check(&failed), Err(None));
        // Untagged lines count for `text`.
        let mut with_text = expect(imap::Status::No, None);
        with_text.text = Some("[alert]".into());
        assert!(with_text.check(&privacy).is_ok());
        assert_eq!(privacy.status(), "NO [PRIVACYREQUIRED]");
    }

    #[test]
    fn pop3_status_and_hierarchical_codes() {
        let expect = |ok, code: Option<&str>| Expect {
            reply: ReplyPattern::Pop3 {
                ok,
                code: code.map(str::to_string),
            },
            text: None,
            matches: None,
        };
        let refused = pop3("-ERR [SYS/TEMP] try later");
        assert!(expect(false, None).check(&refused).is_ok());
        assert!(expect(false, Some("SYS")).check(&refused).is_ok());
        assert!(expect(false, Some("sys/temp")).check(&refused).is_ok());
        assert_eq!(expect(false, Some("SY")).check(&refused), Err(None));
        assert_eq!(expect(true, None).check(&refused), Err(None));
        assert_eq!(expect(false, None).describe(), "-ERR");
        assert_eq!(refused.status(), "-ERR [SYS/TEMP]");
    }

    #[test]
    fn another_protocols_reply_never_matches() {
        let reply = pop3("+OK ready");
        assert!(smtp_expect("2xx", None).check(&reply).is_err());
    }

    #[test]
    fn a_mismatch_shows_expected_and_actual_side_by_side() {
        let mut expect = smtp_expect("5xx", None);
        let weak = smtp("252 2.0.0 root\r\n");
        let Outcome::Mismatch(message) = judge_step("step 1 `VRFY root`", &expect, &weak) else {
            panic!("252 is not 5xx");
        };
        assert_eq!(
            message,
            "step 1 `VRFY root`: expected `5xx`, actual `252 2.0.0 root`"
        );
        expect.text = Some("disabled".into());
        let other = smtp("550 5.1.1 <root>: User unknown\r\n");
        let Outcome::Mismatch(message) = judge_step("step 1 `VRFY root`", &expect, &other) else {
            panic!("the text differs");
        };
        assert_eq!(
            message,
            "step 1 `VRFY root`: expected `5xx containing \"disabled\"`, actual \
             `550 5.1.1 <root>: User unknown` (no line contains \"disabled\")"
        );
        let refused = smtp("502 5.5.1 VRFY command is disabled\r\n");
        let Outcome::Matched(summary) = judge_step("step 1 `VRFY root`", &expect, &refused) else {
            panic!("502 with the text matches");
        };
        assert_eq!(summary, "step 1 `VRFY root` → 502 5.5.1");
    }

    #[test]
    fn pop3_multiline_commands() {
        assert!(pop3_multiline("CAPA") && pop3_multiline("list"));
        assert!(!pop3_multiline("LIST 1") && !pop3_multiline("USER x"));
    }

    #[test]
    fn leaked_info_describes_the_dialog() {
        let check = CustomCheck::leak(CustomSpec {
            id: "custom.no-root-vrfy".into(),
            title: "VRFY root is refused".into(),
            severity: Severity::High,
            role: Role::Mx,
            starttls: true,
            fix: None,
            origin: "site.yaml".into(),
            steps: vec![Step {
                send: Some("VRFY root".into()),
                expect: smtp_expect("5xx", None),
            }],
        });
        let info = check.info();
        assert_eq!(info.id, "custom.no-root-vrfy");
        assert_eq!(info.category, Category::Custom);
        assert_eq!(
            info.scope,
            Scope::Endpoints {
                roles: &[Role::Mx],
                stage: Stage::Own
            }
        );
        assert_eq!(
            info.what,
            "A custom dialog on smtp after STARTTLS: `VRFY root` → 5xx."
        );
        assert!(info.fix.contains("site.yaml"));
    }
}
