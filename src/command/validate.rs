//! `mailcheck validate FILE...`: loads and plans each scenario without connecting anywhere.

use std::path::PathBuf;

use crate::exit;
use crate::scenario;

pub(super) fn command(files: &[PathBuf]) -> u8 {
    let mut code = exit::OK;
    for file in files {
        let checked = scenario::load_file(file).and_then(|s| {
            let count = scenario::plan(std::slice::from_ref(&s), &[], &[])?
                .checks
                .len();
            Ok(count)
        });
        match checked {
            Ok(count) => println!("ok: {} ({count} checks)", file.display()),
            Err(err) => {
                eprintln!("{err}\n");
                code = exit::USAGE;
            }
        }
    }
    code
}
