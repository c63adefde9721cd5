//! `dns.dkim`: a DKIM key record at `<selector>._domainkey.<domain>` that parses, is not
//! revoked and is long enough (RFC 6376 §3.6, RFC 8301 §3.2).
//!
//! Records are parsed by mail-auth (`DomainKey::parse`, with its `ring` key reader for the
//! RSA modulus length). Without `--dkim-selector` the selectors are a guess from a list of
//! common ones; an NXDOMAIN at `_domainkey.<domain>` then proves there is no key at all
//! (RFC 8020: nothing exists below a name that does not exist), a NOERROR proves nothing.

use futures::future::join_all;
use mail_auth::Error as AuthError;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dkim::DkimError;

use crate::check::dns::{Findings, on_mail_domain};
use crate::check::{Check, CheckInfo, Ctx, Scope, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::dns::Answer;
use crate::target::TargetKind;

pub struct DnsDkim;

static INFO: CheckInfo = CheckInfo {
    id: "dns.dkim",
    title: "A DKIM public key is published",
    category: Category::Dns,
    severity: Severity::Medium,
    scope: Scope::Target,
    what: "Looks up TXT at `<selector>._domainkey.<domain>` for the selectors given \
           (`--dkim-selector`, scenario `dkim_selectors`) or, without any, a list of common \
           ones (the course's `mail` first): the record parses as a DKIM key (split strings \
           joined), `p=` is not empty (revoked), an RSA key has at least 1024 bits (warn under \
           2048, RFC 8301). Without a selector, finding nothing is a guess: it fails only when \
           `_domainkey.<domain>` does not exist at all.",
    why: "Receivers verify the DKIM signature of each message against this key; without it \
          (or with a revoked or short key) the mail is unsigned for them, DMARC can only rely \
          on SPF, and forwarded mail fails DMARC.",
    fix: "Generate a key with OpenDKIM as in the course (`opendkim-genkey -b 2048 -d \
          example.com -s mail`), publish the content of `mail.txt` as `mail._domainkey IN TXT \
          \"v=DKIM1; h=sha256; k=rsa; p=MIIBIjAN...\"` (one line, or strings split by the DNS \
          editor), sign with it (KeyTable/SigningTable, `smtpd_milters`), and check with \
          `dig +short mail._domainkey.example.com TXT`.",
    opt_in: false,
    title_fr: Some("Une clé publique DKIM est publiée"),
    fix_fr: Some(
        "Générez une clé avec OpenDKIM comme dans le cours (`opendkim-genkey -b 2048 -d \
                  example.com -s mail`), publiez le contenu de `mail.txt` sous la forme \
                  `mail._domainkey IN TXT \"v=DKIM1; h=sha256; k=rsa; p=MIIBIjAN...\"` (sur une \
                  ligne, ou en chaînes découpées par l'éditeur DNS), signez avec elle \
                  (KeyTable/SigningTable, `smtpd_milters`) et vérifiez avec `dig +short \
                  mail._domainkey.example.com TXT`.",
    ),
};

/// Tried when no selector is given: the course's (`-s mail`) and the usual defaults of
/// OpenDKIM, rspamd, cPanel, Microsoft 365, Google Workspace and common providers.
pub const PROBE_SELECTORS: &[&str] = &[
    "mail",
    "default",
    "dkim",
    "selector1",
    "selector2",
    "google",
    "s1",
    "s2",
    "k1",
    "key1",
    "smtp",
    "mx",
];

/// What one selector's TXT records hold.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyFinding {
    /// An RSA key of this many bits.
    Rsa(usize),
    Ed25519,
    /// `p=` is empty: the key was revoked (RFC 6376 §3.6.1).
    Revoked,
    /// A DKIM record that does not give a usable key: why.
    Bad(String),
    /// No DKIM record at that name: why.
    Missing(String),
    /// The look-up failed.
    Failed(String),
}

