//! `smtp.relay.refused`: the server relays nothing from an outside sender to an outside
//! recipient, whatever the address form (plain, quoted, %-hack, source route, bang path...).
//!
//! Sender and recipient are both at `--relay-domain`; the checked domain and host only ever
//! appear as the "via" part of tricky forms. Never sends DATA: every probe ends with RSET.

use crate::check::smtp::{Transaction, deferral_note, defers_session, transaction};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::Answer;
use crate::probe::failure::OpenFailureKind;
use crate::probe::reply::Reply;
use crate::probe::smtp::Session;

pub struct RelayRefused;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.relay.refused",
    title: "Not an open relay",
    category: Category::Smtp,
    severity: Severity::Critical,
    scope: Scope::Endpoints {
        roles: &[Role::Mx, Role::Submission],
        stage: Stage::Own,
    },
    what: "From an outside sender to an outside recipient at --relay-domain, tries the address \
           forms nmap's smtp-open-relay tries (plain, quoted, %-hack, source route, bang path, \
           ...) on 25, and unauthenticated on 587 (after STARTTLS when offered). Every RCPT must \
           be refused. Never sends DATA.",
    why: "An open relay is abused to send spam within hours, and lands the server's address on \
          every blocklist.",
    fix: "Postfix: `smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, \
          reject_unauth_destination` and a `mynetworks` limited to your own hosts (never \
          0.0.0.0/0 or a whole provider range).",
    opt_in: false,
    title_fr: Some("Pas de relais ouvert"),
    fix_fr: Some(
        "Postfix : `smtpd_relay_restrictions = permit_mynetworks, \
                  permit_sasl_authenticated, reject_unauth_destination` et un `mynetworks` limité \
                  à vos propres hôtes (jamais 0.0.0.0/0 ni toute la plage d'un fournisseur).",
    ),
};

/// Most probes on one connection: Postfix slows down after `smtpd_soft_error_limit` (10)
/// errors, and each refused probe costs one or two.
const PROBES_PER_SESSION: usize = 4;

/// One way of writing an outside recipient.
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub name: &'static str,
    pub recipient: String,
}

/// The recipient forms for relay domain `relay`, through the host's address literal `via_ip`
/// and, when known, its name `via_host`.
pub fn forms(relay: &str, via_ip: &str, via_host: Option<&str>) -> Vec<Form> {
    let user = "relaytest";
    let mut forms = vec![
        Form {
            name: "plain",
            recipient: format!("{user}@{relay}"),
        },
        Form {
            name: "quoted",
            recipient: format!("\"{user}@{relay}\""),
        },
        Form {
            name: "percent-hack",
            recipient: format!("{user}%{relay}@{via_ip}"),
        },
        Form {
            name: "source-route",
            recipient: format!("@{via_ip}:{user}@{relay}"),
        },
        Form {
            name: "bang-path",
            recipient: format!("{relay}!{user}"),
        },
        Form {
            name: "quoted-via",
            recipient: format!("\"{user}@{relay}\"@{via_ip}"),
        },
        Form {
            name: "double-at",
            recipient: format!("{user}@{relay}@{via_ip}"),
        },
    ];
    if let Some(host) = via_host {
        forms.push(Form {
            name: "percent-hack-host",
            recipient: format!("{user}%{relay}@{host}"),
        });
        forms.push(Form {
            name: "bang-path-host",
            recipient: format!("{relay}!{user}@{host}"),
        });
    }
    forms
}

/// What one refusal proves.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// A policy refusal: relaying denied, or the transaction refused outright.
    Proves,
    /// "Domain not found" and other temporary answers: the server might relay once DNS works.
    ProvesNothing(String),
}

pub fn classify(reply: &Reply) -> Refusal {
    if defers_session(reply) {
        return Refusal::ProvesNothing(format!("the session was deferred: {reply}"));
    }
    let text = reply.lines.join(" ").to_ascii_lowercase();
    let enhanced = reply.enhanced.map(|e| (e.subject, e.detail));
    let not_found = text.contains("not found")
        || text.contains("does not resolve")
        || text.contains("unknown domain")
        || matches!(enhanced, Some((1, 2)) | Some((1, 8)) | Some((4, 4)));
    if not_found {
        return Refusal::ProvesNothing(format!(
            "a refusal that only says a domain does not resolve: {reply}"
        ));
    }
    if reply.is_permanent() || text.contains("relay") || matches!(enhanced, Some((7, _))) {
        Refusal::Proves
    } else {
        Refusal::ProvesNothing(format!("a temporary answer: {reply}"))
    }
}

