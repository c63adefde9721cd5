//! `smtp.rcpt.enumeration` (opt-in, info): after a valid MAIL, do RCPT answers tell an
//! existing from a made-up user, with nothing (tarpit, rate limit) slowing a harvester down?

use std::time::{Duration, Instant};

use crate::check::smtp::random_user;
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::Reply;

pub struct RcptEnumeration;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.rcpt.enumeration",
    title: "RCPT does not let a harvester enumerate users at full speed",
    category: Category::Smtp,
    severity: Severity::Info,
    scope: Scope::Endpoints {
        roles: &[Role::Mx],
        stage: Stage::Own,
    },
    what: "On 25, after `MAIL FROM`, sends `RCPT TO` for `postmaster` and for a few random \
           users (five RCPTs in all, never DATA) and times each answer: different answers \
           with no slowdown is a fast mailbox oracle (warn); one answer for all, a tarpit or \
           a rate limit passes.",
    why: "Rejecting unknown recipients at RCPT time is right (no backscatter), but it tells \
          who exists: without a slowdown a spammer can test thousands of names per minute.",
    fix: "Postfix: slow down clients that collect errors: `smtpd_soft_error_limit = 3` and \
          `smtpd_error_sleep_time = 1s` (a pause before every reply after 3 errors), \
          `smtpd_hard_error_limit = 10` to drop them; `anvil` limits such as \
          `smtpd_client_recipient_rate_limit`, or postscreen in front of smtpd.",
    opt_in: true,
    title_fr: Some("RCPT ne permet pas d'énumérer les utilisateurs à pleine vitesse"),
    fix_fr: Some(
        "Postfix : ralentir les clients qui accumulent les erreurs : \
         `smtpd_soft_error_limit = 3` et `smtpd_error_sleep_time = 1s` (une pause avant chaque \
         réponse après 3 erreurs), `smtpd_hard_error_limit = 10` pour les couper ; les \
         limites d'`anvil` comme `smtpd_client_recipient_rate_limit`, ou postscreen devant \
         smtpd.",
    ),
};

/// Random recipients after `postmaster`: with it, five RCPTs, "a handful".
const UNKNOWN_PROBES: usize = 4;
const _: () = assert!(UNKNOWN_PROBES < 5, "never more than a handful of RCPTs");

/// One RCPT and how long its answer took.
#[derive(Clone, Debug)]
pub struct Probe {
    pub reply: Reply,
    pub took: Duration,
}

/// Whether a reply came much later than the first one: a tarpit at work.
fn slowed(baseline: Duration, took: Duration) -> bool {
    took >= (baseline * 3).max(baseline + Duration::from_millis(500))
}

/// `known`: the RCPT for postmaster; `unknown`: those for random users, in order (a session
/// the server closed has fewer).
pub fn judge(known: &Probe, unknown: &[Probe]) -> Verdict {
    let Some(first) = unknown.first() else {
        return Verdict::error("no RCPT for a random user was answered");
    };
    if unknown.iter().any(|p| slowed(known.took, p.took)) {
        let slowest = unknown.iter().map(|p| p.took).max().unwrap_or_default();
        return Verdict::pass(format!(
            "unknown recipients are slowed down (a tarpit): {} ms against {} ms for postmaster",
            slowest.as_millis(),
            known.took.as_millis()
        ));
    }
    // Temporary refusals after permanent ones, or a closed session: a rate limit kicked in.
    if first.reply.is_permanent()
        && unknown
            .iter()
            .skip(1)
            .any(|p| p.reply.is_transient() || p.reply.code == 421)
    {
        return Verdict::pass(format!(
            "the server starts deferring after {} unknown recipient(s): rate limited",
            unknown
                .iter()
                .take_while(|p| p.reply.is_permanent())
                .count()
        ));
    }
    if unknown
        .iter()
        .all(|p| p.reply.signature() == known.reply.signature())
    {
        return Verdict::pass(format!(
            "one answer for postmaster and random users: {} {}",
            known.reply.code,
            known
                .reply
                .enhanced
                .map(|e| e.to_string())
                .unwrap_or_default()
        ));
    }
    if known.reply.is_transient() || first.reply.is_transient() {
        return Verdict::error(format!(
            "temporary answers prove nothing: postmaster → {}, random → {}",
            known.reply.summary(),
            first.reply.summary()
        ));
    }
    let slowest = unknown.iter().map(|p| p.took).max().unwrap_or_default();
    Verdict::warn(format!(
        "RCPT tells users apart at full speed: postmaster → {}, random → {}; {} unknown \
         recipients answered within {} ms each",
        known.reply.summary(),
        first.reply.summary(),
        unknown.len(),
        slowest.as_millis()
    ))
}

