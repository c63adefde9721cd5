//! SMTP replies as types, and a sans-I/O parser: bytes in, a [`Reply`] or "need more" out.
//!
//! Kept free of sockets so it can be unit-tested on raw byte strings and driven by any transport
//! (RFC 5321 §4.2). Limits on line length and line count are enforced here so a hostile server
//! cannot make the client buffer without bound.

use std::fmt;

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512 octets; real servers stay under).
pub const MAX_LINE: usize = 2048;
/// Most lines in one multi-line reply (EHLO replies have ~15).
pub const MAX_LINES: usize = 100;

/// An enhanced status code (RFC 3463), e.g. `5.5.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl EnhancedCode {
    /// Parses a leading `c.s.d` token whose class matches the reply's first digit.
    fn parse_prefix(text: &str, reply_class: u8) -> Option<EnhancedCode> {
        let token = text.split_whitespace().next()?;
        let mut parts = token.splitn(3, '.');
        let class: u8 = parts.next()?.parse().ok()?;
        let subject: u16 = parts.next()?.parse().ok()?;
        let detail: u16 = parts.next()?.parse().ok()?;
        (class == reply_class && matches!(class, 2 | 4 | 5) && subject < 1000 && detail < 1000)
            .then_some(EnhancedCode {
                class,
                subject,
                detail,
            })
    }
}

/// A complete SMTP reply: a three-digit code and one or more text lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The enhanced status code of the first line, when present.
    pub enhanced: Option<EnhancedCode>,
    /// The text of each line, after the code and separator.
    pub lines: Vec<String>,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    pub fn is_refusal(&self) -> bool {
        self.code >= 400
    }

    /// Code and enhanced code: what "the same answer" means when comparing replies
    /// (the text may echo the argument).
    pub fn signature(&self) -> (u16, Option<EnhancedCode>) {
        (self.code, self.enhanced)
    }

    /// The first line's text, for messages.
    pub fn first_line(&self) -> &str {
        self.lines.first().map_or("", String::as_str)
    }

    /// The reply as the server sent it, one string per line (`250-...`, `250 ...`).
    pub fn wire_lines(&self) -> impl Iterator<Item = String> + '_ {
        let last = self.lines.len().saturating_sub(1);
        self.lines.iter().enumerate().map(move |(i, text)| {
            let sep = if i == last { ' ' } else { '-' };
            if text.is_empty() {
                format!("{}{}", self.code, sep).trim_end().to_string()
            } else {
                format!("{}{}{}", self.code, sep, text)
            }
        })
    }

    /// `250 2.0.0 Ok` style one-liner (first line only).
    pub fn summary(&self) -> String {
        let text = self.first_line();
        if text.is_empty() {
            self.code.to_string()
        } else {
            format!("{} {}", self.code, text)
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// Why bytes from the server are not an SMTP reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("reply longer than {MAX_LINES} lines")]
    TooManyLines,
    #[error("malformed reply line {0:?}")]
    Malformed(String),
    #[error("reply code changed within a multi-line reply ({first} then {then})")]
    CodeMismatch { first: u16, then: u16 },
}

/// Tries to parse one complete reply from the start of `buf`.
///
/// Returns the reply and how many bytes it used, or `None` when more bytes are needed.
/// Accepts bare LF line ends (seen in the wild) besides CRLF.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    let mut pos = 0;
    let mut code = None;
    let mut lines = Vec::new();
    loop {
        let rest = &buf[pos..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > MAX_LINE {
                return Err(ReplyError::LineTooLong);
            }
            return Ok(None);
        };
        if nl > MAX_LINE {
            return Err(ReplyError::LineTooLong);
        }
        let raw = &rest[..nl];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        pos += nl + 1;
        let line = String::from_utf8_lossy(raw);
        let (line_code, last, text) = split_line(&line)?;
        match code {
            None => code = Some(line_code),
            Some(first) if first != line_code => {
                return Err(ReplyError::CodeMismatch {
                    first,
                    then: line_code,
                });
            }
            Some(_) => {}
        }
        lines.push(text.to_string());
        if last {
            let code = code.unwrap_or(line_code);
            let class = u8::try_from(code / 100).unwrap_or(0);
            let enhanced = lines
                .first()
                .and_then(|l| EnhancedCode::parse_prefix(l, class));
            return Ok(Some((
                Reply {
                    code,
                    enhanced,
                    lines,
                },
                pos,
            )));
        }
        if lines.len() >= MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
    }
}

/// Splits `250-text` / `250 text` / `250` into code, is-last, text.
fn split_line(line: &str) -> Result<(u16, bool, &str), ReplyError> {
    let bytes = line.as_bytes();
    let malformed = || ReplyError::Malformed(line.chars().take(80).collect());
    if bytes.len() < 3
        || !bytes[..3].iter().all(u8::is_ascii_digit)
        || !(b'2'..=b'5').contains(&bytes[0])
    {
        return Err(malformed());
    }
    let code: u16 = line[..3].parse().map_err(|_| malformed())?;
    match bytes.get(3) {
        None => Ok((code, true, "")),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err(malformed()),
    }
}

/// The extensions an EHLO reply advertises (RFC 5321 §4.1.1.1), keywords upper-cased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The first line of the EHLO reply (the server's name and greeting text).
    pub hello: String,
    pub keywords: Vec<(String, Vec<String>)>,
}

