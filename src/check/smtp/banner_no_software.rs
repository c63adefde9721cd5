//! `smtp.banner.no-software`: neither the greeting nor the EHLO reply names MTA software,
//! its version or the OS.

use crate::check::{Check, CheckInfo, Ctx, Role, Scope, Stage, Verdict};
use crate::outcome::{Category, Severity};
use crate::probe::reply::Reply;

pub struct BannerNoSoftware;

static INFO: CheckInfo = CheckInfo {
    id: "smtp.banner.no-software",
    title: "Greeting and EHLO name no software or version",
    category: Category::Smtp,
    severity: Severity::Low,
    scope: Scope::Endpoints {
        roles: &[Role::Mx, Role::Submission, Role::Smtps],
        stage: Stage::Greeted,
    },
    what: "Reads every line of the 220 greeting and of the EHLO reply and looks for MTA or OS \
           names (Postfix, Exim, Sendmail, Microsoft, Debian, Ubuntu...) and version numbers.",
    why: "A banner that names the software and its version tells attackers which exploits to \
          try, and tells nothing useful to legitimate senders.",
    fix: "Postfix: `smtpd_banner = $myhostname ESMTP` in main.cf (the course's setting), \
          then `postfix reload`. Check `-o smtpd_banner=` overrides in master.cf too.",
    opt_in: false,
    title_fr: Some("La bannière et la réponse EHLO ne nomment ni logiciel ni version"),
    fix_fr: Some(
        "Postfix : `smtpd_banner = $myhostname ESMTP` dans main.cf (le réglage du \
                  cours), puis `postfix reload`. Vérifiez aussi les surcharges `-o smtpd_banner=` \
                  dans master.cf.",
    ),
};

/// Words that name MTA software or an operating system.
const SOFTWARE: &[&str] = &[
    "postfix",
    "exim",
    "sendmail",
    "qmail",
    "microsoft",
    "exchange",
    "opensmtpd",
    "haraka",
    "zimbra",
    "mdaemon",
    "kerio",
    "courier",
    "dovecot",
    "smail",
    "hmailserver",
    "axigen",
    "communigate",
    "mailenable",
    "icewarp",
    "stalwart",
    "maddy",
    "chasquid",
    "debian",
    "ubuntu",
    "centos",
    "redhat",
    "rhel",
    "fedora",
    "freebsd",
    "openbsd",
    "netbsd",
    "gentoo",
    "suse",
    "opensuse",
    "raspbian",
    "alpine",
    "windows",
    "linux",
    "gnu",
];

/// What gives the software away in a reply, as short quotes.
pub fn findings(replies: &[&Reply]) -> Vec<String> {
    let mut lines = Vec::new();
    for reply in replies {
        let class = (reply.code / 100).to_string();
        for line in &reply.lines {
            // An enhanced status code may open any line of a reply (`2.0.0`): not a version.
            let line = match line.split_once(' ') {
                Some((first, rest)) if is_enhanced_code(first, &class) => rest,
                None if is_enhanced_code(line, &class) => "",
                _ => line,
            };
            lines.push(line);
        }
    }
    findings_in_lines(lines)
}

/// `2.0.0`, `5.7.1`: a class digit matching the reply, then two numbers (RFC 3463).
fn is_enhanced_code(word: &str, class: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && parts[0] == class
        && parts[1..]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// What gives the software away in plain text lines (an IMAP or POP3 greeting), as short quotes.
pub fn findings_in_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut found = Vec::new();
    for line in lines {
        let words = line.split(|c: char| c.is_whitespace() || "()[];,<>\"'=".contains(c));
        for word in words.filter(|w| !w.is_empty()) {
            let note = if looks_like_version(word) {
                Some(format!("version `{word}`"))
            } else if !looks_like_domain(word) {
                word.split(|c: char| !c.is_ascii_alphanumeric())
                    .find(|part| SOFTWARE.contains(&part.to_ascii_lowercase().as_str()))
                    .map(|part| format!("`{part}`"))
            } else {
                None
            };
            if let Some(note) = note.filter(|n| !found.contains(n)) {
                found.push(note);
            }
        }
    }
    found
}