async fn timed(
    client: &mut crate::probe::smtp::SmtpClient,
    line: &str,
) -> Result<Probe, crate::probe::ProbeError> {
    let started = Instant::now();
    let reply = client.command(line).await?;
    Ok(Probe {
        reply,
        took: started.elapsed(),
    })
}

#[async_trait::async_trait]
impl Check for RcptEnumeration {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let Some(domain) = ctx.target.domain.clone() else {
            return Verdict::skip("needs the mail domain (--domain) to name its recipients");
        };
        let sender = match &ctx.settings.relay_domain {
            Some(relay) => format!("mailcheck@{relay}"),
            None => String::new(),
        };
        let options = ctx.open_options();
        let mut session = match ctx.open(&options).await {
            Ok(session) => session,
            Err(failure) => return ctx.unavailable(&failure),
        };
        let mark = session.mark();
        let client = &mut session.client;
        let verdict = async {
            let mail = timed(client, &format!("MAIL FROM:<{sender}>"))
                .await
                .map_err(|e| Verdict::error(format!("MAIL FROM broke: {e}")))?;
            if !mail.reply.is_positive() {
                return Err(Verdict::error(format!(
                    "MAIL FROM refused ({}): nothing to compare",
                    mail.reply
                )));
            }
            let known = timed(client, &format!("RCPT TO:<postmaster@{domain}>"))
                .await
                .map_err(|e| Verdict::error(format!("RCPT TO broke: {e}")))?;
            let mut unknown = Vec::new();
            for _ in 0..UNKNOWN_PROBES {
                match timed(client, &format!("RCPT TO:<{}@{domain}>", random_user())).await {
                    Ok(probe) => {
                        let closing = probe.reply.code == 421;
                        unknown.push(probe);
                        if closing {
                            break;
                        }
                    }
                    // A server that hangs up on a harvester is rate limiting it.
                    Err(_) if !unknown.is_empty() => break,
                    Err(e) => return Err(Verdict::error(format!("RCPT TO broke: {e}"))),
                }
            }
            Ok(judge(&known, &unknown))
        }
        .await
        .unwrap_or_else(|verdict| verdict);
        let _ = session.client.command("RSET").await;
        let evidence = session.since(mark);
        let mut all = session.opening();
        all.extend(evidence);
        session.client.quit().await;
        verdict.with_evidence(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::probe::reply::parse_reply;

    fn probe(raw: &str, ms: u64) -> Probe {
        Probe {
            reply: parse_reply(raw.as_bytes()).unwrap().unwrap().0,
            took: Duration::from_millis(ms),
        }
    }

    const OK: &str = "250 2.1.5 Ok\r\n";
    const UNKNOWN: &str = "550 5.1.1 <x@ref.test>: Recipient address rejected: User unknown in virtual mailbox table\r\n";

    #[test]
    fn different_answers_at_full_speed_warn() {
        let unknown = vec![probe(UNKNOWN, 2); 4];
        let verdict = judge(&probe(OK, 2), &unknown);
        assert_eq!(verdict.status, Status::Warn, "{}", verdict.message);
        assert!(verdict.message.contains("550"));
    }

    #[test]
    fn a_tarpit_passes() {
        let unknown = vec![
            probe(UNKNOWN, 2),
            probe(UNKNOWN, 3),
            probe(UNKNOWN, 1002),
            probe(UNKNOWN, 1003),
        ];
        let verdict = judge(&probe(OK, 2), &unknown);
        assert_eq!(verdict.status, Status::Pass, "{}", verdict.message);
        assert!(verdict.message.contains("tarpit"));
    }

    #[test]
    fn a_uniform_answer_passes() {
        let verdict = judge(&probe(OK, 2), &[probe(OK, 2), probe(OK, 3)]);
        assert_eq!(verdict.status, Status::Pass);
        // Postscreen's deep-protocol tests defer every RCPT alike.
        let deferred = "450 4.3.2 Service currently unavailable\r\n";
        let verdict = judge(&probe(deferred, 2), &[probe(deferred, 2)]);
        assert_eq!(verdict.status, Status::Pass);
    }

    #[test]
    fn a_rate_limit_passes() {
        let unknown = vec![
            probe(UNKNOWN, 2),
            probe(UNKNOWN, 2),
            probe("421 4.7.0 Error: too many errors\r\n", 2),
        ];
        let verdict = judge(&probe(OK, 2), &unknown);
        assert_eq!(verdict.status, Status::Pass, "{}", verdict.message);
    }

    #[test]
    fn temporary_answers_alone_prove_nothing() {
        let verdict = judge(&probe("451 4.3.0 try later\r\n", 2), &[probe(UNKNOWN, 2)]);
        assert_eq!(verdict.status, Status::Error);
        assert_eq!(judge(&probe(OK, 2), &[]).status, Status::Error);
    }

    #[test]
    fn it_is_opt_in() {
        assert!(INFO.opt_in);
    }
}
