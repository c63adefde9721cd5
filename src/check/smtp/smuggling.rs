//! `smtp.smuggling` (opt-in, needs the test mailbox): a message whose DATA holds a non-standard
//! end-of-data sequence followed by a complete second transaction must stay one message (or be
//! refused); a second message that arrives on its own means the server ends DATA where other
//! MTAs do not, so a sender's outbound server can be made to relay spoofed mail through it
//! (CVE-2023-51764 for Postfix, CVE-2023-51765 sendmail, CVE-2023-51766 Exim).
//!
//! One connection per variant, on 25 without authentication, to the test user only: DATA never
//! goes anywhere else. Every message delivered is found over IMAP(S) and deleted.

use std::time::{Duration, Instant};

use crate::check::e2e::{arrival_wait, deadline, mailbox_access, message};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::mailbox::{Found, collect_some};
use crate::probe::reply::Reply;
use crate::probe::smtp::Session;

pub struct Smuggling;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.smuggling",
    title: "SMTP smuggling: DATA ends only at <CR><LF>.<CR><LF>",
    category: Category::Smtp,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &[Role::Mx],
        stage: Stage::Own,
    },
    what: "With the test mailbox (`--user`): on 25, sends the test user one message per \
           end-of-data variant (`<LF>.<LF>`, `<LF>.<CR><LF>`, `<CR>.<CR><LF>`, \
           `<CR><LF>.<LF>`), each followed by a complete second MAIL/RCPT/DATA with its own \
           token; then looks in the INBOX over IMAPS. A second message that arrives on its own \
           fails; one message holding all the text, or a refusal of bare line endings, passes. \
           Every message delivered is deleted.",
    why: "When a receiving server ends DATA at a sequence the sending server passes through, \
          an attacker's message can carry a second, smuggled message that the receiver \
          delivers as if the sender's server (its SPF, its DKIM) had sent it: spoofing that \
          passes every authentication check (CVE-2023-51764 and kin).",
    fix: "Postfix 3.9, or 3.8.5, 3.7.10, 3.6.14, 3.5.24 and later: \
          `smtpd_forbid_bare_newline = normalize` (or `reject`) \
          in main.cf, with `smtpd_forbid_bare_newline_exclusions` emptied (its default, \
          `$mynetworks`, keeps trusted clients unprotected), then `postfix reload`; on older \
          Postfix upgrade, or set `smtpd_data_restrictions = reject_unauth_pipelining` as a \
          stopgap.",
    opt_in: true,
    title_fr: Some("SMTP smuggling : DATA ne se termine qu'à <CR><LF>.<CR><LF>"),
    fix_fr: Some(
        "Postfix 3.9, ou 3.8.5, 3.7.10, 3.6.14, 3.5.24 et suivants : \
         `smtpd_forbid_bare_newline = normalize` (ou `reject`) \
         dans main.cf, avec `smtpd_forbid_bare_newline_exclusions` vidé (sa valeur par \
         défaut, `$mynetworks`, laisse les clients de confiance sans protection), puis \
         `postfix reload` ; sur un Postfix plus ancien, mettez-le à jour, ou en attendant \
         `smtpd_data_restrictions = reject_unauth_pipelining`.",
    ),
};

/// An end-of-data sequence that is not `<CR><LF>.<CR><LF>` (SPEC's four).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    LfDotLf,
    LfDotCrLf,
    CrDotCrLf,
    CrLfDotLf,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::LfDotLf,
        Variant::LfDotCrLf,
        Variant::CrDotCrLf,
        Variant::CrLfDotLf,
    ];

    pub fn bytes(self) -> &'static [u8] {
        match self {
            Variant::LfDotLf => b"\n.\n",
            Variant::LfDotCrLf => b"\n.\r\n",
            Variant::CrDotCrLf => b"\r.\r\n",
            Variant::CrLfDotLf => b"\r\n.\n",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Variant::LfDotLf => "<LF>.<LF>",
            Variant::LfDotCrLf => "<LF>.<CR><LF>",
            Variant::CrDotCrLf => "<CR>.<CR><LF>",
            Variant::CrLfDotLf => "<CR><LF>.<LF>",
        }
    }

    /// For the subject line: `lf-dot-lf`.
    fn slug(self) -> &'static str {
        match self {
            Variant::LfDotLf => "lf-dot-lf",
            Variant::LfDotCrLf => "lf-dot-crlf",
            Variant::CrDotCrLf => "cr-dot-crlf",
            Variant::CrLfDotLf => "crlf-dot-lf",
        }
    }
}

fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The DATA of one probe: a test message whose text ends in `variant`, then a complete second
/// transaction (to the same test user) carrying `smuggled_token`, then the real end of data.
pub fn payload(
    variant: Variant,
    sender: &str,
    from_header: &str,
    to: &str,
    outer_token: &str,
    smuggled_token: &str,
) -> Vec<u8> {
    let mut outer = message(
        from_header,
        to,
        outer_token,
        &format!("smuggling-{}", variant.slug()),
    );
    // The outer text ends without its CRLF: the variant is the line ending.
    outer.truncate(outer.len() - 2);
    let mut data = outer;
    data.extend_from_slice(variant.bytes());
    data.extend_from_slice(
        format!("MAIL FROM:<{sender}>\r\nRCPT TO:<{to}>\r\nDATA\r\n").as_bytes(),
    );
    data.extend_from_slice(&message(from_header, to, smuggled_token, "smuggled"));
    data.extend_from_slice(b".\r\n");
    data
}

/// `\n` → `<LF>`, `\r` → `<CR>`: bytes for the transcript.
fn visible(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .replace('\r', "<CR>")
        .replace('\n', "<LF>")
}

/// `250 2.0.0 Ok: queued as 4Xk2` → `4Xk2`.
pub fn queue_id(reply: &Reply) -> Option<String> {
    let text = reply.lines.join(" ");
    let (_, rest) = text.split_once("queued as ")?;
    rest.split_whitespace().next().map(str::to_string)
}

/// What the SMTP dialog of one variant showed.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The reply to the whole DATA.
    pub end: Reply,
    /// Replies that came after it, before our QUIT's: the smuggled transaction's.
    pub extra: Vec<Reply>,
}

impl Sent {
    /// The server accepted a second transaction from inside our DATA.
    fn smuggled_accepted(&self) -> bool {
        self.extra.iter().any(|r| r.code == 354)
            || self
                .extra
                .iter()
                .any(|r| r.code == 250 && queue_id(r).is_some())
    }

    fn queue_ids(&self) -> Vec<String> {
        std::iter::once(&self.end)
            .chain(&self.extra)
            .filter_map(queue_id)
            .collect()
    }
}

/// One variant, from the dialog to the mailbox.
#[derive(Clone, Debug)]
pub struct Probe {
    pub variant: Variant,
    pub outer_token: String,
    pub smuggled_token: String,
    /// `Err`: nothing could be sent (why).
    pub sent: Result<Sent, String>,
    /// The outer message as fetched, or why not; `None`: not looked for.
    pub outer: Option<Result<Found, String>>,
    /// The smuggled message found on its own.
    pub smuggled: Option<Found>,
}

/// What one variant proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The smuggled transaction was accepted or delivered on its own.
    Smuggled(String),
    /// Refused, or one message with all the text.
    Safe(String),
    /// We cannot tell.
    Unknown(String),
}

pub fn judge_probe(probe: &Probe) -> Outcome {
    let ids = match &probe.sent {
        Ok(sent) => sent.queue_ids(),
        Err(_) => Vec::new(),
    };
    if probe.smuggled.is_some() {
        return Outcome::Smuggled(format!(
            "the smuggled message (token {}) arrived on its own (queue ids: {})",
            probe.smuggled_token,
            if ids.is_empty() {
                "-".into()
            } else {
                ids.join(", ")
            }
        ));
    }
    let sent = match &probe.sent {
        Ok(sent) => sent,
        Err(why) => return Outcome::Unknown(format!("not sent: {why}")),
    };
    if sent.smuggled_accepted() {
        return Outcome::Smuggled(format!(
            "the server ran the second transaction hidden in the data (queue ids: {})",
            ids.join(", ")
        ));
    }
    if sent.end.is_permanent() {
        return Outcome::Safe(format!("refused: {}", sent.end));
    }
    if !sent.end.is_positive() {
        return Outcome::Unknown(format!("temporary answer to the data: {}", sent.end));
    }
    match &probe.outer {
        Some(Ok(found)) => {
            let whole = String::from_utf8_lossy(&found.raw);
            if whole.contains(&probe.smuggled_token) {
                Outcome::Safe(format!(
                    "one message ({}) holding all the text, the smuggled commands included",
                    ids.join(", ")
                ))
            } else {
                Outcome::Unknown(
                    "the message arrived cut at the variant and the rest was lost".into(),
                )
            }
        }
        Some(Err(why)) => Outcome::Unknown(format!("the accepted message: {why}")),
        None => Outcome::Unknown("the mailbox was not read".into()),
    }
}

