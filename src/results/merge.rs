//! Reading saved documents, and joining several (the shards of one run, or
//! one per CI job) into one: the same labour, tests, load and seed, each
//! cell once, each cell keeping the run (and so the machine and engine)
//! that measured it.

use std::path::Path;

use thiserror::Error;

use super::{Results, SCHEMA_VERSION};

/// A results document could not be read or joined.
#[derive(Debug, Error)]
pub enum ResultsError {
    /// The file could not be read.
    #[error("{path}: cannot read it: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a results document this labour reads.
    #[error("{path}: not a labour results document: {reason}")]
    NotResults {
        /// The file.
        path: String,
        /// What is wrong, with the place in the file.
        reason: String,
    },
    /// The documents were not measured alike.
    #[error(
        "{first} and {other} cannot be merged: {} (--force merges them anyway and records it)",
        differences.join("; ")
    )]
    Differ {
        /// The first document.
        first: String,
        /// The one that differs.
        other: String,
        /// What differs.
        differences: Vec<String>,
    },
    /// A cell is in two documents.
    #[error("{server} / {test}{} is in both {first} and {other}", run_label(*repeat))]
    Duplicate {
        /// Its server.
        server: String,
        /// Its test.
        test: String,
        /// Its run, with `--repeat`.
        repeat: u32,
        /// The first document that has it.
        first: String,
        /// The second.
        other: String,
    },
}

fn run_label(repeat: u32) -> String {
    match repeat {
        0 => String::new(),
        n => format!(" (run {})", n + 1),
    }
}

/// The oldest `schema_version` this labour reads.
pub(super) const OLDEST_READ: u32 = 2;

impl Results {
    /// Read a document written by `bench --output` (or `merge`).
    pub fn read(path: &Path) -> Result<Results, ResultsError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ResultsError::Read {
            path: name.clone(),
            source,
        })?;
        let not_results = |reason: String| ResultsError::NotResults {
            path: name.clone(),
            reason,
        };
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| not_results(format!("line {}, column {}: {e}", e.line(), e.column())))?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            // Version 2 lacks only fields that default (a cell's verdict is
            // worked out from its figures when read).
            Some(version) if (OLDEST_READ..=SCHEMA_VERSION).contains(&(version as u32)) => {}
            Some(version) => {
                return Err(not_results(format!(
                    "its schema_version is {version}; this labour ({}) reads {OLDEST_READ} to \
                     {SCHEMA_VERSION}",
                    env!("CARGO_PKG_VERSION")
                )));
            }
            None => return Err(not_results("it has no schema_version".into())),
        }
        let mut results: Results =
            serde_json::from_value(value).map_err(|e| not_results(e.to_string()))?;
        results.settle();
        Ok(results)
    }
}

/// What makes two documents measured alike, in words, where they differ.
fn differences(first: &Results, other: &Results) -> Vec<String> {
    let mut found = Vec::new();
    if first.labour_version != other.labour_version {
        found.push(format!(
            "labour {} against {}",
            first.labour_version, other.labour_version
        ));
    }
    if first.seed != other.seed {
        found.push(format!("seed {} against {}", first.seed, other.seed));
    }
    if first.scenario.tests != other.scenario.tests {
        found.push("different tests, mixes or load".into());
    }
    if first.scenario.container != other.scenario.container {
        found.push("different container options".into());
    }
    if first.scenario.thresholds != other.scenario.thresholds {
        found.push("different thresholds".into());
    }
    if first.repeat != other.repeat {
        found.push(format!(
            "--repeat {} against {}",
            first.repeat, other.repeat
        ));
    }
    for server in &other.scenario.servers {
        if let Some(mine) = first
            .scenario
            .servers
            .iter()
            .find(|s| s.name == server.name)
            && mine != server
        {
            found.push(format!("server {} configured differently", server.name));
        }
    }
    found
}

