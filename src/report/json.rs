//! The results document as pretty JSON.

use super::Report;
use crate::results::Results;

/// Renders the whole results document.
pub struct JsonReport;

impl Report for JsonReport {
    fn render(&self, results: &Results) -> anyhow::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(results)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