/// Any variant smuggled: fail. Any we cannot tell: error. All safe: pass.
pub fn judge(probes: &[Probe]) -> Verdict {
    let outcomes: Vec<(Variant, Outcome)> =
        probes.iter().map(|p| (p.variant, judge_probe(p))).collect();
    let list = |pick: fn(&Outcome) -> Option<&String>| -> Vec<String> {
        outcomes
            .iter()
            .filter_map(|(v, o)| pick(o).map(|why| format!("{}: {why}", v.name())))
            .collect()
    };
    let smuggled = list(|o| match o {
        Outcome::Smuggled(why) => Some(why),
        _ => None,
    });
    if !smuggled.is_empty() {
        return Verdict::fail(format!(
            "{} of {} end-of-data variants smuggle a second message: {}",
            smuggled.len(),
            probes.len(),
            smuggled.join("; ")
        ));
    }
    let unknown = list(|o| match o {
        Outcome::Unknown(why) => Some(why),
        _ => None,
    });
    if !unknown.is_empty() || probes.is_empty() {
        return Verdict::error(format!("cannot tell: {}", unknown.join("; ")));
    }
    Verdict::pass(format!(
        "no variant smuggles a second message: {}",
        list(|o| match o {
            Outcome::Safe(why) => Some(why),
            _ => None,
        })
        .join("; ")
    ))
}

/// One variant on its own connection. The transcript goes to `evidence`.
async fn send_variant(
    ctx: &Ctx<'_>,
    variant: Variant,
    sender: &str,
    from_header: &str,
    to: &str,
    tokens: (&str, &str),
    evidence: &mut Vec<String>,
) -> Result<Sent, String> {
    evidence.push(format!("* variant {}", variant.name()));
    let mut session = match ctx.open(&ctx.open_options()).await {
        Ok(session) => session,
        Err(failure) => {
            evidence.extend(failure.evidence.clone());
            return Err(failure.kind.describe());
        }
    };
    let result = dialog(&mut session, variant, sender, from_header, to, tokens).await;
    evidence.extend(session.client.conn.transcript.lines().iter().cloned());
    session.client.conn.close().await;
    result
}

async fn dialog(
    session: &mut Session,
    variant: Variant,
    sender: &str,
    from_header: &str,
    to: &str,
    (outer_token, smuggled_token): (&str, &str),
) -> Result<Sent, String> {
    let client = &mut session.client;
    let step = |what: &str, reply: Result<Reply, crate::probe::ProbeError>| {
        reply.map_err(|e| format!("{what}: {e}"))
    };
    let mail = step(
        "MAIL",
        client.command(&format!("MAIL FROM:<{sender}>")).await,
    )?;
    if !mail.is_positive() {
        return Err(format!("MAIL FROM refused: {mail}"));
    }
    let rcpt = step("RCPT", client.command(&format!("RCPT TO:<{to}>")).await)?;
    if !rcpt.is_positive() {
        return Err(format!("the test user is refused on 25: {rcpt}"));
    }
    let data = step("DATA", client.command("DATA").await)?;
    if data.code != 354 {
        return Err(format!("DATA refused: {data}"));
    }
    let body = payload(
        variant,
        sender,
        from_header,
        to,
        outer_token,
        smuggled_token,
    );
    let cut = body
        .windows(variant.bytes().len())
        .position(|w| w == variant.bytes())
        .unwrap_or(0);
    let shown_from = cut.saturating_sub(20);
    let shown_to = (cut + 80).min(body.len());
    client.conn.transcript.client(&format!(
        "({} bytes of data in one write, token {outer_token}; around the variant: …{}…; \
         the smuggled message carries token {smuggled_token} and ends in <CR><LF>.<CR><LF>)",
        body.len(),
        visible(&body[shown_from..shown_to])
    ));
    client
        .conn
        .write_raw(&body)
        .await
        .map_err(|e| format!("sending the data: {e}"))?;
    let end = step("end of data", client.read_reply().await)?;
    // Whatever the server answers before our QUIT's 221 belongs to a transaction it found
    // inside our data.
    let mut extra = Vec::new();
    if client.conn.send("QUIT").await.is_ok() {
        client
            .conn
            .transcript
            .note("(any reply before QUIT's 221 answers a command found inside the data)");
        for _ in 0..8 {
            match client.read_reply().await {
                Ok(reply) if reply.code == 221 => break,
                Ok(reply) => extra.push(reply),
                Err(_) => break,
            }
        }
    }
    Ok(Sent { end, extra })
}

