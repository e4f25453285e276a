"""zjtx domain core: models, policies engine, lifecycle, ingestion and queries (no Streamlit here)."""
