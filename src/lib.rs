//! labour: which WSGI server survives a misbehaving application?
//!
//! The flow of a run: flags become a [`scenario::Plan`]; [`bench`] drives
//! it through a [`runtime::Runtime`] (Docker) and the request [`client`];
//! everything measured lands in one [`results::Results`] document, which
//! every [`report`] renders.

pub mod behaviour;
pub mod bench;
pub mod catalogue;
pub mod cli;
pub mod client;
pub mod images;
pub mod plan;
pub mod policy;
pub mod progress;
pub mod report;
pub mod results;
pub mod runtime;
pub mod scenario;
pub mod units;

mod commands;

pub use commands::{Finish, run};