/// Join `documents` (each with a name for errors) into one. Documents that
/// were not measured alike are refused unless `force` (the differences are
/// then recorded); a cell in two documents is always refused.
pub(crate) fn merge(
    documents: Vec<(String, Results)>,
    force: bool,
) -> Result<Results, ResultsError> {
    let key = |c: &super::Cell| (c.server.clone(), c.test.clone(), c.repeat);
    let mut documents = documents.into_iter();
    let Some((first_name, mut merged)) = documents.next() else {
        unreachable!("merge is given at least one document")
    };
    // Which document each cell came from, for the error naming both.
    let mut origin: Vec<((String, String, u32), String)> = merged
        .cells
        .iter()
        .map(|c| (key(c), first_name.clone()))
        .collect();
    for (name, other) in documents {
        let found = differences(&merged, &other);
        if !found.is_empty() {
            if !force {
                return Err(ResultsError::Differ {
                    first: first_name,
                    other: name,
                    differences: found,
                });
            }
            merged
                .merge_differences
                .extend(found.into_iter().map(|d| format!("{name}: {d}")));
        }
        for cell in &other.cells {
            if let Some((_, holder)) = origin.iter().find(|(k, _)| *k == key(cell)) {
                return Err(ResultsError::Duplicate {
                    server: cell.server.clone(),
                    test: cell.test.clone(),
                    repeat: cell.repeat,
                    first: holder.clone(),
                    other: name,
                });
            }
        }
        origin.extend(other.cells.iter().map(|c| (key(c), name.clone())));
        join(&mut merged, other);
    }
    merged.settle();
    Ok(merged)
}

/// Add `other`'s servers, runs and cells to `merged`, cells in plan order.
fn join(merged: &mut Results, other: Results) {
    for server in other.scenario.servers {
        if !merged
            .scenario
            .servers
            .iter()
            .any(|s| s.name == server.name)
        {
            merged.scenario.servers.push(server);
        }
    }
    for run in other.runs {
        if !merged.runs.iter().any(|r| r.run_id == run.run_id) {
            merged.runs.push(run);
        }
    }
    merged.run_id = format!("{}+{}", merged.run_id, other.run_id);
    merged.interrupted |= other.interrupted;
    merged.planned_cells += other.planned_cells;
    merged.jobs = merged.jobs.max(other.jobs);
    merged.wall_secs += other.wall_secs;
    merged.orchestration_secs += other.orchestration_secs;
    merged.orchestration_share = if merged.wall_secs > 0.0 {
        merged.orchestration_secs / merged.wall_secs
    } else {
        0.0
    };
    merged.prepares.extend(other.prepares);
    merged.cells.extend(other.cells);
    let servers: Vec<String> = merged
        .scenario
        .servers
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let tests: Vec<String> = merged
        .scenario
        .tests
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let position = |c: &super::Cell| {
        (
            servers.iter().position(|s| *s == c.server),
            tests.iter().position(|t| *t == c.test),
            c.repeat,
        )
    };
    merged.cells.sort_by_key(position);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture as a document of `version`, without the fields `version`
    /// 2 did not have.
    fn written_as(version: u64, dir: &Path) -> std::path::PathBuf {
        let mut value: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/results-small.json")).unwrap();
        value["schema_version"] = version.into();
        for cell in value["cells"].as_array_mut().unwrap() {
            let cell = cell.as_object_mut().unwrap();
            cell.remove("verdict");
            cell.remove("stalls");
        }
        let path = dir.join(format!("v{version}.json"));
        std::fs::write(&path, value.to_string()).unwrap();
        path
    }

    #[test]
    fn a_version_2_document_is_read_with_its_verdicts_worked_out() {
        let dir = tempfile::tempdir().unwrap();
        let results = Results::read(&written_as(2, dir.path())).unwrap();
        assert!(results.cells.iter().all(|c| c.verdict.is_some()));
        assert!(results.cells.iter().all(|c| c.stalls.is_none()));
        let error = Results::read(&written_as(1, dir.path())).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("its schema_version is 1; this labour"),
            "{error}"
        );
    }
}