/// `8.15.2`, `4.96-58`, `v3.7`, `2.3.19/8.15.2`; not an IPv4 address.
fn looks_like_version(word: &str) -> bool {
    word.split('/').any(|part| {
        let part = part.trim_start_matches(['v', 'V']);
        let components: Vec<&str> = part.split('.').collect();
        (2..=3).contains(&components.len())
            && !components[0].is_empty()
            && components[0].bytes().all(|b| b.is_ascii_digit())
            && components[1]
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_digit())
    })
}

/// A host name such as `mail.postfix-lab.fr`: its labels are not claims about software.
fn looks_like_domain(word: &str) -> bool {
    let labels: Vec<&str> = word.trim_end_matches('.').split('.').collect();
    labels.len() >= 2
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

pub fn judge(greeting: &Reply, hello: &Reply) -> Verdict {
    let found = findings(&[greeting, hello]);
    if found.is_empty() {
        Verdict::pass(format!(
            "greeting names no software: {}",
            greeting.summary()
        ))
    } else {
        Verdict::fail(format!(
            "greeting/EHLO reveal {}: {}",
            found.join(", "),
            greeting.summary()
        ))
    }
}

#[async_trait::async_trait]
impl Check for BannerNoSoftware {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    async fn run(&self, ctx: &mut Ctx<'_>) -> Verdict {
        let session = match ctx.session().await {
            Ok(session) => session,
            Err(failure) => return ctx.unavailable(&failure),
        };
        // In clear on 25/587, inside TLS on 465: what the world reads first.
        let hello = session
            .before_tls
            .as_ref()
            .map_or(&session.hello, |(reply, _)| reply);
        judge(&session.greeting, hello).with_evidence(session.opening())
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

    fn ehlo() -> Reply {
        reply("250-mail.ref.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n")
    }

    #[test]
    fn plain_banner_passes() {
        assert_eq!(
            judge(&reply("220 mail.ref.test ESMTP\r\n"), &ehlo()).status,
            Status::Pass
        );
        // Host names that contain a software word are names, not claims.
        assert_eq!(
            judge(&reply("220 mail.postfix-lab.fr ESMTP\r\n"), &ehlo()).status,
            Status::Pass
        );
        // Addresses and dates are not versions.
        assert_eq!(
            judge(
                &reply(
                    "220 mx.example.com ESMTP ready [203.0.113.5] Sun, 22 Nov 2026 10:00:00\r\n"
                ),
                &ehlo()
            )
            .status,
            Status::Pass
        );
        assert_eq!(
            judge(&reply("220 2.0.0 mx.example.com ready\r\n"), &ehlo()).status,
            Status::Pass
        );
    }

    #[test]
    fn software_names_and_versions_fail() {
        let verdict = judge(
            &reply("220 mail.weak.test ESMTP Postfix (Debian/GNU)\r\n"),
            &ehlo(),
        );
        assert_eq!(verdict.status, Status::Fail);
        assert!(
            verdict.message.contains("`Postfix`") && verdict.message.contains("`Debian`"),
            "{}",
            verdict.message
        );
        let exim = judge(
            &reply("220 mx.example.com ESMTP Exim 4.96-58 Sun, 22 Nov 2026\r\n"),
            &ehlo(),
        );
        assert!(
            exim.message.contains("`Exim`") && exim.message.contains("`4.96-58`"),
            "{}",
            exim.message
        );
        let sendmail = judge(
            &reply("220 mx.example.com ESMTP Sendmail 8.15.2/8.15.2; ready\r\n"),
            &ehlo(),
        );
        assert_eq!(sendmail.status, Status::Fail);
    }

    #[test]
    fn enhanced_codes_on_any_line_are_not_versions() {
        let hello = reply("250-mx.example.com\r\n250-2.0.0 ready\r\n250 SIZE\r\n");
        assert_eq!(
            judge(&reply("220 mx.example.com ESMTP\r\n"), &hello).status,
            Status::Pass
        );
    }

    #[test]
    fn multi_line_greeting_and_ehlo_are_read() {
        let greeting =
            reply("220-mx.example.com ESMTP\r\n220 Microsoft ESMTP MAIL Service ready\r\n");
        assert_eq!(judge(&greeting, &ehlo()).status, Status::Fail);
        let hello = reply("250-mx.example.com Hello [127.0.0.1] (Ubuntu)\r\n250 SIZE\r\n");
        assert_eq!(
            judge(&reply("220 mx.example.com ESMTP\r\n"), &hello).status,
            Status::Fail
        );
    }
}
