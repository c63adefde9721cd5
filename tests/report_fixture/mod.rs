//! A hand-built report that exercises every corner the reporters care about: two targets, every
//! status, a DNS result without endpoint, multi-line evidence, a long message, Markdown and XML
//! metacharacters, several hosts behind one target, and a target whose score is `None`.

#![allow(dead_code)] // each test binary uses a different part

use mailcheck::outcome::{
    Category, CheckResult, REPORT_SCHEMA, Report, Severity, Status, TargetReport, Tool,
};

pub struct Draft(CheckResult);

/// A result with the given id, category, severity, endpoint and status; the rest is filled by
/// the builder methods.
pub fn check(
    id: &str,
    category: Category,
    severity: Severity,
    endpoint: Option<&str>,
    status: Status,
    message: &str,
) -> Draft {
    Draft(CheckResult {
        id: id.into(),
        title: format!("title of {id}"),
        category,
        severity,
        endpoint: endpoint.map(|e| e.parse().expect("a fixture endpoint")),
        status,
        message: message.into(),
        evidence: vec![],
        fix: None,
        duration_ms: 12,
    })
}

impl Draft {
    pub fn title(mut self, title: &str) -> Draft {
        self.0.title = title.into();
        self
    }
    pub fn evidence(mut self, lines: &[&str]) -> Draft {
        self.0.evidence = lines.iter().map(|l| (*l).to_owned()).collect();
        self
    }
    pub fn fix(mut self, fix: &str) -> Draft {
        self.0.fix = Some(fix.into());
        self
    }
    pub fn ms(mut self, ms: u64) -> Draft {
        self.0.duration_ms = ms;
        self
    }
    pub fn done(self) -> CheckResult {
        self.0
    }
}

