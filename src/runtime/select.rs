//! Choosing where servers run: Docker when an engine answers, local
//! processes otherwise, or whichever the user insists on.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::docker::DockerRuntime;
use super::docker::endpoint::Endpoint;
use super::local::LocalRuntime;
use super::{
    Connection, EngineInfo, PreparedImage, RunningServer, Runtime, RuntimeError, StoppedServer,
    Swept,
};
use crate::catalogue::Server;
use crate::images::Images;
use crate::plan::ContainerOptions;

/// Which runtime to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeChoice {
    /// Docker when an engine answers, local processes otherwise.
    #[default]
    Auto,
    /// Docker containers; an error when no engine answers.
    Docker,
    /// Processes on this machine, each server in a virtualenv.
    Local,
}

/// The Docker or the local runtime, chosen at start.
pub(crate) struct AnyRuntime {
    kind: Kind,
    selection: String,
}

enum Kind {
    Docker(DockerRuntime),
    Local(LocalRuntime),
}

impl AnyRuntime {
    /// The runtime `choice` asks for; Docker at the engine `connection`
    /// names. `auto` falls back to local processes when the engine's socket
    /// on this machine does not answer: an engine on another machine, or a
    /// context, that does not answer is an error.
    pub(crate) async fn connect(
        choice: RuntimeChoice,
        connection: &Connection,
        options: ContainerOptions,
        images: Images,
        cancel: CancellationToken,
    ) -> Result<Self, RuntimeError> {
        let local = |options, images, cancel, why: String| {
            LocalRuntime::new(options, images, cancel).map(|runtime| AnyRuntime {
                kind: Kind::Local(runtime),
                selection: format!("local processes ({why})"),
            })
        };
        let docker = |runtime, why: &str| AnyRuntime {
            kind: Kind::Docker(runtime),
            selection: format!("docker ({why})"),
        };
        match choice {
            RuntimeChoice::Local => local(options, images, cancel, "--runtime local".into()),
            RuntimeChoice::Docker => Ok(docker(
                DockerRuntime::connect(connection, options, images, cancel).await?,
                "--runtime docker",
            )),
            RuntimeChoice::Auto => {
                let named = connection.context.is_some()
                    || Endpoint::resolve(None)?.remote_host().is_some();
                match DockerRuntime::connect(
                    connection,
                    options.clone(),
                    images.clone(),
                    cancel.clone(),
                )
                .await
                {
                    Ok(runtime) => Ok(docker(
                        runtime,
                        "an engine answers; --runtime local runs without it",
                    )),
                    Err(RuntimeError::Unreachable { endpoint, reason }) if !named => local(
                        options,
                        images,
                        cancel,
                        format!(
                            "no Docker engine answers at {endpoint}: {reason}; --runtime docker insists on one"
                        ),
                    ),
                    Err(error) => Err(error),
                }
            }
        }
    }

    /// Check, before anything starts, what can be checked of the targets
    /// among `servers`: they run in Docker only, and an image given by
    /// name must be on the engine. The error names the setting.
    pub(crate) async fn check_targets(&self, servers: &[Server]) -> Result<(), RuntimeError> {
        for server in servers {
            let Some(target) = &server.target else {
                continue;
            };
            match &self.kind {
                Kind::Local(_) => {
                    return Err(RuntimeError::LocalUnavailable {
                        reason: format!(
                            "target {}: a target runs in Docker only, and the runtime is {}",
                            server.name, self.selection
                        ),
                    });
                }
                Kind::Docker(runtime) => {
                    if let crate::plan::TargetSource::Image(image) = &target.source {
                        runtime.target_image_id(image).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// What one running server is: a `container`, or a `process group`.
    pub(crate) fn unit(&self) -> &'static str {
        match &self.kind {
            Kind::Docker(_) => "container",
            Kind::Local(_) => "process group",
        }
    }

    /// Remove what earlier runs on this host left: containers and image
    /// tags (with an engine), local process groups (always). With
    /// `all_runs`, every run's but this one's, whoever owns it.
    pub(crate) async fn sweep(&self, all_runs: bool) -> Result<Swept, RuntimeError> {
        let mut swept = match &self.kind {
            Kind::Docker(runtime) => runtime.sweep(all_runs).await?,
            Kind::Local(_) => Swept::default(),
        };
        swept.process_groups = super::local::sweep(self.run_id(), all_runs).process_groups;
        Ok(swept)
    }

    /// Where the engine is and what was settled for the user (network,
    /// base images), one line each; nothing for local processes.
    pub(crate) fn notes(&self) -> Vec<String> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.notes(),
            Kind::Local(_) => Vec::new(),
        }
    }

    /// Which runtime this is and why, in one line.
    pub(crate) fn selection(&self) -> &str {
        &self.selection
    }
}

impl Runtime for AnyRuntime {
    fn run_id(&self) -> &str {
        match &self.kind {
            Kind::Docker(runtime) => runtime.run_id(),
            Kind::Local(runtime) => runtime.run_id(),
        }
    }

    fn halt(&self) -> &CancellationToken {
        match &self.kind {
            Kind::Docker(runtime) => runtime.halt(),
            Kind::Local(runtime) => runtime.halt(),
        }
    }

    fn lost(&self) -> Option<String> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.lost(),
            Kind::Local(runtime) => runtime.lost(),
        }
    }

    async fn engine_info(&self) -> Result<EngineInfo, RuntimeError> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.engine_info().await,
            Kind::Local(runtime) => runtime.engine_info().await,
        }
        .map(|info| EngineInfo {
            selection: self.selection.clone(),
            ..info
        })
    }

    async fn prepare(
        &self,
        server: &Server,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<PreparedImage, RuntimeError> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.prepare(server, on_step).await,
            Kind::Local(runtime) => runtime.prepare(server, on_step).await,
        }
    }

    async fn start(
        &self,
        server: &Server,
        image: &PreparedImage,
        cell: &str,
    ) -> Result<RunningServer, RuntimeError> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.start(server, image, cell).await,
            Kind::Local(runtime) => runtime.start(server, image, cell).await,
        }
    }

    async fn stop(&self, running: &RunningServer) -> Result<StoppedServer, RuntimeError> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.stop(running).await,
            Kind::Local(runtime) => runtime.stop(running).await,
        }
    }

    fn not_enforced(&self, server: &Server) -> Vec<String> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.not_enforced(server),
            Kind::Local(runtime) => runtime.not_enforced(server),
        }
    }

    async fn act(
        &self,
        running: &RunningServer,
        act: super::Act,
    ) -> Result<super::ActTarget, RuntimeError> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.act(running, act).await,
            Kind::Local(runtime) => runtime.act(running, act).await,
        }
    }

    async fn direct(
        &self,
        running: &RunningServer,
    ) -> Option<std::sync::Arc<dyn super::DirectActs>> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.direct(running).await,
            Kind::Local(runtime) => runtime.direct(running).await,
        }
    }

    async fn shutdown(&self) -> Result<usize, RuntimeError> {
        match &self.kind {
            Kind::Docker(runtime) => runtime.shutdown().await,
            Kind::Local(runtime) => runtime.shutdown().await,
        }
    }
}
