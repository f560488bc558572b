"""Clinic sync over MQTT (paho-mqtt): a station's outbox to the broker, and the clinic's receiver.

An adapter beside :mod:`coach.log`: it imports the log, the loop's and the core's types and the
settings, and nothing below it imports it. ``coach sync`` (:mod:`coach.sync.station`) publishes a
station's records in order, at QoS 1, each with a stable message id, taking a record off the outbox
only on the broker's acknowledgement; ``coach clinic receive`` (:mod:`coach.sync.receive`) files every
station's records into one clinic store, once each. Nothing received ever reaches a session: the
station subscribes to nothing.
"""
