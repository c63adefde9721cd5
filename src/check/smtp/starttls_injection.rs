//! `smtp.starttls.injection` (opt-in): a command sent in the same write as STARTTLS must not be
//! answered inside the TLS session (CVE-2011-0411 class: plaintext injected by a man in the
//! middle would run with the protection of TLS).

use std::time::Duration;

use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::Reply;
use crate::probe::smtp::Session;

pub struct StartTlsInjection;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.starttls.injection",
    title: "Commands injected before STARTTLS are not run inside TLS",
    category: Category::Smtp,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &[Role::Mx, Role::Submission],
        stage: Stage::Own,
    },
    what: "Sends `STARTTLS` and `NOOP` in one write, completes the handshake, and waits: any \
           answer to the NOOP inside TLS means the server kept plaintext read before the \
           handshake and ran it as if it came through TLS.",
    why: "A man in the middle can append commands to the client's STARTTLS (CVE-2011-0411 and \
          its many kin): the server then runs them inside the encrypted session, e.g. to \
          redirect the client's mail or steal its credentials.",
    fix: "Upgrade the MTA: Postfix discards input buffered before the handshake since 2.8 \
          (2.7.3, 2.6.9, 2.5.12 for older lines); other servers must empty their input buffer \
          when they answer `220` to STARTTLS (RFC 3207 §4.2).",
    opt_in: true,
    title_fr: Some("Les commandes injectées avant STARTTLS ne sont pas exécutées sous TLS"),
    fix_fr: Some(
        "Mettez le MTA à jour : Postfix jette ce qu'il a lu avant la négociation TLS depuis \
         la 2.8 (2.7.3, 2.6.9, 2.5.12 pour les branches plus anciennes) ; les autres serveurs \
         doivent vider leur tampon d'entrée quand ils répondent `220` à STARTTLS \
         (RFC 3207 §4.2).",
    ),
};

/// The injected command: harmless, always answered by a server that runs it.
const INJECTED: &str = "NOOP";

/// What the probe saw, before and after the handshake.
#[derive(Debug)]
pub struct Observation {
    /// The answer to STARTTLS.
    pub starttls: Reply,
    /// An answer to the injected command in clear, before the handshake (not the flaw, but
    /// worth showing).
    pub clear_answer: Option<Reply>,
    /// What the server sent inside TLS before we said anything: a reply, or unparseable bytes.
    pub unsolicited: Option<Result<Reply, String>>,
    /// The first reply to our EHLO inside TLS.
    pub ehlo: Result<Reply, String>,
}

/// A reply inside TLS before we spoke = the injected command ran: fail. Silence and a normal
/// EHLO reply: pass. A first "EHLO reply" with an enhanced code is the NOOP's late answer
/// (EHLO replies start with the server's name): fail too.
pub fn judge(observation: &Observation) -> Verdict {
    if let Some(unsolicited) = &observation.unsolicited {
        return match unsolicited {
            Ok(reply) => Verdict::fail(format!(
                "the server answered the injected {INJECTED} inside TLS: {reply}"
            )),
            Err(garbage) => Verdict::error(format!(
                "the server sent something unexpected inside TLS before any command: {garbage}"
            )),
        };
    }
    match &observation.ehlo {
        Ok(reply) if reply.code == 250 && reply.enhanced.is_some() => Verdict::fail(format!(
            "the first reply inside TLS answered the injected {INJECTED}, not EHLO: {reply}"
        )),
        Ok(reply) if reply.code == 250 => {
            let clear = match &observation.clear_answer {
                Some(reply) => format!(" (it answered the {INJECTED} in clear: {reply})"),
                None => String::new(),
            };
            Verdict::pass(format!(
                "nothing answered the {INJECTED} sent with STARTTLS; EHLO works inside TLS{clear}"
            ))
        }
        Ok(reply) => Verdict::error(format!("EHLO inside TLS was not accepted: {reply}")),
        Err(why) => Verdict::error(format!("no EHLO reply inside TLS: {why}")),
    }
}

/// How long to listen inside TLS for an answer nobody asked for: a server that runs the
/// injected command answers at once.
fn listen_window(timeout: Duration) -> Duration {
    (timeout / 2).min(Duration::from_millis(1500))
}

