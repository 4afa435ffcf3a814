//! Where each request went: the client's fate of every request matched by
//! its id with the application's log.

use super::*;

/// The application's requests by id, as its log has them.
pub(super) type AppRequests = std::collections::BTreeMap<u64, AppRequest>;

/// Each request the client sent, matched by its id with the application's
/// log: how many reached each stage, and where each one that did not come
/// back as expected died. Counted, request by request; an error says why
/// there is no application's account to match.
pub(super) fn funnel(tally: &Tally, log: &AppLog) -> Result<Funnel, String> {
    let (app, bad_lines) = match log {
        AppLog::Read {
            requests,
            bad_lines,
        } => (requests, *bad_lines),
        AppLog::Unread(why) => return Err(why.clone()),
    };
    let mut funnel = Funnel {
        bad_lines,
        ..Funnel::default()
    };
    let mut matched = 0;
    for (&connection, fates) in &tally.fates {
        for (number, letter) in fates.chars().enumerate() {
            let Some((fate, innocent)) = Fate::from_letter(letter) else {
                continue;
            };
            let seen = app.get(&request_id(connection, number as u64));
            matched += u64::from(seen.is_some());
            if fate == Fate::Expected && seen.is_none() {
                funnel.answered_unseen += 1;
            }
            count_stages(&mut funnel.all, fate, seen);
            if innocent {
                count_stages(&mut funnel.innocent, fate, seen);
            }
            if fate.expected() || fate == Fate::Waiting {
                continue;
            }
            count_place(&mut funnel.lost, fate, seen);
            if innocent {
                count_place(&mut funnel.innocent_lost, fate, seen);
            }
        }
    }
    funnel.unknown_to_client = app.len() as u64 - matched;
    Ok(funnel)
}

pub(super) fn count_stages(stages: &mut Stages, fate: Fate, seen: Option<&AppRequest>) {
    stages.sent += 1;
    stages.connected += u64::from(fate != Fate::Refused);
    stages.reached += u64::from(seen.is_some());
    stages.finished += u64::from(seen.is_some_and(|r| r.finished.is_some()));
    stages.came_back += u64::from(fate.expected());
    stages.waiting_at_end += u64::from(fate == Fate::Waiting);
}

pub(super) fn count_place(places: &mut Places, fate: Fate, seen: Option<&AppRequest>) {
    match seen {
        _ if fate == Fate::Refused => places.refused += 1,
        None => places.before_application += 1,
        Some(AppRequest { finished: None, .. }) => places.inside_application += 1,
        Some(_) => places.on_the_way_back += 1,
    }
}

/// The fate the client recorded for request `id`.
pub(super) fn fate_of(tally: &Tally, id: u64) -> Option<Fate> {
    let letters = tally.fates.get(&((id >> 32) as usize))?;
    let letter = *letters.as_bytes().get((id & 0xffff_ffff) as usize)?;
    Fate::from_letter(letter as char).map(|(fate, _)| fate)
}
