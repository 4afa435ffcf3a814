//! The compose file (`compose/docker-compose.yml`): every server of the
//! catalogue as a service, built from the images tree with the stress
//! application and run as labour runs it ([`ContainerSpec`], bridge
//! networking), its port published on 127.0.0.1 only. Typed structs
//! serialised with serde, in catalogue order, so the same catalogue makes
//! the same bytes.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::build::dockerfile;
use super::spec::{CONTAINER_PORT, ContainerSpec, Listen};
use crate::catalogue::{Catalogue, Server};
use crate::plan::options::{
    DEFAULT_BASE_IMAGE, DEFAULT_BASE_IMAGE_PY27, KnobOptions, LimitOptions,
};

/// Where the file is checked in, from the repository's root.
pub(crate) const COMPOSE_FILE: &str = "compose/docker-compose.yml";
/// The build context, from the file's folder: the images tree.
pub(crate) const CONTEXT: &str = "../images";
/// The host port of the catalogue's first server; each next one takes the
/// next port.
pub(crate) const FIRST_HOST_PORT: u16 = 18000;
/// The compose variable that overrides the base image, as labour's own
/// `--base-image` environment variable.
pub(crate) const BASE_IMAGE_VARIABLE: &str = "LABOUR_BASE_IMAGE";
/// The same for the Python 2.7 servers (`--base-image-py27`).
pub(crate) const BASE_IMAGE_PY27_VARIABLE: &str = "LABOUR_BASE_IMAGE_PY27";
/// The compose file format: 2.4 is the last with `mem_limit`, `pids_limit`
/// and `init` outside swarm's `deploy` (docker-compose 1.29 and `docker
/// compose` both read it).
const VERSION: &str = "2.4";

/// A compose file.
#[derive(Debug, Serialize)]
pub(crate) struct ComposeFile {
    version: &'static str,
    services: Services,
}

/// Services by name, in catalogue order.
#[derive(Debug)]
struct Services(Vec<(String, Service)>);

impl Serialize for Services {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, service)| (name, service)))
    }
}

/// One server's service.
#[derive(Debug, Serialize)]
struct Service {
    build: Build,
    image: String,
    command: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    environment: BTreeMap<String, String>,
    ports: Vec<String>,
    init: bool,
    restart: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mem_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memswap_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pids_limit: Option<u64>,
    cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cap_add: Vec<String>,
    security_opt: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    sysctls: BTreeMap<String, String>,
}

/// How a service's image is built.
#[derive(Debug, Serialize)]
struct Build {
    context: String,
    dockerfile: String,
    args: BTreeMap<String, String>,
}

/// `text` with compose's variable sigil escaped: `$` is `$$`.
fn literal(text: &str) -> String {
    text.replace('$', "$$")
}

/// A size as compose writes one: `256m`, in the largest unit that divides
/// it.
fn size(bytes: u64) -> String {
    [("g", 1u64 << 30), ("m", 1 << 20), ("k", 1 << 10)]
        .iter()
        .find(|(_, unit)| bytes.is_multiple_of(*unit))
        .map_or_else(
            || bytes.to_string(),
            |(suffix, unit)| format!("{}{suffix}", bytes / unit),
        )
}

/// The host port of the `index`th server of the catalogue.
pub(crate) fn host_port(index: usize) -> u16 {
    FIRST_HOST_PORT + u16::try_from(index).unwrap_or(u16::MAX - FIRST_HOST_PORT)
}

impl Service {
    fn of(server: &Server, host_port: u16) -> Self {
        let spec = ContainerSpec::of(server, &Listen::Bridge);
        let (variable, default) = if server.is_python27() {
            (BASE_IMAGE_PY27_VARIABLE, DEFAULT_BASE_IMAGE_PY27)
        } else {
            (BASE_IMAGE_VARIABLE, DEFAULT_BASE_IMAGE)
        };
        Service {
            build: Build {
                context: CONTEXT.to_string(),
                dockerfile: dockerfile(&server.name),
                args: BTreeMap::from([(
                    "BASE_IMAGE".to_string(),
                    format!("${{{variable}:-{default}}}"),
                )]),
            },
            image: format!("labour/{}:compose", server.name),
            command: spec.command.iter().map(|arg| literal(arg)).collect(),
            environment: spec
                .env
                .iter()
                .map(|(name, value)| (name.clone(), literal(value)))
                .collect(),
            ports: vec![format!("127.0.0.1:{host_port}:{CONTAINER_PORT}")],
            init: spec.init,
            restart: spec.restart.to_string(),
            mem_limit: spec.memory.map(size),
            memswap_limit: spec.memory_swap.map(size),
            cpus: spec.cpus,
            pids_limit: spec.pids_limit,
            cap_drop: spec.cap_drop,
            cap_add: spec.cap_add,
            security_opt: spec.security_opt,
            sysctls: spec.sysctls,
        }
    }
}

impl ComposeFile {
    /// The file for every server of `catalogue`, each configured as labour
    /// configures it when told nothing: its knobs' defaults, the default
    /// limits. No host's `net.core.somaxconn` caps the listen queue: the
    /// file is for any host, and each service sets its own network
    /// namespace's cap to its backlog.
    pub(crate) fn of_catalogue(catalogue: &Catalogue) -> Result<Self, String> {
        let limits = LimitOptions::default().resolve()?;
        let servers: Vec<Server> = catalogue
            .servers()
            .iter()
            .map(|server| {
                let mut configured = server.configure(&KnobOptions::default(), None);
                configured.limits = limits.clone();
                configured
            })
            .collect();
        Ok(Self::of(&servers))
    }

