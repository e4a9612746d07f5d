"""The writes of one batch, by kind of row: points (a streamed binary COPY), events
(staging, upserts, history matching), places and visits. apps/lake/writer.py's
BatchWriter owns the batch's one transaction and calls them inside it."""
