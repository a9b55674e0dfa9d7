package dev.biometry.pipeline;

/** An analyse id taken by one running request (the ticket), until {@code releaseAtMillis}. */
public record AnalysisClaim(AnalysisTicket ticket, long releaseAtMillis) {}