async fn run(ctx: &Ctx<'_>) -> Verdict {
    let Some(credentials) = ctx.settings.credentials.clone() else {
        return Verdict::skip("needs --user and --password-env/--password-file (a test mailbox)");
    };
    if !credentials.user.contains('@') {
        return Verdict::skip(format!(
            "needs the test mailbox's full address as --user (not {:?}): DATA only ever goes \
             to that address",
            credentials.user
        ));
    }
    let Some(access) = mailbox_access(ctx, &credentials) else {
        return Verdict::error("the target has no address for the mailbox");
    };
    let to = credentials.user.clone();
    let sender = match &ctx.settings.relay_domain {
        Some(domain) => format!("mailcheck@{domain}"),
        None => String::new(),
    };
    let from_header = if sender.is_empty() {
        "mailer-daemon@mailcheck.invalid".to_string()
    } else {
        sender.clone()
    };
    let started = Instant::now();
    let timeout = ctx.net.timeout;
    let mut evidence = Vec::new();
    let mut probes: Vec<Probe> = Variant::ALL
        .iter()
        .map(|&variant| Probe {
            variant,
            outer_token: token(),
            smuggled_token: token(),
            sent: Err("not sent: out of time".into()),
            outer: None,
            smuggled: None,
        })
        .collect();
    // Half the deadline for sending; what remains is for the mailbox and its cleanup.
    let sending = async {
        for probe in probes.iter_mut() {
            probe.sent = send_variant(
                ctx,
                probe.variant,
                &sender,
                &from_header,
                &to,
                (&probe.outer_token, &probe.smuggled_token),
                &mut evidence,
            )
            .await;
        }
    };
    if tokio::time::timeout(deadline(ctx) / 2, sending)
        .await
        .is_err()
    {
        evidence.push("* out of time while sending: the rest is not sent".into());
    }
    let mut expected = Vec::new();
    let mut maybe = Vec::new();
    for probe in &probes {
        match &probe.sent {
            Ok(sent) if sent.end.is_positive() => {
                expected.push(probe.outer_token.clone());
                if sent.smuggled_accepted() {
                    expected.push(probe.smuggled_token.clone());
                } else {
                    maybe.push(probe.smuggled_token.clone());
                }
            }
            // Refused, or cut short: look once for both, so nothing is left behind.
            _ => {
                maybe.push(probe.outer_token.clone());
                maybe.push(probe.smuggled_token.clone());
            }
        }
    }
    let wait = arrival_wait(ctx).min(deadline(ctx).saturating_sub(started.elapsed() + timeout * 2));
    let grace = Duration::from_millis(1000).min(timeout);
    let collected = collect_some(&access, &expected, &maybe, wait, grace).await;
    for probe in &mut probes {
        let found = |token: &str| {
            collected
                .found
                .iter()
                .find(|(t, _)| t == token)
                .map(|(_, r)| r.clone())
        };
        if expected.contains(&probe.outer_token) {
            probe.outer = found(&probe.outer_token);
        }
        probe.smuggled = found(&probe.smuggled_token).and_then(Result::ok);
    }
    evidence.extend(collected.transcript.lines().iter().cloned());
    for probe in &probes {
        evidence.push(format!(
            "* {}: {:?}",
            probe.variant.name(),
            judge_probe(probe)
        ));
    }
    evidence.push(format!(
        "* {} test message(s) deleted from the mailbox of {to}",
        collected.removed
    ));
    judge(&probes).with_evidence(evidence)
}