/// The probe on an opened (clear) session. `Err`: the verdict when it could not get as far
/// as the handshake.
async fn probe(session: &mut Session, server_name: &str) -> Result<Observation, Verdict> {
    let conn = &mut session.client.conn;
    conn.transcript.client("STARTTLS");
    conn.transcript.client(INJECTED);
    conn.transcript
        .note("(both lines sent in one write, before any reply)");
    if let Err(err) = conn
        .write_raw(format!("STARTTLS\r\n{INJECTED}\r\n").as_bytes())
        .await
    {
        return Err(Verdict::error(format!("cannot send STARTTLS: {err}")));
    }
    let starttls = match session.client.read_reply().await {
        Ok(reply) => reply,
        Err(err) => return Err(Verdict::error(format!("no answer to STARTTLS: {err}"))),
    };
    if starttls.code != 220 {
        return Err(Verdict::error(format!(
            "STARTTLS refused ({starttls}): nothing to test (smtp.starttls reports it)"
        )));
    }
    // A cleartext answer already buffered (a server that answers before upgrading).
    let clear_answer =
        tokio::time::timeout(Duration::from_millis(200), session.client.read_reply())
            .await
            .ok()
            .and_then(Result::ok);
    let conn = &mut session.client.conn;
    if let Err(err) = conn.upgrade(server_name).await {
        return Err(Verdict::error(format!(
            "the TLS handshake after STARTTLS failed: {err}"
        )));
    }
    let window = listen_window(conn.timeout());
    conn.transcript.note(&format!(
        "listening {} ms inside TLS before sending anything",
        window.as_millis()
    ));
    let unsolicited = match tokio::time::timeout(window, session.client.read_reply()).await {
        Err(_) => None,
        Ok(Ok(reply)) => Some(Ok(reply)),
        Ok(Err(err)) => Some(Err(err.to_string())),
    };
    if unsolicited.is_none() {
        session
            .client
            .conn
            .transcript
            .note("nothing came inside TLS");
    }
    let ehlo = match &unsolicited {
        Some(_) => Err("not sent: the server already spoke".to_string()),
        None => session
            .client
            .command(&format!("EHLO {}", session.helo_name))
            .await
            .map_err(|e| e.to_string()),
    };
    Ok(Observation {
        starttls,
        clear_answer,
        unsolicited,
        ehlo,
    })
}

#[async_trait::async_trait]
impl Check for StartTlsInjection {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let options = ctx.open_options();
        if options.implicit_tls {
            return Verdict::omitted();
        }
        let mut session = match ctx.open(&options).await {
            Ok(session) => session,
            Err(failure) => return ctx.unavailable(&failure),
        };
        if !session.capabilities.has("STARTTLS") {
            let evidence = session.opening();
            session.client.quit().await;
            return Verdict::skip("STARTTLS is not advertised (smtp.starttls reports it)")
                .with_evidence(evidence);
        }
        let verdict = match probe(&mut session, &options.server_name).await {
            Ok(observation) => judge(&observation),
            Err(verdict) => verdict,
        };
        let evidence = session.client.conn.transcript.lines().to_vec();
        session.client.quit().await;
        verdict.with_evidence(evidence)
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

    fn observe(
        unsolicited: Option<Result<Reply, String>>,
        ehlo: Result<Reply, String>,
    ) -> Observation {
        Observation {
            starttls: reply("220 2.0.0 Ready to start TLS\r\n"),
            clear_answer: None,
            unsolicited,
            ehlo,
        }
    }

    #[test]
    fn silence_then_a_normal_ehlo_passes() {
        let ehlo = reply("250-mail.ref.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        let verdict = judge(&observe(None, Ok(ehlo)));
        assert_eq!(verdict.status, Status::Pass, "{}", verdict.message);
    }

    #[test]
    fn an_answer_inside_tls_fails() {
        let verdict = judge(&observe(
            Some(Ok(reply("250 2.0.0 Ok\r\n"))),
            Err("not sent".into()),
        ));
        assert_eq!(verdict.status, Status::Fail);
        assert!(
            verdict.message.contains("250 2.0.0 Ok"),
            "{}",
            verdict.message
        );
        // A late answer that comes first after our EHLO is the NOOP's, not EHLO's.
        let verdict = judge(&observe(None, Ok(reply("250 2.0.0 Ok\r\n"))));
        assert_eq!(verdict.status, Status::Fail);
    }

    #[test]
    fn what_cannot_be_told_is_an_error() {
        let verdict = judge(&observe(Some(Err("garbage".into())), Err("x".into())));
        assert_eq!(verdict.status, Status::Error);
        let verdict = judge(&observe(None, Err("timeout".into())));
        assert_eq!(verdict.status, Status::Error);
        let verdict = judge(&observe(None, Ok(reply("421 4.3.2 bye\r\n"))));
        assert_eq!(verdict.status, Status::Error);
    }

    #[test]
    fn the_window_is_short_and_bounded() {
        assert_eq!(
            listen_window(Duration::from_secs(10)),
            Duration::from_millis(1500)
        );
        assert_eq!(
            listen_window(Duration::from_secs(1)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn it_is_opt_in() {
        assert!(INFO.opt_in);
    }
}
