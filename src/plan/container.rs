//! How servers are built, networked and stopped.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a server container is networked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// Bridge where the engine has Docker's bridge network, host where it
    /// has none (an engine started with `--bridge=none`).
    Auto,
    /// Docker's bridge; the server's port is published on the server
    /// address only (127.0.0.1 for a local engine).
    Bridge,
    /// The host's network; the server binds the server address (127.0.0.1
    /// for a local engine) on a free port.
    Host,
}

impl NetworkMode {
    /// The name flags and scenarios use.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Auto => "auto",
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
        }
    }
}

/// How servers are built and run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContainerOptions {
    /// Network of server containers.
    pub network: NetworkMode,
    /// Base image every Python 3 server image builds `FROM`; `None` is the
    /// official Python image, or labour's offline base on an engine that
    /// has that and not the official one.
    pub base_image: Option<String>,
    /// Base image every Python 2.7 server image builds `FROM`; `None` as
    /// for `base_image`.
    pub base_image_py27: Option<String>,
    /// Network for image builds (`host` lets pip reach the registry on
    /// hosts without a bridge); `None` is Docker's default.
    pub build_network: Option<String>,
    /// Longest wait for a started server to answer its first request.
    #[serde(with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub ready_timeout: Duration,
    /// Grace between SIGTERM and SIGKILL when stopping a server.
    #[serde(with = "crate::units::duration_secs")]
    #[schemars(with = "f64")]
    pub stop_timeout: Duration,
    /// Where each server's full build log is kept, as `<server>.log`.
    pub build_log_dir: Option<std::path::PathBuf>,
}
