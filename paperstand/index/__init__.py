"""Search indexes: full text (tantivy), embeddings, vector search and rank fusion."""
