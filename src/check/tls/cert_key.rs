//! `tls.cert.key`: the certificate's key is strong enough (RSA >= 2048 bits, EC >= 256 bits).

use crate::check::tls::{KeyFacts, bad_certificate, judge_handshake, leaf_facts};
use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};

pub struct CertKey;

static INFO: CheckInfo = CheckInfo {
    id: "tls.cert.key",
    title: "Certificate key is strong enough",
    category: Category::Tls,
    severity: Severity::Medium,
    scope: Scope::Endpoints {
        roles: &Role::TLS,
        stage: Stage::Own,
    },
    what: "Reads the public key of the server's certificate: RSA of at least 2048 bits, EC of \
           at least 256 bits, or Ed25519/Ed448 pass; anything weaker (or DSA) fails (warns on \
           port 25).",
    why: "RSA keys under 2048 bits are within reach of factoring and refused by current \
          clients and CAs (CA/Browser Forum baseline requirements).",
    fix: "Issue a new key and certificate: `certbot certonly --key-type ecdsa` (P-256) or \
          `--rsa-key-size 2048` or more; then point Postfix (`smtpd_tls_chain_files`) and \
          Dovecot (`ssl_cert`, `ssl_key`) at them and reload.",
    opt_in: false,
    title_fr: Some("La clé du certificat est assez forte"),
    fix_fr: Some(
        "Émettez une nouvelle clé et un nouveau certificat : `certbot certonly \
                  --key-type ecdsa` (P-256) ou `--rsa-key-size 2048` ou plus ; puis faites-y \
                  pointer Postfix (`smtpd_tls_chain_files`) et Dovecot (`ssl_cert`, `ssl_key`) et \
                  rechargez-les.",
    ),
};

pub fn judge(role: Role, key: &KeyFacts) -> Verdict {
    let described = key.describe();
    match key {
        KeyFacts::Rsa { bits } if *bits >= 2048 => Verdict::pass(format!("{described} key")),
        KeyFacts::Ec { bits, .. } if *bits >= 256 => Verdict::pass(format!("{described} key")),
        KeyFacts::Ed25519 | KeyFacts::Ed448 => Verdict::pass(format!("{described} key")),
        KeyFacts::Rsa { .. } => bad_certificate(
            role,
            format!("{described} key: RSA needs at least 2048 bits"),
        ),
        KeyFacts::Ec { .. } => {
            bad_certificate(role, format!("{described} key: EC needs at least 256 bits"))
        }
        KeyFacts::Other { .. } => bad_certificate(
            role,
            format!("{described} key: use RSA (>= 2048 bits) or EC (>= 256 bits)"),
        ),
    }
}

#[async_trait::async_trait]
impl Check for CertKey {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let role = ctx.endpoint().role;
        judge_handshake(ctx, "", |observation| match leaf_facts(observation) {
            Ok(cert) => judge(role, &cert.key),
            Err(verdict) => verdict,
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tls::test_certs::leaf;
    use crate::check::tls::{facts, now};
    use crate::outcome::Status;

    #[test]
    fn sizes_and_types() {
        assert_eq!(
            judge(Role::Imaps, &KeyFacts::Rsa { bits: 2048 }).status,
            Status::Pass
        );
        assert_eq!(
            judge(Role::Imaps, &KeyFacts::Rsa { bits: 4096 }).status,
            Status::Pass
        );
        let small = judge(Role::Imaps, &KeyFacts::Rsa { bits: 1024 });
        assert_eq!(small.status, Status::Fail);
        assert!(small.message.contains("RSA 1024 bit"));
        assert_eq!(
            judge(Role::Mx, &KeyFacts::Rsa { bits: 1024 }).status,
            Status::Warn
        );
        let p256 = KeyFacts::Ec {
            bits: 256,
            curve: "prime256v1".into(),
        };
        assert_eq!(judge(Role::Pop3, &p256).status, Status::Pass);
        let p192 = KeyFacts::Ec {
            bits: 192,
            curve: "prime192v1".into(),
        };
        assert_eq!(judge(Role::Pop3, &p192).status, Status::Fail);
        assert_eq!(judge(Role::Pop3, &KeyFacts::Ed25519).status, Status::Pass);
        let dsa = KeyFacts::Other {
            what: "dsa".into(),
            bits: 2048,
        };
        assert_eq!(judge(Role::Pop3, &dsa).status, Status::Fail);
    }

    /// `openssl req -x509 -newkey rsa:1024 -subj /CN=weak-key.test -days 36500`: rcgen (on
    /// ring) cannot make RSA keys, so this one was made once with openssl.
    const RSA_1024: &str = "-----BEGIN CERTIFICATE-----\n\
MIICKDCCAZGgAwIBAgIUe2iV6P2iCQATWWjoMNckUrvk9gkwDQYJKoZIhvcNAQEL\n\
BQAwGDEWMBQGA1UEAwwNd2Vhay1rZXkudGVzdDAgFw0yNjExMjIwMjM1MDBaGA8y\n\
MTI2MTAyOTAyMzUwMFowGDEWMBQGA1UEAwwNd2Vhay1rZXkudGVzdDCBnzANBgkq\n\
hkiG9w0BAQEFAAOBjQAwgYkCgYEAyzc55obRiMfeDzmGVhL8BvP1xr+5I6Xm0eGi\n\
BERWHPMXDY06CXYOUZrLCaL91ibUaAYZpHGsKYtj6HKGuKmNec9XpleIo+ytg7vt\n\
UpHXJetZIiqdGgionlx92soC878kZ1U+rCEqPsEckHvLhZ7mDjUmwHuk1nw9OQ2b\n\
0cff+q0CAwEAAaNtMGswHQYDVR0OBBYEFIBk5nfIuIMmOv0zKDVON4hDW99lMB8G\n\
A1UdIwQYMBaAFIBk5nfIuIMmOv0zKDVON4hDW99lMA8GA1UdEwEB/wQFMAMBAf8w\n\
GAYDVR0RBBEwD4INd2Vhay1rZXkudGVzdDANBgkqhkiG9w0BAQsFAAOBgQAYV/Mo\n\
TIqOp1oC4nzwHvuEQZbZlXjBLb5Ql8ozDpDkWeesEcKjnJ2/P5xK/wzd4G77NB/d\n\
jWhtV/jCIKq7vmkn1qbAmlqU8Tudw7MpnzuGDSZ35WEVjk4r8uN2CDn8lIQDGtXQ\n\
py0Z3sBKOJ9Fe0u6tCvgktfsJ/7YQkGhykD1kA==\n\
-----END CERTIFICATE-----";

    #[test]
    fn a_real_1024_bit_rsa_certificate_is_too_weak() {
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(RSA_1024.as_bytes()).unwrap();
        let key = facts(&der).unwrap().key;
        assert_eq!(key, KeyFacts::Rsa { bits: 1024 });
        assert_eq!(judge(Role::Imaps, &key).status, Status::Fail);
    }

    #[test]
    fn keys_read_from_real_certificates() {
        let now = now();
        for (alg, expected) in [
            (&rcgen::PKCS_ECDSA_P256_SHA256, "EC 256 bit (prime256v1)"),
            (&rcgen::PKCS_ECDSA_P384_SHA384, "EC 384 bit (secp384r1)"),
            (&rcgen::PKCS_ED25519, "Ed25519 (256 bit)"),
        ] {
            let der = leaf(&["a.test"], now - 60, now + 86_400, None, alg);
            let key = facts(&der).unwrap().key;
            assert_eq!(key.describe(), expected);
            assert_eq!(judge(Role::Smtps, &key).status, Status::Pass);
        }
    }
}
