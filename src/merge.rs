//! `mailcheck merge FILE...`: the results of several runs (the shards of `batch --shard K/N`,
//! or runs resumed elsewhere) as one report, in every format `batch` writes.
//!
//! A FILE is a JSON report (`--json`) when it parses as one, else a JSONL file (`--jsonl`).
//! Targets keep the order of the files, then of their lines; a target found in several files
//! (same key, [`jsonl::report_key`] for a JSON report) is taken from the last one, in the
//! place of its first.

use std::collections::HashMap;
use std::path::Path;

use crate::cli::{Cli, Command, MergeArgs, RunOptions};
use crate::exit;
use crate::jsonl;
use crate::outcome::{Report, TargetReport, Tool};
use crate::report::{Format, Lang, RenderOptions};

/// The targets of one file, each with its key.
type Keyed = Vec<(String, TargetReport)>;

/// The targets of one file; the JSON report (its start and duration) if it is one.
fn read(path: &Path) -> Result<(Keyed, Option<Report>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("error: cannot read {}: {e}", path.display()))?;
    if let Ok(mut report) = serde_json::from_str::<Report>(&text) {
        if report.schema != crate::outcome::REPORT_SCHEMA {
            return Err(format!(
                "error: {}: schema {:?} is not {}",
                path.display(),
                report.schema,
                crate::outcome::REPORT_SCHEMA
            ));
        }
        let targets = std::mem::take(&mut report.targets)
            .into_iter()
            .map(|t| (jsonl::report_key(&t), t))
            .collect();
        return Ok((targets, Some(report)));
    }
    let lines = jsonl::read(path).map_err(|e| {
        format!("{e}\n(`merge` reads JSON reports of --json and JSONL files of --jsonl)")
    })?;
    Ok((lines.into_iter().map(|l| (l.key, l.target)).collect(), None))
}

/// Joins the targets of `files` (later files win for a key seen before, in its first place).
pub fn join(files: &[std::path::PathBuf]) -> Result<Report, String> {
    let mut places: HashMap<String, usize> = HashMap::new();
    let mut targets: Vec<TargetReport> = Vec::new();
    let mut started_at: Option<time::OffsetDateTime> = None;
    let mut duration_ms = 0;
    for path in files {
        let (found, report) = read(path)?;
        if let Some(report) = report {
            started_at = Some(started_at.map_or(report.started_at, |s| s.min(report.started_at)));
            duration_ms = duration_ms.max(report.duration_ms);
        }
        for (key, target) in found {
            duration_ms = duration_ms.max(target.duration_ms.unwrap_or(0));
            match places.get(&key) {
                Some(&place) => targets[place] = target,
                None => {
                    places.insert(key, targets.len());
                    targets.push(target);
                }
            }
        }
    }
    Ok(Report {
        schema: crate::outcome::REPORT_SCHEMA.into(),
        tool: Tool::this(),
        started_at: started_at.unwrap_or_else(time::OffsetDateTime::now_utc),
        duration_ms,
        targets,
    })
}

/// `batch`'s output options, as `merge` was given them.
fn output_options(args: &MergeArgs) -> RunOptions {
    let Ok(Cli {
        command: Command::Batch(batch),
        ..
    }) = <Cli as clap::Parser>::try_parse_from(["mailcheck", "batch", "-"])
    else {
        unreachable!("`batch -` parses")
    };
    let mut options = batch.options;
    options.format = args.format;
    options.json.clone_from(&args.json);
    options.junit.clone_from(&args.junit);
    options.markdown.clone_from(&args.markdown);
    options.html.clone_from(&args.html);
    options.lang = args.lang;
    options.output = args.output.clone();
    options
}

pub fn command(args: MergeArgs) -> u8 {
    let options = output_options(&args);
    let extra = [(Format::Csv, &args.csv)];
    let stdout_format = match crate::pipeline::stdout_format(&options, &extra) {
        Ok(format) => format,
        Err(message) => return crate::exit::fatal(message),
    };
    let report = match join(&args.files) {
        Ok(report) => report,
        Err(message) => {
            eprintln!("{message}");
            return exit::USAGE;
        }
    };
    let mut outputs = match crate::pipeline::create_outputs(&options, &extra) {
        Ok(outputs) => outputs,
        Err(message) => return crate::exit::fatal(message),
    };
    if options.output.verbose {
        eprintln!(
            "mailcheck: {} target(s) from {} file(s)",
            report.targets.len(),
            args.files.len()
        );
    }
    let format = match stdout_format.unwrap_or(Format::Text) {
        Format::Text => Format::Class,
        other => other,
    };
    let render = RenderOptions {
        color: crate::pipeline::color_wanted(&options.output) && format == Format::Class,
        verbose: options.output.verbose,
        quiet: options.output.quiet,
        secrets: Vec::new(),
        lang: Lang::from(options.lang),
        scale: args.scale,
        width: crate::report::terminal_width(),
    };
    let failing = report
        .targets
        .iter()
        .any(|t| t.is_failing(options.fail_on, options.min_score));
    crate::pipeline::write_reports(&report, format, &render, &mut outputs, failing)
}
