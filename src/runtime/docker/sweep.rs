//! Removing what earlier runs left: containers whose labour is gone (a
//! `kill -9`, a panic, a lost machine), and the image tags such runs held.
//! Only objects with labour's labels are looked at.

use std::collections::HashMap;

use bollard::query_parameters::{ListContainersOptions, ListImagesOptions, RemoveImageOptions};

use super::{DockerRuntime, engine_error};
use crate::runtime::owner::{OWNER_LABEL, Owner};
use crate::runtime::{RUN_LABEL, RuntimeError, Swept};

impl DockerRuntime {
    /// Whether the run that labelled something with `labels` is over:
    /// its owner is gone on this host, or, with `all_runs`, any run but
    /// this one.
    fn left_over(&self, labels: &HashMap<String, String>, all_runs: bool) -> bool {
        let run = labels.get(RUN_LABEL).map(String::as_str);
        if run == Some(self.run_id.as_str()) {
            return false;
        }
        if all_runs {
            return true;
        }
        labels
            .get(OWNER_LABEL)
            .and_then(|owner| Owner::parse(owner))
            .and_then(|owner| owner.is_gone())
            .unwrap_or(false)
    }

    /// Remove the containers and image tags of runs that are over (see
    /// [`DockerRuntime::left_over`]); what was removed, by name.
    pub(crate) async fn sweep(&self, all_runs: bool) -> Result<Swept, RuntimeError> {
        let mut swept = Swept::default();
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![RUN_LABEL.to_string()],
            )])),
            ..Default::default()
        };
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(engine_error("listing labour's containers"))?;
        for container in containers {
            let labels = container.labels.unwrap_or_default();
            let (Some(id), true) = (container.id, self.left_over(&labels, all_runs)) else {
                continue;
            };
            let name = container
                .names
                .and_then(|names| names.into_iter().next())
                .unwrap_or_else(|| id.clone());
            self.remove(&id).await?;
            swept
                .containers
                .push(name.trim_start_matches('/').to_string());
        }
        let options = ListImagesOptions {
            filters: Some(HashMap::from([(
                "reference".to_string(),
                vec!["labour-run/*".to_string()],
            )])),
            ..Default::default()
        };
        let images = self
            .docker
            .list_images(Some(options))
            .await
            .map_err(engine_error("listing labour's images"))?;
        for image in images {
            if !self.left_over(&image.labels, all_runs) {
                continue;
            }
            for tag in image
                .repo_tags
                .iter()
                .filter(|t| t.starts_with("labour-run/"))
            {
                // Without force: only the tag goes while the image has
                // others, or a container still uses it.
                if self
                    .docker
                    .remove_image(tag, None::<RemoveImageOptions>, None)
                    .await
                    .is_ok()
                {
                    swept.image_tags.push(tag.clone());
                }
            }
            self.remove_if_unused(&image.id).await;
        }
        Ok(swept)
    }
}
