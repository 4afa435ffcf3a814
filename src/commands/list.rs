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
use crate::scenario::named_tests;

/// Print the servers, tests or behaviours, as text or JSON.
pub fn list(args: &ListArgs) -> anyhow::Result<Finish> {
    let out = match args.what {
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
