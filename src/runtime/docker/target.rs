//! A target's image: the user's own, checked on the engine (never pulled
//! or rebuilt), or built from the user's Dockerfile; and, when asked, a
//! derived image built `FROM` it that adds labour's middleware (the stress
//! application's files and a shim exposing the user's callable wrapped)
//! and runs the user's command pointed at the wrapped callable.

use super::DockerRuntime;
use super::build::Build;
use crate::catalogue::Server;
use crate::plan::target::SHIM_CALLABLE;
use crate::plan::{TargetSource, TargetSpec};
use crate::runtime::{PreparedImage, RuntimeError};

/// Where the derived image keeps labour's files.
const LABOUR_DIR: &str = "/opt/labour";

/// The shim module: the user's callable, wrapped by labour's middleware,
/// as `application`.
pub(crate) fn shim(target: &TargetSpec) -> Option<String> {
    let callable = target.wrap.as_deref()?;
    let (module, attribute) = callable.split_once(':')?;
    let (middleware, _) = SHIM_CALLABLE.split_once(':')?;
    let wrapper = match target.interface {
        crate::behaviour::Interface::Wsgi => "labour_app",
        crate::behaviour::Interface::Asgi => "labour_asgi",
    };
    Some(format!(
        "\"\"\"{middleware}: {callable} wrapped by labour's middleware (made by labour).\n\n\
         Requests under /_labour/ run labour's behaviours in this worker; every other\n\
         request goes to {callable}.\n\"\"\"\n\n\
         import functools\n\
         import importlib\n\n\
         import {wrapper}\n\n\
         _user_app = functools.reduce(getattr, {attributes:?}, importlib.import_module({module:?}))\n\
         application = {wrapper}.wrap(_user_app)\n",
        attributes = attribute.split('.').collect::<Vec<_>>(),
    ))
}

/// The derived image's Dockerfile, `FROM` the user's image by id.
pub(crate) fn derived_dockerfile(base_id: &str, command: Option<&[String]>) -> String {
    let mut text = format!(
        "# The user's image with labour's middleware (made by labour).\n\
         FROM {base_id}\n\
         COPY labour/ {LABOUR_DIR}/\n\
         ENV PYTHONPATH={LABOUR_DIR}${{PYTHONPATH:+:$PYTHONPATH}}\n"
    );
    if let Some(command) = command {
        let json = serde_json::to_string(command).expect("strings serialise");
        text.push_str(&format!("CMD {json}\n"));
    }
    text
}

/// The `docker_safe` name of a target's images: `labour/target-<name>`.
fn repository(server: &Server, suffix: &str) -> String {
    format!("labour/target-{}{suffix}", server.name)
}

