//! Every known server: its image folder, start command, concurrency model
//! and options, read from `images/servers.yaml`.

mod lock;
mod options;

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub(crate) use lock::{LOCK_FILE, PINS_FILE, lock_digest, sha256_hex};
pub(crate) use options::OPTIONS_PLACEHOLDER;
pub use options::{Knob, KnobSetting, KnobSource, KnobSpec};

use crate::behaviour::Interface;
use crate::images::{Images, ImagesError};
use crate::plan::{Limits, TargetSource, TargetSpec};

/// Path of the catalogue inside the images tree.
pub(crate) const CATALOGUE_FILE: &str = "servers.yaml";

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
    /// The interface it speaks to the application: `wsgi` (absent in the
    /// catalogue file, and in documents from before ASGI) or `asgi`.
    #[serde(default, skip_serializing_if = "Interface::is_wsgi")]
    pub interface: Interface,
    /// How it serves requests at once; empty: one at a time.
    pub concurrency: Vec<Concurrency>,
    /// Start command inside the container; `{host}` and `{port}` are
    /// replaced by the address to bind, the element `{options}` by the
    /// knob arguments.
    pub command: Vec<String>,
    /// The knobs it takes.
    #[serde(default)]
    pub options: BTreeMap<Knob, KnobSpec>,
    /// The knobs it lacks, with why.
    #[serde(default)]
    pub unsupported: BTreeMap<Knob, String>,
    /// Capabilities its container gets back after all are dropped, each
    /// with why the server needs it (empty for every server today).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cap_add: BTreeMap<String, String>,
    /// Why the local runtime cannot run it (it needs system packages);
    /// `None`: it can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_skip: Option<String>,
    /// The Python it runs on when not Python 3: only `"2.7"` (built on
    /// `--base-image-py27`); `None`: Python 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// Groups it belongs to (`seed`: the servers of the 2010 Labour); a
    /// group's name selects all of them, as `--servers seed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Once configured for a run: each knob as used (never in the
    /// catalogue file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings_used: Vec<KnobSetting>,
    /// Once configured for a run: its container limits (never in the
    /// catalogue file).
    #[serde(default)]
    pub limits: Limits,
    /// The sha256 of the lock its image installs from
    /// (`<name>/requirements.lock`), read with the catalogue; absent for a
    /// server that installs no packages, and in documents from before locks
    /// (never in the catalogue file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_sha256: Option<String>,
    /// The user's own deployment this entry stands for (never in the
    /// catalogue file): its image, command, port, readiness URL and
    /// middleware; `None` for a catalogue server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetSpec>,
}

/// One way a server serves several requests at once.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Concurrency {
    /// Several worker processes.
    Processes,
    /// Several threads per process.
    Threads,
    /// Greenlets (gevent, eventlet, meinheld).
    Greenlets,
    /// An event loop or native async runtime.
    Async,
}

impl fmt::Display for Concurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Concurrency::Processes => "processes",
            Concurrency::Threads => "threads",
            Concurrency::Greenlets => "greenlets",
            Concurrency::Async => "async",
        })
    }
}

/// A server of the seed's that cannot be installed today, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unavailable {
    /// Its name.
    pub name: String,
    /// Why it cannot be built.
    pub reason: String,
}

/// The only Python other than 3 a server may name.
pub(crate) const PYTHON27: &str = "2.7";

impl Server {
    /// Whether it runs on Python 2.7 rather than Python 3.
    pub fn is_python27(&self) -> bool {
        self.python.as_deref() == Some(PYTHON27)
    }

    /// The Python it runs on, for listings: `2.7` or `3`.
    pub(crate) fn python_label(&self) -> &str {
        self.python.as_deref().unwrap_or("3")
    }

    /// The concurrency model in words: `processes + threads`.
    pub fn model(&self) -> String {
        if self.concurrency.is_empty() {
            return "one request at a time".into();
        }
        let parts: Vec<String> = self.concurrency.iter().map(|c| c.to_string()).collect();
        parts.join(" + ")
    }