pub fn judge(outcomes: &[(Form, Transaction)]) -> Verdict {
    let accepted: Vec<String> = outcomes
        .iter()
        .filter(|(_, t)| matches!(t, Transaction::Accepted(_)))
        .map(|(form, _)| format!("{} <{}>", form.name, form.recipient))
        .collect();
    if !accepted.is_empty() {
        return Verdict::fail(format!("OPEN RELAY: accepted {}", accepted.join(", ")));
    }
    let inconclusive: Vec<String> = outcomes
        .iter()
        .filter_map(|(form, t)| match t.refusal().map(classify) {
            Some(Refusal::ProvesNothing(why)) => Some(format!("{}: {why}", form.name)),
            _ => None,
        })
        .collect();
    if let Some(first) = inconclusive.first() {
        return Verdict::error(format!(
            "cannot tell for {} of {} forms ({first})",
            inconclusive.len(),
            outcomes.len()
        ));
    }
    Verdict::pass(format!("all {} relay forms refused", outcomes.len()))
}

#[async_trait::async_trait]
impl Check for RelayRefused {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let Some(relay) = ctx.settings.relay_domain.clone() else {
            return Verdict::skip(
                "no --relay-domain given: an outside domain with a real MX is needed for relay probes",
            );
        };
        if let Some(domain) = &ctx.target.domain
            && (relay == *domain
                || relay.ends_with(&format!(".{domain}"))
                || domain.ends_with(&format!(".{relay}")))
        {
            return Verdict::error(format!(
                "--relay-domain {relay} is not outside the checked domain {domain}"
            ));
        }
        // One look-up per target, however many endpoints are probed.
        let looked_up = ctx
            .shared("smtp.relay.mx", || async { ctx.dns.mx(&relay).await })
            .await;
        let (mx, exchange) = &*looked_up;
        let mut evidence = exchange.lines.clone();
        match mx {
            Answer::Records(records) if records.iter().any(|(_, host)| !host.is_empty()) => {}
            _ => {
                return Verdict::error(format!(
                    "--relay-domain {relay} has no usable MX: refusals would prove nothing"
                ))
                .with_evidence(evidence);
            }
        }
        let endpoint = ctx.endpoint();
        let via_ip = match endpoint.ip {
            std::net::IpAddr::V4(ip) => format!("[{ip}]"),
            std::net::IpAddr::V6(ip) => format!("[IPv6:{ip}]"),
        };
        let sender = format!("mailcheck@{relay}");
        let mut outcomes = Vec::new();
        let mut retried = false;
        let all_forms = forms(&relay, &via_ip, endpoint.host.as_deref());
        let mut batches = all_forms.chunks(PROBES_PER_SESSION).peekable();
        while let Some(batch) = batches.peek().copied() {
            let mut session = match open(ctx).await {
                Ok(session) => session,
                Err(verdict) => return verdict.with_evidence(evidence),
            };
            let first = outcomes.len();
            for form in batch {
                match transaction(&mut session, &sender, &form.recipient).await {
                    Ok(outcome) => outcomes.push((form.clone(), outcome)),
                    Err(err) => {
                        evidence.extend(session.client.conn.transcript.lines().iter().cloned());
                        return Verdict::error(format!("relay probe {} broke: {err}", form.name))
                            .with_evidence(evidence);
                    }
                }
                if relayed(&outcomes) {
                    break;
                }
            }
            evidence.extend(session.client.conn.transcript.lines().iter().cloned());
            session.client.quit().await;
            // postscreen's after-220 deferral refuses the session, not the forms: once per
            // check, the same batch again on a new connection.
            let deferral = outcomes[first..]
                .iter()
                .find_map(|(_, outcome)| outcome.deferred().cloned());
            if let Some(reply) = deferral
                && !retried
                && !relayed(&outcomes)
            {
                let pause = ctx.open_options().retry_pause;
                evidence.push(deferral_note(&reply, pause));
                tokio::time::sleep(pause).await;
                outcomes.truncate(first);
                retried = true;
                continue;
            }
            batches.next();
            // One accepted form proves it. Each acceptance also opens a queue file on the
            // server (and Postfix then throttles with `in_flow_delay`): stop there.
            if relayed(&outcomes) {
                evidence.push("* stopped at the first accepted form".into());
                break;
            }
        }
        judge(&outcomes).with_evidence(evidence)
    }
}

