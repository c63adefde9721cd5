//! Thin entry point: parse the command line, hand it to [`mailcheck::app`], exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mailcheck::cli::Cli::parse();
    ExitCode::from(mailcheck::command::main(cli))
}
