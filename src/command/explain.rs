//! `mailcheck explain ID [--lang fr] [--format json]`: what a check looks at, why it matters
//! and how to fix a failure.

use std::io::Write;

use super::list::{check_json, ports_of};
use crate::cli::InfoFormat;
use crate::exit::{self, fatal};
use crate::report::Lang;

/// Width of `explain`'s prose, indent included.
const WIDTH: usize = 78;

pub(super) fn command(id: &str, lang: Lang, format: InfoFormat) -> u8 {
    let Some(check) = crate::check::find(id) else {
        let hint = crate::check::suggest(id)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return fatal(format!(
            "unknown check id {id:?}{hint}; `mailcheck list` shows them all"
        ));
    };
    let info = check.info();
    if format == InfoFormat::Json {
        let entry = check_json(info, info.severity, Some(lang));
        let _ = writeln!(std::io::stdout().lock(), "{entry:#}");
        return exit::OK;
    }
    let (title, fix) = crate::report::check_texts(info, lang);
    let mut text = format!("{} — {title}\n", info.id);
    text.push_str(&format!(
        "{} {}   {} {}   ports: {}{}\n",
        lang.tr("severity:", "sévérité :"),
        lang.severity(info.severity),
        lang.tr("category:", "catégorie :"),
        info.category,
        ports_of(check),
        if info.opt_in { "   (opt-in)" } else { "" }
    ));
    // Only the title and the fix have a French text; the rest says it is in English.
    let what = lang.tr("What it checks:", "Ce qui est vérifié (en anglais) :");
    let why = lang.tr("Why it matters:", "Pourquoi c'est important (en anglais) :");
    let how = lang.tr("How to fix:", "Comment corriger :");
    text.push_str(&format!("\n{what}\n{}\n", wrap(info.what)));
    text.push_str(&format!("\n{why}\n{}\n", wrap(info.why)));
    text.push_str(&format!("\n{how}\n{}\n", wrap(fix)));
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    exit::OK
}

/// Wraps prose to [`WIDTH`] columns under a two-space indent.
fn wrap(text: &str) -> String {
    let options = textwrap::Options::new(WIDTH)
        .initial_indent("  ")
        .subsequent_indent("  ");
    textwrap::fill(text, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_within_width() {
        let text = "word ".repeat(50);
        for line in wrap(&text).lines() {
            assert!(line.len() <= WIDTH, "{line:?}");
            assert!(line.starts_with("  "));
        }
    }
}