impl Capabilities {
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut lines = reply.lines.iter();
        let hello = lines.next().cloned().unwrap_or_default();
        let keywords = lines
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let keyword = words.next()?.to_ascii_uppercase();
                Some((keyword, words.map(str::to_string).collect()))
            })
            .collect();
        Capabilities { hello, keywords }
    }

    pub fn has(&self, keyword: &str) -> bool {
        self.params(keyword).is_some()
    }

    pub fn params(&self, keyword: &str) -> Option<&[String]> {
        self.keywords
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
            .map(|(_, p)| p.as_slice())
    }

    /// SASL mechanisms from `AUTH` (and the pre-standard `AUTH=` form).
    pub fn auth_mechanisms(&self) -> Vec<String> {
        let mut mechanisms: Vec<String> = Vec::new();
        for (keyword, params) in &self.keywords {
            let listed: Vec<String> = if keyword == "AUTH" {
                params.iter().map(|p| p.to_ascii_uppercase()).collect()
            } else if let Some(first) = keyword.strip_prefix("AUTH=") {
                std::iter::once(first.to_string())
                    .chain(params.iter().map(|p| p.to_ascii_uppercase()))
                    .collect()
            } else {
                continue;
            };
            for mechanism in listed {
                if !mechanisms.contains(&mechanism) {
                    mechanisms.push(mechanism);
                }
            }
        }
        mechanisms
    }

    pub fn offers_auth(&self) -> bool {
        !self.auth_mechanisms().is_empty()
    }

    /// The SIZE limit: `Some(None)` when SIZE is advertised without a number.
    pub fn size(&self) -> Option<Option<u64>> {
        self.params("SIZE")
            .map(|p| p.first().and_then(|n| n.parse().ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Reply {
        let (reply, used) = parse_reply(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        reply
    }

    #[test]
    fn single_line_with_enhanced_code() {
        let reply = parse(b"502 5.5.1 VRFY command is disabled\r\n");
        assert_eq!(reply.code, 502);
        assert_eq!(reply.enhanced.unwrap().to_string(), "5.5.1");
        assert_eq!(reply.first_line(), "5.5.1 VRFY command is disabled");
        assert!(reply.is_permanent());
    }

    #[test]
    fn multi_line_ehlo_and_capabilities() {
        let reply = parse(
            b"250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN login\r\n250-AUTH=LOGIN\r\n250 8BITMIME\r\n",
        );
        assert_eq!(reply.lines.len(), 7);
        let caps = Capabilities::from_ehlo(&reply);
        assert_eq!(caps.hello, "mail.example.com");
        assert!(caps.has("starttls") && caps.has("PIPELINING"));
        assert_eq!(caps.size(), Some(Some(10_240_000)));
        assert_eq!(caps.auth_mechanisms(), vec!["PLAIN", "LOGIN"]);
        assert_eq!(
            reply.wire_lines().collect::<Vec<_>>()[..2],
            [
                "250-mail.example.com".to_string(),
                "250-PIPELINING".to_string()
            ]
        );
    }

    #[test]
    fn needs_more_until_the_last_line() {
        assert_eq!(parse_reply(b"250-first\r\n250 sec").unwrap(), None);
        assert_eq!(parse_reply(b"").unwrap(), None);
        let (reply, used) = parse_reply(b"220 hi\r\n250 next\r\n").unwrap().unwrap();
        assert_eq!((reply.code, used), (220, 8));
    }

    #[test]
    fn bare_code_and_bare_lf() {
        let reply = parse(b"250\n");
        assert_eq!((reply.code, reply.first_line()), (250, ""));
    }

    #[test]
    fn enhanced_code_must_match_class() {
        assert_eq!(parse(b"250 5.1.1 odd\r\n").enhanced, None);
        assert_eq!(
            parse(b"252 2.0.0 <postmaster>\r\n")
                .enhanced
                .unwrap()
                .to_string(),
            "2.0.0"
        );
        assert_eq!(parse(b"220 mail.example.com ESMTP\r\n").enhanced, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            parse_reply(b"HTTP/1.1 400 Bad\r\n"),
            Err(ReplyError::Malformed(_))
        ));
        assert!(matches!(
            parse_reply(b"25\r\n"),
            Err(ReplyError::Malformed(_))
        ));
        assert!(matches!(
            parse_reply(b"250x\r\n"),
            Err(ReplyError::Malformed(_))
        ));
        assert!(matches!(
            parse_reply(b"\xff\xfe\r\n"),
            Err(ReplyError::Malformed(_))
        ));
        assert!(matches!(
            parse_reply(b"250-a\r\n550 b\r\n"),
            Err(ReplyError::CodeMismatch { .. })
        ));
        assert_eq!(
            parse_reply(&[b'2'; MAX_LINE + 1]),
            Err(ReplyError::LineTooLong)
        );
        let endless: Vec<u8> = b"250-x\r\n".repeat(MAX_LINES + 1);
        assert_eq!(parse_reply(&endless), Err(ReplyError::TooManyLines));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every prefix of a mixed corpus and a pseudo-random stream.
        let corpus: &[u8] = b"250-a\r\n250 b\r\n5\xff\x00 -\n\r\n421 4.3.2 bye\r\n";
        for end in 0..corpus.len() {
            let _ = parse_reply(&corpus[..end]);
        }
        let mut state = 0x2545_f491_u32;
        let mut bytes = Vec::new();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            bytes.push(b"0123456789 -\r\n\xffA"[(state % 16) as usize]);
            let _ = parse_reply(&bytes);
            if bytes.len() > 300 {
                bytes.clear();
            }
        }
    }
}
