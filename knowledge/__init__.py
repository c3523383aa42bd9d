"""Catalog records, embeddings, vector store and hybrid retrieval. Heavy libraries load lazily."""
