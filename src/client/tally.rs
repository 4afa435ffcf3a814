//! What a client worker counts: outcomes per behaviour, latencies, worker
//! pids, a timeline and the first failures. Per request, only its fate is
//! kept, one letter (see [`Fate`]), so that the application's own log of
//! the requests it saw can be matched with them; tallies merge, so
//! workers (tasks now, processes later) each keep their own.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::behaviour::Outcome;

/// Width of one timeline bucket.
pub(crate) const TIMELINE_BUCKET: Duration = Duration::from_millis(100);
/// Resolution of the availability record (recovery and downtime).
pub(crate) const AVAILABILITY_RESOLUTION: Duration = Duration::from_millis(1);
/// Width of one bucket of the innocent failures' record (losses per fault).
pub(crate) const LOSS_BUCKET: Duration = Duration::from_millis(10);
/// Requests that began before a mark plus this and ended after it minus
/// this are kept: the act the mark stands for happens within this of it,
/// whatever the clocks of labour and its client processes.
pub(crate) const MARK_WINDOW: Duration = Duration::from_millis(500);
/// Requests kept per mark and worker, at most.
const MARK_KEPT: usize = 100_000;
/// Failure samples kept per (behaviour, outcome).
pub(crate) const SAMPLES_PER_KIND: usize = 3;
/// Highest latency a histogram records, in microseconds (one hour).
const LATENCY_MAX_US: u64 = 3_600_000_000;
/// A connect that took longer than this waited for the kernel to send its
/// SYN again: a connect stall. Linux retransmits an unanswered SYN after
/// its initial retransmission timeout of 1 s (`TCP_TIMEOUT_INIT`, RFC
/// 6298), which is what a client meets when a full listen queue drops its
/// SYN; so such a connect takes at least 1 s. The threshold sits 100 ms
/// below, because the kernel's timer counts in jiffies (up to 10 ms short
/// of a second of real time) and labour's clock starts just before the
/// SYN leaves; a connect on a loopback or LAN that did not wait for a retry
/// takes milliseconds, nowhere near it.
pub(crate) const CONNECT_STALL: Duration = Duration::from_millis(900);

/// The id of request number `number` (from 0) on connection `connection`:
/// unique in a cell, sent in `X-Labour-Request`.
pub(crate) fn request_id(connection: usize, number: u64) -> u64 {
    ((connection as u64) << 32) | (number & 0xffff_ffff)
}

/// How a request ended, as the client saw it, in the fewest words that
/// tell where it may have died. One letter a request in
/// [`Tally::fates`]: lower case for a misbehaving request, upper case for
/// an innocent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Fate {
    /// It came back as expected, with an answer only the application
    /// makes (a status below 500).
    Expected,
    /// It ended as expected in a way the server alone can end it: a
    /// crashing request's 5xx or closed connection.
    ExpectedClosed,
    /// The connection was refused: it never left the client.
    Refused,
    /// The connection was reset or closed before any response.
    Reset,
    /// No complete answer within the request timeout.
    Timeout,
    /// Headers came, then the connection ended before the whole body.
    Truncated,
    /// A whole answer came, not the one expected (a status, a body, not
    /// HTTP).
    WrongAnswer,
    /// Still waiting when the load ended.
    Waiting,
}

impl Fate {
    /// Every fate, in the order of their letters.
    pub(crate) const ALL: [Fate; 8] = [
        Fate::Expected,
        Fate::ExpectedClosed,
        Fate::Refused,
        Fate::Reset,
        Fate::Timeout,
        Fate::Truncated,
        Fate::WrongAnswer,
        Fate::Waiting,
    ];

    /// The fate of a request that ended in `outcome`.
    pub(crate) fn of(outcome: &Outcome, expected: bool) -> Fate {
        match outcome {
            Outcome::Status(code) | Outcome::WrongBody(code) if expected && *code < 500 => {
                Fate::Expected
            }
            _ if expected => Fate::ExpectedClosed,
            Outcome::Refused => Fate::Refused,
            Outcome::Reset => Fate::Reset,
            Outcome::Timeout => Fate::Timeout,
            Outcome::Truncated => Fate::Truncated,
            Outcome::Status(_) | Outcome::WrongBody(_) | Outcome::ProtocolError => {
                Fate::WrongAnswer
            }
        }
    }

    /// Whether the request came back as expected.
    pub(crate) fn expected(self) -> bool {
        matches!(self, Fate::Expected | Fate::ExpectedClosed)
    }

