//! The plan's vocabulary: what a run is made of, as plain data. Limits,
//! restart policy, network and container options, the load, tests and their
//! mixes, thresholds. The scenario builds these from flags and files; the
//! runtime and the client take them as input; the results record them.
//! Nothing here imports the runtime, the client or the results.

mod container;
pub(crate) mod fault;
mod limits;
mod load;
pub(crate) mod options;
pub(crate) mod target;
mod test;

pub use crate::policy::PolicyKind;
pub use container::{ContainerOptions, NetworkMode};
pub use fault::{FaultAction, FaultSpec, Signal};
pub(crate) use limits::somaxconn;
pub use limits::{Limits, RestartPolicy};
pub use load::LoadSpec;
pub(crate) use load::cpus;
pub use target::{TargetSource, TargetSpec, UserRequest};
pub use test::{MixEntry, TestSpec, Thresholds};
