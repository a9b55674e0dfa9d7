package dev.biometry.api;

/** Where an input record came from: topic, partition and offset. */
public record SourceRef(String topic, int partition, long offset) {}
