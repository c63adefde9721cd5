//! The two grammars of RFC 8461: the `_mta-sts` TXT record (§3.1) and the policy file (§3.2),
//! and the matching of MX hosts against the policy's `mx:` patterns (§4.1).
//!
//! Written here rather than taken from mail-auth 0.13.3 (`mta_sts/parse.rs`): its record
//! parser compares `v=STSv1` case-insensitively (so the course's `v=STSV1` would pass), does
//! not require the version first, accepts any `id` text, and it has no policy-file parser.

/// A `_mta-sts` TXT record that follows §3.1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsRecord {
    pub id: String,
}

/// Parses one TXT string as an MTA-STS record:
/// `%s"v=STSv1" 1*(*WSP ";" *WSP field) [*WSP ";"]`, field = `%s"id=" 1*32(ALPHA / DIGIT)`
/// or an extension `name=value` (name: alphanumeric then up to 31 of `[A-Za-z0-9_.-]`;
/// value: visible characters but `;`, `=`).
pub fn parse_record(text: &str) -> Result<StsRecord, String> {
    let Some(rest) = text.strip_prefix("v=STSv1") else {
        return Err(if text.to_ascii_lowercase().starts_with("v=stsv1") {
            format!(
                "the record starts with `{}`: the version tag is case-sensitive, it must be exactly `v=STSv1`",
                &text[..7]
            )
        } else {
            "the record does not start with `v=STSv1`".into()
        });
    };
    let mut id = None;
    let fields: Vec<&str> = rest.split(';').collect();
    // `v=STSv1` must be followed by `;` (split's first part is what came between).
    if !fields[0].trim_matches(is_wsp).is_empty() {
        return Err(format!(
            "`v=STSv1` is followed by `{}` instead of `;`",
            fields[0]
        ));
    }
    let last = fields.len() - 1;
    for (index, field) in fields.iter().enumerate().skip(1) {
        let field = field.trim_matches(is_wsp);
        if field.is_empty() {
            if index == last {
                continue; // one trailing `;` is allowed
            }
            return Err("an empty field (`;;`)".into());
        }
        let Some((name, value)) = field.split_once('=') else {
            return Err(format!("`{field}` is not a name=value field"));
        };
        if name == "id" {
            if id.is_some() {
                return Err("`id` appears twice".into());
            }
            if value.is_empty()
                || value.len() > 32
                || !value.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(format!(
                    "`id={value}` is not 1 to 32 letters and digits (RFC 8461 §3.1)"
                ));
            }
            id = Some(value.to_string());
        } else if !extension_name(name) || !extension_value(value) {
            return Err(format!("`{field}` is not a valid field"));
        }
    }
    match id {
        Some(id) => Ok(StsRecord { id }),
        None => Err("the record has no `id=` field (RFC 8461 §3.1 requires one)".into()),
    }
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn extension_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.len() <= 32
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn extension_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b';' && b != b'=')
}

/// The policy's mode (§5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Testing,
    None,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

/// Longest `max_age` allowed (§3.2: about one year).
pub const MAX_MAX_AGE: u64 = 31_557_600;

/// A policy file that follows §3.2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    pub max_age: u64,
    /// The `mx:` patterns, lowercase, as written (`mail.example.com`, `*.example.net`).
    pub mx: Vec<String>,
}

/// Parses a policy file: lines `key: value` ended by CRLF or LF (senders accept both), keys
/// `version` (`STSv1`), `mode` (`enforce`/`testing`/`none`), `max_age` (1 to 10 digits, at most
/// [`MAX_MAX_AGE`]), `mx` (repeatable); other keys are extensions and ignored. A key other than
/// `mx` given twice is an error: which one counts would be a guess.
pub fn parse_policy(text: &str) -> Result<Policy, String> {
    let mut version = None;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    for (number, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line_no = number + 1;
        if line.trim_matches(is_wsp).is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("line {line_no} `{line}` is not `key: value`"));
        };
        let value = value.trim_matches(is_wsp);
        let once = |seen: bool| {
            if seen {
                Err(format!("line {line_no}: `{key}` appears twice"))
            } else {
                Ok(())
            }
        };
        match key {
            "version" => {
                once(version.is_some())?;
                version = Some(value.to_string());
            }
            "mode" => {
                once(mode.is_some())?;
                mode = Some(match value {
                    "enforce" => Mode::Enforce,
                    "testing" => Mode::Testing,
                    "none" => Mode::None,
                    other => {
                        return Err(format!(
                            "line {line_no}: `mode: {other}` is not enforce, testing or none"
                        ));
                    }
                });
            }
            "max_age" => {
                once(max_age.is_some())?;
                let valid = !value.is_empty()
                    && value.len() <= 10
                    && value.bytes().all(|b| b.is_ascii_digit());
                let seconds: u64 = match value.parse() {
                    Ok(seconds) if valid => seconds,
                    _ => {
                        return Err(format!(
                            "line {line_no}: `max_age: {value}` is not a number of seconds"
                        ));
                    }
                };
                if seconds > MAX_MAX_AGE {
                    return Err(format!(
                        "line {line_no}: `max_age: {seconds}` is over {MAX_MAX_AGE} (RFC 8461 §3.2)"
                    ));
                }
                max_age = Some(seconds);
            }
            "mx" => {
                let pattern = value.to_ascii_lowercase();
                if !mx_pattern(&pattern) {
                    return Err(format!(
                        "line {line_no}: `mx: {value}` is not a host name or `*.` pattern"
                    ));
                }
                mx.push(pattern.trim_end_matches('.').to_string());
            }
            key if extension_name(key) => {}
            _ => return Err(format!("line {line_no}: `{key}` is not a valid key")),
        }
    }
    match version.as_deref() {
        Some("STSv1") => {}
        Some(other) => return Err(format!("`version: {other}` is not `STSv1`")),
        None => return Err("no `version: STSv1` line".into()),
    }
    let mode = mode.ok_or("no `mode:` line")?;
    let max_age = max_age.ok_or("no `max_age:` line")?;
    if mode != Mode::None && mx.is_empty() {
        return Err(format!(
            "no `mx:` line: a policy in {} mode must list the MX hosts",
            mode.as_str()
        ));
    }
    Ok(Policy { mode, max_age, mx })
}

