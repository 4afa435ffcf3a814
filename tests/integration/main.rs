//! labour's integration tests, one binary: the CLI without Docker, the
//! client against in-process servers, the local runtime, the HTML report in
//! headless chromium, the compose file, and bench/serve
//! against the real Docker engine (skipped with a reason when none answers, failing instead
//! when LABOUR_REQUIRE_DOCKER=1).

mod app;
mod architecture;
mod asgi;
mod ci_files;
mod cli;
mod compose;
mod docker;
mod durability;
mod engines;
mod examples;
mod faults;
mod funnel;
mod html;
mod load;
mod local;
mod locks;
mod matrix;
mod more_servers;
mod reliability;
mod scenarios;
mod schema;
mod shards;
mod targets;
mod util;
mod verdicts;