pub fn sample_report() -> Report {
    use Category::*;
    use Severity::*;
    use Status::*;

    const EP25: Option<&str> = Some("203.0.113.10:25/smtp");
    const EP587: Option<&str> = Some("203.0.113.10:587/smtp+starttls");
    const EP465: Option<&str> = Some("203.0.113.10:465/smtps");
    const EP143: Option<&str> = Some("203.0.113.10:143/imap");

    let first = vec![
        check("smtp.banner.no-software", Smtp, Medium, EP25, Pass, "greeting names no software")
            .title("The SMTP greeting names no software")
            .evidence(&["S: 220 mail.example.com ESMTP"])
            .done(),
        check(
            "smtp.banner.no-software",
            Smtp,
            Medium,
            EP587,
            Fail,
            "the greeting names the MTA: \"Postfix (Debian/GNU)\"",
        )
        .title("The SMTP greeting names no software")
        .evidence(&[
            "S: 220 mail.example.com ESMTP Postfix (Debian/GNU)",
            "C: EHLO mailcheck.invalid",
            "S: 250-mail.example.com",
            "S: 250-PIPELINING",
            "S: 250-SIZE 10240000",
            "S: 250-ETRN",
            "S: 250-STARTTLS",
            "S: 250-ENHANCEDSTATUSCODES",
            "S: 250 CHUNKING",
        ])
        .fix("set smtpd_banner = $myhostname ESMTP in main.cf and reload Postfix")
        .ms(31)
        .done(),
        check("smtp.vrfy.disabled", Smtp, Medium, EP25, Pass, "VRFY refused: 502 5.5.1 VRFY command is disabled")
            .title("VRFY does not reveal mailboxes")
            .evidence(&["C: VRFY postmaster", "S: 502 5.5.1 VRFY command is disabled"])
            .done(),
        check(
            "smtp.sender.unknown-domain-rejected",
            Smtp,
            High,
            EP25,
            Error,
            "could not tell: the server answered 421 4.7.0 to every connection, also after a polite retry",
        )
        .title("A sender at a non-existent domain is refused")
        .evidence(&["S: 421 4.7.0 mail.example.com Error: too many connections from 198.51.100.1", "* retried after 5 s", "S: 421 4.7.0 mail.example.com Error: too many connections from 198.51.100.1"])
        .fix("let the checker's address through postscreen (postscreen_access_list) or run it from a trusted network")
        .ms(5042)
        .done(),
        check("tls.protocol.tls13", Tls, Low, EP25, Warn, "only TLS 1.2 was negotiated")
            .title("TLS 1.3 is negotiated")
            .evidence(&["* TLS handshake: TLSv1.2, ECDHE-RSA-AES256-GCM-SHA384"])
            .fix("build against OpenSSL >= 1.1.1 and drop tls_high_cipherlist overrides that exclude TLS 1.3")
            .done(),
        check("tls.cert.trusted", Tls, High, EP465, Pass, "chain validates: CN=mail.example.com, issuer R11")
            .title("The certificate chain is trusted")
            .done(),
        check(
            "imap.login.tls-only",
            Imap,
            Critical,
            EP143,
            Fail,
            "cleartext LOGIN accepted before STARTTLS: the server answered NO [AUTHENTICATIONFAILED] \
             to made-up credentials instead of refusing the command, so a real password sent here \
             would travel in the clear",
        )
        .title("IMAP login needs TLS")
        .evidence(&[
            "S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] ready.",
            "C: a1 LOGIN mailcheck-probe <redacted>",
            "S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        ])
        .fix("disable_plaintext_auth = yes (Dovecot 2.3) or auth_allow_cleartext = no (2.4)")
        .done(),
        check("dns.mx", Dns, High, None, Pass, "example.com has MX 10 mail.example.com, which resolves")
            .title("The domain has usable MX records")
            .evidence(&["example.com. 3600 IN MX 10 mail.example.com.", "mail.example.com. 3600 IN A 203.0.113.10"])
            .ms(4)
            .done(),
        check("dns.dmarc", Dns, Medium, None, Warn, "p=none: reports only, nothing is rejected")
            .title("DMARC policy")
            .evidence(&["_dmarc.example.com. 3600 IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@example.com\""])
            .fix("publish p=quarantine or p=reject once the aggregate reports look clean")
            .done(),
        check("e2e.submit", E2e, High, EP587, Skip, "needs --user and a password")
            .title("A message can be submitted")
            .ms(0)
            .done(),
        check(
            "custom.reply-has-pipe",
            Custom,
            Low,
            EP25,
            Fail,
            "expected `250` | got `550 5.7.1 <bad|guy@example.org>: *rejected*`",
        )
        .title("Custom: a <scripted> dialog")
        .evidence(&["C: RCPT TO:<bad|guy@example.org>", "S: 550 5.7.1 <bad|guy@example.org>: *rejected* ```]]>"])
        .fix("see the `custom` scenario & its <expect> block")
        .done(),
    ];

    const V4: Option<&str> = Some("198.51.100.7:25/smtp");
    const V6: Option<&str> = Some("[2001:db8::25]:25/smtp");
    let second = vec![
        check("smtp.size.advertised", Smtp, Info, V4, Pass, "SIZE 52428800 advertised")
            .title("SIZE is advertised")
            .evidence(&["S: 250-SIZE 52428800"])
            .done(),
        check("smtp.size.advertised", Smtp, Info, V6, Error, "timed out after 10 s waiting for the greeting")
            .title("SIZE is advertised")
            .evidence(&["* connected to [2001:db8::25]:25", "* timed out after 10 s waiting for the greeting"])
            .fix("check that Postfix listens on IPv6 (inet_protocols = all) and that no firewall drops port 25")
            .ms(10_003)
            .done(),
        check("smtp.starttls", Smtp, High, V6, Skip, "no greeting, nothing to upgrade")
            .title("STARTTLS works")
            .ms(0)
            .done(),
    ];

    Report {
        schema: REPORT_SCHEMA.into(),
        tool: Tool {
            name: "mailcheck".into(),
            version: "0.1.0".into(),
        },
        started_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
        duration_ms: 15_210,
        targets: vec![
            TargetReport::new(
                "mail.example.com".into(),
                Some("example.com".into()),
                vec!["203.0.113.10".into()],
                first,
            ),
            TargetReport::new(
                "mx2.example.net".into(),
                None,
                vec!["198.51.100.7".into(), "2001:db8::25".into()],
                second,
            ),
        ],
    }
}
