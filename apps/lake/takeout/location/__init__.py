"""Google's location history, in each of the shapes Takeout has given it:
``records`` (Records.json, the oldest), ``semantic`` (monthly Semantic
Location History), ``device`` (the on-device Timeline.json since 2024) and
``meta`` (the settings and edits files beside them)."""
