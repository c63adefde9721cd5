//! A dialog's transcript: the lines that become a result's evidence.
//!
//! Client lines are prefixed `C: `, server lines `S: `, and the client's own notes (TLS
//! handshakes, timeouts, closed connections) `* `. Secrets never enter it: callers hand
//! [`Transcript::client_redacted`] the line as it should be shown.

use std::time::Instant;

/// Most lines one transcript keeps, so an endless server cannot grow it without bound.
const MAX_TRANSCRIPT_LINES: usize = 400;

#[derive(Clone, Debug)]
pub struct Transcript {
    lines: Vec<String>,
    truncated: bool,
    started: Instant,
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript {
            lines: Vec::new(),
            truncated: false,
            started: Instant::now(),
        }
    }
}

/// A position in a transcript, to take what came after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(usize);

impl Transcript {
    fn push(&mut self, line: String) {
        if self.lines.len() < MAX_TRANSCRIPT_LINES {
            self.lines.push(line);
        } else if !self.truncated {
            self.truncated = true;
            self.lines.push("* (transcript truncated)".into());
        }
    }

    pub fn client(&mut self, line: &str) {
        self.push(format!("C: {line}"));
    }

    /// Records a client line that carried a secret, as the caller wants it shown
    /// (e.g. `AUTH PLAIN <redacted>`).
    pub fn client_redacted(&mut self, shown: &str) {
        self.push(format!("C: {shown}"));
    }

    pub fn server(&mut self, line: &str) {
        self.push(format!("S: {line}"));
    }

    pub fn note(&mut self, note: &str) {
        self.push(format!("* {note}"));
    }

    /// A note stamped with the time since the dialog began (for slow replies).
    pub fn timed_note(&mut self, note: &str) {
        let elapsed = self.started.elapsed().as_millis();
        self.push(format!("* [{elapsed} ms] {note}"));
    }

    pub fn mark(&self) -> Mark {
        Mark(self.lines.len())
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn since(&self, mark: Mark) -> Vec<String> {
        self.lines
            .get(mark.0..)
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }

    pub fn between(&self, from: Mark, to: Mark) -> Vec<String> {
        self.lines
            .get(from.0..to.0)
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }
}

/// `Nov 22 02:11:00 2027 GMT`, as openssl prints dates.
pub fn openssl_date(timestamp: i64) -> String {
    let format = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(timestamp)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| format!("@{timestamp}"))
}
