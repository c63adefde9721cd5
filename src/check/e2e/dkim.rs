//! `e2e.dkim`: the delivered message carries a DKIM signature for the user's domain that
//! verifies against DNS (mail-auth's verifier, asking the same resolver as the dns checks).

use hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator};

use crate::check::e2e::{flow, not_run};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::name_server;

pub struct E2eDkim;

static INFO: CheckInfo = CheckInfo {
    id: "e2e.dkim",
    title: "Outgoing mail is DKIM-signed and verifies",
    category: Category::E2e,
    severity: Severity::High,
    scope: Scope::Target,
    what: "Looks in the message e2e.fetch fetched for a DKIM-Signature of the user's domain \
           and verifies it against the key published in DNS; shows d=, s=, the algorithm, \
           the result, and any Authentication-Results header the server added.",
    why: "Without a valid signature, DMARC fails for the domain and receivers treat its mail \
          as suspect (or reject it under p=reject).",
    fix: "OpenDKIM: `Domain`, `Selector` and `KeyFile` in opendkim.conf, `Mode sv`; Postfix: \
          `smtpd_milters = unix:opendkim/opendkim.sock` and `non_smtpd_milters = $smtpd_milters`, \
          `-o milter_macro_daemon_name=ORIGINATING` on submission; publish \
          `<selector>._domainkey.<domain>` TXT with the key's `p=`.",
    opt_in: false,
    title_fr: Some("Le courrier sortant est signé DKIM et la signature se vérifie"),
    fix_fr: Some(
        "OpenDKIM : `Domain`, `Selector` et `KeyFile` dans opendkim.conf, `Mode sv` ; \
                  Postfix : `smtpd_milters = unix:opendkim/opendkim.sock` et `non_smtpd_milters = \
                  $smtpd_milters`, `-o milter_macro_daemon_name=ORIGINATING` sur submission ; \
                  publiez le TXT `<selector>._domainkey.<domain>` avec le `p=` de la clé.",
    ),
};

/// One signature's outcome, for judgement.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureOutcome {
    pub domain: String,
    pub selector: String,
    pub algorithm: String,
    /// `None` on pass, the reason otherwise.
    pub failure: Option<String>,
}

pub fn judge(domain: &str, outcomes: &[SignatureOutcome]) -> Verdict {
    let ours: Vec<&SignatureOutcome> = outcomes
        .iter()
        .filter(|o| o.domain.eq_ignore_ascii_case(domain))
        .collect();
    if outcomes.is_empty() {
        return Verdict::fail("no DKIM-Signature in the delivered message");
    }
    if ours.is_empty() {
        let others: Vec<&str> = outcomes.iter().map(|o| o.domain.as_str()).collect();
        return Verdict::fail(format!(
            "no DKIM-Signature for {domain} (only d={})",
            others.join(", d=")
        ));
    }
    if let Some(good) = ours.iter().find(|o| o.failure.is_none()) {
        return Verdict::pass(format!(
            "d={} s={} a={}: signature verifies",
            good.domain, good.selector, good.algorithm
        ));
    }
    let bad = ours[0];
    Verdict::fail(format!(
        "signature does not verify: d={} s={}: {}",
        bad.domain,
        bad.selector,
        bad.failure.as_deref().unwrap_or("unknown")
    ))
}

fn authenticator(ctx: &Ctx<'_>) -> Result<MessageAuthenticator, String> {
    let mut options = ResolverOpts::default();
    options.timeout = ctx.net.timeout;
    options.attempts = 0;
    if ctx.dns.addresses.is_empty() {
        return MessageAuthenticator::new_system_conf()
            .map_err(|e| format!("cannot set up the DKIM verifier: {e}"));
    }
    let servers = ctx.dns.addresses.iter().map(name_server).collect();
    MessageAuthenticator::new(ResolverConfig::from_name_servers(servers), options)
        .map_err(|e| format!("cannot set up the DKIM verifier: {e}"))
}

fn header_lines(raw: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = Vec::new();
    let mut current: Option<String> = None;
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(current) = current.as_mut() {
                current.push(' ');
                current.push_str(line.trim());
            }
            continue;
        }
        if let Some(done) = current.take() {
            lines.push(done);
        }
        // Byte-wise: a header line may hold any UTF-8 (or U+FFFD) at that position.
        let bytes = line.as_bytes();
        if bytes
            .get(..name.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(name.as_bytes()))
            && bytes.get(name.len()) == Some(&b':')
        {
            current = Some(line.to_string());
        }
    }
    lines.extend(current);
    lines
}

