//! `tls.cert.trusted`: the certificate chain validates against the webpki roots plus `--ca-file`.

use crate::check::tls::{
    ChainResult, bad_certificate, judge_handshake, leaf_facts, now, verify_chain,
};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::tls::TlsObservation;

pub struct CertTrusted;

static INFO: CheckInfo = CheckInfo {
    id: "tls.cert.trusted",
    title: "Certificate chain is trusted",
    category: Category::Tls,
    severity: Severity::High,
    scope: Scope::Endpoints {
        roles: &Role::TLS,
        stage: Stage::Own,
    },
    what: "Builds a path from the certificate the server presents, through the intermediates it \
           sends, to a trusted root: the webpki (Mozilla) roots plus the PEM certificates of \
           `--ca-file`. Expiry is judged by tls.cert.expiry, the name by tls.cert.hostname. \
           On port 25 an untrusted chain is a warning (senders do not verify, RFC 7672); \
           elsewhere clients must verify it (RFC 8314), so it fails.",
    why: "Mail clients refuse (or teach their users to click through) a certificate they \
          cannot verify, and a client that accepts any certificate can be intercepted.",
    fix: "Use a certificate from a public CA (e.g. Let's Encrypt) and send the full chain. \
          Postfix: `smtpd_tls_chain_files = /etc/letsencrypt/live/HOST/privkey.pem, \
          /etc/letsencrypt/live/HOST/fullchain.pem` (or `smtpd_tls_cert_file` pointing at \
          fullchain.pem, leaf first). Dovecot: `ssl_cert = </etc/letsencrypt/live/HOST/fullchain.pem` \
          and `ssl_key = </etc/letsencrypt/live/HOST/privkey.pem`. A private CA is trusted only \
          by clients given its certificate (mailcheck: `--ca-file`).",
    opt_in: false,
    title_fr: Some("La chaîne de certificats est de confiance"),
    fix_fr: Some(
        "Utilisez un certificat d'une autorité publique (par exemple Let's Encrypt) et \
                  envoyez la chaîne complète. Postfix : `smtpd_tls_chain_files = \
                  /etc/letsencrypt/live/HOST/privkey.pem, \
                  /etc/letsencrypt/live/HOST/fullchain.pem` (ou `smtpd_tls_cert_file` vers \
                  fullchain.pem, le certificat du serveur en premier). Dovecot : `ssl_cert = \
                  </etc/letsencrypt/live/HOST/fullchain.pem` et `ssl_key = \
                  </etc/letsencrypt/live/HOST/privkey.pem`. Une autorité privée n'est reconnue \
                  que par les clients à qui l'on a donné son certificat (mailcheck : \
                  `--ca-file`).",
    ),
};

/// Judges the chain verification of the certificate presented on a port of `role`.
pub fn judge(
    role: Role,
    observation: &TlsObservation,
    result: &ChainResult,
    ca_file_given: bool,
) -> Verdict {
    let chain = &observation.info.chain;
    let leaf = leaf_facts(observation).ok();
    let who = leaf
        .as_ref()
        .map(|f| format!("{} issued by {}", f.subject, f.issuer))
        .unwrap_or_else(|| "the certificate".into());
    match result {
        ChainResult::Trusted { anchor } => Verdict::pass(format!(
            "chain of {} certificate(s) validates to {anchor}: {who}",
            chain.len()
        )),
        ChainResult::TrustedOutsideValidity { anchor, problem } => Verdict::pass(format!(
            "chain of {} certificate(s) validates to {anchor} within its validity period \
             ({problem}: tls.cert.expiry reports it): {who}",
            chain.len()
        )),
        ChainResult::Untrusted(why) => {
            let message = match &leaf {
                Some(cert) if cert.self_signed() => format!(
                    "certificate not trusted: self-signed ({}), no CA vouches for it ({why})",
                    cert.subject
                ),
                _ if !ca_file_given => format!(
                    "certificate not trusted: {why}: {who} (signed by a private CA? give its certificate with --ca-file)"
                ),
                _ => format!("certificate not trusted: {why}: {who}"),
            };
            bad_certificate(role, message)
        }
    }
}

#[async_trait::async_trait]
impl Check for CertTrusted {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let role = ctx.endpoint().role;
        let trust = &ctx.settings.tls.trust;
        let ca = trust
            .ca_file
            .as_ref()
            .map(|p| format!(" -CAfile {}", p.display()))
            .unwrap_or_default();
        let verdict = judge_handshake(ctx, &format!(" -showcerts{ca}"), |observation| {
            let result = verify_chain(&observation.info.chain, trust, now());
            judge(role, observation, &result, trust.ca_file.is_some())
        })
        .await;
        crate::check::tls::mx_policy::under_mx_policy(ctx, verdict).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tls::TrustStore;
    use crate::check::tls::test_certs::{ca, leaf};
    use crate::outcome::Status;
    use crate::probe::tls::TlsInfo;

    fn observation(chain: Vec<rustls_pki_types::CertificateDer<'static>>) -> TlsObservation {
        TlsObservation {
            info: TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "TLS13_AES_256_GCM_SHA384".into(),
                server_name: "mail.ref.test".into(),
                chain,
            },
            evidence: vec!["* connected".into()],
        }
    }

    #[test]
    fn private_ca_chain_passes_with_the_ca_file_only() {
        let now = now();
        let authority = ca();
        let obs = observation(vec![leaf(
            &["mail.ref.test"],
            now - 86_400,
            now + 86_400 * 90,
            Some(&authority),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )]);
        let store = TrustStore::with_pem(authority.pem.as_bytes(), Some("ca.pem".into())).unwrap();
        let with = judge(
            Role::Imaps,
            &obs,
            &verify_chain(&obs.info.chain, &store, now),
            true,
        );
        assert_eq!(with.status, Status::Pass, "{}", with.message);
        assert!(
            with.message.contains("--ca-file ca.pem"),
            "{}",
            with.message
        );
        let without = judge(
            Role::Imaps,
            &obs,
            &verify_chain(&obs.info.chain, &TrustStore::webpki(), now),
            false,
        );
        assert_eq!(without.status, Status::Fail);
        assert!(without.message.contains("--ca-file"), "{}", without.message);
        // On 25 the same chain is only a warning.
        let mx = judge(
            Role::Mx,
            &obs,
            &verify_chain(&obs.info.chain, &TrustStore::webpki(), now),
            false,
        );
        assert_eq!(mx.status, Status::Warn);
        assert!(mx.message.contains("RFC 7672"));
    }

    #[test]
    fn self_signed_is_named() {
        let now = now();
        let obs = observation(vec![leaf(
            &["wrong.example"],
            now - 86_400,
            now + 86_400,
            None,
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )]);
        let verdict = judge(
            Role::Submission,
            &obs,
            &verify_chain(&obs.info.chain, &TrustStore::webpki(), now),
            true,
        );
        assert_eq!(verdict.status, Status::Fail);
        assert!(
            verdict.message.contains("self-signed"),
            "{}",
            verdict.message
        );
        assert!(verdict.message.contains("CN=wrong.example"));
    }
}
