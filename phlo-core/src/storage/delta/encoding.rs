//! How data files are encoded (ADR 0007), from the layout a write carries.

use deltalake::parquet::basic::Compression;
use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
use deltalake::parquet::schema::types::ColumnPath;

use crate::storage::TableLayout;

/// Snappy, as Spark and most Delta writers do (DataFusion's default, zstd, costs about
/// twice the encoding time for a few percent of size); no dictionary for the layout's
/// distinct columns; opaque columns (hashes) without dictionary, compression or
/// statistics.
pub(super) fn writer_properties(layout: &TableLayout) -> WriterProperties {
    let mut b = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for c in &layout.distinct_columns {
        b = b.set_column_dictionary_enabled(ColumnPath::from(c.as_str()), false);
    }
    for c in &layout.opaque_columns {
        let path = || ColumnPath::from(c.as_str());
        b = b
            .set_column_dictionary_enabled(path(), false)
            .set_column_compression(path(), Compression::UNCOMPRESSED)
            .set_column_statistics_enabled(path(), EnabledStatistics::None);
    }
    b.build()
}
