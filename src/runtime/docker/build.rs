//! Building a server image: the tar context and the build stream.

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::query_parameters::{BuildImageOptions, RemoveImageOptions, TagImageOptions};
use futures_util::StreamExt;

use super::{DockerRuntime, docker_safe};
use crate::catalogue::Server;
use crate::images::Images;
use crate::plan::NetworkMode;
use crate::plan::options::{DEFAULT_BASE_IMAGE, DEFAULT_BASE_IMAGE_PY27};
use crate::runtime::{BaseImageDigest, PreparedImage, RuntimeError, SERVER_LABEL};

/// An image to build: its tag, Dockerfile, context, and the base image
/// passed as the `BASE_IMAGE` build argument.
pub(super) struct Build {
    /// The tag it gets.
    pub tag: String,
    /// The Dockerfile's path in the context.
    pub dockerfile: String,
    /// The context, a tar archive.
    pub context: Vec<u8>,
    /// `BASE_IMAGE`, when the Dockerfile takes it.
    pub base_image: Option<String>,
    /// The build's network.
    pub network: Option<String>,
}

/// Lines of build output kept for an error.
const BUILD_TAIL_LINES: usize = 30;

/// The Dockerfile of `server` in its build context.
pub(crate) fn dockerfile(server: &str) -> String {
    format!("{server}/Dockerfile")
}

/// The build context: the images tree as it is (the context `docker
/// compose` builds from too), but only `<server>/` and `app/` of it, with
/// fixed timestamps so Docker's cache holds. The Dockerfile is
/// [`dockerfile`]; it copies `<server>/requirements.txt` and `app/`.
pub(super) fn build_context(images: &Images, server: &str) -> Result<Vec<u8>, RuntimeError> {
    let failed = |reason: String| RuntimeError::Build {
        server: server.to_string(),
        reason,
        log_tail: Vec::new(),
        log_file: None,
    };
    let mut files = images
        .files_under(server)
        .map_err(|e| failed(e.to_string()))?;
    files.extend(
        images
            .files_under("app")
            .map_err(|e| failed(e.to_string()))?,
    );
    let mut archive = tar::Builder::new(Vec::new());
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.contents.len() as u64);
        header.set_mode(if file.executable { 0o755 } else { 0o644 });
        header.set_mtime(0);
        archive
            .append_data(&mut header, &file.path, file.contents.as_slice())
            .map_err(|e| failed(format!("packing {}: {e}", file.path.display())))?;
    }
    archive
        .into_inner()
        .map_err(|e| failed(format!("packing the context: {e}")))
}

/// The tag of `server`'s image built on `base` (a name, `name:tag` or
/// `name@sha256:...`): the base made safe for a tag, at most 120 characters.
fn image_tag(server: &str, base: &str) -> String {
    let base = docker_safe(base);
    format!("labour/{server}:{}", &base[..base.len().min(120)])
}

