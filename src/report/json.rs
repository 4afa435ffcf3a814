//! Any document as pretty JSON: a run's results, a load's, a listing.

use serde::Serialize;

use super::Report;

/// Renders a whole document as JSON.
pub(crate) struct JsonReport;

impl<D: Serialize + ?Sized> Report<D> for JsonReport {
    fn render(&self, document: &D) -> anyhow::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(document)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