fn relayed(outcomes: &[(Form, Transaction)]) -> bool {
    outcomes
        .iter()
        .any(|(_, t)| matches!(t, Transaction::Accepted(_)))
}

/// On 587 the probe goes through STARTTLS when it is offered: what an unauthenticated client
/// after TLS may do is the question there.
async fn open(ctx: &Ctx<'_>) -> Result<Session, Verdict> {
    let mut options = ctx.open_options();
    options.starttls = ctx.endpoint().role == Role::Submission;
    match ctx.open(&options).await {
        Ok(session) => Ok(session),
        Err(failure) if matches!(failure.kind, OpenFailureKind::StartTlsNotOffered) => {
            options.starttls = false;
            ctx.open(&options)
                .await
                .map_err(|failure| ctx.unavailable(&failure))
        }
        Err(failure) => Err(ctx.unavailable(&failure)),
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

    fn form(name: &'static str) -> Form {
        Form {
            name,
            recipient: "r@outside.test".into(),
        }
    }

    #[test]
    fn forms_never_use_the_checked_host_as_the_outside_party() {
        let all = forms("outside.test", "[127.0.100.10]", Some("mail.ref.test"));
        assert!(all.len() >= 8);
        for form in &all {
            assert!(form.recipient.contains("outside.test"), "{form:?}");
        }
        assert!(
            all.iter()
                .any(|f| f.recipient == "relaytest%outside.test@[127.0.100.10]")
        );
        assert!(
            all.iter()
                .any(|f| f.recipient == "@[127.0.100.10]:relaytest@outside.test")
        );
    }

    #[test]
    fn any_accepted_form_fails() {
        let outcomes = vec![
            (
                form("plain"),
                Transaction::RcptRefused(reply(
                    "554 5.7.1 <r@outside.test>: Relay access denied\r\n",
                )),
            ),
            (
                form("quoted"),
                Transaction::Accepted(reply("250 2.1.5 Ok\r\n")),
            ),
        ];
        let verdict = judge(&outcomes);
        assert_eq!(verdict.status, Status::Fail);
        assert!(verdict.message.contains("quoted"));
    }

    #[test]
    fn policy_refusals_pass_including_postfix_454() {
        let outcomes = vec![
            (
                form("plain"),
                Transaction::RcptRefused(reply(
                    "454 4.7.1 <r@outside.test>: Relay access denied\r\n",
                )),
            ),
            (
                form("bang"),
                Transaction::RcptRefused(reply("501 5.1.3 Bad recipient address syntax\r\n")),
            ),
            (
                form("tls"),
                Transaction::MailRefused(reply(
                    "530 5.7.0 Must issue a STARTTLS command first\r\n",
                )),
            ),
        ];
        assert_eq!(judge(&outcomes).status, Status::Pass);
    }

    #[test]
    fn a_deferred_session_proves_nothing() {
        let outcomes = vec![(
            form("plain"),
            Transaction::RcptRefused(reply("450 4.3.2 Service currently unavailable\r\n")),
        )];
        let verdict = judge(&outcomes);
        assert_eq!(verdict.status, Status::Error);
        assert!(verdict.message.contains("deferred"), "{}", verdict.message);
        // Postfix's own relay refusal with a 4xx (soft_bounce) still proves the policy.
        assert_eq!(
            classify(&reply(
                "454 4.7.1 <r@outside.test>: Relay access denied\r\n"
            )),
            Refusal::Proves
        );
    }

    #[test]
    fn domain_not_found_proves_nothing() {
        let outcomes = vec![
            (
                form("plain"),
                Transaction::RcptRefused(reply("554 5.7.1 Relay access denied\r\n")),
            ),
            (
                form("quoted"),
                Transaction::MailRefused(reply(
                    "450 4.1.8 <m@outside.test>: Sender address rejected: Domain not found\r\n",
                )),
            ),
        ];
        let verdict = judge(&outcomes);
        assert_eq!(verdict.status, Status::Error);
        assert!(
            verdict.message.contains("does not resolve"),
            "{}",
            verdict.message
        );
        assert!(matches!(
            classify(&reply("451 4.3.0 Temporary lookup failure\r\n")),
            Refusal::ProvesNothing(_)
        ));
    }
}
