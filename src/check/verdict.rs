//! What a check returns: a status, a one-line message and the evidence behind it. The runner
//! adds the check's identity, the endpoint and the timing to make a `CheckResult`.

use crate::outcome::Status;

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub status: Status,
    pub message: String,
    pub evidence: Vec<String>,
    /// Replaces the check's generic fix hint, when the verdict knows better.
    pub fix: Option<String>,
    /// No result at all: the check does not apply here (e.g. `tls.*` on an endpoint that
    /// offers no TLS, whose absence another check reports).
    pub omitted: bool,
    /// For target-scoped checks that still went through one endpoint (e2e): its label.
    pub endpoint: Option<crate::outcome::Endpoint>,
    /// The verdict instead when nothing answers on the endpoint's host (no port of it took a
    /// connection): a closed port is a finding only on a host that is up. The runner, which
    /// sees every port, chooses once the target is done.
    pub if_host_silent: Option<Box<Verdict>>,
}

impl Verdict {
    pub fn new(status: Status, message: impl Into<String>) -> Verdict {
        Verdict {
            status,
            message: message.into(),
            evidence: Vec::new(),
            fix: None,
            omitted: false,
            endpoint: None,
            if_host_silent: None,
        }
    }

    /// Produce no result for this endpoint.
    pub fn omitted() -> Verdict {
        Verdict {
            omitted: true,
            ..Verdict::skip("not applicable")
        }
    }

    pub fn pass(message: impl Into<String>) -> Verdict {
        Verdict::new(Status::Pass, message)
    }

    pub fn fail(message: impl Into<String>) -> Verdict {
        Verdict::new(Status::Fail, message)
    }

    pub fn warn(message: impl Into<String>) -> Verdict {
        Verdict::new(Status::Warn, message)
    }

    pub fn skip(message: impl Into<String>) -> Verdict {
        Verdict::new(Status::Skip, message)
    }

    pub fn error(message: impl Into<String>) -> Verdict {
        Verdict::new(Status::Error, message)
    }

    pub fn with_evidence(mut self, evidence: impl IntoIterator<Item = String>) -> Verdict {
        let evidence: Vec<String> = evidence.into_iter().collect();
        if let Some(silent) = self.if_host_silent.take() {
            self.if_host_silent = Some(Box::new(silent.with_evidence(evidence.clone())));
        }
        self.evidence.extend(evidence);
        self
    }

    /// Gives `verdict` instead when nothing answers on the host (see `if_host_silent`).
    pub fn or_if_host_silent(mut self, verdict: Verdict) -> Verdict {
        self.if_host_silent = Some(Box::new(verdict));
        self
    }

    /// Names the endpoint a target-scoped check used (`127.0.0.10:587/smtp+starttls`).
    pub fn at(mut self, endpoint: crate::outcome::Endpoint) -> Verdict {
        self.endpoint = Some(endpoint);
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Verdict {
        self.fix = Some(fix.into());
        self
    }
}
