"""Search a run's embeddings: the exported index (exact or faiss), queries, near-duplicate images."""
