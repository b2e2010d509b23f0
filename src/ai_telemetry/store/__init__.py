"""Storage: the embedded DuckDB warehouse over the log and its Parquet archives; retention."""