#[async_trait::async_trait]
impl Check for Smuggling {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let limit = deadline(ctx) + ctx.net.timeout;
        tokio::time::timeout(limit, run(ctx))
            .await
            .unwrap_or_else(|_| {
                Verdict::error(format!(
                    "the smuggling probes did not finish within {} s",
                    limit.as_secs()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    fn reply(raw: &str) -> Reply {
        parse_reply(raw.as_bytes()).unwrap().unwrap().0
    }

    fn found(raw: &str) -> Found {
        Found {
            raw: raw.as_bytes().to_vec(),
            seen_at: Instant::now(),
        }
    }

    fn probe(sent: Result<Sent, String>, outer: Option<&str>, smuggled: bool) -> Probe {
        Probe {
            variant: Variant::LfDotLf,
            outer_token: "outer1".into(),
            smuggled_token: "smug2".into(),
            sent,
            outer: outer.map(|raw| Ok(found(raw))),
            smuggled: smuggled.then(|| found("X-Mailcheck-Token: smug2\r\n\r\nhi\r\n")),
        }
    }

    fn queued(id: &str) -> Sent {
        Sent {
            end: reply(&format!("250 2.0.0 Ok: queued as {id}\r\n")),
            extra: Vec::new(),
        }
    }

    #[test]
    fn the_payload_carries_the_variant_and_a_whole_second_transaction() {
        for variant in Variant::ALL {
            let data = payload(variant, "", "m@x.invalid", "test@ref.test", "aaa", "bbb");
            let text = String::from_utf8_lossy(&data);
            let at = data
                .windows(variant.bytes().len())
                .position(|w| w == variant.bytes())
                .unwrap();
            assert!(text[..at].contains("X-Mailcheck-Token: aaa"));
            let rest = &text[at + variant.bytes().len()..];
            assert!(
                rest.starts_with("MAIL FROM:<>\r\nRCPT TO:<test@ref.test>\r\nDATA\r\n"),
                "{rest}"
            );
            assert!(rest.contains("\r\nX-Mailcheck-Token: bbb\r\n"));
            assert!(rest.ends_with("\r\n.\r\n"));
            // The only standard end of data is the last one.
            assert_eq!(text.matches("\r\n.\r\n").count(), 1, "{variant:?}");
        }
    }

    #[test]
    fn a_second_message_on_its_own_fails() {
        let verdict = judge(&[probe(
            Ok(queued("A1")),
            Some("X-Mailcheck-Token: outer1"),
            true,
        )]);
        assert_eq!(verdict.status, Status::Fail, "{}", verdict.message);
        assert!(verdict.message.contains("<LF>.<LF>") && verdict.message.contains("A1"));
    }

    #[test]
    fn an_accepted_second_transaction_fails_even_before_delivery() {
        let mut sent = queued("A1");
        sent.extra = vec![
            reply("250 2.1.0 Ok\r\n"),
            reply("250 2.1.5 Ok\r\n"),
            reply("354 End data with <CR><LF>.<CR><LF>\r\n"),
            reply("250 2.0.0 Ok: queued as B2\r\n"),
        ];
        let verdict = judge(&[probe(Ok(sent), None, false)]);
        assert_eq!(verdict.status, Status::Fail);
        assert!(verdict.message.contains("B2"), "{}", verdict.message);
    }

    #[test]
    fn one_message_with_everything_or_a_refusal_passes() {
        let whole = "X-Mailcheck-Token: outer1\r\n\r\ntext\r\n.\r\nMAIL FROM:<>\r\n\
                     X-Mailcheck-Token: smug2\r\n";
        let verdict = judge(&[probe(Ok(queued("A1")), Some(whole), false)]);
        assert_eq!(verdict.status, Status::Pass, "{}", verdict.message);
        let refused = Sent {
            end: reply("521 5.5.2 Error: bare <LF> received\r\n"),
            extra: Vec::new(),
        };
        assert_eq!(
            judge(&[probe(Ok(refused), None, false)]).status,
            Status::Pass
        );
    }

    #[test]
    fn what_cannot_be_told_is_an_error() {
        // Accepted, but the text after the variant is gone and nothing else came.
        let cut = judge(&[probe(
            Ok(queued("A1")),
            Some("X-Mailcheck-Token: outer1"),
            false,
        )]);
        assert_eq!(cut.status, Status::Error);
        let not_sent = judge(&[probe(Err("connection refused".into()), None, false)]);
        assert_eq!(not_sent.status, Status::Error);
        let deferred = Sent {
            end: reply("451 4.3.0 try later\r\n"),
            extra: Vec::new(),
        };
        assert_eq!(
            judge(&[probe(Ok(deferred), None, false)]).status,
            Status::Error
        );
        assert_eq!(judge(&[]).status, Status::Error);
    }

    #[test]
    fn queue_ids_are_read_from_postfix_replies() {
        assert_eq!(
            queue_id(&reply("250 2.0.0 Ok: queued as 4Xk2Lh0b3Mz\r\n")).as_deref(),
            Some("4Xk2Lh0b3Mz")
        );
        assert_eq!(queue_id(&reply("250 2.1.0 Ok\r\n")), None);
    }

    #[test]
    fn it_is_opt_in() {
        assert!(INFO.opt_in);
    }
}
