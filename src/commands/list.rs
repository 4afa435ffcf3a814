//! `labour list servers|tests|behaviours`.

use std::io::Write;

use super::Finish;
use crate::behaviour::SPECS;
use crate::catalogue::Catalogue;
use crate::cli::{ListArgs, ListWhat};
use crate::images::Images;
use crate::report::{
    BehavioursText, JsonReport, Report, ServersText, TestsText, behaviours_document,
    servers_document,
};
use crate::scenario::{self, named_tests};

/// Print the servers, tests or behaviours, as text or JSON.
pub(super) fn list(args: &ListArgs) -> anyhow::Result<Finish> {
    let out = match args.what {
        ListWhat::Servers if args.matrix => matrix(args)?,
        ListWhat::Servers => {
            let catalogue = Catalogue::load(&Images::new(args.images.clone()))?;
            if args.json {
                JsonReport.render(&servers_document(&catalogue, args.all))?
            } else {
                ServersText { all: args.all }.render(&catalogue)?
            }
        }
        ListWhat::Tests if args.json => JsonReport.render(&named_tests())?,
        ListWhat::Tests => TestsText.render(named_tests().as_slice())?,
        ListWhat::Behaviours if args.json => JsonReport.render(&behaviours_document())?,
        ListWhat::Behaviours => BehavioursText.render(SPECS)?,
    };
    std::io::stdout().write_all(&out)?;
    Ok(Finish::Success)
}

/// The servers (or server x test pairs) of the selection, as one line of
/// JSON for a CI matrix.
fn matrix(args: &ListArgs) -> anyhow::Result<Vec<u8>> {
    let catalogue = Catalogue::load(&Images::new(args.images.clone()))?;
    let (plan, file) = scenario::plan_file(&args.flags(), args.scenario.as_deref(), &catalogue)?;
    let value = if args.tests.is_some() || file.as_ref().is_some_and(|file| file.tests.is_some()) {
        serde_json::Value::Array(
            plan.cells()
                .iter()
                .map(|key| {
                    serde_json::json!({
                        "server": plan.servers[key.server].name,
                        "test": plan.tests[key.test].name,
                    })
                })
                .collect(),
        )
    } else {
        serde_json::json!(plan.servers.iter().map(|s| &s.name).collect::<Vec<_>>())
    };
    let mut line = serde_json::to_vec(&value)?;
    line.push(b'\n');
    Ok(line)
}
