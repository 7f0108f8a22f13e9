//! The DICOM archive's index (see [`crate::catalog`]): rows added in batches, the
//! versions of one SOP instance, series summed up, the files of a series.

/// Expands the catalog functions in the calling backend module (see [`super`]).
macro_rules! catalog_queries {
    () => {
        use $crate::catalog::{
            CatalogInstance, CatalogSeries, INSTANCE_COLUMNS, InstanceTuple, SeriesQuery,
            SeriesTuple, instance_columns,
        };

        /// Adds rows in one transaction; a row already there (same SOP instance and hash)
        /// is left as it is. Returns how many were added.
        pub(crate) async fn insert_instances(
            pool: &Pool<Db>,
            rows: &[CatalogInstance],
        ) -> Result<u64, StoreError> {
            let mut tx = begin_append(pool).await?;
            let mut added = 0;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO dicom_instances ({}) VALUES {} ON CONFLICT DO NOTHING",
                    instance_columns!(),
                    value_rows(PLACEHOLDERS, chunk.len(), INSTANCE_COLUMNS)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for r in chunk {
                    query = query
                        .bind(&r.sop_instance_uid)
                        .bind(&r.sha256)
                        .bind(&r.sop_class_uid)
                        .bind(&r.series_instance_uid)
                        .bind(&r.study_instance_uid)
                        .bind(&r.modality)
                        .bind(&r.transfer_syntax_uid)
                        .bind(r.size)
                        .bind(format_timestamp(r.received_at))
                        .bind(&r.source)
                        .bind(&r.patient_id)
                        .bind(&r.series_date)
                        .bind(&r.series_description)
                        .bind(&r.site)
                        .bind(r.is_pet);
                }
                added += query.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(added)
        }

        /// The versions held of a SOP instance, oldest first (then by hash).
        pub(crate) async fn instance_versions(
            pool: &Pool<Db>,
            sop_instance_uid: &str,
        ) -> Result<Vec<CatalogInstance>, StoreError> {
            let rows: Vec<InstanceTuple> = sqlx::query_as(concat!(
                "SELECT ",
                instance_columns!(),
                " FROM dicom_instances WHERE sop_instance_uid = $1 \
                 ORDER BY received_at, sha256"
            ))
            .bind(sop_instance_uid)
            .fetch_all(pool)
            .await?;
            rows.into_iter().map($crate::catalog::instance).collect()
        }

        /// Every row, by SOPInstanceUID, then received time, then hash.
        pub(crate) async fn all_instances(
            pool: &Pool<Db>,
        ) -> Result<Vec<CatalogInstance>, StoreError> {
            let rows: Vec<InstanceTuple> = sqlx::query_as(concat!(
                "SELECT ",
                instance_columns!(),
                " FROM dicom_instances ORDER BY sop_instance_uid, received_at, sha256"
            ))
            .fetch_all(pool)
            .await?;
            rows.into_iter().map($crate::catalog::instance).collect()
        }

        /// The hashes of every object indexed, each once.
        pub(crate) async fn indexed_hashes(pool: &Pool<Db>) -> Result<Vec<String>, StoreError> {
            let rows: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT sha256 FROM dicom_instances")
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().map(|(h,)| h).collect())
        }

        /// The series `q` asks for, by SeriesInstanceUID (see `catalog::series_sql`).
        pub(crate) async fn catalog_series(
            pool: &Pool<Db>,
            q: &SeriesQuery,
        ) -> Result<Vec<CatalogSeries>, StoreError> {
            let (sql, params) = $crate::catalog::series_sql(q);
            let mut query = sqlx::query_as(AssertSqlSafe(sql));
            for p in params {
                query = query.bind(p);
            }
            let rows: Vec<SeriesTuple> = query.fetch_all(pool).await?;
            rows.into_iter().map($crate::catalog::series).collect()
        }

        /// `(SOPInstanceUID, SHA-256)` of each SOP instance of a series, its first version
        /// (by received time, then hash) when it has several, by SOPInstanceUID.
        pub(crate) async fn series_objects(
            pool: &Pool<Db>,
            series_instance_uid: &str,
        ) -> Result<Vec<(String, String)>, StoreError> {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT sop_instance_uid, sha256 FROM (SELECT sop_instance_uid, sha256, \
                 ROW_NUMBER() OVER (PARTITION BY sop_instance_uid ORDER BY received_at, sha256) \
                 AS n FROM dicom_instances WHERE series_instance_uid = $1) v \
                 WHERE n = 1 ORDER BY sop_instance_uid",
            )
            .bind(series_instance_uid)
            .fetch_all(pool)
            .await?;
            Ok(rows)
        }
    };
}

pub(crate) use catalog_queries;