    /// Its letter in [`Tally::fates`].
    pub(crate) fn letter(self, innocent: bool) -> char {
        let letter = match self {
            Fate::Expected => 'e',
            Fate::ExpectedClosed => 'x',
            Fate::Refused => 'r',
            Fate::Reset => 'c',
            Fate::Timeout => 't',
            Fate::Truncated => 'u',
            Fate::WrongAnswer => 'n',
            Fate::Waiting => 'w',
        };
        if innocent {
            letter.to_ascii_uppercase()
        } else {
            letter
        }
    }

    /// The fate and whether the request was innocent, from its letter.
    pub(crate) fn from_letter(letter: char) -> Option<(Fate, bool)> {
        let lower = letter.to_ascii_lowercase();
        let fate = Fate::ALL.into_iter().find(|f| f.letter(false) == lower)?;
        Some((fate, letter.is_ascii_uppercase()))
    }
}

/// One request's result, as the worker loop hands it over.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// Its id ([`request_id`]).
    pub id: u64,
    /// Index of the behaviour in the test's mix.
    pub mix_index: usize,
    /// How the request ended.
    pub outcome: Outcome,
    /// Whether the outcome is what the behaviour expects.
    pub expected: bool,
    /// Whether the request is an innocent one.
    pub innocent: bool,
    /// Time from the request's start until its outcome was known.
    pub latency: Duration,
    /// Time from the request's start until its response headers arrived.
    pub headers_after: Option<Duration>,
    /// Time from when the request was meant to start (open loop) until
    /// its outcome was known: a stalled server cannot hide its stall.
    pub corrected: Option<Duration>,
    /// Whether it started late on its schedule (open loop).
    pub late: bool,
    /// When the outcome was known, since the client started.
    pub at: Duration,
    /// `X-Labour-Worker` of the response, if one arrived.
    pub worker_pid: Option<u32>,
    /// The error's detail, for failures.
    pub detail: Option<String>,
    /// How long connecting took, when the request opened a connection
    /// and the connect succeeded.
    pub connect: Option<Duration>,
}

/// A latency histogram in microseconds (HdrHistogram, 3 significant
/// digits, 1 µs to an hour), mergeable and serialisable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Latency(pub Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(
            Histogram::new_with_bounds(1, LATENCY_MAX_US, 3)
                .expect("static histogram bounds are valid"),
        )
    }
}

impl Latency {
    /// Count one latency.
    pub(crate) fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.max(1));
    }

    /// Add `other`'s counts.
    pub(crate) fn merge(&mut self, other: &Latency) {
        self.0
            .add(&other.0)
            .expect("histograms with the same bounds add");
    }
}

impl Serialize for Latency {
    /// As (value, count) pairs of the recorded buckets.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(u64, u64)> = self
            .0
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        pairs.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(u64, u64)>::deserialize(deserializer)?;
        let mut latency = Latency::default();
        for (value, count) in pairs {
            latency.0.saturating_record_n(value, count);
        }
        Ok(latency)
    }
}

/// Counts for one kind of request of the mix.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct BehaviourTally {
    /// Requests per outcome.
    pub outcomes: BTreeMap<Outcome, u64>,
    /// Requests that came back as expected.
    pub expected: u64,
    /// Time to the full answer (or the failure) of every request.
    pub latency: Latency,
    /// Time to the response headers, of requests that got them.
    pub headers: Latency,
    /// Time from the intended start to the full answer (open loop only).
    pub corrected: Latency,
    /// Requests whose connect stalled (took over [`CONNECT_STALL`]),
    /// whatever their outcome.
    #[serde(default)]
    pub connect_stalls: u64,
}

impl BehaviourTally {
    fn new() -> Self {
        BehaviourTally::default()
    }

    /// Requests sent with this behaviour.
    pub(crate) fn requests(&self) -> u64 {
        self.outcomes.values().sum()
    }
}

/// A failure kept as an example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sample {
    /// Index of the behaviour in the mix.
    pub mix_index: usize,
    /// How the request ended.
    pub outcome: Outcome,
    /// When, since the client started.
    pub at: Duration,
    /// The worker pid, if a response arrived.
    pub worker_pid: Option<u32>,
    /// What went wrong, in words.
    pub detail: String,
}

/// One bit per millisecond: whether something happened in it. Memory
/// grows with the length of a run (2 KiB a minute), not with its requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct MsBits {
    words: Vec<u64>,
}

impl MsBits {
    /// Mark millisecond `ms`.
    pub(crate) fn set(&mut self, ms: usize) {
        let word = ms / 64;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (ms % 64);
    }