/// A host name, or `*.` and a host name.
fn mx_pattern(pattern: &str) -> bool {
    let host = pattern.strip_prefix("*.").unwrap_or(pattern);
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether `host` matches one `mx:` pattern (§4.1): exactly, or for `*.suffix` by replacing
/// its left-most label only (`*.example.com` matches `mx1.example.com`, not
/// `a.mx1.example.com` nor `example.com`).
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => host == pattern,
    }
}

/// The first pattern of `policy` that `host` matches.
pub fn matching_pattern<'p>(policy: &'p Policy, host: &str) -> Option<&'p str> {
    policy
        .mx
        .iter()
        .map(String::as_str)
        .find(|pattern| mx_matches(pattern, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_the_grammar() {
        assert_eq!(
            parse_record("v=STSv1; id=20160831085700Z;"),
            Ok(StsRecord {
                id: "20160831085700Z".into()
            })
        );
        assert_eq!(parse_record("v=STSv1;id=2").unwrap().id, "2");
        // An extension field is allowed beside the id.
        assert!(parse_record("v=STSv1; id=3; ext_1=x").is_ok());
        // The course's example: wrong case of the version tag.
        let err = parse_record("v=STSV1; id=20240101T000000;").unwrap_err();
        assert!(err.contains("case-sensitive"), "{err}");
        for (bad, why) in [
            ("v=STSv1", "no `id=`"),
            ("v=STSv1;", "no `id=`"),
            ("v=STSv1; id=", "1 to 32"),
            ("v=STSv1; id=2024-01-01", "1 to 32"),
            (&format!("v=STSv1; id={}", "a".repeat(33)), "1 to 32"),
            ("v=STSv1; id=1; id=2", "twice"),
            ("v=STSv1 id=1", "instead of `;`"),
            ("v=STSv1; id=1;; x=y", "empty field"),
            ("v=STSv1; junk", "name=value"),
            ("id=1; v=STSv1", "does not start"),
            (" v=STSv1; id=1", "does not start"),
            ("v=STSv1; id=1; bad key=1", "not a valid field"),
        ] {
            let err = parse_record(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    const ENFORCE: &str =
        "version: STSv1\r\nmode: enforce\r\nmx: mail.ref.test\r\nmax_age: 604800\r\n";

    #[test]
    fn policies_follow_the_grammar() {
        assert_eq!(
            parse_policy(ENFORCE),
            Ok(Policy {
                mode: Mode::Enforce,
                max_age: 604800,
                mx: vec!["mail.ref.test".into()]
            })
        );
        // LF line ends, several mx, a wildcard, an extension key, no final newline.
        let policy =
            parse_policy("version: STSv1\nmode: testing\nmx: A.example.\nmx: *.example.net\nmax_age:86400\next: 1").unwrap();
        assert_eq!(policy.mode, Mode::Testing);
        assert_eq!(policy.mx, ["a.example", "*.example.net"]);
        assert_eq!(policy.max_age, 86400);
        // mode none needs no mx.
        assert!(parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n").is_ok());
        for (bad, why) in [
            ("mode: enforce\nmx: a.test\nmax_age: 1\n", "no `version"),
            (
                "version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n",
                "not `STSv1`",
            ),
            (
                "version: STSv1\nmode: Enforce\nmx: a.test\nmax_age: 1\n",
                "not enforce",
            ),
            ("version: STSv1\nmx: a.test\nmax_age: 1\n", "no `mode"),
            ("version: STSv1\nmode: enforce\nmx: a.test\n", "no `max_age"),
            (
                "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n",
                "over",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n",
                "not a number",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 12345678901\n",
                "not a number",
            ),
            (
                "version: STSv1\nmode: enforce\nmax_age: 86400\n",
                "no `mx:`",
            ),
            (
                "version: STSv1\nmode: enforce\nmode: none\nmx: a.test\nmax_age: 1\n",
                "twice",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a..test\nmax_age: 1\n",
                "not a host",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1\njunk\n",
                "key: value",
            ),
            ("<html>404</html>", "key: value"),
        ] {
            let err = parse_policy(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn mx_patterns_match_one_label_wildcards() {
        assert!(mx_matches("mail.ref.test", "MAIL.ref.test."));
        assert!(!mx_matches("mail.ref.test", "mx.ref.test"));
        assert!(mx_matches("*.ref.test", "mail.ref.test"));
        assert!(!mx_matches("*.ref.test", "a.mail.ref.test"));
        assert!(!mx_matches("*.ref.test", "ref.test"));
        let policy = parse_policy(ENFORCE).unwrap();
        assert_eq!(
            matching_pattern(&policy, "mail.ref.test"),
            Some("mail.ref.test")
        );
        assert_eq!(matching_pattern(&policy, "mx.elsewhere.test"), None);
    }
}
