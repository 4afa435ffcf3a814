//! `labour compare BASE NEW`: two saved runs, cell by cell.

use super::Finish;
use super::report::emit;
use crate::cli::{CompareArgs, CompareFormat};
use crate::report::{
    CompareMarkdown, CompareTable, JsonReport, Report, compare, interface_mismatches,
};
use crate::results::{Results, differences};

/// Compare two runs; a regression beyond the threshold is exit status 1.
pub(super) fn compare_files(args: &CompareArgs) -> anyhow::Result<Finish> {
    let base = Results::read(&args.base)?;
    let new = Results::read(&args.new)?;
    let mismatches = interface_mismatches(&base, &new);
    if let Some(first) = mismatches.first() {
        anyhow::bail!(
            "refusing to compare a WSGI cell with an ASGI one: {first}{}",
            match mismatches.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            }
        );
    }
    // Runs built from other locks or bases did not measure the same bytes.
    for difference in differences(&base, &new) {
        eprintln!("warning: {difference}");
    }
    let comparison = compare(&base, &new, args.max_regression);
    let bytes = match args.format {
        CompareFormat::Table => CompareTable.render(&comparison)?,
        CompareFormat::Markdown => CompareMarkdown.render(&comparison)?,
        CompareFormat::Json => JsonReport.render(&comparison)?,
    };
    emit(&bytes, None)?;
    if comparison.cells.iter().any(|c| c.regressed) {
        return Ok(Finish::ThresholdFailed);
    }
    Ok(Finish::Success)
}
