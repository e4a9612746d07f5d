"""Phones and trackers that send live location: devices, their credentials, their protocols.

Each app speaks its own documented protocol (OwnTracks HTTP and MQTT, Overland,
GPSLogger); ``protocols`` turns each into the lake's records with the same
readers track files use, ``services`` validates and stores them through the
lake's pipeline (apps/lake/pipeline.records_store) and publishes the fixes
to the owner's live feed.
"""
