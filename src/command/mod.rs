//! The commands: each turns parsed arguments into work and an exit code, one file each over
//! the shared [`crate::pipeline`] (`run` and `batch` prepare the same way). Errors that stop a
//! command before any check ran print to stderr and give [`crate::exit::USAGE`].

mod explain;
mod list;
mod run;
mod validate;

use crate::cli::{Cli, Command};

pub fn main(cli: Cli) -> u8 {
    match cli.command {
        Command::Run(args) => run::command(*args),
        Command::List { profile, format } => list::command(profile.as_deref(), format),
        Command::Batch(args) => crate::batch::command(*args),
        Command::Explain { id, lang, format } => explain::command(&id, lang.into(), format),
        Command::Validate { files } => validate::command(&files),
        Command::Diff(args) => crate::baseline::command(args),
        Command::Merge(args) => crate::merge::command(*args),
        Command::Init { file } => crate::init::command(&file),
        Command::Completions { shell } => crate::shell::completions(shell),
        Command::Man { dir } => crate::shell::man(dir.as_deref()),
    }
}
