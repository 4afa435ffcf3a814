//! `labour report FILE...` and `labour merge FILE... --output ALL`: saved
//! results, read (and merged when several), rendered or written out. No
//! runtime is involved.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::Finish;
use crate::cli::{MergeArgs, ReportArgs};
use crate::report::Format;
use crate::results::{Results, merge};

/// `files`, read and merged into one document.
pub(super) fn read_all(files: &[PathBuf], force: bool) -> anyhow::Result<Results> {
    let mut documents = Vec::new();
    for file in files {
        documents.push((file.display().to_string(), Results::read(file)?));
    }
    Ok(merge(documents, force)?)
}

/// Write `bytes` to `path` atomically, or to stdout without a path.
pub(super) fn emit(bytes: &[u8], path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        None => std::io::stdout().write_all(bytes)?,
        Some(path) => {
            let dir = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            let mut file = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("writing {}", path.display()))?;
            {
                use std::os::unix::fs::PermissionsExt;
                file.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))?;
            }
            file.write_all(bytes)?;
            file.persist(path)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(())
}

/// Render saved results.
pub(super) fn report(args: &ReportArgs) -> anyhow::Result<Finish> {
    let format = match (args.format, &args.output) {
        (Some(format), _) => format,
        (None, Some(path)) => Format::of_path(path).with_context(|| {
            format!(
                "--output {}: say which format with --format (the extension is not .txt, .md, \
                 .csv, .html or .json)",
                path.display()
            )
        })?,
        (None, None) => Format::Table,
    };
    let results = read_all(&args.files, args.force)?;
    let bytes = format.report().render(&results)?;
    emit(&bytes, args.output.as_deref())?;
    if args.check && !results.threshold_failures.is_empty() {
        for failure in &results.threshold_failures {
            eprintln!("labour: threshold failed: {failure}");
        }
        return Ok(Finish::ThresholdFailed);
    }
    Ok(Finish::Success)
}

/// Merge saved results into one document.
pub(super) fn merge_files(args: &MergeArgs) -> anyhow::Result<Finish> {
    let results = read_all(&args.files, args.force)?;
    let mut bytes = serde_json::to_vec_pretty(&results)?;
    bytes.push(b'\n');
    emit(&bytes, Some(&args.output))?;
    eprintln!(
        "labour: merged {} document(s), {} cell(s) from {} run(s), into {}",
        args.files.len(),
        results.cells.len(),
        results.runs.len(),
        args.output.display()
    );
    Ok(Finish::Success)
}
