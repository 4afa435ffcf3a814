//! Every known server: its image folder, start command and description,
//! read from `images/servers.yaml`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::images::{Images, ImagesError};

/// Path of the catalogue inside the images tree.
pub const CATALOGUE_FILE: &str = "servers.yaml";

/// One server labour knows how to build and start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Lowercase with dashes; also the image folder's name.
    pub name: String,
    /// One line for listings.
    pub description: String,
    /// The pinned version of the server.
    pub version: String,
    /// Concurrency model, in words.
    pub model: String,
    /// Start command inside the container; `{host}` and `{port}` are
    /// replaced by the address to bind.
    pub command: Vec<String>,
}

impl Server {
    /// The start command with the bind address filled in.
    pub fn command_for(&self, host: &str, port: u16) -> Vec<String> {
        self.command
            .iter()
            .map(|arg| {
                arg.replace("{host}", host)
                    .replace("{port}", &port.to_string())
            })
            .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    servers: Vec<Server>,
}

/// The catalogue could not be read or is inconsistent.
#[derive(Debug, Error)]
pub enum CatalogueError {
    /// The file is missing or unreadable.
    #[error(transparent)]
    Images(#[from] ImagesError),
    /// The YAML does not parse.
    #[error("{file}: {message}")]
    Parse {
        /// The catalogue file, as the user knows it.
        file: String,
        /// serde_yaml's message, with line and column.
        message: String,
    },
    /// An entry is wrong.
    #[error("{file}: server {name:?}: {problem}")]
    Invalid {
        /// The catalogue file.
        file: String,
        /// The entry.
        name: String,
        /// What is wrong.
        problem: String,
    },
}

/// All servers, in catalogue order.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    servers: Vec<Server>,
}

impl Catalogue {
    /// Read and check `servers.yaml` from `images`.
    pub fn load(images: &Images) -> Result<Self, CatalogueError> {
        let file = match images {
            Images::Embedded => CATALOGUE_FILE.to_string(),
            Images::Directory(dir) => dir.join(CATALOGUE_FILE).display().to_string(),
        };
        let text = images.read(CATALOGUE_FILE)?;
        let parsed: CatalogueFile =
            serde_yaml::from_slice(&text).map_err(|error| CatalogueError::Parse {
                file: file.clone(),
                message: error.to_string(),
            })?;
        let invalid = |name: &str, problem: String| CatalogueError::Invalid {
            file: file.clone(),
            name: name.to_string(),
            problem,
        };
        for (index, server) in parsed.servers.iter().enumerate() {
            let name = server.name.as_str();
            let well_formed = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !well_formed {
                return Err(invalid(
                    name,
                    "names are lowercase letters, digits and dashes".into(),
                ));
            }
            if parsed.servers[..index].iter().any(|s| s.name == name) {
                return Err(invalid(name, "listed twice".into()));
            }
            if !server.command.iter().any(|arg| arg.contains("{port}")) {
                return Err(invalid(name, "command has no {port} placeholder".into()));
            }
            if images.read(&format!("{name}/Dockerfile")).is_err() {
                return Err(invalid(
                    name,
                    format!("no {name}/Dockerfile in the images tree"),
                ));
            }
        }
        Ok(Catalogue {
            servers: parsed.servers,
        })
    }

    /// Every server, in catalogue order.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The server called `name`.
    pub fn get(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|server| server.name == name)
    }

    /// Every server's name.
    pub fn names(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|server| server.name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_loads() {
        let catalogue = Catalogue::load(&Images::Embedded).unwrap();
        assert_eq!(catalogue.names(), ["wsgiref", "gunicorn-sync", "waitress"]);
        let gunicorn = catalogue.get("gunicorn-sync").unwrap();
        assert!(
            gunicorn
                .command_for("127.0.0.1", 8123)
                .contains(&"--bind=127.0.0.1:8123".to_string())
        );
    }

    #[test]
    fn every_catalogue_entry_has_an_image_folder_and_back() {
        let images = Images::Embedded;
        let catalogue = Catalogue::load(&images).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("images");
        let mut folders: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.path().join("Dockerfile").is_file())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        let mut names = catalogue.names();
        names.sort();
        assert_eq!(folders, names);
    }

    #[test]
    fn a_broken_catalogue_names_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CATALOGUE_FILE),
            "servers:\n  - name: x\n    colour: red\n",
        )
        .unwrap();
        let error = Catalogue::load(&Images::Directory(dir.path().into())).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("servers.yaml"), "{text}");
        assert!(text.contains("line 3"), "{text}");
        assert!(text.contains("colour"), "{text}");
    }
}
