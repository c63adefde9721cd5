//! The JSON report, schema `mailcheck/report/v1` (SPEC "JSON report").
//!
//! The field names and nesting are those of [`crate::outcome::Report`]'s `Serialize`, so the
//! model is the schema: `endpoint` and `fix` are `null` when absent, `score` a number or `null`.
//! Pretty-printed with two-space indents and a final newline, so it diffs and pipes well.

use std::io::{self, Write};

use super::{RenderOptions, Reporter};
use crate::outcome::Report;

pub(super) struct Json;

impl Reporter for Json {
    fn render(
        &self,
        report: &Report,
        _options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        out.write_all(b"\n")
    }
}
