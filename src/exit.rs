//! Exit codes, the documented contract of the CLI (SPEC "Exit codes").

/// Every target passed: no `fail`/`error` at or above the failing severity, score met.
pub const OK: u8 = 0;
/// Some check failed or could not be determined, or a score is below `--min-score`.
pub const CHECK_FAILED: u8 = 1;
/// Usage, scenario or input error: nothing was checked.
pub const USAGE: u8 = 2;
/// `batch` stopped by Ctrl-C (SIGINT): the reports hold the targets that were done (128 + 2,
/// as a shell reports a command killed by SIGINT).
pub const INTERRUPTED: u8 = 130;

/// Says why a command stops before any check ran, and gives [`USAGE`].
pub fn fatal(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    USAGE
}