/// Judges the TXT records found at one selector's name.
pub fn inspect(answer: &Answer<String>) -> KeyFinding {
    let texts = match answer {
        Answer::Failed(why) => return KeyFinding::Failed(why.clone()),
        Answer::NxDomain => return KeyFinding::Missing("NXDOMAIN".into()),
        Answer::NoData => return KeyFinding::Missing("no TXT record".into()),
        Answer::Records(texts) => texts,
    };
    let mut best: Option<KeyFinding> = None;
    for text in texts {
        let finding = match DomainKey::parse(text.as_bytes()) {
            Ok(key) => match key.p.public_key_bits() {
                // mail-auth reports no size for Ed25519 keys (they have one size).
                usize::MAX => KeyFinding::Ed25519,
                0 => KeyFinding::Bad("`p=` is not an RSA public key".into()),
                bits => KeyFinding::Rsa(bits),
            },
            Err(AuthError::Dkim(DkimError::RevokedPublicKey)) => KeyFinding::Revoked,
            Err(AuthError::Dkim(DkimError::UnsupportedKeyType)) => {
                KeyFinding::Bad("unsupported key type `k=` (rsa or ed25519)".into())
            }
            Err(AuthError::Dns(_)) => {
                KeyFinding::Missing(format!("`{text}` is not a DKIM key record"))
            }
            Err(other) => KeyFinding::Bad(format!("does not parse: {other}")),
        };
        let rank = |f: &KeyFinding| match f {
            KeyFinding::Rsa(_) | KeyFinding::Ed25519 => 3,
            KeyFinding::Revoked => 2,
            KeyFinding::Bad(_) => 1,
            _ => 0,
        };
        if best.as_ref().is_none_or(|b| rank(&finding) > rank(b)) {
            best = Some(finding);
        }
    }
    best.unwrap_or_else(|| KeyFinding::Missing("no TXT record".into()))
}

/// Adds one found key to the findings; `required`: the selector was named by the user;
/// `spare`: a probed selector beside a usable key (a leftover, not the signing key, maybe).
fn judge_key(
    findings: &mut Findings,
    name: &str,
    finding: &KeyFinding,
    required: bool,
    spare: bool,
) {
    match finding {
        KeyFinding::Rsa(bits) if *bits < 1024 => findings.fail(format!(
            "{name}: RSA key of {bits} bits, under 1024 (RFC 8301 §3.2: verifiers refuse it)"
        )),
        KeyFinding::Rsa(bits) if *bits < 2048 => findings.warn(format!(
            "{name}: RSA key of {bits} bits; 2048 is the recommended size"
        )),
        KeyFinding::Rsa(bits) => findings.pass(format!("{name}: RSA key of {bits} bits")),
        KeyFinding::Ed25519 => findings.pass(format!("{name}: Ed25519 key")),
        KeyFinding::Revoked if required => {
            findings.fail(format!("{name}: the key is revoked (empty `p=`)"))
        }
        KeyFinding::Revoked => findings.note(format!("{name}: a revoked key (empty `p=`)")),
        KeyFinding::Bad(why) if required => findings.fail(format!("{name}: {why}")),
        KeyFinding::Bad(why) if spare => findings.warn(format!(
            "{name}: a DKIM record whose key is unusable: {why}"
        )),
        KeyFinding::Bad(why) => findings.fail(format!(
            "{name}: a DKIM record whose key is unusable: {why}"
        )),
        KeyFinding::Missing(why) if required => {
            findings.fail(format!("no DKIM key at {name} ({why})"))
        }
        KeyFinding::Missing(_) => {}
        KeyFinding::Failed(why) => findings.error(format!("cannot look up {name}: {why}")),
    }
}

