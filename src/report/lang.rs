//! `--lang`: the chrome of the formats people read, and each check's title and catalog fix
//! in that language ([`Localizing`]).

use std::io::{self, Write};

use super::view::SUMMARY_ORDER;
use super::{RenderOptions, Reporter};
use crate::check::CheckInfo;
use crate::outcome::{Category, Report, Severity, Status, Summary};

/// The language of the texts people read (`--lang`). Ids, field names and the JSON stay in
/// English; server replies and messages are shown as observed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    /// Picks the text in this language: `lang.tr("score", "note")`. Keeping both side by side at
    /// the place of use makes a missing or stale translation visible in review.
    pub fn tr(self, en: &'static str, fr: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }

    /// A status as a word (`pass`, `réussi`).
    pub fn status(self, status: Status) -> &'static str {
        match status {
            Status::Pass => self.tr("pass", "réussi"),
            Status::Fail => self.tr("fail", "échec"),
            Status::Warn => self.tr("warn", "à améliorer"),
            Status::Skip => self.tr("skip", "non applicable"),
            Status::Error => self.tr("error", "erreur"),
        }
    }

    /// `3 pass, 1 fail, 0 warn, 2 skip, 0 error` in this language.
    pub fn counts(self, summary: &Summary) -> String {
        SUMMARY_ORDER
            .into_iter()
            .map(|status| self.count(summary.count(status), status))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `3 pass`, `3 réussis`: a count of results with that status.
    pub fn count(self, count: usize, status: Status) -> String {
        let word = match (self, status) {
            (Lang::En, _) => status.as_str(),
            (Lang::Fr, Status::Pass) => plural(count, "réussi", "réussis"),
            (Lang::Fr, Status::Fail) => plural(count, "échec", "échecs"),
            (Lang::Fr, Status::Warn) => "à améliorer",
            (Lang::Fr, Status::Skip) => plural(count, "non applicable", "non applicables"),
            (Lang::Fr, Status::Error) => plural(count, "erreur", "erreurs"),
        };
        format!("{count} {word}")
    }

    /// A category's heading.
    pub fn category(self, category: Category) -> &'static str {
        match category {
            Category::E2e => self.tr("End to end", "De bout en bout"),
            Category::Custom => self.tr("Custom", "Personnalisés"),
            other => other.heading(),
        }
    }

    pub fn severity(self, severity: Severity) -> &'static str {
        match severity {
            Severity::Critical => self.tr("critical", "critique"),
            Severity::High => self.tr("high", "élevée"),
            Severity::Medium => self.tr("medium", "moyenne"),
            Severity::Low => self.tr("low", "faible"),
            Severity::Info => self.tr("info", "info"),
        }
    }

    /// The `lang` attribute of an HTML page.
    pub fn code(self) -> &'static str {
        self.tr("en", "fr")
    }
}

/// French plural: singular for 0 and 1.
fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count > 1 { many } else { one }
}

/// Hands the real format a copy of the report whose titles and catalog fixes are in
/// [`RenderOptions::lang`], where the check has a text in that language.
pub(super) struct Localizing(pub(super) Box<dyn Reporter>);

impl Reporter for Localizing {
    fn render(
        &self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if options.lang == Lang::En {
            return self.0.render(report, options, out);
        }
        self.0
            .render(&localized(report, options.lang), options, out)
    }
}

/// A copy of `report` with each result's title, and its fix when it is the catalog's generic
/// one, in `lang`. A fix a check wrote for this very server stays as written: it says more.
fn localized(report: &Report, lang: Lang) -> Report {
    let mut report = report.clone();
    for result in report.targets.iter_mut().flat_map(|t| &mut t.results) {
        let Some(info) = crate::check::find(&result.id).map(|check| check.info()) else {
            continue;
        };
        let (title, fix) = check_texts(info, lang);
        result.title = title.to_owned();
        if let Some(catalog) = result.fix.as_mut().filter(|f| f.from_catalog) {
            fix.clone_into(&mut catalog.text);
        }
    }
    report
}

/// A check's title and generic fix in `lang`; English where the check has no translation.
pub fn check_texts(info: &CheckInfo, lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => (info.title, info.fix),
        Lang::Fr => (
            info.title_fr.unwrap_or(info.title),
            info.fix_fr.unwrap_or(info.fix),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_catalog_fixes_are_translated() {
        use crate::outcome::{Fix, TargetReport, Tool};
        let info = crate::check::find("smtp.vrfy.disabled").unwrap().info();
        let (_, french) = check_texts(info, Lang::Fr);
        assert_ne!(french, info.fix, "the check has a French fix");
        let mut generic = crate::report::tests::result(None);
        generic.fix = Some(Fix::catalog(info.fix));
        let mut own = generic.clone();
        own.fix = Some(Fix::own(info.fix));
        let report = Report {
            schema: "s".into(),
            tool: Tool::this(),
            started_at: time::OffsetDateTime::UNIX_EPOCH,
            duration_ms: 0,
            targets: vec![TargetReport::new(
                "t".into(),
                None,
                vec![],
                vec![generic, own],
            )],
        };
        let fixes: Vec<String> = localized(&report, Lang::Fr).targets[0]
            .results
            .iter()
            .map(|r| r.fix.as_deref().unwrap().to_owned())
            .collect();
        // The same words, but only the catalog's are the catalog's.
        assert_eq!(fixes, [french, info.fix]);
    }

    #[test]
    fn french_counts_agree_in_number() {
        let summary = Summary {
            pass: 2,
            fail: 1,
            warn: 0,
            skip: 3,
            error: 1,
        };
        assert_eq!(
            Lang::Fr.counts(&summary),
            "2 réussis, 1 échec, 0 à améliorer, 3 non applicables, 1 erreur"
        );
        assert_eq!(
            Lang::En.counts(&summary),
            "2 pass, 1 fail, 0 warn, 3 skip, 1 error"
        );
    }
}