    /// The entry of the user's own deployment `target`, called `name`,
    /// run as a catalogue server is (limits are set by the plan).
    pub fn from_target(name: &str, target: TargetSpec) -> Self {
        let (description, version) = match &target.source {
            TargetSource::Image(image) => (format!("your image {image}"), image.clone()),
            TargetSource::Build {
                context,
                dockerfile,
            } => (
                format!(
                    "your image, built from {dockerfile} in {}",
                    context.display()
                ),
                String::new(),
            ),
        };
        Server {
            name: name.to_string(),
            description,
            version,
            interface: target.interface,
            concurrency: Vec::new(),
            command: target.command.clone(),
            options: BTreeMap::new(),
            unsupported: BTreeMap::new(),
            cap_add: BTreeMap::new(),
            local_skip: Some("a target runs in Docker only".into()),
            python: None,
            groups: Vec::new(),
            settings_used: Vec::new(),
            limits: Limits::default(),
            lock_sha256: None,
            target: Some(target),
        }
    }

    /// Where its application answers labour's behaviours: under
    /// `/_labour` in a target with labour's middleware, at the root in
    /// labour's own application.
    pub fn behaviour_prefix(&self) -> &'static str {
        match &self.target {
            Some(target) if target.wrap.is_some() => crate::plan::target::BEHAVIOUR_PREFIX,
            _ => "",
        }
    }

    /// The start command with the bind address filled in.
    pub(crate) fn command_for(&self, host: &str, port: u16) -> Vec<String> {
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
    #[serde(default)]
    unavailable: Vec<Unavailable>,
}

/// The catalogue could not be read or is inconsistent.
#[derive(Debug, Error)]
pub(crate) enum CatalogueError {
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
    unavailable: Vec<Unavailable>,
}

impl Catalogue {
    /// The servers built into labour (`images/servers.yaml`, checked by
    /// labour's tests).
    pub fn embedded() -> Self {
        Catalogue::load(&Images::Embedded).expect("the built-in catalogue is checked by the tests")
    }