    /// Whether millisecond `ms` is marked.
    pub(crate) fn get(&self, ms: usize) -> bool {
        self.words
            .get(ms / 64)
            .is_some_and(|word| word & (1 << (ms % 64)) != 0)
    }

    /// Milliseconds covered (one past the last that could be marked).
    pub(crate) fn len(&self) -> usize {
        self.words.len() * 64
    }

    /// The first marked millisecond at or after `from`.
    pub(crate) fn next_set(&self, from: usize) -> Option<usize> {
        let mut index = from / 64;
        let mut word = *self.words.get(index)? & (!0u64 << (from % 64));
        loop {
            if word != 0 {
                return Some(index * 64 + word.trailing_zeros() as usize);
            }
            index += 1;
            word = *self.words.get(index)?;
        }
    }

    /// Mark every millisecond from `from` to `to`, both included.
    pub(crate) fn set_range(&mut self, from: usize, to: usize) {
        if to < from {
            return;
        }
        let last = to / 64;
        if self.words.len() <= last {
            self.words.resize(last + 1, 0);
        }
        for word in from / 64..=last {
            let low = if word == from / 64 { from % 64 } else { 0 };
            let high = if word == last { to % 64 } else { 63 };
            let bits = (!0u64 >> (63 - high)) & (!0u64 << low);
            self.words[word] |= bits;
        }
    }

    /// The stretches of at least `least` milliseconds, below `end`, that
    /// are marked in `self` and in no millisecond of `unless`: as
    /// (first, one past the last) milliseconds.
    pub(crate) fn runs_unless(
        &self,
        unless: &MsBits,
        least: usize,
        end: usize,
    ) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut open: Option<usize> = None;
        for ms in 0..end.min(self.len()) + 1 {
            let on = ms < end && self.get(ms) && !unless.get(ms);
            match (on, open) {
                (true, None) => open = Some(ms),
                (false, Some(from)) => {
                    if ms - from >= least {
                        runs.push((from, ms));
                    }
                    open = None;
                }
                _ => {}
            }
        }
        runs
    }

    /// Mark everything `other` marks.
    pub(crate) fn union(&mut self, other: &MsBits) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (mine, theirs) in self.words.iter_mut().zip(&other.words) {
            *mine |= theirs;
        }
    }
}

/// A request around a mark: when it began and ended, and how.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct AroundMark {
    /// Its id ([`request_id`]).
    #[serde(default)]
    pub id: u64,
    /// When it began, since the client started.
    pub began: Duration,
    /// When its outcome was known.
    pub ended: Duration,
    /// Whether it came back as expected.
    pub expected: bool,
}

/// Everything a client (or one of its workers) counted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Tally {
    /// Per behaviour, indexed like the mix.
    pub behaviours: Vec<BehaviourTally>,
    /// Worker pids seen, with when each was first seen.
    pub worker_pids: BTreeMap<u32, Duration>,
    /// Per [`TIMELINE_BUCKET`]: (as expected, not as expected).
    pub timeline: Vec<(u64, u64)>,
    /// The first few failures of each kind.
    pub samples: Vec<Sample>,
    /// Milliseconds in which a request came back as expected.
    pub ok_ms: MsBits,
    /// Milliseconds in which a request came back not as expected.
    pub failed_ms: MsBits,
    /// Requests that started late on their schedule (open loop).
    pub late_starts: u64,
    /// Per connection (by its index in the run): requests counted, and a
    /// digest of their mix indexes in the order they were sent.
    #[serde(default)]
    pub sequences: BTreeMap<usize, (u64, u64)>,
    /// Innocent requests that failed, per [`LOSS_BUCKET`].
    #[serde(default)]
    pub innocent_failed: Vec<u32>,
    /// Milliseconds in which a connection was refused.
    #[serde(default)]
    pub refused_ms: MsBits,
    /// Instants to watch (a planned fault's), since the client started.
    #[serde(default)]
    pub marks: Vec<Duration>,
    /// Per mark: the requests in flight within [`MARK_WINDOW`] of it, to
    /// tell what was in flight when the act the mark stands for happened.
    #[serde(default)]
    pub around_marks: Vec<Vec<AroundMark>>,
    /// Connects that succeeded: connections opened.
    #[serde(default)]
    pub connects: u64,
    /// How long each connect that succeeded took.
    #[serde(default)]
    pub connect_times: Latency,
    /// Each stalled connect, as (began, ended) since the client started.
    /// A connection has at most one per [`CONNECT_STALL`] of the load, so
    /// these stay few.
    #[serde(default)]
    pub stalled_connects: Vec<(Duration, Duration)>,
    /// Per connection that sent: from its first request's start to the
    /// end of its loop, since the client started.
    #[serde(default)]
    pub connection_spans: Vec<(Duration, Duration)>,
    /// Milliseconds in which at least one innocent request was waiting for
    /// its answer (sent, not yet back), those still waiting at the end
    /// included.
    #[serde(default)]
    pub innocent_waiting_ms: MsBits,
    /// Milliseconds in which an innocent request came back, as expected
    /// or not.
    #[serde(default)]
    pub innocent_back_ms: MsBits,
    /// Innocent requests still waiting for their answer when the load
    /// ended (not counted as requests).
    #[serde(default)]
    pub innocent_waiting_at_end: u64,
    /// Per connection (by its index in the run): each request's fate, a
    /// letter ([`Fate::letter`]) per request, in the order sent, so that
    /// request `n` of connection `c` ([`request_id`]`(c, n)`) is the
    /// `n`th letter.
    #[serde(default)]
    pub fates: BTreeMap<usize, String>,
}

