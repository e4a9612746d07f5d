"""Relevance measured: a labelled corpus and query set, and the measures (nDCG@10, recall@10).

corpus.py builds the corpus (real sample files plus seeded multilingual events whose
topic is known by construction); queries.json holds the queries with their relevant
events, labelled from how the corpus is built, never from what an engine answers.
"""
