//! What a caller's write is, as the committer receives it: owned, prepared for the log,
//! with the place its answer goes.

use tokio::sync::oneshot;

use crate::error::StoreError;
use crate::hash::{self, canonical_json, format_timestamp};
use crate::model::{Appended, EventMeta, NewEvent, Projection, StreamAppend, VisitSchedule};

/// Where a part's events go in their stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expected {
    /// After this version, which the stream must be at (0: the stream must not exist
    /// yet); otherwise the part is refused with a conflict.
    Version(i64),
    /// After whatever the stream holds when the part is written: audit-only streams,
    /// where the order within the stream decides nothing.
    End,
}

/// One stream's share of a write, owned, with its payloads and time already in the form
/// they are stored and hashed in: prepared by the caller, so the committer, which holds
/// the chain head, only writes.
pub(crate) struct Part {
    pub stream: String,
    pub expected: Expected,
    /// Each event's kind and canonical JSON payload.
    pub events: Vec<(String, String)>,
    /// The metadata with `recorded_at` truncated to microseconds.
    pub meta: EventMeta,
    pub recorded_at: String,
    pub projections: Vec<Projection>,
    /// Other streams that must still be at these versions (0: absent) when the part is
    /// written: what its events were decided under (see [`crate::Store::append_unless_moved`]).
    pub unchanged: Vec<(String, i64)>,
}

impl Part {
    pub(crate) fn new(
        stream: &str,
        expected: Expected,
        events: &[NewEvent],
        meta: &EventMeta,
        projections: &[Projection],
    ) -> Part {
        let meta = EventMeta {
            recorded_at: hash::truncate_to_micros(meta.recorded_at),
            ..meta.clone()
        };
        Part {
            stream: stream.to_owned(),
            expected,
            events: events
                .iter()
                .map(|e| (e.kind.clone(), canonical_json(&e.payload)))
                .collect(),
            recorded_at: format_timestamp(meta.recorded_at),
            meta,
            projections: projections.to_vec(),
            unchanged: Vec::new(),
        }
    }

    pub(crate) fn of(append: &StreamAppend) -> Part {
        Part::new(
            &append.stream,
            Expected::Version(append.expected_version),
            &append.events,
            &append.meta,
            &append.projections,
        )
    }
}

/// One caller's write, as the committer receives it, and where its answer goes. Each is
/// all or nothing, and independent of the others in its group: one refused leaves the
/// others to commit.
pub(crate) enum Request {
    /// [`crate::Store::append`] and [`crate::Store::append_at_end`].
    Append(Box<Part>, Answer<Appended>),
    /// [`crate::Store::append_batch`]: every part, or none.
    Batch(Vec<Part>, Answer<Vec<Appended>>),
    /// [`crate::Store::rebuild_visits`]: every schedule, or none.
    RebuildVisits(Vec<VisitSchedule>, Answer<()>),
}

/// A request's result, kept until its group has committed, and the caller waiting for it.
pub(crate) struct Answer<T> {
    reply: oneshot::Sender<Result<T, StoreError>>,
    result: Option<Result<T, StoreError>>,
}

impl<T> Answer<T> {
    pub(crate) fn new(reply: oneshot::Sender<Result<T, StoreError>>) -> Answer<T> {
        Answer {
            reply,
            result: None,
        }
    }

    /// Keeps the request's own result, replacing any kept before.
    pub(crate) fn keep(&mut self, result: Result<T, StoreError>) {
        self.result = Some(result);
    }

    /// Sends the kept result. A caller that stopped waiting (its request was cancelled)
    /// is no error: its write stands.
    fn send(self) {
        if let Some(result) = self.result {
            let _ = self.reply.send(result);
        }
    }

    /// Sends `error` instead of whatever was kept: the group failed.
    fn fail(self, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

impl Request {
    /// Sends the request's own result to its caller, once its group has committed.
    pub(crate) fn send(self) {
        match self {
            Request::Append(_, answer) => answer.send(),
            Request::Batch(_, answer) => answer.send(),
            Request::RebuildVisits(_, answer) => answer.send(),
        }
    }

    /// Keeps `error` as the request's own result: the database refused what it wrote.
    pub(crate) fn refuse(&mut self, error: StoreError) {
        match self {
            Request::Append(_, answer) => answer.keep(Err(error)),
            Request::Batch(_, answer) => answer.keep(Err(error)),
            Request::RebuildVisits(_, answer) => answer.keep(Err(error)),
        }
    }

    /// Sends `error` to its caller: the group's transaction failed.
    pub(crate) fn fail(self, error: StoreError) {
        match self {
            Request::Append(_, answer) => answer.fail(error),
            Request::Batch(_, answer) => answer.fail(error),
            Request::RebuildVisits(_, answer) => answer.fail(error),
        }
    }
}