/// The verdict from what was seen: `(selector, finding)` for each selector tried; `probed`:
/// the selectors were a guess; `parent`: the answer at `_domainkey.<domain>` (probe only).
pub fn judge(
    findings: &mut Findings,
    domain: &str,
    seen: &[(String, KeyFinding)],
    probed: bool,
    parent: Option<&Answer<String>>,
) {
    let name = |selector: &str| format!("{selector}._domainkey.{domain}");
    let usable = seen
        .iter()
        .any(|(_, f)| matches!(f, KeyFinding::Rsa(_) | KeyFinding::Ed25519));
    for (selector, finding) in seen {
        judge_key(
            findings,
            &name(selector),
            finding,
            !probed,
            probed && usable,
        );
    }
    if !probed {
        return;
    }
    let tried: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
    let tried = tried.join(", ");
    if usable {
        findings.note(format!("selectors tried: {tried}"));
        return;
    }
    if let Some((selector, _)) = seen.iter().find(|(_, f)| *f == KeyFinding::Revoked) {
        return findings.fail(format!(
            "the only key found, {}, is revoked (empty `p=`); selectors tried: {tried}",
            name(selector)
        ));
    }
    if seen
        .iter()
        .any(|(_, f)| matches!(f, KeyFinding::Failed(_) | KeyFinding::Bad(_)))
    {
        return;
    }
    match parent {
        Some(Answer::NxDomain) => findings.fail(format!(
            "no DKIM key: _domainkey.{domain} does not exist (NXDOMAIN: nothing is published below it, RFC 8020); selectors tried: {tried}"
        )),
        Some(Answer::Failed(why)) => {
            findings.error(format!("cannot look up _domainkey.{domain}: {why}"))
        }
        _ => findings.warn(format!(
            "no DKIM key under the common selectors tried ({tried}); _domainkey.{domain} exists, so a key may sit under another selector: give --dkim-selector"
        )),
    }
}

