//! Building a server image: the tar context and the build stream.

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::query_parameters::{BuildImageOptions, RemoveImageOptions, TagImageOptions};
use futures_util::StreamExt;

use super::{DockerRuntime, docker_safe};
use crate::catalogue::Server;
use crate::plan::NetworkMode;
use crate::plan::options::{DEFAULT_BASE_IMAGE, DEFAULT_BASE_IMAGE_PY27};
use crate::runtime::{PreparedImage, RuntimeError, SERVER_LABEL};

/// Lines of build output kept for an error.
const BUILD_TAIL_LINES: usize = 30;

impl DockerRuntime {
    /// The base image `server` builds on: `--base-image-py27` for a
    /// Python 2.7 server, `--base-image` for the others.
    fn base_image(&self, server: &Server) -> &str {
        // Settled when the runtime connected: never `None` here.
        if server.is_python27() {
            self.options
                .base_image_py27
                .as_deref()
                .unwrap_or(DEFAULT_BASE_IMAGE_PY27)
        } else {
            self.options
                .base_image
                .as_deref()
                .unwrap_or(DEFAULT_BASE_IMAGE)
        }
    }

    /// The image tag for `server` on its base image, so images built on
    /// different bases do not overwrite each other.
    fn image_tag(&self, server: &Server) -> String {
        let base = docker_safe(self.base_image(server));
        format!("labour/{}:{}", server.name, &base[..base.len().min(120)])
    }

    /// The build context: `images/<server>/` at the root, `images/app/`
    /// under `app/`, with fixed timestamps so Docker's cache holds.
    fn build_context(&self, server: &str) -> Result<Vec<u8>, RuntimeError> {
        let failed = |reason: String| RuntimeError::Build {
            server: server.to_string(),
            reason,
            log_tail: Vec::new(),
            log_file: None,
        };
        let mut files = self
            .images
            .files_under(server)
            .map_err(|e| failed(e.to_string()))?;
        files.extend(
            self.images
                .files_under("app")
                .map_err(|e| failed(e.to_string()))?,
        );
        let mut archive = tar::Builder::new(Vec::new());
        for file in files {
            let path = match file.path.strip_prefix(server) {
                Ok(inside) => inside.to_path_buf(),
                Err(_) => file.path.clone(),
            };
            let mut header = tar::Header::new_gnu();
            header.set_size(file.contents.len() as u64);
            header.set_mode(if file.executable { 0o755 } else { 0o644 });
            header.set_mtime(0);
            archive
                .append_data(&mut header, &path, file.contents.as_slice())
                .map_err(|e| failed(format!("packing {}: {e}", path.display())))?;
        }
        archive
            .into_inner()
            .map_err(|e| failed(format!("packing the context: {e}")))
    }

    fn build_network(&self) -> Option<String> {
        self.options
            .build_network
            .clone()
            .or(match self.options.network {
                NetworkMode::Host => Some("host".to_string()),
                NetworkMode::Bridge | NetworkMode::Auto => None,
            })
    }

    /// Keep the whole build output in `<build_log_dir>/<server>.log`;
    /// returns the file, or `None` when it could not be written.
    fn keep_build_log(&self, server: &str, log: &[String]) -> Option<PathBuf> {
        let dir = self.options.build_log_dir.as_ref()?;
        let file = dir.join(format!("{server}.log"));
        let mut text = log.join("\n");
        text.push('\n');
        let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&file, text));
        written.ok().map(|()| file)
    }

    /// Remove image `id` if it is labour's, no tag names it any more (no
    /// other run holds it) and no container uses it.
    pub(super) async fn remove_if_unused(&self, id: &str) {
        let Ok(image) = self.docker.inspect_image(id).await else {
            return;
        };
        let ours = image
            .config
            .and_then(|config| config.labels)
            .is_some_and(|labels| labels.contains_key(SERVER_LABEL));
        let tagged = image.repo_tags.is_some_and(|tags| !tags.is_empty());
        if ours && !tagged {
            // Without force the engine refuses while a container uses it.
            let _ = self
                .docker
                .remove_image(id, None::<RemoveImageOptions>, None)
                .await;
        }
    }

    /// Build `server`'s image, following the build output.
    pub(super) async fn build(
        &self,
        server: &Server,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<PreparedImage, RuntimeError> {
        let base_image = self.base_image(server);
        on_step(&format!("building the image (base {base_image})"));
        let context = self.build_context(&server.name)?;
        let tag = self.image_tag(server);
        let previous = self
            .docker
            .inspect_image(&tag)
            .await
            .ok()
            .and_then(|i| i.id);
        let options = BuildImageOptions {
            t: Some(tag.clone()),
            rm: true,
            forcerm: true,
            buildargs: Some(HashMap::from([(
                "BASE_IMAGE".to_string(),
                base_image.to_string(),
            )])),
            labels: Some(self.labels(&server.name)),
            networkmode: self.build_network(),
            ..Default::default()
        };
        let failed = |reason: String, log: &[String]| {
            let mut log = log.to_vec();
            log.push(format!("error: {reason}"));
            RuntimeError::Build {
                server: server.name.clone(),
                reason,
                log_tail: log[log.len().saturating_sub(BUILD_TAIL_LINES)..].to_vec(),
                log_file: self.keep_build_log(&server.name, &log),
            }
        };
        let mut stream =
            self.docker
                .build_image(options, None, Some(bollard::body_full(context.into())));
        let mut log: Vec<String> = Vec::new();
        loop {
            let item = tokio::select! {
                _ = self.cancel.cancelled() => return Err(RuntimeError::Interrupted),
                item = stream.next() => item,
            };
            let Some(item) = item else { break };
            match item {
                Ok(info) => {
                    if let Some(text) = info.stream {
                        for line in text.lines() {
                            if line.starts_with("Step ") {
                                on_step(line);
                            }
                            log.push(line.to_string());
                        }
                    }
                    if let Some(detail) = info.error_detail {
                        let reason = detail.message.unwrap_or_else(|| "unknown error".into());
                        return Err(failed(reason, &log));
                    }
                }
                Err(error) => {
                    let reason = match error {
                        bollard::errors::Error::DockerStreamError { error } => error,
                        other => other.to_string(),
                    };
                    return Err(failed(reason, &log));
                }
            }
        }
        let inspect = self
            .docker
            .inspect_image(&tag)
            .await
            .map_err(|e| failed(format!("the built image {tag} is missing: {e}"), &log))?;
        self.keep_build_log(&server.name, &log);
        let id = inspect.id.unwrap_or_default();
        // The shared tag moves with every build, another labour's included:
        // a tag of this run's own holds this image until the run ends, so
        // no other run's cleanup can remove it from under this run's cells.
        // It is in a repository of its own: the engine removes an image by
        // id, with every tag, when all its tags are in one repository.
        let run_repo = format!("labour-run/{}", server.name);
        let run_tag = self.run_id.clone();
        self.docker
            .tag_image(
                &id,
                Some(TagImageOptions {
                    repo: Some(run_repo.clone()),
                    tag: Some(run_tag.clone()),
                }),
            )
            .await
            .map_err(|e| failed(format!("tagging the built image {id}: {e}"), &log))?;
        self.run_tags
            .lock()
            .unwrap()
            .push(format!("{run_repo}:{run_tag}"));
        if let Some(previous) = previous.filter(|previous| *previous != id) {
            self.remove_if_unused(&previous).await;
        }
        Ok(PreparedImage {
            server: server.name.clone(),
            tag,
            id,
        })
    }
}
