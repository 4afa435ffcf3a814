//! The results file while a run goes on: a whole JSON document after every
//! finished cell, at a cost linear in the cells.
//!
//! The document starts as the run's header with an empty `cells` array,
//! written atomically. Each finished cell is appended in place: the file is
//! cut just before the array's closing `]}` and the cell is written there,
//! followed by the closing bytes again, so the file is a whole document
//! again once the one `write` returns. Nothing already written is written
//! twice until the run ends, when the whole document is written once more,
//! in plan order and pretty-printed (the compaction), atomically.
//!
//! All of it happens on a thread of its own, through a buffer, so the
//! writing never holds up the async runtime that times the cells.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::{Cell, Results};

/// The bytes that close the document after the last cell.
const CLOSING: &[u8] = b"\n]}\n";

/// What the writer thread is asked to do.
enum Message {
    /// Append a finished cell.
    Cell(Box<Cell>),
    /// Write the whole document, then stop.
    Finish(Box<Results>),
}

/// A results file kept whole as cells finish.
pub(crate) struct Journal {
    path: PathBuf,
    sender: Option<mpsc::Sender<Message>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Journal {
    /// Start the file at `path` with `header` (its cells left out) and the
    /// thread that keeps it.
    pub(crate) fn create(path: &Path, header: &Results) -> std::io::Result<Journal> {
        let (file, after_header) = write_header(path, header)?;
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("labour-results".into())
            .spawn({
                let path = path.to_path_buf();
                move || keep(&path, file, after_header, receiver)
            })?;
        Ok(Journal {
            path: path.to_path_buf(),
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    /// Append `cell` (on the writer thread). An error of the writer (a full
    /// disk) comes back here once the thread has stopped on it.
    pub(crate) fn append(&mut self, cell: &Cell) -> std::io::Result<()> {
        let sent = self
            .sender
            .as_ref()
            .is_some_and(|sender| sender.send(Message::Cell(Box::new(cell.clone()))).is_ok());
        if sent {
            Ok(())
        } else {
            self.join()
                .and(Err(std::io::Error::other("the results writer has stopped")))
        }
    }

    /// Write `results` whole, in place of the journal, and wait for it.
    pub(crate) fn finish(mut self, results: &Results) -> std::io::Result<()> {
        if let Some(sender) = self.sender.take() {
            // A writer that stopped on an error says so when joined.
            let _ = sender.send(Message::Finish(Box::new(results.clone())));
        }
        self.join()
    }

    fn join(&mut self) -> std::io::Result<()> {
        self.sender = None;
        match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| {
                Err(std::io::Error::other(format!(
                    "the thread writing {} panicked",
                    self.path.display()
                )))
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Without `finish` (an error ended the run): the file stays the
        // whole document of the cells appended so far.
        if let Err(error) = self.join() {
            eprintln!("error: writing {}: {error}", self.path.display());
        }
    }
}

/// Write `header` with an empty cell array atomically; the open file and
/// where the cells go.
fn write_header(path: &Path, header: &Results) -> std::io::Result<(File, u64)> {
    let mut value = serde_json::to_value(Results {
        cells: Vec::new(),
        ..header.clone()
    })?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| std::io::Error::other("results are not an object"))?;
    object.remove("cells");
    let mut bytes = Vec::new();
    bytes.push(b'{');
    for (key, field) in object.iter() {
        serde_json::to_writer(&mut bytes, key)?;
        bytes.push(b':');
        serde_json::to_writer(&mut bytes, field)?;
        bytes.extend_from_slice(b",\n");
    }
    bytes.extend_from_slice(b"\"cells\":[");
    let after_header = bytes.len() as u64;
    bytes.extend_from_slice(CLOSING);
    let mut file = temporary_beside(path)?;
    file.write_all(&bytes)?;
    let file = file.persist(path).map_err(|error| error.error)?;
    Ok((file, after_header))
}

/// A temporary file in `path`'s folder, readable as a results file is.
fn temporary_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file = tempfile::NamedTempFile::new_in(dir)?;
    use std::os::unix::fs::PermissionsExt;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    Ok(file)
}

/// The writer thread: append each cell where the closing bytes were, then
/// write the whole document when told to finish.
fn keep(
    path: &Path,
    mut file: File,
    mut end: u64,
    receiver: mpsc::Receiver<Message>,
) -> std::io::Result<()> {
    let mut first = true;
    let mut bytes = Vec::new();
    for message in receiver {
        match message {
            Message::Cell(cell) => {
                bytes.clear();
                if !first {
                    bytes.push(b',');
                }
                bytes.push(b'\n');
                serde_json::to_writer(&mut bytes, &cell)?;
                let cell_end = end + bytes.len() as u64;
                bytes.extend_from_slice(CLOSING);
                // One write over the old closing bytes: the file is never
                // shorter than a whole document.
                file.seek(SeekFrom::Start(end))?;
                file.write_all(&bytes)?;
                end = cell_end;
                first = false;
            }
            Message::Finish(results) => {
                drop(file);
                return results.write_atomic(path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Cell, CellStatus};

    fn results() -> Results {
        serde_json::from_str(include_str!("../../tests/fixtures/results-small.json")).unwrap()
    }

    #[test]
    fn the_file_is_a_whole_document_after_every_cell_and_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let full = results();
        let mut journal = Journal::create(&path, &full).unwrap();
        let read = || -> Results {
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
        };
        assert!(read().cells.is_empty());
        assert_eq!(read().run_id, full.run_id);
        for (index, cell) in full.cells.iter().enumerate() {
            journal.append(cell).unwrap();
            // The writer is a thread: wait until it has written this cell.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| serde_json::from_str::<Results>(&text).ok())
                .is_none_or(|r| r.cells.len() < index + 1)
            {
                assert!(
                    std::time::Instant::now() < deadline,
                    "cell {index} never written"
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            assert_eq!(read().cells[index], *cell);
        }
        journal.finish(&full).unwrap();
        assert_eq!(read(), full);
    }

    #[test]
    fn a_dropped_journal_leaves_the_cells_it_had() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let full = results();
        let mut journal = Journal::create(&path, &full).unwrap();
        let cell = Cell::named("wsgiref", "stdlib", "Plain", CellStatus::Completed);
        journal.append(&cell).unwrap();
        drop(journal);
        let read: Results = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(read.cells, vec![cell]);
    }
}
