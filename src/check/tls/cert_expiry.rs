//! `tls.cert.expiry`: no certificate of the chain has expired; warn when one expires soon.

use crate::check::tls::{
    CertFacts, NO_CERTIFICATE, bad_certificate, facts, judge_handshake, now, openssl_date,
};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};

pub struct CertExpiry;

static INFO: CheckInfo = CheckInfo {
    id: "tls.cert.expiry",
    title: "Certificate is within its validity period",
    category: Category::Tls,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &Role::TLS,
        stage: Stage::Own,
    },
    what: "Reads notBefore/notAfter of every certificate the server presents: one expired (or \
           not yet valid) fails (warns on port 25); one that expires within the warning window \
           (14 days, scenario setting `expiry_warn_days`) warns.",
    why: "An expired certificate breaks every client that verifies, usually on a weekend: \
          renewal that silently stopped is the most common TLS outage.",
    fix: "Renew the certificate (`certbot renew`), make renewal automatic (certbot's timer) and \
          reload the servers after it (`postfix reload`, `doveadm reload` in a deploy hook): \
          Postfix (`smtpd_tls_chain_files`) and Dovecot (`ssl_cert`) only read the file at start.",
    opt_in: false,
    title_fr: Some("Le certificat est dans sa période de validité"),
    fix_fr: Some(
        "Renouvelez le certificat (`certbot renew`), rendez le renouvellement \
                  automatique (le timer de certbot) et rechargez les serveurs ensuite (`postfix \
                  reload`, `doveadm reload` dans un deploy hook) : Postfix \
                  (`smtpd_tls_chain_files`) et Dovecot (`ssl_cert`) ne lisent le fichier qu'au \
                  démarrage.",
    ),
};

const DAY: i64 = 86_400;

/// Judges the presented chain's validity periods at `now`.
pub fn judge(role: Role, chain: &[CertFacts], now: i64, warn_days: u32) -> Verdict {
    let Some(leaf) = chain.first() else {
        return Verdict::error(NO_CERTIFICATE);
    };
    let position = |index: usize| {
        if index == 0 {
            "the server's certificate".to_string()
        } else {
            format!("chain certificate {index}")
        }
    };
    if let Some((index, cert)) = chain.iter().enumerate().find(|(_, c)| c.not_after < now) {
        let ago = match (now - cert.not_after) / DAY {
            0 => "less than a day ago".to_string(),
            days => format!("{days} day(s) ago"),
        };
        return bad_certificate(
            role,
            format!(
                "{} ({}) EXPIRED on {} ({ago})",
                position(index),
                cert.subject,
                openssl_date(cert.not_after)
            ),
        );
    }
    if let Some((index, cert)) = chain.iter().enumerate().find(|(_, c)| c.not_before > now) {
        return bad_certificate(
            role,
            format!(
                "{} ({}) is not valid before {} (server clock or a certificate issued with a wrong date?)",
                position(index),
                cert.subject,
                openssl_date(cert.not_before)
            ),
        );
    }
    let (index, soonest) = chain
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| c.not_after)
        .expect("chain is not empty");
    let days_left = (soonest.not_after - now) / DAY;
    if days_left < i64::from(warn_days) {
        return Verdict::warn(format!(
            "{} ({}) expires in {days_left} day(s), on {} (warning under {warn_days} days)",
            position(index),
            soonest.subject,
            openssl_date(soonest.not_after)
        ));
    }
    Verdict::pass(format!(
        "valid until {} ({} day(s) left){}",
        openssl_date(leaf.not_after),
        (leaf.not_after - now) / DAY,
        if chain.len() > 1 {
            format!("; the chain's {} certificate(s) are valid too", chain.len())
        } else {
            String::new()
        }
    ))
}

#[async_trait::async_trait]
impl Check for CertExpiry {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let (role, warn_days) = (ctx.endpoint().role, ctx.settings.tls.expiry_warn_days);
        let verdict = judge_handshake(ctx, " -showcerts", |observation| {
            let chain: Result<Vec<CertFacts>, String> =
                observation.info.chain.iter().map(facts).collect();
            match chain {
                Ok(chain) => judge(role, &chain, now(), warn_days),
                Err(err) => Verdict::error(err),
            }
        })
        .await;
        crate::check::tls::mx_policy::under_mx_policy(ctx, verdict).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tls::KeyFacts;
    use crate::outcome::Status;

    const NOW: i64 = 1_795_313_460;

    fn cert(subject: &str, not_before: i64, not_after: i64) -> CertFacts {
        CertFacts {
            subject: subject.into(),
            issuer: "CN=ca".into(),
            sans: vec![],
            not_before,
            not_after,
            key: KeyFacts::Rsa { bits: 2048 },
            signature: "sha256WithRSAEncryption".into(),
        }
    }

    #[test]
    fn valid_certificate_passes_with_its_date() {
        let verdict = judge(
            Role::Imaps,
            &[cert("CN=a", NOW - DAY, NOW + 90 * DAY)],
            NOW,
            14,
        );
        assert_eq!(verdict.status, Status::Pass);
        assert!(
            verdict.message.contains("90 day(s) left"),
            "{}",
            verdict.message
        );
        assert!(verdict.message.contains("GMT"));
    }

    #[test]
    fn expired_fails_or_warns_by_role() {
        let expired = [cert("CN=mail.weak.test", NOW - 400 * DAY, NOW - 30 * DAY)];
        let verdict = judge(Role::Imap, &expired, NOW, 14);
        assert_eq!(verdict.status, Status::Fail);
        assert!(verdict.message.contains("EXPIRED") && verdict.message.contains("30 day(s) ago"));
        assert_eq!(judge(Role::Mx, &expired, NOW, 14).status, Status::Warn);
        let future = [cert("CN=a", NOW + DAY, NOW + 90 * DAY)];
        assert_eq!(judge(Role::Pop3s, &future, NOW, 14).status, Status::Fail);
    }

    #[test]
    fn soon_expiring_warns_everywhere_and_the_window_is_configurable() {
        let soon = [cert("CN=a", NOW - 80 * DAY, NOW + 5 * DAY + 60)];
        let verdict = judge(Role::Submission, &soon, NOW, 14);
        assert_eq!(verdict.status, Status::Warn);
        assert!(
            verdict.message.contains("expires in 5 day(s)"),
            "{}",
            verdict.message
        );
        assert_eq!(judge(Role::Submission, &soon, NOW, 3).status, Status::Pass);
    }

    #[test]
    fn an_expiring_intermediate_counts() {
        let chain = [
            cert("CN=leaf", NOW - DAY, NOW + 300 * DAY),
            cert("CN=intermediate", NOW - 900 * DAY, NOW + 2 * DAY),
        ];
        let verdict = judge(Role::Smtps, &chain, NOW, 14);
        assert_eq!(verdict.status, Status::Warn);
        assert!(
            verdict
                .message
                .contains("chain certificate 1 (CN=intermediate)")
        );
        assert_eq!(judge(Role::Smtps, &[], NOW, 14).status, Status::Error);
    }
}
