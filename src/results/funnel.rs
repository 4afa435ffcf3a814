//! Where a cell's requests went, request by request: the client's account
//! (sent, connected, came back as expected) matched with the
//! application's own (reached it, finished in it), and for every request
//! that did not come back as expected, the place where it died.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A cell's requests through each stage, and where the lost ones died.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Funnel {
    /// Every request the client sent.
    pub all: Stages,
    /// The innocent ones.
    pub innocent: Stages,
    /// Requests that did not come back as expected, by where they died
    /// (those still waiting when the load ended are not among them).
    pub lost: Places,
    /// Of them, the innocent ones.
    pub innocent_lost: Places,
    /// Requests the client saw answered as expected, with an answer only
    /// the application makes (a status below 500), that the application
    /// has no line of: the account does not add up for them (a log line
    /// lost, or an answer the application did not make). A crashing
    /// request answered 5xx by the server, or whose connection closed, as
    /// expected, before it reached the application is not one.
    pub answered_unseen: u64,
    /// Request ids in the application's log that the client never sent.
    pub unknown_to_client: u64,
    /// Lines of the application's log that are no request's (cut short,
    /// garbled, a finish with no start).
    pub bad_lines: u64,
}

/// How many requests reached each stage. `reached` and `finished` are the
/// application's counts (a request the client gave up on may still have
/// reached it); `came_back` is the client's, by the seed's rule, so it
/// also counts a crashing request whose connection closed, as expected,
/// before the application saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stages {
    /// Sent by the client (those still waiting at the end included).
    pub sent: u64,
    /// Whose connection was not refused.
    pub connected: u64,
    /// That the application logged as started.
    pub reached: u64,
    /// That the application logged as finished (the server done with its
    /// answer: it took the whole body, or closed it).
    pub finished: u64,
    /// That came back as expected.
    pub came_back: u64,
    /// Still waiting for their answer when the load ended.
    pub waiting_at_end: u64,
}

/// Where requests that did not come back as expected died.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Places {
    /// Refused: nothing listened.
    pub refused: u64,
    /// Connected, but reset, closed or timed out before the application
    /// saw them: in the kernel's listen queue or in the server.
    pub before_application: u64,
    /// Reached the application and never finished there: their worker was
    /// killed, crashed or was timed out under them.
    pub inside_application: u64,
    /// Finished in the application, then lost or spoiled on the way back
    /// (by the server, or answered not as expected).
    pub on_the_way_back: u64,
}

impl Places {
    /// Every lost request.
    pub fn total(&self) -> u64 {
        self.refused + self.before_application + self.inside_application + self.on_the_way_back
    }

    /// The places in words, with their counts, those with none left out:
    /// `3 before the application, 1 inside it`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.refused, "refused"),
            (self.before_application, "before the application"),
            (self.inside_application, "inside it"),
            (self.on_the_way_back, "on the way back"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, place)| format!("{n} {place}"))
        .collect();
        match parts.is_empty() {
            true => "none".into(),
            false => parts.join(", "),
        }
    }
}
