//! `labour compose`: the compose file of every server, to stdout or a file.

use std::io::Write;

use anyhow::Context;

use super::Finish;
use crate::catalogue::Catalogue;
use crate::cli::ComposeArgs;
use crate::images::Images;
use crate::runtime::docker::compose::ComposeFile;

/// Write the compose file of the catalogue's servers.
pub(super) fn compose(args: &ComposeArgs) -> anyhow::Result<Finish> {
    let catalogue = Catalogue::load(&Images::new(args.images.clone()))?;
    let text = ComposeFile::of_catalogue(&catalogue)
        .map_err(anyhow::Error::msg)?
        .render()
        .context("writing the compose file as YAML")?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(Finish::Success)
}
