package dev.biometry.cli;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Requests the in-process Kafka broker has handled, by request type (Produce, Fetch, EndTxn, ...), read from the
 * broker's own {@code kafka.network:type=RequestMetrics,name=RequestsPerSec} meters in this JVM: which clients'
 * requests the broker's share of a benchmark's CPU pays for.
 */
final class BrokerRequests {

    private static final String PATTERN = "kafka.network:type=RequestMetrics,name=RequestsPerSec,*";

    /** Meters that count a subset of another type's requests again (Fetch from consumers, from followers). */
    private static final Set<String> SUBSETS = Set.of("FetchConsumer", "FetchFollower");

    private BrokerRequests() {}

    /**
     * The broker's request counts so far by type (all versions summed, each request once); empty when no broker runs
     * in this JVM.
     */
    static Map<String, Long> counts() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Map<String, Long> counts = new TreeMap<>();
        try {
            for (ObjectName name : server.queryNames(new ObjectName(PATTERN), null)) {
                String request = name.getKeyProperty("request");
                Object count = server.getAttribute(name, "Count");
                if (request != null && !SUBSETS.contains(request) && count instanceof Number n) {
                    counts.merge(request, n.longValue(), Long::sum);
                }
            }
        } catch (Exception e) {
            // A meter removed between the query and the read: the figures are informative, what was read stands.
        }
        return counts;
    }

    /** Requests per second by type between two {@link #counts()}, busiest first, leaving out types below 0.5/s. */
    static Map<String, Double> ratesBetween(Map<String, Long> start, Map<String, Long> end, double seconds) {
        Map<String, Double> rates = new LinkedHashMap<>();
        end.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), (e.getValue() - start.getOrDefault(e.getKey(), 0L)) / seconds))
                .filter(e -> e.getValue() >= 0.5)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> rates.put(e.getKey(), e.getValue()));
        return rates;
    }
}
