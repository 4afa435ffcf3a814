//! The `images/` tree: server Dockerfiles, the stress application and the
//! catalogue. Embedded in the binary so an installed `labour` works from any
//! directory; `--images DIR` reads a directory instead.

use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry, include_dir};
use thiserror::Error;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/images");

/// A file of the tree: its path relative to the tree, contents, and whether
/// it is executable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ImageFile {
    /// Path relative to the root of `images/`.
    pub path: PathBuf,
    /// The bytes.
    pub contents: Vec<u8>,
    /// Whether the file should be executable in a build context.
    pub executable: bool,
}

/// Reading the images tree failed.
#[derive(Debug, Error)]
pub(crate) enum ImagesError {
    /// A file or folder is missing.
    #[error("{path} is missing from the images tree {root}")]
    Missing {
        /// Relative path asked for.
        path: String,
        /// The tree (a directory, or "embedded").
        root: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where the images tree comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Images {
    /// The copy built into the binary.
    Embedded,
    /// A directory on disk (`--images DIR`).
    Directory(PathBuf),
}

impl Images {
    /// The tree at `dir`, or the embedded one.
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        dir.map_or(Images::Embedded, Images::Directory)
    }

    /// Where the tree is, in words.
    pub(crate) fn describe(&self) -> String {
        match self {
            Images::Embedded => "embedded in labour".into(),
            Images::Directory(dir) => dir.display().to_string(),
        }
    }

    /// One file's contents.
    pub(crate) fn read(&self, path: &str) -> Result<Vec<u8>, ImagesError> {
        match self {
            Images::Embedded => EMBEDDED
                .get_file(path)
                .map(|file| file.contents().to_vec())
                .ok_or_else(|| self.missing(path)),
            Images::Directory(root) => {
                let full = root.join(path);
                if !full.is_file() {
                    return Err(self.missing(path));
                }
                std::fs::read(&full).map_err(|source| ImagesError::Read { path: full, source })
            }
        }
    }

    /// Every file under folder `path`, recursively, sorted by path. Python
    /// bytecode caches are left out.
    pub(crate) fn files_under(&self, path: &str) -> Result<Vec<ImageFile>, ImagesError> {
        let mut files = Vec::new();
        match self {
            Images::Embedded => {
                let dir = EMBEDDED.get_dir(path).ok_or_else(|| self.missing(path))?;
                collect_embedded(dir, &mut files);
            }
            Images::Directory(root) => {
                let dir = root.join(path);
                if !dir.is_dir() {
                    return Err(self.missing(path));
                }
                collect_disk(root, &dir, &mut files)?;
            }
        }
        files.retain(|file| !is_cache(&file.path));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    fn missing(&self, path: &str) -> ImagesError {
        ImagesError::Missing {
            path: path.into(),
            root: self.describe(),
        }
    }
}

fn is_cache(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "__pycache__")
        || path.extension().is_some_and(|ext| ext == "pyc")
}

fn collect_embedded(dir: &Dir<'static>, files: &mut Vec<ImageFile>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => collect_embedded(sub, files),
            DirEntry::File(file) => files.push(ImageFile {
                path: file.path().to_path_buf(),
                contents: file.contents().to_vec(),
                executable: file.path().extension().is_some_and(|ext| ext == "sh"),
            }),
        }
    }
}

fn collect_disk(root: &Path, dir: &Path, files: &mut Vec<ImageFile>) -> Result<(), ImagesError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImagesError::Read { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(read_err(dir))? {
        let entry = entry.map_err(read_err(dir))?;
        let path = entry.path();
        if path.is_dir() {
            collect_disk(root, &path, files)?;
        } else {
            let contents = std::fs::read(&path).map_err(read_err(&path))?;
            files.push(ImageFile {
                path: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
                contents,
                executable: is_executable(&path),
            });
        }
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tree_has_the_app_and_the_catalogue() {
        let images = Images::Embedded;
        assert!(images.read("servers.yaml").is_ok());
        let app = images.files_under("app").unwrap();
        assert!(app.iter().any(|f| f.path == Path::new("app/labour_app.py")));
        assert!(matches!(
            images.read("nope.yaml"),
            Err(ImagesError::Missing { .. })
        ));
    }

    #[test]
    fn a_directory_tree_reads_like_the_embedded_one() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("images");
        let disk = Images::Directory(root);
        let embedded = Images::Embedded;
        assert_eq!(
            disk.files_under("app").unwrap(),
            embedded.files_under("app").unwrap()
        );
    }
}