    /// The file for `servers` (configured: knobs and limits applied), in
    /// their order; the `i`th publishes [`host_port`]`(i)`.
    pub(crate) fn of(servers: &[Server]) -> Self {
        ComposeFile {
            version: VERSION,
            services: Services(
                servers
                    .iter()
                    .enumerate()
                    .map(|(index, server)| {
                        (server.name.clone(), Service::of(server, host_port(index)))
                    })
                    .collect(),
            ),
        }
    }

    /// The file's text: a header saying where it comes from and how to use
    /// it, then the YAML.
    pub(crate) fn render(&self) -> Result<String, serde_yaml::Error> {
        let example = self.services.0.first().map(|(name, service)| {
            let port = service.ports[0].split(':').nth(1).unwrap_or_default();
            format!(
                "#\n\
                 #   docker compose -f {COMPOSE_FILE} up -d --build {name}\n\
                 #   curl http://127.0.0.1:{port}/PlainResponse\n\
                 #   docker compose -f {COMPOSE_FILE} down\n"
            )
        });
        Ok(format!(
            "# Generated by `labour compose` from images/servers.yaml: do not edit.\n\
             # Regenerate: labour compose -o {COMPOSE_FILE}\n\
             #\n\
             # Every server of labour's catalogue with the stress application, one\n\
             # service each, started, limited and hardened as labour starts it by\n\
             # default, its port published on 127.0.0.1 only. `docker-compose`\n\
             # (1.29) reads it as `docker compose` does.\n\
             {}\
             #\n\
             # Base images: {BASE_IMAGE_VARIABLE} (default {DEFAULT_BASE_IMAGE}) and, for\n\
             # the Python 2.7 servers, {BASE_IMAGE_PY27_VARIABLE} (default {DEFAULT_BASE_IMAGE_PY27}).\n\
             {}",
            example.unwrap_or_default(),
            serde_yaml::to_string(self)?
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::Images;

    fn catalogue() -> Catalogue {
        Catalogue::load(&Images::Embedded).unwrap()
    }

    fn text() -> String {
        ComposeFile::of_catalogue(&catalogue())
            .unwrap()
            .render()
            .unwrap()
    }

    fn parsed() -> serde_yaml::Value {
        serde_yaml::from_str(&text()).unwrap()
    }

    #[test]
    fn every_server_is_a_service_in_catalogue_order_on_a_port_of_its_own() {
        let file = parsed();
        let services = file["services"].as_mapping().unwrap();
        let names: Vec<&str> = services.keys().map(|k| k.as_str().unwrap()).collect();
        let expected = catalogue().names();
        assert_eq!(names, expected);
        let mut ports: Vec<&str> = services
            .values()
            .map(|service| service["ports"][0].as_str().unwrap())
            .collect();
        assert!(ports.iter().all(|port| port.starts_with("127.0.0.1:")));
        assert_eq!(ports[0], "127.0.0.1:18000:8000");
        ports.sort();
        ports.dedup();
        assert_eq!(ports.len(), names.len(), "one host port each");
    }

    #[test]
    fn a_service_is_built_from_the_images_tree_and_run_as_labour_runs_it() {
        let file = parsed();
        let gunicorn = &file["services"]["gunicorn-sync"];
        assert_eq!(gunicorn["build"]["context"], "../images");
        assert_eq!(gunicorn["build"]["dockerfile"], "gunicorn-sync/Dockerfile");
        assert_eq!(
            gunicorn["build"]["args"]["BASE_IMAGE"],
            "${LABOUR_BASE_IMAGE:-python:3.12-slim}"
        );
        assert_eq!(gunicorn["image"], "labour/gunicorn-sync:compose");
        let command: Vec<&str> = gunicorn["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|arg| arg.as_str().unwrap())
            .collect();
        let configured = catalogue()
            .get("gunicorn-sync")
            .unwrap()
            .configure(&KnobOptions::default(), None);
        assert_eq!(command, configured.command_for("0.0.0.0", 8000));
        assert!(command.contains(&"--workers=2"), "{command:?}");
        assert!(command.contains(&"--backlog=1024"), "{command:?}");
        assert_eq!(gunicorn["sysctls"]["net.core.somaxconn"], "1024");
        assert_eq!(gunicorn["init"], true);
        assert_eq!(gunicorn["restart"], "on-failure");
        assert_eq!(gunicorn["mem_limit"], "256m");
        assert_eq!(gunicorn["memswap_limit"], "256m");
        assert_eq!(gunicorn["pids_limit"], 512);
        assert_eq!(gunicorn["environment"]["LABOUR_MEMORY_LIMIT"], "268435456");
        assert_eq!(gunicorn["cap_drop"][0], "ALL");
        assert_eq!(gunicorn["security_opt"][0], "no-new-privileges");
        let py27 = &file["services"]["wsgiref-py27"];
        assert_eq!(
            py27["build"]["args"]["BASE_IMAGE"],
            "${LABOUR_BASE_IMAGE_PY27:-python:2.7-slim}"
        );
    }

    #[test]
    fn the_file_says_it_is_generated_and_is_the_same_every_time() {
        let text = text();
        assert!(text.starts_with("# Generated by `labour compose`"));
        assert!(text.contains("labour compose -o compose/docker-compose.yml"));
        assert!(text.contains("curl http://127.0.0.1:18000/PlainResponse"));
        assert_eq!(text, self::text());
    }

    #[test]
    fn dollars_are_literal_and_sizes_take_the_largest_unit() {
        assert_eq!(literal("a$b"), "a$$b");
        assert_eq!(size(256 << 20), "256m");
        assert_eq!(size(2 << 30), "2g");
        assert_eq!(size(3 << 10), "3k");
        assert_eq!(size(1536), "1536");
    }
}