#[async_trait::async_trait]
impl Check for DnsDkim {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        on_mail_domain(ctx, async |domain, findings| {
            let given = &ctx.settings.dkim_selectors;
            let probed = given.is_empty();
            let selectors: Vec<String> = if probed {
                PROBE_SELECTORS.iter().map(ToString::to_string).collect()
            } else {
                given.clone()
            };
            // Asked side by side: a dead resolver costs one timeout, not one per selector.
            let names: Vec<String> = selectors
                .iter()
                .map(|s| format!("{s}._domainkey.{domain}"))
                .collect();
            let answers = join_all(names.iter().map(|name| ctx.dns.txt(name))).await;
            let mut seen = Vec::new();
            for (selector, (answer, exchange)) in selectors.into_iter().zip(answers) {
                findings.exchange(exchange);
                seen.push((selector, inspect(&answer)));
            }
            let usable = seen.iter().any(|(_, f)| {
                matches!(
                    f,
                    KeyFinding::Rsa(_) | KeyFinding::Ed25519 | KeyFinding::Revoked
                )
            });
            let parent = if probed && !usable {
                let (answer, exchange) = ctx.dns.txt(&format!("_domainkey.{domain}")).await;
                findings.exchange(exchange);
                Some(answer)
            } else {
                None
            };
            if ctx.target.kind == TargetKind::NullMx && !usable && probed {
                // A parked domain needs no key (M3AAWG's parked-domain practice: null MX, SPF
                // -all, DMARC p=reject); a key it does publish is still judged above.
                return findings.skip(format!(
                    "{domain} takes no mail (lone null MX) and publishes no DKIM key under the selectors tried"
                ));
            }
            judge(findings, domain, &seen, probed, parent.as_ref());
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Settings;
    use crate::check::dns::tests::{run_on, run_with};
    use crate::outcome::Status;
    use crate::probe::dns::fixture::Fixture;
    use hickory_resolver::proto::rr::RecordType;

    /// A 1024-bit RSA key (SubjectPublicKeyInfo, base64), split as DNS editors do.
    const KEY_1024: [&str; 2] = [
        "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uB",
        "ItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB",
    ];

    fn domain() -> Fixture {
        Fixture::new()
            .mx("example.test", 10, "mail.example.test")
            .a("mail.example.test", "192.0.2.10")
    }

    fn selectors(list: &[&str]) -> Settings {
        Settings {
            dkim_selectors: list.iter().map(ToString::to_string).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn records_are_read_with_mail_auth() {
        let one = |text: &str| inspect(&Answer::Records(vec![text.to_string()]));
        assert_eq!(one(&KEY_1024.concat()), KeyFinding::Rsa(1024));
        assert_eq!(one("v=DKIM1; k=rsa; p="), KeyFinding::Revoked);
        assert_eq!(one("v=DKIM1; p="), KeyFinding::Revoked);
        assert!(matches!(one("v=DKIM1; p=AAAA"), KeyFinding::Bad(_)));
        assert!(matches!(one("v=DKIM1; k=dsa; p=AAAA"), KeyFinding::Bad(_)));
        assert_eq!(
            one("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
            KeyFinding::Ed25519
        );
        assert!(matches!(
            one("site-verification=1234"),
            KeyFinding::Missing(_)
        ));
        assert!(matches!(
            inspect(&Answer::Failed("SERVFAIL".into())),
            KeyFinding::Failed(_)
        ));
    }

    #[test]
    fn a_broken_record_fails_unless_a_usable_key_stands_beside_it_when_probing() {
        let seen = |list: &[(&str, KeyFinding)]| -> Vec<(String, KeyFinding)> {
            list.iter()
                .map(|(s, f)| (s.to_string(), f.clone()))
                .collect()
        };
        let bad = || KeyFinding::Bad("`p=` is not an RSA public key".into());
        let status = |list: Vec<(String, KeyFinding)>, probed: bool| {
            let mut findings = Findings::default();
            judge(
                &mut findings,
                "example.test",
                &list,
                probed,
                Some(&Answer::NoData),
            );
            findings.verdict().status
        };
        let good = || KeyFinding::Rsa(2048);
        assert_eq!(status(seen(&[("s1", bad())]), true), Status::Fail);
        assert_eq!(
            status(seen(&[("s1", bad()), ("s2", good())]), true),
            Status::Warn
        );
        assert_eq!(
            status(seen(&[("s1", bad()), ("s2", good())]), false),
            Status::Fail
        );
        assert_eq!(
            status(seen(&[("s1", KeyFinding::Rsa(512))]), true),
            Status::Fail
        );
    }

    #[tokio::test]
    async fn a_split_1024_bit_key_warns() {
        let dns = domain()
            .txt("mail._domainkey.example.test", &KEY_1024)
            .dns();
        let v = run_on(&DnsDkim, "example.test", dns).await;
        assert_eq!(v.status, Status::Warn, "{v:?}");
        assert!(
            v.message
                .contains("mail._domainkey.example.test: RSA key of 1024 bits")
        );
        assert!(
            v.evidence
                .iter()
                .any(|l| l.starts_with("* selectors tried: mail, default"))
        );
    }

    #[tokio::test]
    async fn a_revoked_key_fails() {
        let dns = domain().txt("sel._domainkey.example.test", &["v=DKIM1; k=rsa; p="]);
        let v = run_with(&DnsDkim, "example.test", dns.dns(), &selectors(&["sel"])).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.message.contains("revoked"));
        // Probed: a revoked key beside a usable one is a rotation, not a failure.
        let dns = domain()
            .txt("s1._domainkey.example.test", &["v=DKIM1; p="])
            .txt("s2._domainkey.example.test", &KEY_1024);
        let v = run_on(&DnsDkim, "example.test", dns.dns()).await;
        assert_eq!(v.status, Status::Warn, "{v:?}");
    }

    #[tokio::test]
    async fn nothing_found_is_told_by_what_the_parent_says() {
        // _domainkey.example.test does not exist: no key anywhere (RFC 8020).
        let v = run_on(&DnsDkim, "example.test", domain().dns()).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(
            v.message.contains("selectors tried: mail, default, dkim"),
            "{}",
            v.message
        );
        // Something exists below it: the key may be under another selector.
        let dns = domain().txt("other2024._domainkey.example.test", &KEY_1024);
        let v = run_on(&DnsDkim, "example.test", dns.dns()).await;
        assert_eq!(v.status, Status::Warn, "{v:?}");
        assert!(v.message.contains("give --dkim-selector"));
        // A selector named by the user must be there.
        let v = run_with(
            &DnsDkim,
            "example.test",
            domain().dns(),
            &selectors(&["mail"]),
        )
        .await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(
            v.message
                .contains("no DKIM key at mail._domainkey.example.test")
        );
    }

    #[tokio::test]
    async fn servfail_is_an_error() {
        let dns = domain().fail("mail._domainkey.example.test", RecordType::TXT, "SERVFAIL");
        let v = run_with(&DnsDkim, "example.test", dns.dns(), &selectors(&["mail"])).await;
        assert_eq!(v.status, Status::Error, "{v:?}");
    }
}