impl DockerRuntime {
    /// Make `server`'s target ready to start: its image checked (or
    /// built), then, with a wrap, the derived image with the middleware.
    pub(super) async fn prepare_target(
        &self,
        server: &Server,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<PreparedImage, RuntimeError> {
        let target = server.target.as_ref().expect("a target");
        let (reference, mut prepared) = match &target.source {
            TargetSource::Image(image) => {
                on_step(&format!("checking the image {image}"));
                let id = self.target_image_id(image).await?;
                (
                    image.clone(),
                    PreparedImage {
                        server: server.name.clone(),
                        tag: image.clone(),
                        id,
                    },
                )
            }
            TargetSource::Build {
                context,
                dockerfile,
            } => {
                let base = self.base_image(server).to_string();
                on_step(&format!(
                    "building {dockerfile} in {} (BASE_IMAGE {base})",
                    context.display()
                ));
                let failed = |reason: String| RuntimeError::Build {
                    server: server.name.clone(),
                    reason,
                    log_tail: Vec::new(),
                    log_file: None,
                };
                let mut archive = tar::Builder::new(Vec::new());
                archive
                    .append_dir_all(".", context)
                    .map_err(|e| failed(format!("packing {}: {e}", context.display())))?;
                let bytes = archive
                    .into_inner()
                    .map_err(|e| failed(format!("packing {}: {e}", context.display())))?;
                // The tag says what it was built from: two contexts never
                // share it, the same one builds once.
                let digest = crate::catalogue::sha256_hex(&bytes);
                let build = Build {
                    tag: format!("{}:{}", repository(server, ""), &digest[..12]),
                    dockerfile: dockerfile.clone(),
                    context: bytes,
                    base_image: Some(base),
                    network: self.build_network(),
                };
                let built = self.build_image(server, build, on_step).await?;
                (built.id.clone(), built)
            }
        };
        if target.wrap.is_some() {
            prepared = self
                .derive(server, target, &reference, &prepared, on_step)
                .await?;
        }
        Ok(prepared)
    }

    /// The engine's id of the user's `image`; an error naming it when the
    /// engine has no such image (labour never pulls it).
    pub(crate) async fn target_image_id(&self, image: &str) -> Result<String, RuntimeError> {
        match self.docker.inspect_image(image).await {
            Ok(inspect) => Ok(inspect.id.unwrap_or_default()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(RuntimeError::TargetImage {
                image: image.to_string(),
                reason: "the engine has no such image (labour does not pull or build it: \
                         `docker pull` or `docker build` it first, or give --target-build)"
                    .into(),
            }),
            Err(error) => Err(RuntimeError::TargetImage {
                image: image.to_string(),
                reason: error.to_string(),
            }),
        }
    }

    /// Build the image `FROM` `base` with labour's middleware, its command
    /// (the user's, or the image's own) pointed at the wrapped callable.
    async fn derive(
        &self,
        server: &Server,
        target: &TargetSpec,
        reference: &str,
        base: &PreparedImage,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<PreparedImage, RuntimeError> {
        let callable = target.wrap.as_deref().unwrap_or_default();
        on_step(&format!(
            "adding labour's middleware around {callable} to {reference}"
        ));
        let failed = |reason: String| RuntimeError::Build {
            server: server.name.clone(),
            reason,
            log_tail: Vec::new(),
            log_file: None,
        };
        // The image's own command is baked in, pointed at the wrapped
        // callable; a command the user gave is pointed at it when the
        // container is made.
        let command = if target.command.is_empty() {
            let inspect = self
                .docker
                .inspect_image(&base.id)
                .await
                .map_err(|e| failed(format!("inspecting {reference}: {e}")))?;
            let config = inspect.config.unwrap_or_default();
            let own = config.cmd.unwrap_or_default();
            let wrapped = target.wrapped_command(&own).map_err(|problem| {
                let entrypoint = config.entrypoint.unwrap_or_default();
                failed(format!(
                    "{reference}: {problem}{}",
                    if entrypoint.is_empty() {
                        String::new()
                    } else {
                        format!(" (its entrypoint is {entrypoint:?})")
                    }
                ))
            })?;
            Some(wrapped)
        } else {
            None
        };
        let mut files: Vec<(String, Vec<u8>)> = vec![
            (
                "Dockerfile".into(),
                derived_dockerfile(&base.id, command.as_deref()).into_bytes(),
            ),
            (
                "labour/labour_target.py".into(),
                shim(target).unwrap_or_default().into_bytes(),
            ),
        ];
        for file in self
            .images
            .files_under("app")
            .map_err(|e| failed(e.to_string()))?
        {
            let inside = file
                .path
                .strip_prefix("app")
                .unwrap_or(&file.path)
                .to_string_lossy()
                .into_owned();
            files.push((format!("labour/{inside}"), file.contents));
        }
        let mut archive = tar::Builder::new(Vec::new());
        for (path, contents) in &files {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            archive
                .append_data(&mut header, path, contents.as_slice())
                .map_err(|e| failed(format!("packing {path}: {e}")))?;
        }
        let context = archive
            .into_inner()
            .map_err(|e| failed(format!("packing the middleware: {e}")))?;
        let short = base.id.trim_start_matches("sha256:");
        let build = Build {
            tag: format!(
                "{}:{}",
                repository(server, "-wrapped"),
                &short[..short.len().min(12)]
            ),
            dockerfile: "Dockerfile".into(),
            context,
            base_image: None,
            network: None,
        };
        self.build_image(server, build, on_step).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::behaviour::Interface;

    fn target(wrap: Option<&str>) -> TargetSpec {
        TargetSpec {
            source: TargetSource::Image("shop:1".into()),
            command: Vec::new(),
            env: BTreeMap::new(),
            port: 8000,
            ready: "/".into(),
            interface: Interface::Wsgi,
            wrap: wrap.map(String::from),
        }
    }

    #[test]
    fn the_shim_wraps_the_users_callable_by_module_and_attribute() {
        let text = shim(&target(Some("shop.web:app.wsgi"))).unwrap();
        assert!(text.contains("import labour_app\n"), "{text}");
        assert!(text.contains(
            "functools.reduce(getattr, [\"app\", \"wsgi\"], importlib.import_module(\"shop.web\"))"
        ));
        assert!(text.contains("application = labour_app.wrap(_user_app)"));
        assert!(shim(&target(None)).is_none());
        let mut asgi = target(Some("main:app"));
        asgi.interface = Interface::Asgi;
        assert!(shim(&asgi).unwrap().contains("labour_asgi.wrap(_user_app)"));
    }

    #[test]
    fn the_derived_image_adds_labours_files_and_its_command() {
        let command = vec![
            "gunicorn".to_string(),
            "labour_target:application".to_string(),
        ];
        let text = derived_dockerfile("sha256:abc", Some(&command));
        assert!(text.contains("FROM sha256:abc\n"));
        assert!(text.contains("COPY labour/ /opt/labour/\n"));
        assert!(text.contains("ENV PYTHONPATH=/opt/labour${PYTHONPATH:+:$PYTHONPATH}\n"));
        assert!(text.ends_with("CMD [\"gunicorn\",\"labour_target:application\"]\n"));
        assert!(!derived_dockerfile("sha256:abc", None).contains("CMD"));
    }
}
