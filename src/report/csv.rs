//! The grade sheet of `batch --csv`: one row per target (student), for a spreadsheet.
//!
//! Columns: `name,target,domain,score,grade,scale`, the five status counts, then one column per
//! check id of the run (catalog order) holding that check's status on the target, summed up over
//! its endpoints as the worst one ([`super::worst_status`]); empty when the check did not run
//! for that student. `score` is out of 100, `grade` out of `scale` (`--scale`, 100 without it);
//! both empty when nothing weighed anything. Always English: it is read by programs too.
//!
//! Roster names go into cells that spreadsheets may read as formulas (`=`, `+`, `-`, `@`
//! first): such a cell gets a leading `'`, the usual guard, so opening the sheet runs nothing.

use std::io::{self, Write};

use super::{RenderOptions, Reporter, SUMMARY_ORDER, check_columns, grade, worst_status};
use crate::outcome::{Report, TargetReport};

pub(super) struct Csv;

impl Reporter for Csv {
    fn render(
        &self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let columns = check_columns(report);
        let mut writer = ::csv::Writer::from_writer(out);
        let mut header: Vec<&str> = vec!["name", "target", "domain", "score", "grade", "scale"];
        header.extend(SUMMARY_ORDER.iter().map(|status| status.as_str()));
        header.extend(columns.iter().copied());
        writer.write_record(&header)?;
        let scale = options.scale.unwrap_or(100);
        for target in &report.targets {
            writer.write_record(row(target, &columns, scale))?;
        }
        writer.flush()
    }
}

fn row(target: &TargetReport, columns: &[&str], scale: u16) -> Vec<String> {
    let number = |value: Option<f64>| value.map(|v| format!("{v:.1}")).unwrap_or_default();
    let mut row = vec![
        inert(target.display_name()),
        inert(&target.target),
        inert(target.domain.as_deref().unwrap_or("")),
        number(target.score),
        number(grade(target.score, scale)),
        scale.to_string(),
    ];
    row.extend(
        SUMMARY_ORDER
            .iter()
            .map(|&status| target.summary.count(status).to_string()),
    );
    row.extend(columns.iter().map(|id| {
        worst_status(target, id)
            .map(|status| status.as_str().to_owned())
            .unwrap_or_default()
    }));
    row
}

/// A text cell that a spreadsheet will not evaluate.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Category, CheckResult, Severity, Status, Tool};

    fn result(id: &str, endpoint: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: "t".into(),
            category: Category::Smtp,
            severity: Severity::High,
            endpoint: Some(endpoint.parse().unwrap()),
            status,
            message: "m".into(),
            evidence: vec![],
            fix: None,
            duration_ms: 1,
        }
    }

    #[test]
    fn one_row_per_target_one_column_per_check() {
        let alice = TargetReport::new(
            "mail.alice.test".into(),
            Some("alice.test".into()),
            vec![],
            vec![
                result("smtp.vrfy.disabled", "192.0.2.1:25/smtp", Status::Pass),
                result("smtp.starttls", "192.0.2.1:25/smtp", Status::Pass),
                result("smtp.starttls", "192.0.2.1:587/smtp", Status::Fail),
            ],
        )
        .with_name("Martin, Alice");
        let bob = TargetReport::new(
            "mail.bob.test".into(),
            None,
            vec![],
            vec![result(
                "smtp.vrfy.disabled",
                "192.0.2.2:25/smtp",
                Status::Error,
            )],
        )
        .with_name("=HYPERLINK(\"x\")");
        let report = Report {
            schema: crate::outcome::REPORT_SCHEMA.into(),
            tool: Tool::this(),
            started_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            duration_ms: 1,
            targets: vec![alice, bob],
        };
        let options = RenderOptions {
            scale: Some(20),
            ..RenderOptions::default()
        };
        let mut out = Vec::new();
        Csv.render(&report, &options, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "name,target,domain,score,grade,scale,pass,fail,warn,skip,error,\
                 smtp.vrfy.disabled,smtp.starttls",
                "\"Martin, Alice\",mail.alice.test,alice.test,66.7,13.3,20,2,1,0,0,0,pass,fail",
                "\"'=HYPERLINK(\"\"x\"\")\",mail.bob.test,,0.0,0.0,20,0,0,0,0,1,error,",
            ]
        );
    }
}
