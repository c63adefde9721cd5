//! `mailcheck completions SHELL` and `mailcheck man [--dir DIR]`: shell completion scripts
//! (clap_complete) and manual pages (clap_mangen), both generated from the one clap definition
//! in [`crate::cli`], so they never disagree with `--help`.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit;

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "mailcheck", &mut script);
    write_stdout(&script)
}

/// Without `dir`: the page of `mailcheck` itself on stdout (`mailcheck man | man -l -`).
/// With `dir`: `mailcheck.1` and one page per subcommand (`mailcheck-run.1`, ...) in it.
pub fn man(dir: Option<&Path>) -> u8 {
    let command = Cli::command();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
            return crate::exit::fatal(format!("cannot render the manual page: {e}"));
        }
        return write_stdout(&page);
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return crate::exit::fatal(format!("cannot create {}: {e}", dir.display()));
    }
    match write_pages(command, dir) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            exit::OK
        }
        Err(message) => crate::exit::fatal(message),
    }
}

/// The page of `command` and of each of its subcommands, named after their path
/// (`mailcheck-run.1`); the paths written, in order.
fn write_pages(command: clap::Command, dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let mut command = command;
    // Subcommands need their full name (`mailcheck run`) and the parent's version.
    command.build();
    let mut written = Vec::new();
    let mut pending = vec![(command, "mailcheck".to_string())];
    while let Some((command, file_stem)) = pending.pop() {
        let path = dir.join(format!("{file_stem}.1"));
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone())
            .title(file_stem.to_uppercase())
            .render(&mut page)
            .map_err(|e| format!("cannot render {}: {e}", path.display()))?;
        std::fs::write(&path, page).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
        // `help` too (the command's page lists it), but not its copies of every subcommand.
        let mut subcommands: Vec<clap::Command> = if command.get_name() == "help" {
            Vec::new()
        } else {
            command.get_subcommands().cloned().collect()
        };
        subcommands.reverse();
        for sub in subcommands {
            let stem = format!("{file_stem}-{}", sub.get_name());
            pending.push((sub, stem));
        }
    }
    Ok(written)
}

fn write_stdout(bytes: &[u8]) -> u8 {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => crate::exit::fatal(format!("cannot write to stdout: {e}")),
    }
}