    /// Read and check `servers.yaml` from `images`.
    pub(crate) fn load(images: &Images) -> Result<Self, CatalogueError> {
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
            // {port} is in the command, or in the arguments of a knob that
            // always applies (twistd's --listen endpoint carries the backlog).
            let always = server
                .options
                .iter()
                .filter(|(knob, spec)| spec.default.or(knob.labour_default()).is_some())
                .flat_map(|(_, spec)| &spec.args);
            if !server
                .command
                .iter()
                .chain(always)
                .any(|arg| arg.contains("{port}"))
            {
                return Err(invalid(name, "command has no {port} placeholder".into()));
            }
            let placeholders = server
                .command
                .iter()
                .filter(|arg| *arg == OPTIONS_PLACEHOLDER)
                .count();
            if placeholders != usize::from(!server.options.is_empty()) {
                return Err(invalid(
                    name,
                    "command needs one {options} element exactly when the server has options"
                        .into(),
                ));
            }
            for knob in Knob::ALL {
                match (
                    server.options.contains_key(&knob),
                    server.unsupported.contains_key(&knob),
                ) {
                    (true, true) => {
                        return Err(invalid(
                            name,
                            format!("{knob} is both in options and unsupported"),
                        ));
                    }
                    (false, false) => {
                        return Err(invalid(
                            name,
                            format!(
                                "{knob} is neither in options nor in unsupported (say why it is missing)"
                            ),
                        ));
                    }
                    _ => {}
                }
            }
            if let Some((knob, _)) = server.options.iter().find(|(_, spec)| {
                spec.args.is_empty() || !spec.args.iter().any(|arg| arg.contains("{}"))
            }) {
                return Err(invalid(
                    name,
                    format!("option {knob} has no argument with {{}}"),
                ));
            }
            for (knob, spec) in &server.options {
                if let (Some(ours), Some(_)) = (knob.labour_default(), spec.default) {
                    return Err(invalid(
                        name,
                        format!(
                            "option {knob} has labour's default ({ours}) for every server; \
                             the catalogue gives none"
                        ),
                    ));
                }
                if let (Some(least), Some(default)) = (spec.least, spec.default)
                    && default < least
                {
                    return Err(invalid(
                        name,
                        format!("option {knob}: its default {default} is below its least {least}"),
                    ));
                }
            }
            if server
                .python
                .as_deref()
                .is_some_and(|python| python != PYTHON27)
            {
                return Err(invalid(
                    name,
                    format!("python is {PYTHON27:?} or absent (Python 3)"),
                ));
            }
            if let Some(group) = server.groups.iter().find(|group| {
                *group == "all"
                    || Interface::ALL.iter().any(|i| i.name() == *group)
                    || parsed.servers.iter().any(|s| &s.name == *group)
            }) {
                return Err(invalid(
                    name,
                    format!(
                        "group {group:?} has the name of a server, an interface (wsgi, asgi), or all"
                    ),
                ));
            }
            if Interface::ALL.iter().any(|i| i.name() == name) {
                return Err(invalid(
                    name,
                    "a server cannot be named after an interface (wsgi, asgi): those select every server of one".into(),
                ));
            }
            if !server.settings_used.is_empty() {
                return Err(invalid(
                    name,
                    "settings_used is not a catalogue field".into(),
                ));
            }
            if images.read(&format!("{name}/Dockerfile")).is_err() {
                return Err(invalid(
                    name,
                    format!("no {name}/Dockerfile in the images tree"),
                ));
            }
            if server.lock_sha256.is_some() {
                return Err(invalid(name, "lock_sha256 is not a catalogue field".into()));
            }
            if server.target.is_some() {
                return Err(invalid(name, "target is not a catalogue field".into()));
            }
        }
        let mut servers = parsed.servers;
        for server in &mut servers {
            server.lock_sha256 = lock_digest(images, &server.name)
                .map_err(|problem| invalid(&server.name, problem))?;
        }
        Ok(Catalogue {
            servers,
            unavailable: parsed.unavailable,
        })
    }

    /// The seed's servers that cannot be built, with why.
    pub fn unavailable(&self) -> &[Unavailable] {
        &self.unavailable
    }

    /// Every server, in catalogue order.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The server called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|server| server.name == name)
    }

    /// The servers `name` stands for: the server of that name, every
    /// server of the group of that name, or every server of the interface
    /// of that name (`wsgi`, `asgi`), in catalogue order.
    pub fn resolve(&self, name: &str) -> Option<Vec<&Server>> {
        if let Some(server) = self.get(name) {
            return Some(vec![server]);
        }
        let interface = Interface::ALL.into_iter().find(|i| i.name() == name);
        let group: Vec<&Server> = self
            .servers
            .iter()
            .filter(|server| {
                server.groups.iter().any(|g| g == name) || Some(server.interface) == interface
            })
            .collect();
        (!group.is_empty()).then_some(group)
    }

    /// Every group's name, in order of first appearance, then the
    /// interfaces (`wsgi`, `asgi`) that have servers: groups too.
    pub fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for group in self.servers.iter().flat_map(|server| &server.groups) {
            if !groups.contains(group) {
                groups.push(group.clone());
            }
        }
        for interface in Interface::ALL {
            if self.servers.iter().any(|s| s.interface == interface) {
                groups.push(interface.name().to_string());
            }
        }
        groups
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
        let mut names = catalogue.names();
        names.sort();
        let mut expected = [
            "wsgiref",
            "gunicorn-sync",
            "gunicorn-gthread",
            "gunicorn-gevent",
            "gunicorn-eventlet",
            "uwsgi",
            "waitress",
            "cheroot",
            "twisted",
            "tornado",
            "gevent",
            "eventlet",
            "paste",
            "bjoern",
            "meinheld",
            "granian",
            "pyruvate",
            "mod-wsgi",
            "wsgiref-py27",
            "twisted-py27",
            "paste-py27",
            "cheroot-py27",
            "gevent-py27",
            "tornado-py27",
            "eventlet-py27",
            "cogen",
            "fapws3",
            "uvicorn",
            "uvicorn-workers",
            "gunicorn-uvicorn",
            "hypercorn-asgi",
            "daphne",
            "granian-asgi",
            "concurrence",
            "hypercorn",
            "werkzeug",
            "netius",
            "rocket3",
            "fastpysgi",
            "socketify",
        ];
        expected.sort();
        assert_eq!(names, expected);
        let unavailable: Vec<&str> = catalogue
            .unavailable()
            .iter()
            .map(|u| u.name.as_str())
            .collect();
        assert!(unavailable.is_empty(), "{unavailable:?}");
        // The seed's ten servers: seven today and as they were on Python
        // 2.7, cogen, fapws3 and concurrence on 2.7 only.
        let mut seed: Vec<&str> = catalogue
            .resolve("seed")
            .unwrap()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        seed.sort();
        let mut expected_seed = Vec::new();
        for name in [
            "wsgiref", "twisted", "paste", "cheroot", "gevent", "tornado", "eventlet",
        ] {
            expected_seed.push(name.to_string());
            expected_seed.push(format!("{name}-py27"));
        }
        expected_seed.extend(["cogen", "fapws3", "concurrence"].map(String::from));
        expected_seed.sort();
        assert_eq!(seed, expected_seed);
        for server in catalogue.servers() {
            let python27 = server.name.ends_with("-py27")
                || ["cogen", "fapws3", "concurrence"].contains(&server.name.as_str());
            assert_eq!(server.is_python27(), python27, "{}", server.name);
            assert_eq!(server.python_label(), if python27 { "2.7" } else { "3" });
        }
        assert_eq!(catalogue.groups(), ["seed", "wsgi", "asgi"]);
        // The interfaces select their servers, in catalogue order.
        let asgi: Vec<&str> = catalogue
            .resolve("asgi")
            .unwrap()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            asgi,
            [
                "uvicorn",
                "uvicorn-workers",
                "gunicorn-uvicorn",
                "hypercorn-asgi",
                "daphne",
                "granian-asgi"
            ]
        );
        let wsgi = catalogue.resolve("wsgi").unwrap();
        assert_eq!(wsgi.len() + asgi.len(), catalogue.servers().len());
        assert!(wsgi.iter().all(|s| s.interface == Interface::Wsgi));
        for server in catalogue.servers() {
            let module = match server.interface {
                Interface::Wsgi => "labour_app",
                Interface::Asgi => "labour_asgi",
            };
            assert!(
                server.command.iter().any(|arg| arg.contains(module))
                    || server.command.iter().any(|arg| arg.contains("serve.py")),
                "{} runs {module}",
                server.name
            );
            if server.interface == Interface::Asgi {
                assert!(
                    server.command.iter().any(|arg| arg.contains("labour_asgi")),
                    "{}",
                    server.name
                );
                assert!(server.concurrency.contains(&Concurrency::Async));
                assert_eq!(server.local_skip, None, "{}", server.name);
            }
        }
        assert!(catalogue.resolve("nope").is_none());
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

    fn catalogue_with(entries: &str) -> Result<Catalogue, CatalogueError> {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a", "b"] {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("Dockerfile"), "FROM x\n").unwrap();
        }
        std::fs::write(
            dir.path().join(CATALOGUE_FILE),
            format!("servers:\n{entries}"),
        )
        .unwrap();
        Catalogue::load(&Images::Directory(dir.path().into()))
    }

    fn entry(name: &str, extra: &str) -> String {
        format!(
            "  - name: {name}\n    description: d\n    version: \"1\"\n    concurrency: []\n    \
             command: [x, \"{{port}}\"]\n    {extra}\n    \
             unsupported: {{workers: x, threads: x, worker_timeout: x, max_requests: x, backlog: x}}\n"
        )
    }

    #[test]
    fn python_is_2_7_or_absent_and_groups_are_not_server_names() {
        let ok = catalogue_with(&(entry("a", "python: \"2.7\"") + &entry("b", "groups: [old]")))
            .unwrap();
        assert!(ok.get("a").unwrap().is_python27());
        assert_eq!(ok.resolve("old").unwrap()[0].name, "b");
        let error = catalogue_with(&entry("a", "python: \"3.12\"")).unwrap_err();
        assert!(error.to_string().contains("python is \"2.7\""), "{error}");
        let error =
            catalogue_with(&(entry("a", "groups: [b]") + &entry("b", "groups: []"))).unwrap_err();
        assert!(error.to_string().contains("group \"b\""), "{error}");
        let error = catalogue_with(&entry("a", "groups: [all]")).unwrap_err();
        assert!(error.to_string().contains("group \"all\""), "{error}");
        let error = catalogue_with(&entry("a", "groups: [asgi]")).unwrap_err();
        assert!(error.to_string().contains("group \"asgi\""), "{error}");
        let ok = catalogue_with(&(entry("a", "interface: asgi") + &entry("b", ""))).unwrap();
        assert_eq!(ok.get("a").unwrap().interface, Interface::Asgi);
        assert_eq!(ok.get("b").unwrap().interface, Interface::Wsgi);
        assert_eq!(ok.resolve("asgi").unwrap()[0].name, "a");
        assert_eq!(ok.resolve("wsgi").unwrap()[0].name, "b");
        let error = catalogue_with(&entry("a", "interface: rsgi")).unwrap_err();
        assert!(error.to_string().contains("rsgi"), "{error}");
    }

    #[test]
    fn the_backlog_takes_labours_default_not_the_catalogues() {
        let knobs = "command: [x, \"{port}\", \"{options}\"]\n    \
                     unsupported: {workers: x, threads: x, worker_timeout: x, max_requests: x}\n    \
                     options:";
        let entry = |options: &str| {
            format!(
                "  - name: a\n    description: d\n    version: \"1\"\n    concurrency: []\n    \
                 {knobs} {{backlog: {options}}}\n"
            )
        };
        let ok = catalogue_with(&entry("{args: [\"--backlog={}\"], least: 128}")).unwrap();
        assert_eq!(
            ok.get("a").unwrap().knobs_summary(),
            format!("backlog={}", crate::plan::options::DEFAULT_BACKLOG)
        );
        let error = catalogue_with(&entry("{args: [\"--backlog={}\"], default: 64}")).unwrap_err();
        assert!(error.to_string().contains("labour's default"), "{error}");
        let error = catalogue_with(&entry("{args: [\"--backlog\"]}")).unwrap_err();
        assert!(error.to_string().contains("no argument with {}"), "{error}");
    }

    #[test]
    fn every_server_maps_the_backlog_or_says_why_not() {
        let catalogue = Catalogue::load(&Images::Embedded).unwrap();
        for server in catalogue.servers() {
            let configured = server.configure(&Default::default(), Some(4096));
            let in_force = configured.setting_in_force(Knob::Backlog);
            match server.unsupported.get(&Knob::Backlog) {
                Some(why) => {
                    assert!(in_force.is_none(), "{}", server.name);
                    assert!(!why.is_empty());
                }
                None => {
                    assert_eq!(in_force, Some(1024), "{}", server.name);
                    let command = configured.command_for("127.0.0.1", 8000).join(" ");
                    assert!(command.contains("1024"), "{}: {command}", server.name);
                }
            }
        }
        assert_eq!(
            catalogue
                .servers()
                .iter()
                .filter(|s| s.unsupported.contains_key(&Knob::Backlog))
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            ["socketify", "fapws3"],
            "only fapws3's and socketify's listen queues are compiled in"
        );
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
