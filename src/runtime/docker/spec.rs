//! A server's container as labour runs it, in plain values: its command,
//! environment, limits and hardening. `launch` turns it into the engine's
//! container; `compose.rs` into a compose service. Written once here, so
//! the two cannot drift apart.

use std::collections::BTreeMap;

use crate::catalogue::{Knob, Server};
use crate::plan::RestartPolicy;
use crate::runtime::memory_limit_env;
use crate::runtime::request_log::{CONTAINER_REQUEST_LOG, REQUEST_LOG_ENV};

/// Port servers listen on inside their container with bridge networking.
pub(crate) const CONTAINER_PORT: u16 = 8000;

/// The port a server listens on inside its own network namespace: a
/// target's own, else [`CONTAINER_PORT`].
pub(crate) fn container_port(server: &Server) -> u16 {
    server
        .target
        .as_ref()
        .map_or(CONTAINER_PORT, |target| target.port)
}

/// Where a server's container listens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Listen {
    /// In a network namespace of its own, on all its addresses, at
    /// [`CONTAINER_PORT`]; the engine publishes the port.
    Bridge,
    /// In the host's network namespace, at `address:port`.
    Host {
        /// The address to bind.
        address: String,
        /// The port to bind.
        port: u16,
    },
}

impl Listen {
    /// Docker's name of the network mode.
    pub(crate) fn network_mode(&self) -> &'static str {
        match self {
            Listen::Bridge => "bridge",
            Listen::Host { .. } => "host",
        }
    }
}

/// A configured server's container, as plain values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ContainerSpec {
    /// The start command, knobs and bind address filled in.
    pub command: Vec<String>,
    /// Environment variables for the stress application.
    pub env: BTreeMap<String, String>,
    /// Whether an init process runs the server.
    pub init: bool,
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap limit in bytes.
    pub memory_swap: Option<u64>,
    /// CPU limit, in CPUs.
    pub cpus: Option<f64>,
    /// Largest number of processes and threads.
    pub pids_limit: Option<u64>,
    /// What the engine does when the server exits.
    pub restart: RestartPolicy,
    /// Capabilities dropped: all.
    pub cap_drop: Vec<String>,
    /// Capabilities given back (the catalogue's `cap_add`).
    pub cap_add: Vec<String>,
    /// Security options: no privileges gained through set-uid files.
    pub security_opt: Vec<String>,
    /// Kernel settings of the container's own network namespace.
    pub sysctls: BTreeMap<String, String>,
}

impl ContainerSpec {
    /// The container of `server` (configured: knobs applied, limits set),
    /// listening as `listen` says.
    pub(crate) fn of(server: &Server, listen: &Listen) -> Self {
        let limits = &server.limits;
        let (host, port) = match listen {
            Listen::Bridge => ("0.0.0.0", container_port(server)),
            Listen::Host { address, port } => (address.as_str(), *port),
        };
        let fill = |text: &str| {
            text.replace("{host}", host)
                .replace("{port}", &port.to_string())
        };
        let mut env: BTreeMap<String, String> = memory_limit_env(limits)
            .into_iter()
            .chain([(
                REQUEST_LOG_ENV.to_string(),
                CONTAINER_REQUEST_LOG.to_string(),
            )])
            .collect();
        let command = match &server.target {
            // The user's command, pointed at the wrapped callable (it was
            // checked to name it); empty: the image's own.
            Some(target) => target
                .wrapped_command(&target.command)
                .unwrap_or_else(|_| target.command.clone())
                .iter()
                .map(|arg| fill(arg))
                .collect(),
            None => server.command_for(host, port),
        };
        if let Some(target) = &server.target {
            env.extend(
                target
                    .env
                    .iter()
                    .map(|(key, value)| (key.clone(), fill(value))),
            );
        }
        // The container's own network namespace (bridge) has its own cap on
        // listen queues: make it the server's backlog. With host networking
        // the host's net.core.somaxconn, which capped the backlog already,
        // holds (and Docker refuses net.* sysctls).
        let sysctls = match (listen, server.setting_in_force(Knob::Backlog)) {
            (Listen::Bridge, Some(backlog)) => {
                BTreeMap::from([("net.core.somaxconn".to_string(), backlog.to_string())])
            }
            _ => BTreeMap::new(),
        };
        ContainerSpec {
            command,
            // Tells the stress app a memory limit is in force: it lifts its
            // bounds on what a request may allocate.
            // And where to log the requests that reach it, for labour to
            // read once the server is stopped (see `request_log`).
            env,
            // Without an init, a server running as PID 1 ignores its own
            // SIGSEGV and looks falsely robust.
            init: limits.init,
            memory: limits.memory_bytes,
            // No swap unless asked: a limit that swaps hides the leak.
            memory_swap: limits.memory_swap_bytes.or(limits.memory_bytes),
            cpus: limits.cpus,
            pids_limit: limits.pids_limit,
            restart: limits.restart,
            // Least privilege: no capability but those a server is shown
            // to need (the catalogue says which and why), and no way to
            // gain privileges through set-uid files.
            cap_drop: vec!["ALL".to_string()],
            cap_add: server.cap_add.keys().cloned().collect(),
            security_opt: vec!["no-new-privileges".to_string()],
            sysctls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use crate::images::Images;
    use crate::plan::options::{DEFAULT_MEMORY, DEFAULT_PIDS_LIMIT, KnobOptions, LimitOptions};

    fn configured(name: &str) -> Server {
        let catalogue = Catalogue::load(&Images::Embedded).unwrap();
        let mut server = catalogue
            .get(name)
            .unwrap()
            .configure(&KnobOptions::default(), None);
        server.limits = LimitOptions::default().resolve().unwrap();
        server
    }

    #[test]
    fn a_bridged_server_binds_all_addresses_at_the_container_port_with_its_backlog() {
        let spec = ContainerSpec::of(&configured("gunicorn-sync"), &Listen::Bridge);
        assert!(spec.command.contains(&"--bind=0.0.0.0:8000".to_string()));
        assert!(spec.command.contains(&"--backlog=1024".to_string()));
        assert_eq!(spec.sysctls["net.core.somaxconn"], "1024");
        assert_eq!(spec.memory, Some(DEFAULT_MEMORY));
        assert_eq!(spec.memory_swap, Some(DEFAULT_MEMORY), "no swap");
        assert_eq!(spec.pids_limit, Some(DEFAULT_PIDS_LIMIT));
        assert_eq!(spec.env["LABOUR_MEMORY_LIMIT"], DEFAULT_MEMORY.to_string());
        assert_eq!(spec.cap_drop, ["ALL"]);
        assert!(spec.cap_add.is_empty());
        assert_eq!(spec.security_opt, ["no-new-privileges"]);
        assert!(spec.init);
        assert_eq!(Listen::Bridge.network_mode(), "bridge");
    }

    #[test]
    fn a_server_on_the_hosts_network_binds_its_own_port_and_sets_no_sysctl() {
        let listen = Listen::Host {
            address: "127.0.0.1".into(),
            port: 18123,
        };
        let spec = ContainerSpec::of(&configured("gunicorn-sync"), &listen);
        assert!(spec.command.contains(&"--bind=127.0.0.1:18123".to_string()));
        assert!(spec.sysctls.is_empty());
        assert_eq!(listen.network_mode(), "host");
        // fapws3's listen queue is compiled in: nothing to match.
        let spec = ContainerSpec::of(&configured("fapws3"), &Listen::Bridge);
        assert!(spec.sysctls.is_empty());
    }
}
