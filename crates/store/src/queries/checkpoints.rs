//! Signed checkpoints of the hash chain (see [`crate::checkpoint`]): added, read, and read
//! beside the log's hash at each one's seq.

/// Expands the checkpoint functions in the calling backend module (see [`super`]).
macro_rules! checkpoint_queries {
    () => {
        /// One `checkpoints` row: `(seq, hash, signed_at, key_id, signature)`.
        type CheckpointTuple = (i64, String, String, String, String);

        fn checkpoint_of(t: CheckpointTuple) -> $crate::checkpoint::Checkpoint {
            $crate::checkpoint::Checkpoint {
                seq: t.0,
                hash: t.1,
                signed_at: t.2,
                key_id: t.3,
                signature: t.4,
            }
        }

        /// Stores a checkpoint unless one exists at its seq; returns the one stored there.
        pub(crate) async fn insert_checkpoint(
            pool: &Pool<Db>,
            c: &$crate::checkpoint::Checkpoint,
        ) -> Result<$crate::checkpoint::Checkpoint, StoreError> {
            sqlx::query(
                "INSERT INTO checkpoints (seq, hash, signed_at, key_id, signature) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING",
            )
            .bind(c.seq)
            .bind(&c.hash)
            .bind(&c.signed_at)
            .bind(&c.key_id)
            .bind(&c.signature)
            .execute(pool)
            .await?;
            let t: CheckpointTuple = sqlx::query_as(
                "SELECT seq, hash, signed_at, key_id, signature FROM checkpoints WHERE seq = $1",
            )
            .bind(c.seq)
            .fetch_one(pool)
            .await?;
            Ok(checkpoint_of(t))
        }

        /// Every checkpoint in seq order, each with the log's stored hash at its seq
        /// (`None` if the log has no such event; seq 0 is the genesis hash).
        pub(crate) async fn checkpoints_with_log_hash(
            pool: &Pool<Db>,
        ) -> Result<Vec<($crate::checkpoint::Checkpoint, Option<String>)>, StoreError> {
            let rows: Vec<(i64, String, String, String, String, Option<String>)> = sqlx::query_as(
                "SELECT c.seq, c.hash, c.signed_at, c.key_id, c.signature, e.hash \
                     FROM checkpoints c LEFT JOIN events e ON e.seq = c.seq ORDER BY c.seq",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(seq, hash, signed_at, key_id, signature, log_hash)| {
                    let log_hash = if seq == 0 {
                        Some(hash::GENESIS_HASH.to_owned())
                    } else {
                        log_hash
                    };
                    (
                        checkpoint_of((seq, hash, signed_at, key_id, signature)),
                        log_hash,
                    )
                })
                .collect())
        }

        /// The checkpoint with the highest seq.
        pub(crate) async fn latest_checkpoint(
            pool: &Pool<Db>,
        ) -> Result<Option<$crate::checkpoint::Checkpoint>, StoreError> {
            let t: Option<CheckpointTuple> = sqlx::query_as(
                "SELECT seq, hash, signed_at, key_id, signature FROM checkpoints \
                 ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            Ok(t.map(checkpoint_of))
        }

        /// The stored hash of event `seq` (seq 0: the genesis hash).
        pub(crate) async fn hash_at(
            pool: &Pool<Db>,
            seq: i64,
        ) -> Result<Option<String>, StoreError> {
            if seq == 0 {
                return Ok(Some(hash::GENESIS_HASH.to_owned()));
            }
            Ok(sqlx::query_scalar("SELECT hash FROM events WHERE seq = $1")
                .bind(seq)
                .fetch_optional(pool)
                .await?)
        }
    };
}

pub(crate) use checkpoint_queries;
