//! One try at a batch's transaction, pipelined: `BEGIN`, the binary `COPY` (into `ffc_events`
//! on the fast path, into the staging table on the checking path), the hourly deltas or the
//! insert from the stage, the dead letters and `COMMIT` go out back to back on one
//! connection, and their answers are read together. PostgreSQL runs them in order; after an
//! error it refuses the rest of the transaction and turns the `COMMIT` into a rollback, so
//! the batch counts as committed only when every step answered without error. Under load
//! each round trip waits for the scheduler as much as for the server: one round trip a batch
//! instead of five is most of what makes the sink keep pace with a raw `COPY`.

use deadpool_postgres::{ClientWrapper, Object};
use ffc_core::CountEvent;
use futures_util::future::join5;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Row, Statement};

use super::error::{error_text, pool_error_retryable, pool_error_text, retryable, Failure};
use super::writer::{Columns, Tried, INSERT_DEAD_LETTERS};
use super::{writer_stage, Shared};

/// Why one try failed: the database said so, or it answered something this build cannot
/// match to the batch (not retried), or the fast path met a stored key.
enum TryError {
    Database(tokio_postgres::Error),
    Unexpected(String),
    Conflict,
}

impl From<tokio_postgres::Error> for TryError {
    fn from(e: tokio_postgres::Error) -> Self {
        TryError::Database(e)
    }
}

/// A pooled connection that goes back to the pool only when [`Checked::keep`] says it is
/// outside any transaction; dropped otherwise (a failure, or the try's timeout dropping the
/// future halfway), it is closed, and the pool opens a fresh one.
pub(super) struct Checked(Option<Object>);

impl Checked {
    pub(super) fn new(object: Object) -> Self {
        Checked(Some(object))
    }

    /// The connection, while in hand.
    pub(super) fn client(&self) -> Option<&ClientWrapper> {
        self.0.as_deref()
    }

    /// Returns the connection to the pool: the caller read every answer.
    pub(super) fn keep(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Checked {
    fn drop(&mut self) {
        if let Some(object) = self.0.take() {
            drop(Object::take(object));
        }
    }
}

/// One try: a connection from the pool, then the pipelined transaction. Returns the 1-based
/// positions of the events that were added.
pub(super) async fn attempt_once(
    shared: &Shared,
    columns: &Columns,
    fast: bool,
) -> Result<Vec<i64>, Tried> {
    let client = shared.pool.get().await.map_err(|e| {
        Tried::Failed(Failure {
            message: shared.redact(pool_error_text(&e)),
            retryable: pool_error_retryable(&e),
        })
    })?;
    let checked = Checked::new(client);
    let result = match checked.client() {
        Some(client) => pipelined(client, columns, fast).await,
        None => Err(TryError::Unexpected("no connection in hand".into())),
    };
    let failure = match result {
        Ok(added) => {
            checked.keep();
            return Ok(added);
        }
        // Every answer was read and the COMMIT rolled back: the connection is sound.
        Err(TryError::Conflict) => {
            checked.keep();
            return Err(Tried::Conflict);
        }
        Err(TryError::Database(e)) => Failure {
            message: shared.redact(error_text(&e)),
            retryable: retryable(&e),
        },
        Err(TryError::Unexpected(message)) => Failure {
            message,
            retryable: false,
        },
    };
    drop(checked);
    Err(Tried::Failed(failure))
}

/// The event statements of a try and the `COPY`'s wire types: the fast path copies straight
/// into ffc_events and appends the hourly deltas summed here; the checking path copies into the stage
/// and inserts from it (see writer_stage). No statements for a batch of dead letters only.
async fn statements(
    client: &ClientWrapper,
    no_events: bool,
    fast: bool,
) -> Result<(Option<Statement>, Option<Statement>, &'static [Type]), TryError> {
    let (copy, insert, types) = match (no_events, fast) {
        (true, _) => return Ok((None, None, &writer_stage::EVENT_TYPES)),
        (false, true) => (
            writer_stage::COPY_EVENTS.as_str(),
            writer_stage::ADD_TOTALS,
            &writer_stage::EVENT_TYPES,
        ),
        (false, false) => (
            writer_stage::COPY_STAGE.as_str(),
            writer_stage::INSERT_FROM_STAGE.as_str(),
            &writer_stage::COPY_TYPES,
        ),
    };
    Ok((
        Some(client.prepare_cached(copy).await?),
        Some(client.prepare_cached(insert).await?),
        types,
    ))
}

/// The transaction, pipelined (see the module docs). The statements are prepared once per
/// connection (deadpool's statement cache), so preparing costs no round trip after the first.
async fn pipelined(
    client: &ClientWrapper,
    columns: &Columns,
    fast: bool,
) -> Result<Vec<i64>, TryError> {
    let events = &columns.events;
    let (copy, insert, types) = statements(client, events.is_empty(), fast).await?;
    let totals = match fast && !events.is_empty() {
        true => writer_stage::Totals::of(events),
        false => writer_stage::Totals::default(),
    };
    let letters = match columns.letter_raw.is_empty() {
        true => None,
        false => Some(client.prepare_cached(INSERT_DEAD_LETTERS).await?),
    };
    // join5 polls in order, so the requests go out in this order on the first poll; the
    // connection sends nothing after the COPY until its data is finished.
    let copied = async {
        let Some(copy) = copy else { return Ok(()) };
        let sink = client.copy_in(&copy).await?;
        let writer = BinaryCopyInWriter::new(sink, types);
        writer_stage::write_events(writer, events.iter(), !fast).await?;
        Ok::<_, tokio_postgres::Error>(())
    };
    let inserted = async {
        match &insert {
            Some(insert) if fast => client.query(insert, &totals.params()).await.map(Some),
            Some(insert) => client.query(insert, &[]).await.map(Some),
            None => Ok(None),
        }
    };
    let lettered = async {
        let Some(letters) = &letters else {
            return Ok(0);
        };
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [
            &columns.letter_received,
            &columns.letter_origin,
            &columns.letter_reason,
            &columns.letter_raw,
        ];
        client.execute(letters, &params).await
    };
    let (begun, copied, inserted, lettered, committed) = join5(
        client.batch_execute("BEGIN"),
        copied,
        inserted,
        lettered,
        client.batch_execute("COMMIT"),
    )
    .await;
    begun?;
    match copied {
        // A stored key: the fast path's COPY failed, and the COMMIT that followed rolled
        // the batch back (its answer is read).
        Err(e) if fast && e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Err(TryError::Conflict);
        }
        other => other?,
    }
    let rows = inserted?;
    lettered?;
    committed?;
    match rows {
        None => Ok(Vec::new()),
        Some(_) if fast => Ok((1..=events.len() as i64).collect()),
        Some(rows) => positions(events, &rows),
    }
}

/// The 1-based positions in `events` (in key order) of the rows the checking insert added.
fn positions(events: &[CountEvent], rows: &[Row]) -> Result<Vec<i64>, TryError> {
    rows.iter()
        .map(|row| {
            let key = writer_stage::added_key(row).map_err(TryError::Unexpected)?;
            let position = events
                .binary_search_by_key(&key, CountEvent::key)
                .map_err(|_| {
                    TryError::Unexpected(format!("a row added that the batch lacks: {key:?}"))
                })?;
            Ok(position as i64 + 1)
        })
        .collect()
}
