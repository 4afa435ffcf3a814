//! labour: which WSGI server survives a misbehaving application?
//!
//! labour builds WSGI servers with a stress application, sends a weighted
//! mix of requests that make the application sleep, leak, wedge or
//! segfault, watches what the server does, and records per server and
//! test how many requests came back *as expected*, how much the innocent
//! requests suffered, and how fast the server recovered. The command line
//! (`labour bench`) does all of it in Docker containers or local processes;
//! this library is the same run for a Rust program, and nothing else:
//!
//! - [`Plan`]: what to run, validated before anything runs, from a
//!   scenario file ([`Plan::read`]) or its YAML ([`Plan::from_yaml`]);
//! - [`run`]: run every cell of a plan, in Docker or local processes
//!   ([`RuntimeChoice`]), and get its [`results::Results`];
//! - [`measure`]: one test ([`named_tests`]) against a server you started
//!   yourself;
//! - [`results`]: the document a run produces and the records it holds
//!   (read a saved one with [`results::Results::read`]), and [`Format`]:
//!   its renderings (table, plain, Markdown, CSV, HTML, JSON);
//! - the data those carry: [`plan`] (tests, load, limits), [`behaviour`]
//!   (what a request asks the application to do, and which outcomes count
//!   as expected), [`catalogue`] (the servers labour knows).
//!
//! `examples/plan_and_run.rs` plans and runs one cell in Docker;
//! `examples/read_results.rs` prints a saved run's verdicts.
//!
//! # Example: one cell against a server you started
//!
//! A stand-in for your server: it answers every request with "Pong!", as
//! the stress application answers the innocent `PlainResponse`. The
//! `Plain` test asks for 99 of those and 1 `status=404`, so the stand-in
//! gets 1% of its answers wrong, and labour says so.
//!
//! ```
//! use labour::plan::LoadSpec;
//! use labour::named_tests;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Runtime::new()?;
//! let cell = runtime.block_on(async {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let address = listener.local_addr()?;
//!     tokio::spawn(async move {
//!         while let Ok((mut socket, _)) = listener.accept().await {
//!             tokio::spawn(async move {
//!                 let mut request = [0u8; 1024];
//!                 let _ = socket.read(&mut request).await;
//!                 let answer = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\
//!                               X-Labour-Worker: 1\r\nConnection: close\r\n\r\nPong!\n";
//!                 let _ = socket.write_all(answer.as_bytes()).await;
//!             });
//!         }
//!     });
//!     let mut plain = named_tests().into_iter().find(|t| t.name == "Plain").unwrap();
//!     plain.load = Some(LoadSpec {
//!         requests: Some(200),
//!         concurrency: 4,
//!         ..LoadSpec::default()
//!     });
//!     Ok::<_, std::io::Error>(labour::measure(address, &plain, 7).await)
//! })?;
//! assert_eq!(cell.requests, 200);
//! assert_eq!(cell.expected, 198);
//! assert_eq!(cell.failed, 2, "the two 404s asked for came back as 200s");
//! # Ok(())
//! # }
//! ```

#![deny(unreachable_pub, missing_docs)]

pub mod behaviour;
mod bench;
pub mod catalogue;
mod cli;
mod client;
mod commands;
mod images;
pub mod plan;
mod policy;
mod progress;
mod record;
mod report;
pub mod results;
mod runtime;
mod scenario;
mod units;

pub use bench::measure;
pub use commands::run;
pub use report::Format;
pub use runtime::RuntimeChoice;
pub use scenario::{
    Plan, PlanError, ScenarioError, ScenarioFileError, Selection, Shard, named_tests,
};

/// The `labour` command: parse `args` (the program's name first, as
/// [`std::env::args_os`] gives them), run the command they name, print an
/// error on stderr, and say which exit status the process ends with: 0
/// complete, 1 a threshold failed, 2 usage, configuration or environment,
/// 130 interrupted. `src/main.rs` is this one call; `--help` and a usage
/// error print their message and exit here.
pub fn main_with_args<I, T>(args: I) -> std::process::ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    commands::main_with_args(args)
}
