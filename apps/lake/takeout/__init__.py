"""Google Takeout: one parser module per product, one registry (registry.py).

A parser turns one archive member (a byte stream) into small typed records
(records.py). Parsers know nothing of the database: the import service
normalizes, de-duplicates and writes what they yield.
"""