impl DockerRuntime {
    /// The base image `server` builds on: `--base-image-py27` for a
    /// Python 2.7 server, `--base-image` for the others.
    pub(super) fn base_image(&self, server: &Server) -> &str {
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

    /// Both base images as settled: Python 3's, then Python 2.7's.
    pub(super) fn base_images(&self) -> Vec<String> {
        [&self.options.base_image, &self.options.base_image_py27]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// What the engine has under each base image now: its id and its
    /// registry digests (none where the engine does not have it yet: the
    /// first build pulls it).
    pub(super) async fn base_image_digests(&self) -> Vec<BaseImageDigest> {
        let mut digests = Vec::new();
        for image in self.base_images() {
            let Ok(inspect) = self.docker.inspect_image(&image).await else {
                continue;
            };
            digests.push(BaseImageDigest {
                image,
                id: inspect.id.unwrap_or_default(),
                repo_digests: inspect.repo_digests.unwrap_or_default(),
            });
        }
        digests
    }

    /// The image tag for `server` on its base image, so images built on
    /// different bases do not overwrite each other.
    fn image_tag(&self, server: &Server) -> String {
        image_tag(&server.name, self.base_image(server))
    }

    pub(super) fn build_network(&self) -> Option<String> {
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
        if server.target.is_some() {
            return self.prepare_target(server, on_step).await;
        }
        let base_image = self.base_image(server);
        on_step(&format!("building the image (base {base_image})"));
        let context = build_context(&self.images, &server.name)?;
        let build = Build {
            tag: self.image_tag(server),
            dockerfile: dockerfile(&server.name),
            context,
            base_image: Some(base_image.to_string()),
            network: self.build_network(),
        };
        self.build_image(server, build, on_step).await
    }

    /// Build `build` for `server`, following the build output; the image
    /// gets labour's labels and a tag of this run's own.
    pub(super) async fn build_image(
        &self,
        server: &Server,
        build: Build,
        on_step: &(dyn Fn(&str) + Sync),
    ) -> Result<PreparedImage, RuntimeError> {
        let Build {
            tag,
            dockerfile,
            context,
            base_image,
            network,
        } = build;
        let previous = self
            .docker
            .inspect_image(&tag)
            .await
            .ok()
            .and_then(|i| i.id);
        let options = BuildImageOptions {
            dockerfile,
            t: Some(tag.clone()),
            rm: true,
            forcerm: true,
            buildargs: base_image.map(|base| HashMap::from([("BASE_IMAGE".to_string(), base)])),
            labels: Some(self.labels(&server.name)),
            networkmode: network,
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
        let repository = tag.split_once(':').map_or(tag.as_str(), |(repo, _)| repo);
        let run_repo = format!(
            "labour-run/{}",
            repository.strip_prefix("labour/").unwrap_or(&server.name)
        );
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::catalogue::Catalogue;

    /// The entries of a context: path, mtime, contents.
    fn unpack(context: &[u8]) -> Vec<(String, u64, Vec<u8>)> {
        let mut archive = tar::Archive::new(context);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let path = entry.path().unwrap().to_string_lossy().into_owned();
                let mtime = entry.header().mtime().unwrap();
                let mut contents = Vec::new();
                entry.read_to_end(&mut contents).unwrap();
                (path, mtime, contents)
            })
            .collect()
    }

    #[test]
    fn the_context_is_the_images_tree_with_the_servers_folder_and_the_app_only() {
        let context = build_context(&Images::Embedded, "gunicorn-sync").unwrap();
        let entries = unpack(&context);
        let paths: Vec<&str> = entries.iter().map(|(path, _, _)| path.as_str()).collect();
        for needed in [
            "gunicorn-sync/Dockerfile",
            "gunicorn-sync/requirements.txt",
            "app/labour_app.py",
        ] {
            assert!(paths.contains(&needed), "{needed} missing from {paths:?}");
        }
        assert!(
            paths
                .iter()
                .all(|path| path.starts_with("gunicorn-sync/") || path.starts_with("app/")),
            "only the server's folder and the app: {paths:?}"
        );
        assert!(entries.iter().all(|(_, mtime, _)| *mtime == 0));
        assert_eq!(dockerfile("gunicorn-sync"), "gunicorn-sync/Dockerfile");
        // The same bytes every time: Docker's cache holds.
        assert_eq!(
            build_context(&Images::Embedded, "gunicorn-sync").unwrap(),
            context
        );
    }

    #[test]
    fn a_base_named_by_its_digest_makes_a_valid_tag() {
        let digest = format!("python:3.12-slim@sha256:{}", "0123456789abcdef".repeat(4));
        let tag = image_tag("gunicorn-sync", &digest);
        let (repository, tag) = tag.split_once(':').unwrap();
        assert_eq!(repository, "labour/gunicorn-sync");
        // Docker's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
        assert!(tag.len() <= 128, "{tag}");
        assert!(tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
        assert!(
            tag.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        );
        assert_eq!(
            tag,
            format!("python-3.12-slim-sha256-{}", "0123456789abcdef".repeat(4))
        );
        // Another digest of the same name is another image.
        let other = format!("python:3.12-slim@sha256:{}", "fedcba9876543210".repeat(4));
        assert_ne!(
            image_tag("gunicorn-sync", &other),
            image_tag("gunicorn-sync", &digest)
        );
    }

    #[test]
    fn every_dockerfile_copies_only_what_its_context_holds() {
        let catalogue = Catalogue::load(&Images::Embedded).unwrap();
        for server in catalogue.servers() {
            let entries = unpack(&build_context(&Images::Embedded, &server.name).unwrap());
            let (_, _, text) = entries
                .iter()
                .find(|(path, _, _)| *path == dockerfile(&server.name))
                .unwrap();
            let text = String::from_utf8_lossy(text).replace("\\\n", " ");
            let mut copies = 0;
            for line in text.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                let Some((instruction, args)) = words.split_first() else {
                    continue;
                };
                if !["COPY", "ADD"].contains(&instruction.to_ascii_uppercase().as_str()) {
                    continue;
                }
                if args.iter().any(|arg| arg.starts_with("--from")) {
                    continue;
                }
                let sources = &args[..args.len() - 1];
                for source in sources.iter().filter(|arg| !arg.starts_with("--")) {
                    copies += 1;
                    let inside = source.trim_end_matches('/');
                    let found = entries.iter().any(|(path, _, _)| {
                        path == inside || path.starts_with(&format!("{inside}/"))
                    });
                    assert!(
                        found,
                        "{}: `{line}` copies {source}, which the build context does not hold \
                         (it holds {}/ and app/, the images tree's own paths)",
                        server.name, server.name
                    );
                    assert!(
                        inside == "app" || inside.starts_with(&format!("{}/", server.name)),
                        "{}: `{line}` copies from outside its folder and app/",
                        server.name
                    );
                }
            }
            assert!(copies > 0, "{}: no COPY of the app", server.name);
        }
    }
}
