//! `mailcheck init [FILE]`: writes a commented starter scenario (default `mailcheck.yaml`)
//! that `mailcheck validate` accepts as written: a built-in profile to extend, one check
//! override, a few settings, and one custom dialog check, each explained where it stands.
//! It never overwrites a file; `-` prints it instead.

use std::io::Write;
use std::path::Path;

use crate::exit;

/// The starter scenario. `tests/cli.rs` validates it, so it stays a working example.
pub const STARTER: &str = r#"# A mailcheck scenario: which checks to run and how to weigh them. Lint it with
#   mailcheck validate mailcheck.yaml
# and use it with
#   mailcheck run mail.example.com -s mailcheck.yaml
# `mailcheck list` shows every check id, `mailcheck explain ID` what a check does. Editors
# complete the keys with mailcheck's docs/scenario.schema.json: add a first line
#   # yaml-language-server: $schema=PATH/TO/scenario.schema.json
name: site
description: Our mail server's checks, on top of the built-in default profile.

# Start from a built-in profile: default (everything but the intrusive probes), course, ci.
extends: default

# Ids or globs (`smtp.*`), in order; a later item overrides an earlier one.
checks:
  # An override: our policy makes a software banner a serious finding.
  - smtp.banner.no-software: { severity: high }   # critical, high, medium, low or info
  # Leave a check out (here: our provider sets no reverse DNS we could fix).
  # - dns.ptr: { enabled: false }

# Where each role listens, when not on the standard ports.
# ports:
#   smtp: 2525

settings:
  # A mailbox every server has, compared with a random one by the VRFY/EXPN checks.
  known_user: postmaster
  # Pause before the one polite retry after a 421 or a postscreen deferral.
  retry_pause_ms: 2000
  # An outside domain with a real MX for the open-relay probes (never your own);
  # --relay-domain on the command line wins. Without one, smtp.relay.refused is skipped.
  # relay_domain: example.org
  # DNS blocklists of dns.rbl (--dnsbl wins); default: zen.spamhaus.org, b.barracudacentral.org.
  # dnsbl: [zen.spamhaus.org]

# Your own rules as scripted dialogs: send a line, expect a reply. The first reply that
# differs is a `fail` that shows what was expected beside what came.
custom:
  - id: custom.vrfy-root-refused     # `custom.` and a name of yours
    title: VRFY root is refused
    severity: high                   # default: medium
    port: smtp                       # smtp, submission, smtps, imap, imaps, pop3, pop3s
    fix: "Postfix: `disable_vrfy_command = yes` in main.cf, then `postfix reload`"
    dialog:
      - expect: { code: 220 }        # no `send`: the first step checks the greeting
      - send: VRFY root
        expect: { code: 5xx }        # 5xx: any permanent refusal
"#;

/// Writes the starter to `path` (`mailcheck.yaml` by default), or prints it for `-`.
pub fn command(path: &Path) -> u8 {
    if path.as_os_str() == "-" {
        let _ = std::io::stdout().lock().write_all(STARTER.as_bytes());
        return exit::OK;
    }
    // `create_new`: an existing file (or one created meanwhile) is never overwritten.
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let mut handle = match created {
        Ok(handle) => handle,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return crate::exit::fatal(format!(
                "{} already exists: not overwritten (remove it, or give another FILE)",
                path.display()
            ));
        }
        Err(e) => return crate::exit::fatal(format!("cannot write {}: {e}", path.display())),
    };
    // The comments name the file as it was written.
    let name = path.display().to_string();
    let text = STARTER.replace("mailcheck.yaml", &name);
    if let Err(e) = handle.write_all(text.as_bytes()) {
        return crate::exit::fatal(format!("cannot write {}: {e}", path.display()));
    }
    println!(
        "wrote {}: check it with `mailcheck validate {0}`, use it with `mailcheck run TARGET -s {0}`",
        path.display()
    );
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_is_a_valid_scenario_with_each_part() {
        let scenario =
            crate::scenario::load_str("mailcheck.yaml", STARTER).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scenario.name, "site");
        assert!(scenario.extends.is_some());
        assert_eq!(scenario.custom.len(), 1);
        let plan = crate::scenario::plan(std::slice::from_ref(&scenario), &[], &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let banner = plan
            .checks
            .iter()
            .find(|c| c.check.info().id == "smtp.banner.no-software")
            .expect("the override's check is planned");
        assert_eq!(banner.severity, crate::outcome::Severity::High);
    }
}
