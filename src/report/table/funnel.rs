//! Where each lost request died: for every cell that lost a request, its
//! requests through each stage (the client's account matched with the
//! application's own log) and the place each lost one died.

use crate::results::funnel::{Funnel, Places};
use crate::results::{Cell, Results};

/// The columns of the table.
pub(crate) const COLUMNS: [&str; 12] = [
    "Server",
    "Test",
    "Sent",
    "Connected",
    "Reached app",
    "Finished in app",
    "Came back",
    "Lost: refused",
    "Before app",
    "Inside app",
    "On the way back",
    "Unmatched",
];

/// What the table says, in words.
pub(crate) const HEADING: &str = "Where lost requests died: each request the client sent matched by \
                           its id (X-Labour-Request) with the application's own log of the \
                           requests that reached it and those it finished; a lost request did \
                           not come back as expected (innocent ones in parentheses); unmatched: \
                           answers the application has no line of, ids it logged that the \
                           client never sent, and broken lines";

/// The cells the table shows: those with an account that lost a request
/// or does not add up.
pub(crate) fn cells(results: &Results) -> Vec<(&Cell, &Funnel)> {
    results
        .cells
        .iter()
        .filter_map(|cell| Some((cell, cell.funnel.as_ref()?)))
        .filter(|(_, funnel)| funnel.lost.total() > 0 || unmatched(funnel) > 0)
        .collect()
}

fn unmatched(funnel: &Funnel) -> u64 {
    funnel.answered_unseen + funnel.unknown_to_client + funnel.bad_lines
}

/// `all (innocent)`, or `all` when no innocent one is among them.
fn split(all: u64, innocent: u64) -> String {
    match innocent {
        0 => all.to_string(),
        _ => format!("{all} ({innocent})"),
    }
}

/// One cell's row, under [`COLUMNS`].
pub(crate) fn row(cell: &Cell, funnel: &Funnel) -> [String; 12] {
    let (all, innocent) = (&funnel.all, &funnel.innocent);
    let place = |of: fn(&Places) -> u64| split(of(&funnel.lost), of(&funnel.innocent_lost));
    [
        cell.server.clone(),
        cell.test.clone(),
        split(all.sent, innocent.sent),
        split(all.connected, innocent.connected),
        split(all.reached, innocent.reached),
        split(all.finished, innocent.finished),
        split(all.came_back, innocent.came_back),
        place(|p| p.refused),
        place(|p| p.before_application),
        place(|p| p.inside_application),
        place(|p| p.on_the_way_back),
        unmatched(funnel).to_string(),
    ]
}

/// The table, for every cell [`cells`] picks.
pub(crate) fn render(results: &Results, out: &mut String) {
    let rows: Vec<[String; 12]> = cells(results)
        .into_iter()
        .map(|(cell, funnel)| row(cell, funnel))
        .collect();
    super::titled(out, HEADING, &COLUMNS, &rows);
}
