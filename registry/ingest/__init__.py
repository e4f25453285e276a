"""Ingestion of data files (CONTRACT §2): reading and validating (read.py, pure), loading (load.py), runs,
archive and quarantine (service.py). `zjtx ingest` and the scheduler's inbox job share `ingest_files`' path."""

from registry.ingest.read import FileRejected, ParsedFile, Rejection, read_data_file
from registry.ingest.service import FileResult, IngestFailed, ingest_each, ingest_files, ingest_inbox

__all__ = [
    "FileRejected", "FileResult", "IngestFailed", "ParsedFile", "Rejection",
    "ingest_each", "ingest_files", "ingest_inbox", "read_data_file",
]
