//! `bench --dry-run`: the plan as resolved from flags, the scenario file
//! and the defaults, with nothing started: servers with their commands,
//! knobs and limits; tests with their mixes and load; seed, jobs, runs.

use std::fmt::Write as _;

use super::Report;
use crate::scenario::Plan;
use crate::units::format_bytes;

/// Renders a plan in words.
pub(crate) struct PlanText;

impl Report<Plan> for PlanText {
    fn render(&self, plan: &Plan) -> anyhow::Result<Vec<u8>> {
        let mut out = String::new();
        let cells = plan.servers.len() * plan.tests.len() * plan.repeat;
        let _ = writeln!(
            out,
            "Plan: {} server(s) x {} test(s){} = {cells} cell(s), seed {}, {} cell(s) at once.",
            plan.servers.len(),
            plan.tests.len(),
            if plan.repeat > 1 {
                format!(" x {} runs", plan.repeat)
            } else {
                String::new()
            },
            plan.seed,
            plan.jobs
        );
        let container = &plan.container;
        let _ = writeln!(
            out,
            "Servers run on network {}, from base image {} (Python 2.7: {}); ready within {:.0} s, \
             stopped with a {:.0} s grace.",
            container.network.as_str(),
            container.base_image.as_deref().unwrap_or("auto"),
            container.base_image_py27.as_deref().unwrap_or("auto"),
            container.ready_timeout.as_secs_f64(),
            container.stop_timeout.as_secs_f64()
        );
        let _ = writeln!(out, "\nServers:");
        for server in &plan.servers {
            let limits = &server.limits;
            let mut bounds = Vec::new();
            if let Some(memory) = limits.memory_bytes {
                bounds.push(format!("memory {}", format_bytes(memory)));
            }
            if let Some(cpus) = limits.cpus {
                bounds.push(format!("{cpus} CPUs"));
            }
            if let Some(pids) = limits.pids_limit {
                bounds.push(format!("{pids} processes"));
            }
            bounds.push(format!("restart {}", limits.restart));
            if !limits.init {
                bounds.push("no init".into());
            }
            let _ = writeln!(
                out,
                "  {} {}: {}\n      {}",
                server.name,
                server.version,
                bounds.join(", "),
                match (&server.target, server.command.is_empty()) {
                    (Some(_), true) => format!("{} (its own command)", server.description),
                    _ => server.command.join(" "),
                }
            );
            if let Some(target) = &server.target {
                let _ = writeln!(
                    out,
                    "      your deployment: port {}, ready at {}, {}",
                    target.port,
                    target.ready,
                    match &target.wrap {
                        Some(callable) => format!("labour's middleware around {callable}"),
                        None => "no middleware (tests that need a behaviour are skipped)".into(),
                    }
                );
            }
            for setting in server.ignored_settings() {
                let _ = writeln!(
                    out,
                    "      {} not applied: {}",
                    setting.knob.flag(),
                    setting.note.as_deref().unwrap_or("not supported")
                );
            }
        }
        let _ = writeln!(out, "\nTests:");
        for test in &plan.tests {
            let load = test.load();
            let mix: Vec<String> = test
                .mix
                .iter()
                .map(|entry| format!("{} x{}", entry.label(), entry.weight))
                .collect();
            let _ = writeln!(
                out,
                "  {} ({}{}): {}\n      {}; timeout {:.1} s{}",
                test.name,
                serde_json::to_value(test.policy)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                if test.throughput { ", runs alone" } else { "" },
                mix.join(", "),
                load.describe(),
                load.timeout.as_secs_f64(),
                load.give_up_after
                    .map(|g| format!(
                        ", gives up after {:.1} s without an answer as expected",
                        g.as_secs_f64()
                    ))
                    .unwrap_or_default()
            );
        }
        let thresholds = &plan.thresholds;
        let _ = writeln!(
            out,
            "\nThresholds: {}",
            match (
                thresholds.max_failure_ratio,
                thresholds.max_innocent_failure_ratio
            ) {
                (None, None) => "none".to_string(),
                (failure, innocent) => [
                    failure.map(|f| format!("f% at most {:.2}%", f * 100.0)),
                    innocent.map(|i| format!("innocent f% at most {:.2}%", i * 100.0)),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            }
        );
        Ok(out.into_bytes())
    }
}