#[async_trait::async_trait]
impl Check for E2eDkim {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn logins(&self) -> crate::check::Logins {
        crate::check::Logins::Real
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let shared = flow(ctx).await;
        let flow = match shared.as_ref() {
            Ok(flow) => flow,
            Err(reason) => return not_run(reason),
        };
        let raw = match &flow.outbound.arrived {
            Some(Ok(found)) => &found.raw,
            _ => {
                return Verdict::error(
                    "no delivered message to verify (see e2e.submit and e2e.fetch)",
                );
            }
        };
        let domain = flow
            .user
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut evidence: Vec<String> = header_lines(raw, "DKIM-Signature")
            .into_iter()
            .map(|l| format!("H: {l}"))
            .collect();
        evidence.extend(
            header_lines(raw, "Authentication-Results")
                .into_iter()
                .map(|l| format!("H: {l}")),
        );
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return Verdict::error("the delivered message does not parse").with_evidence(evidence);
        };
        let authenticator = match authenticator(ctx) {
            Ok(authenticator) => authenticator,
            Err(why) => return Verdict::error(why).with_evidence(evidence),
        };
        let outputs = authenticator.verify_dkim(&message).await;
        let mut outcomes = Vec::new();
        for output in &outputs {
            let Some(signature) = output.signature() else {
                continue;
            };
            let failure = match output.result() {
                DkimResult::Pass => None,
                DkimResult::TempError(e) => {
                    evidence.push(format!(
                        "* d={} s={}: temporary error: {e}",
                        signature.d, signature.s
                    ));
                    return Verdict::error(format!(
                        "cannot verify d={} s={}: {e}",
                        signature.d, signature.s
                    ))
                    .with_evidence(evidence);
                }
                DkimResult::Neutral(e) | DkimResult::Fail(e) | DkimResult::PermError(e) => {
                    Some(e.to_string())
                }
                DkimResult::None => Some("no result".into()),
            };
            let algorithm = format!("{:?}", signature.a)
                .to_ascii_lowercase()
                .replace("sha", "-sha");
            evidence.push(format!(
                "* verified d={} s={} a={}: {}",
                signature.d,
                signature.s,
                algorithm,
                failure.as_deref().unwrap_or("pass")
            ));
            outcomes.push(SignatureOutcome {
                domain: signature.d.clone(),
                selector: signature.s.clone(),
                algorithm,
                failure,
            });
        }
        judge(&domain, &outcomes).with_evidence(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;

    fn outcome(domain: &str, failure: Option<&str>) -> SignatureOutcome {
        SignatureOutcome {
            domain: domain.into(),
            selector: "mail".into(),
            algorithm: "rsa-sha256".into(),
            failure: failure.map(str::to_string),
        }
    }

    #[test]
    fn judgement() {
        assert_eq!(
            judge("ref.test", &[]).message,
            "no DKIM-Signature in the delivered message"
        );
        assert_eq!(
            judge("ref.test", &[outcome("ref.test", None)]).status,
            Status::Pass
        );
        let other = judge("ref.test", &[outcome("other.test", None)]);
        assert_eq!(other.status, Status::Fail);
        assert!(other.message.contains("d=other.test"));
        let bad = judge(
            "ref.test",
            &[outcome("ref.test", Some("signature mismatch"))],
        );
        assert!(
            bad.message.starts_with("signature does not verify"),
            "{}",
            bad.message
        );
    }

    #[test]
    fn folded_headers_are_unfolded() {
        let raw =
            b"DKIM-Signature: v=1; a=rsa-sha256;\r\n\td=ref.test; s=mail\r\nSubject: x\r\n\r\nbody";
        assert_eq!(
            header_lines(raw, "dkim-signature"),
            ["DKIM-Signature: v=1; a=rsa-sha256; d=ref.test; s=mail"]
        );
        assert!(header_lines(raw, "Authentication-Results").is_empty());
        // Multi-byte characters where the name would end must not panic.
        let raw = "Subject: déjà vu été\r\nDKIM-Signatur€: x\r\n\r\n".as_bytes();
        assert!(header_lines(raw, "DKIM-Signature").is_empty());
    }
}
