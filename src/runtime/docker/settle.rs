//! Settling the options left to the engine: which network servers use and
//! which base image they build on, from what the engine has.

use std::collections::HashMap;

use bollard::Docker;
use bollard::query_parameters::ListNetworksOptions;

use super::engine_error;
use crate::plan::options::{
    DEFAULT_BASE_IMAGE, DEFAULT_BASE_IMAGE_PY27, OFFLINE_BASE_IMAGE, OFFLINE_BASE_IMAGE_PY27,
};
use crate::plan::{ContainerOptions, NetworkMode};
use crate::runtime::RuntimeError;

/// What the engine's settling chose, each with why when it was not asked
/// for.
#[derive(Debug, Clone)]
pub(super) struct Settled {
    /// The options with the network and both base images set.
    pub options: ContainerOptions,
    /// One line per choice labour made for the user.
    pub choices: Vec<String>,
}

/// Settle `options` against `docker`.
pub(super) async fn settle(
    docker: &Docker,
    options: ContainerOptions,
) -> Result<Settled, RuntimeError> {
    let mut choices = Vec::new();
    let network = match options.network {
        NetworkMode::Auto => {
            if has_bridge(docker).await? {
                choices.push("network bridge: the engine has Docker's bridge network".to_string());
                NetworkMode::Bridge
            } else {
                choices.push(
                    "network host: the engine has no bridge network (--network bridge insists)"
                        .to_string(),
                );
                NetworkMode::Host
            }
        }
        chosen => chosen,
    };
    let base_image = match options.base_image {
        Some(given) => given,
        None => {
            let (image, why) = base(
                docker,
                DEFAULT_BASE_IMAGE,
                OFFLINE_BASE_IMAGE,
                "--base-image",
            )
            .await;
            choices.extend(why);
            image
        }
    };
    let base_image_py27 = match options.base_image_py27 {
        Some(given) => given,
        None => {
            let (image, why) = base(
                docker,
                DEFAULT_BASE_IMAGE_PY27,
                OFFLINE_BASE_IMAGE_PY27,
                "--base-image-py27",
            )
            .await;
            choices.extend(why);
            image
        }
    };
    Ok(Settled {
        options: ContainerOptions {
            network,
            base_image: Some(base_image),
            base_image_py27: Some(base_image_py27),
            ..options
        },
        choices,
    })
}

async fn has_bridge(docker: &Docker) -> Result<bool, RuntimeError> {
    let options = ListNetworksOptions {
        filters: Some(HashMap::from([(
            "driver".to_string(),
            vec!["bridge".to_string()],
        )])),
    };
    let networks = docker
        .list_networks(Some(options))
        .await
        .map_err(engine_error("listing the engine's networks"))?;
    Ok(networks
        .iter()
        .any(|network| network.name.as_deref() == Some("bridge")))
}

/// The official image when the engine has it; labour's offline one when
/// the engine has that and not the official one (said); the official one,
/// pulled by the first build, otherwise. An engine that has labour's
/// offline base was made for a host without Docker Hub, so labour does not
/// first wait for a pull to fail there.
async fn base(
    docker: &Docker,
    official: &str,
    offline: &str,
    flag: &str,
) -> (String, Option<String>) {
    if docker.inspect_image(official).await.is_ok() {
        return (official.to_string(), None);
    }
    if docker.inspect_image(offline).await.is_ok() {
        let why = format!(
            "base image {offline}: {official} is not on the engine and labour's offline base is \
             ({flag} {official} pulls the official one)"
        );
        return (offline.to_string(), Some(why));
    }
    (official.to_string(), None)
}
