//! `mailcheck run TARGET...`: one report over every target, printed and written to the
//! report files; the exit code follows `--fail-on` and `--min-score`.

use std::time::Duration;

use crate::cli::RunArgs;
use crate::exit::{self, fatal};
use crate::pipeline::*;
use crate::report::{Format, RenderOptions};
use crate::runner::run;

pub(super) fn command(args: RunArgs) -> u8 {
    let RunArgs { targets, options } = args;
    let prepared = match prepare(&options) {
        Ok(prepared) if prepared.ci_without_mailbox => {
            return PrepareError::CiWithoutMailbox.print();
        }
        Ok(prepared) => prepared,
        Err(error) => return error.print(),
    };
    let format = match stdout_format(&options, &[]) {
        Ok(format) => format.unwrap_or(Format::Text),
        Err(message) => return fatal(message),
    };
    let mut outputs = match create_outputs(&options, &[]) {
        Ok(outputs) => outputs,
        Err(message) => return fatal(message),
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(message) => return fatal(message),
    };
    let secrets = prepared.secrets.clone();
    // In `run`, --concurrency bounds both: connections per target and targets in flight.
    let parallel = options
        .concurrency
        .map_or(CONNECTIONS_PER_TARGET, usize::from);
    let report = runtime.block_on(async {
        let config = prepared.config(&options, parallel, parallel)?;
        if options.output.verbose {
            eprintln!(
                "mailcheck: {} check(s) on {} target(s), timeout {:.1} s, budget {:.1} s per target, {} connection(s) per target, DNS via {}",
                config.checks.len(),
                targets.len(),
                config.net.timeout.as_secs_f64(),
                config.target_budget.as_secs_f64(),
                config.concurrency,
                config.dns.servers
            );
        }
        Ok::<_, String>(run(&targets, &config).await)
    });
    let report = match report {
        Ok(report) => report,
        Err(message) => return fatal(message),
    };
    // Close sockets the runtime still holds before printing.
    runtime.shutdown_timeout(Duration::from_millis(200));

    let render = RenderOptions {
        color: color_wanted(&options.output) && format == Format::Text,
        verbose: options.output.verbose,
        quiet: options.output.quiet,
        secrets,
        lang: options.lang.into(),
        scale: None,
        width: crate::report::terminal_width(),
    };
    // Nothing could be checked (no target resolved, or none is a host name): one line each,
    // the usage exit code, nothing on stdout; the report files still say what happened.
    let unchecked: Vec<&str> = report
        .targets
        .iter()
        .filter_map(|t| t.error.as_deref())
        .collect();
    if !unchecked.is_empty() && unchecked.len() == report.targets.len() {
        for problem in unchecked {
            eprintln!("error: {problem}: nothing was checked");
        }
        write_files(&report, &render, &mut outputs);
        return exit::USAGE;
    }
    let failing = report
        .targets
        .iter()
        .any(|t| t.is_failing(options.fail_on, options.min_score));
    let code = write_reports(&report, format, &render, &mut outputs, failing);
    for target in &report.targets {
        if let Some(why) = target.below_min_score(options.min_score) {
            eprintln!("mailcheck: {}: {why}", target.display_name());
        }
    }
    code
}