/// Start value of a sequence digest (FNV-1a's offset basis).
pub(crate) const SEQUENCE_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The digest of a sequence so far, after one more mix index.
pub(crate) fn sequence_step(digest: u64, mix_index: usize) -> u64 {
    let mut hash = digest;
    for byte in (mix_index as u64).to_le_bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

impl Tally {
    /// An empty tally for a mix of `mix_len` behaviours.
    pub(crate) fn new(mix_len: usize) -> Self {
        Tally {
            behaviours: (0..mix_len).map(|_| BehaviourTally::new()).collect(),
            worker_pids: BTreeMap::new(),
            timeline: Vec::new(),
            samples: Vec::new(),
            ok_ms: MsBits::default(),
            failed_ms: MsBits::default(),
            late_starts: 0,
            sequences: BTreeMap::new(),
            innocent_failed: Vec::new(),
            refused_ms: MsBits::default(),
            marks: Vec::new(),
            around_marks: Vec::new(),
            connects: 0,
            connect_times: Latency::default(),
            stalled_connects: Vec::new(),
            connection_spans: Vec::new(),
            innocent_waiting_ms: MsBits::default(),
            innocent_back_ms: MsBits::default(),
            innocent_waiting_at_end: 0,
            fates: BTreeMap::new(),
        }
    }

    /// Watch `marks`: keep the requests in flight around each.
    pub(crate) fn watching(mut self, marks: &[Duration]) -> Self {
        self.marks = marks.to_vec();
        self.around_marks = vec![Vec::new(); marks.len()];
        self
    }

    /// One digest of what every connection sent, in order: equal for two
    /// runs exactly when each connection sent the same requests in the
    /// same order.
    pub(crate) fn sequence_digest(&self) -> u64 {
        let parts: Vec<[u8; 24]> = self
            .sequences
            .iter()
            .map(|(index, (count, digest))| {
                let mut part = [0u8; 24];
                part[..8].copy_from_slice(&(*index as u64).to_le_bytes());
                part[8..16].copy_from_slice(&count.to_le_bytes());
                part[16..].copy_from_slice(&digest.to_le_bytes());
                part
            })
            .collect();
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
        crate::units::fnv1a(&parts)
    }

    /// Count one request.
    pub(crate) fn record(&mut self, record: Record) {
        let behaviour = &mut self.behaviours[record.mix_index];
        *behaviour.outcomes.entry(record.outcome).or_insert(0) += 1;
        if record.expected {
            behaviour.expected += 1;
        }
        behaviour.latency.record(record.latency);
        if let Some(headers) = record.headers_after {
            behaviour.headers.record(headers);
        }
        if let Some(corrected) = record.corrected {
            behaviour.corrected.record(corrected);
        }
        if record.late {
            self.late_starts += 1;
        }
        if let Some(connect) = record.connect {
            let began = record.at.saturating_sub(record.latency);
            self.count_connect(record.mix_index, began, connect);
        }

        if let Some(pid) = record.worker_pid {
            self.worker_pids.entry(pid).or_insert(record.at);
        }

        let ms = (record.at.as_millis() / AVAILABILITY_RESOLUTION.as_millis()) as usize;
        if record.innocent {
            let began = record.at.saturating_sub(record.latency);
            let from = (began.as_millis() / AVAILABILITY_RESOLUTION.as_millis()) as usize;
            self.innocent_waiting_ms.set_range(from, ms);
            self.innocent_back_ms.set(ms);
        }
        if record.expected {
            self.ok_ms.set(ms);
        } else {
            self.failed_ms.set(ms);
        }
        if record.outcome == Outcome::Refused {
            self.refused_ms.set(ms);
        }
        if record.innocent && !record.expected {
            let bucket = (record.at.as_millis() / LOSS_BUCKET.as_millis()) as usize;
            if self.innocent_failed.len() <= bucket {
                self.innocent_failed.resize(bucket + 1, 0);
            }
            self.innocent_failed[bucket] += 1;
        }
        if !self.marks.is_empty() {
            let began = record.at.saturating_sub(record.latency);
            for (mark, kept) in self.marks.iter().zip(&mut self.around_marks) {
                if began <= *mark + MARK_WINDOW
                    && record.at > mark.saturating_sub(MARK_WINDOW)
                    && kept.len() < MARK_KEPT
                {
                    kept.push(AroundMark {
                        id: record.id,
                        began,
                        ended: record.at,
                        expected: record.expected,
                    });
                }
            }
        }
        let bucket = (record.at.as_millis() / TIMELINE_BUCKET.as_millis()) as usize;
        if self.timeline.len() <= bucket {
            self.timeline.resize(bucket + 1, (0, 0));
        }
        if record.expected {
            self.timeline[bucket].0 += 1;
        } else {
            self.timeline[bucket].1 += 1;
            self.keep_sample(record);
        }
    }

    /// One connect that succeeded, made by a request of behaviour
    /// `mix_index` that began at `began` and took `took`: counted, and
    /// kept as a stall when it waited for a SYN retry.
    fn count_connect(&mut self, mix_index: usize, began: Duration, took: Duration) {
        self.connects += 1;
        self.connect_times.record(took);
        if took > CONNECT_STALL {
            self.behaviours[mix_index].connect_stalls += 1;
            self.stalled_connects.push((began, began + took));
        }
    }

    /// A connection that sent its first request at `began` ended its loop
    /// at `ended`.
    pub(crate) fn connection_ended(&mut self, began: Duration, ended: Duration) {
        self.connection_spans.push((began, ended.max(began)));
    }

    /// Connects that stalled.
    pub(crate) fn connect_stalls(&self) -> u64 {
        self.behaviours.iter().map(|b| b.connect_stalls).sum()
    }

    /// Time spent in stalled connects, summed over connections.
    pub(crate) fn connect_stalled_time(&self) -> Duration {
        self.stalled_connects
            .iter()
            .map(|(began, ended)| ended.saturating_sub(*began))
            .sum()
    }

    /// Time of the load in which at least one connection was sending and
    /// every connection sending was waiting in a stalled connect: time in
    /// which no request could reach the server because the kernel held
    /// every client back for a SYN retry. While any one connection could
    /// still send, the time counts as the server's.
    pub(crate) fn all_stalled_time(&self) -> Duration {
        // +1/-1 of connections sending, and of stalled connects, at each
        // instant something changes.
        let mut changes: Vec<(Duration, i64, i64)> = Vec::new();
        for (began, ended) in &self.connection_spans {
            changes.push((*began, 1, 0));
            changes.push((*ended, -1, 0));
        }
        for (began, ended) in &self.stalled_connects {
            changes.push((*began, 0, 1));
            changes.push((*ended, 0, -1));
        }
        changes.sort_by_key(|change| change.0);
        let (mut sending, mut stalled) = (0i64, 0i64);
        let mut total = Duration::ZERO;
        for (index, (at, d_sending, d_stalled)) in changes.iter().enumerate() {
            sending += d_sending;
            stalled += d_stalled;
            let Some((next, _, _)) = changes.get(index + 1) else {
                break;
            };
            if sending > 0 && stalled >= sending {
                total += next.saturating_sub(*at);
            }
        }
        total
    }

    /// A request that began at `began` and was still in flight when the
    /// load ended at `ended`: not a request counted, but one the marks it
    /// straddles saw not come back.
    pub(crate) fn unfinished(&mut self, id: u64, began: Duration, ended: Duration, innocent: bool) {
        if innocent {
            let ms = |at: Duration| (at.as_millis() / AVAILABILITY_RESOLUTION.as_millis()) as usize;
            self.innocent_waiting_ms.set_range(ms(began), ms(ended));
            self.innocent_waiting_at_end += 1;
        }
        for (mark, kept) in self.marks.iter().zip(&mut self.around_marks) {
            if began <= *mark + MARK_WINDOW && ended > *mark && kept.len() < MARK_KEPT {
                kept.push(AroundMark {
                    id,
                    began,
                    ended,
                    expected: false,
                });
            }
        }
    }

    fn keep_sample(&mut self, record: Record) {
        self.push_sample(Sample {
            mix_index: record.mix_index,
            outcome: record.outcome,
            at: record.at,
            worker_pid: record.worker_pid,
            detail: record.detail.unwrap_or_else(|| record.outcome.to_string()),
        });
    }

    /// Keep `sample` unless its kind already has [`SAMPLES_PER_KIND`].
    fn push_sample(&mut self, sample: Sample) {
        let kept = self
            .samples
            .iter()
            .filter(|s| s.mix_index == sample.mix_index && s.outcome == sample.outcome)
            .count();
        if kept < SAMPLES_PER_KIND {
            self.samples.push(sample);
        }
    }

    /// Add another worker's tally into this one.
    pub(crate) fn merge(&mut self, other: Tally) {
        for (mine, theirs) in self.behaviours.iter_mut().zip(other.behaviours) {
            for (outcome, count) in theirs.outcomes {
                *mine.outcomes.entry(outcome).or_insert(0) += count;
            }
            mine.expected += theirs.expected;
            mine.latency.merge(&theirs.latency);
            mine.headers.merge(&theirs.headers);
            mine.corrected.merge(&theirs.corrected);
            mine.connect_stalls += theirs.connect_stalls;
        }
        self.connects += other.connects;
        self.connect_times.merge(&other.connect_times);
        self.stalled_connects.extend(other.stalled_connects);
        self.connection_spans.extend(other.connection_spans);
        self.late_starts += other.late_starts;
        self.sequences.extend(other.sequences);
        self.fates.extend(other.fates);
        for (pid, at) in other.worker_pids {
            let first = self.worker_pids.entry(pid).or_insert(at);
            *first = (*first).min(at);
        }
        if self.timeline.len() < other.timeline.len() {
            self.timeline.resize(other.timeline.len(), (0, 0));
        }
        for (mine, theirs) in self.timeline.iter_mut().zip(other.timeline) {
            mine.0 += theirs.0;
            mine.1 += theirs.1;
        }
        for sample in other.samples {
            self.push_sample(sample);
        }
        self.ok_ms.union(&other.ok_ms);
        self.failed_ms.union(&other.failed_ms);
        self.innocent_waiting_ms.union(&other.innocent_waiting_ms);
        self.innocent_back_ms.union(&other.innocent_back_ms);
        self.innocent_waiting_at_end += other.innocent_waiting_at_end;
        self.refused_ms.union(&other.refused_ms);
        if self.innocent_failed.len() < other.innocent_failed.len() {
            self.innocent_failed.resize(other.innocent_failed.len(), 0);
        }
        for (mine, theirs) in self.innocent_failed.iter_mut().zip(other.innocent_failed) {
            *mine += theirs;
        }
        if self.marks.is_empty() {
            self.marks = other.marks;
            self.around_marks = vec![Vec::new(); self.marks.len()];
        }
        for (mine, theirs) in self.around_marks.iter_mut().zip(other.around_marks) {
            mine.extend(theirs);
        }
        self.samples.sort_by_key(|s| s.at);
    }

    /// Requests counted.
    pub(crate) fn requests(&self) -> u64 {
        self.behaviours.iter().map(BehaviourTally::requests).sum()
    }

    /// Requests that came back as expected.
    pub(crate) fn expected(&self) -> u64 {
        self.behaviours.iter().map(|b| b.expected).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(mix_index: usize, outcome: Outcome, expected: bool, at_ms: u64) -> Record {
        Record {
            id: 0,
            mix_index,
            outcome,
            expected,
            innocent: mix_index == 0,
            latency: Duration::from_millis(5),
            headers_after: Some(Duration::from_millis(4)),
            corrected: None,
            late: false,
            at: Duration::from_millis(at_ms),
            worker_pid: Some(100 + mix_index as u32),
            detail: None,
            connect: None,
        }
    }

    #[test]
    fn counts_outcomes_timeline_and_pids() {
        let mut tally = Tally::new(2);
        tally.record(record(0, Outcome::Status(200), true, 10));
        tally.record(record(0, Outcome::Status(200), true, 150));
        tally.record(record(1, Outcome::Reset, false, 160));
        assert_eq!(tally.requests(), 3);
        assert_eq!(tally.expected(), 2);
        assert_eq!(tally.timeline, vec![(1, 0), (1, 1)]);
        assert_eq!(tally.worker_pids.len(), 2);
        assert_eq!(tally.samples.len(), 1);
        assert_eq!(tally.behaviours[0].latency.0.len(), 2);
        assert_eq!(tally.behaviours[0].headers.0.len(), 2);
        assert!(tally.ok_ms.get(10) && tally.ok_ms.get(150) && !tally.ok_ms.get(160));
        assert!(tally.failed_ms.get(160) && !tally.failed_ms.get(10));
    }

    #[test]
    fn a_tally_survives_the_wire() {
        let mut tally = Tally::new(2);
        tally.record(record(0, Outcome::Status(200), true, 10));
        tally.record(record(1, Outcome::Reset, false, 2000));
        assert!(!tally.worker_pids.is_empty());
        let text = serde_json::to_string(&tally).unwrap();
        let back: Tally = serde_json::from_str(&text).unwrap();
        assert_eq!(back.requests(), 2);
        assert_eq!(back.behaviours[1].outcomes[&Outcome::Reset], 1);
        assert_eq!(back.behaviours[0].latency, tally.behaviours[0].latency);
        assert_eq!(back.ok_ms, tally.ok_ms);
        assert_eq!(back.timeline, tally.timeline);
        assert_eq!(back.samples, tally.samples);
        assert_eq!(back.worker_pids, tally.worker_pids);
    }

    #[test]
    fn ms_bits_find_the_next_mark_and_merge() {
        let mut a = MsBits::default();
        a.set(3);
        a.set(200);
        assert_eq!(a.next_set(0), Some(3));
        assert_eq!(a.next_set(4), Some(200));
        assert_eq!(a.next_set(201), None);
        let mut b = MsBits::default();
        b.set(70);
        a.union(&b);
        assert_eq!(a.next_set(4), Some(70));
        assert!(a.next_set(0).is_some());
        assert_eq!(MsBits::default().next_set(0), None);
    }

    #[test]
    fn samples_are_capped_per_kind() {
        let mut tally = Tally::new(1);
        for at in 0..10 {
            tally.record(record(0, Outcome::Refused, false, at));
        }
        tally.record(record(0, Outcome::Timeout, false, 11));
        assert_eq!(tally.samples.len(), SAMPLES_PER_KIND + 1);
    }

    #[test]
    fn merge_adds_everything() {
        let mut a = Tally::new(1);
        a.record(record(0, Outcome::Status(200), true, 10));
        let mut b = Tally::new(1);
        b.record(record(0, Outcome::Status(200), true, 5));
        b.record(record(0, Outcome::Timeout, false, 250));
        a.merge(b);
        assert_eq!(a.requests(), 3);
        assert_eq!(a.expected(), 2);
        assert_eq!(a.timeline, vec![(2, 0), (0, 0), (0, 1)]);
        assert_eq!(a.worker_pids[&100], Duration::from_millis(5));
        assert_eq!(a.behaviours[0].latency.0.len(), 3);
        assert!(a.ok_ms.get(5) && a.ok_ms.get(10) && a.failed_ms.get(250));
    }

    /// A request of behaviour `mix_index` that opened a connection whose
    /// connect took `connect_ms`, answered as expected at `at_ms`.
    fn connected(mix_index: usize, connect_ms: u64, at_ms: u64) -> Record {
        Record {
            latency: Duration::from_millis(connect_ms + 2),
            connect: Some(Duration::from_millis(connect_ms)),
            ..record(mix_index, Outcome::Status(200), true, at_ms)
        }
    }

    #[test]
    fn a_connect_slower_than_the_threshold_is_a_stall_and_still_as_expected() {
        let mut tally = Tally::new(2);
        tally.record(connected(0, 3, 10));
        tally.record(connected(0, 900, 1000));
        tally.record(connected(1, 1003, 2100));
        // A request over a kept connection made no connect.
        tally.record(record(1, Outcome::Status(200), true, 2200));
        assert_eq!(tally.connects, 3);
        assert_eq!(tally.connect_times.0.len(), 3);
        assert_eq!(tally.connect_stalls(), 1);
        assert_eq!(tally.behaviours[1].connect_stalls, 1);
        assert_eq!(tally.behaviours[0].connect_stalls, 0);
        assert_eq!(tally.connect_stalled_time(), Duration::from_millis(1003));
        // Began at 2100 - 1005 ms, connected 1003 ms later.
        assert_eq!(
            tally.stalled_connects,
            [(Duration::from_millis(1095), Duration::from_millis(2098))]
        );
        assert_eq!(tally.expected(), 4, "a stalled connect is not a failure");
    }

    #[test]
    fn stalls_and_connects_add_up_when_tallies_merge() {
        let mut a = Tally::new(1);
        a.record(connected(0, 1200, 1300));
        let mut b = Tally::new(1);
        b.record(connected(0, 2, 5));
        b.record(connected(0, 3100, 4000));
        let back: Tally = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        a.merge(back);
        assert_eq!((a.connects, a.connect_stalls()), (3, 2));
        assert_eq!(a.connect_stalled_time(), Duration::from_millis(4300));
        let slowest = a.connect_times.0.max();
        assert!(
            a.connect_times.0.equivalent(slowest, 3_100_000),
            "{slowest}"
        );
    }

    fn ms(from: u64, to: u64) -> (Duration, Duration) {
        (Duration::from_millis(from), Duration::from_millis(to))
    }

    #[test]
    fn only_time_in_which_every_sending_connection_stalled_is_all_stalled() {
        let mut tally = Tally::new(1);
        // Two connections: A sends from 0 to 3 s, B from 0 to 2 s.
        tally.connection_spans = vec![ms(0, 3000), ms(0, 2000)];
        // A stalls from 0.5 s to 1.5 s, B from 1.0 s to 1.8 s: both from
        // 1.0 s to 1.5 s. A stalls again from 2.2 s to 3 s, when B is done.
        tally.stalled_connects = vec![ms(500, 1500), ms(1000, 1800), ms(2200, 3000)];
        assert_eq!(tally.all_stalled_time(), Duration::from_millis(500 + 800));
        // One connection stalled while the other sends leaves out nothing.
        let mut one = Tally::new(1);
        one.connection_spans = vec![ms(0, 3000), ms(0, 3000)];
        one.stalled_connects = vec![ms(500, 1500)];
        assert_eq!(one.all_stalled_time(), Duration::ZERO);
        assert_eq!(Tally::new(1).all_stalled_time(), Duration::ZERO);
    }

    #[test]
    fn set_range_marks_every_millisecond_across_words() {
        let mut bits = MsBits::default();
        bits.set_range(60, 130);
        assert!(!bits.get(59) && bits.get(60) && bits.get(64) && bits.get(128) && bits.get(130));
        assert!(!bits.get(131));
        bits.set_range(5, 5);
        assert!(bits.get(5) && !bits.get(4) && !bits.get(6));
    }

    #[test]
    fn innocent_waits_with_no_answer_back_are_the_runs_found() {
        let mut tally = Tally::new(2);
        // An innocent request waits from 100 ms to 1600 ms; another comes
        // back at 400 ms: the stretch with nothing back is 401..1600.
        let mut waiting = record(0, Outcome::Status(200), true, 1600);
        waiting.latency = Duration::from_millis(1500);
        tally.record(waiting);
        tally.record(record(0, Outcome::Status(200), true, 400));
        // A misbehaving request waiting alone is no innocent's wait.
        let mut sleeping = record(1, Outcome::Status(200), true, 4000);
        sleeping.latency = Duration::from_millis(2000);
        tally.record(sleeping);
        // Still waiting when the load ended at 6 s, since 4.5 s.
        tally.unfinished(
            0,
            Duration::from_millis(4500),
            Duration::from_millis(6000),
            true,
        );
        assert_eq!(tally.innocent_waiting_at_end, 1);
        let runs = tally
            .innocent_waiting_ms
            .runs_unless(&tally.innocent_back_ms, 1000, 6000);
        assert_eq!(runs, vec![(401, 1600), (4500, 6000)]);
        // Shorter than the least: none.
        assert!(
            tally
                .innocent_waiting_ms
                .runs_unless(&tally.innocent_back_ms, 2000, 6000)
                .is_empty()
        );
    }

    #[test]
    fn a_mark_keeps_what_was_in_flight_around_it_finished_or_not() {
        let mark = Duration::from_millis(1000);
        let mut tally = Tally::new(2).watching(&[mark]);
        // Began at 995 ms, answered at 1010 ms: in flight at the mark.
        let mut straddling = record(0, Outcome::Status(200), true, 1010);
        straddling.latency = Duration::from_millis(15);
        tally.record(straddling);
        // Ended long before the mark: not kept.
        tally.record(record(0, Outcome::Status(200), true, 100));
        // Still in flight when the load ended at 1.2 s.
        tally.unfinished(
            0,
            Duration::from_millis(900),
            Duration::from_millis(1200),
            false,
        );
        let kept = &tally.around_marks[0];
        assert_eq!(kept.len(), 2);
        assert!(kept[0].expected && !kept[1].expected);
        let mut other = Tally::new(2).watching(&[mark]);
        other.unfinished(
            0,
            Duration::from_millis(990),
            Duration::from_millis(1100),
            false,
        );
        tally.merge(other);
        assert_eq!(tally.around_marks[0].len(), 3);
    }
}
