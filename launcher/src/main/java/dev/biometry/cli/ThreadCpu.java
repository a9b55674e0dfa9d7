package dev.biometry.cli;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time of this process by thread between two snapshots, grouped by role (face engine task, other Flink
 * tasks, Kafka broker, Kafka clients, ...), to show where a benchmark run's CPU goes. CPU not accounted to a live
 * Java thread (garbage collection, JIT compilation, threads that ended) is reported as {@link #JVM_INTERNAL}.
 */
final class ThreadCpu {

    static final String EMBED_TASK = "flink task: embed-faces";
    static final String OTHER_TASKS = "flink tasks: sources, parse, join, match, status, sinks";
    static final String SOURCE_FETCHERS = "flink kafka source fetchers";
    static final String SINK_PRODUCERS = "flink kafka sink producers";
    static final String BROKER = "kafka broker (in-process)";
    static final String BENCH_CLIENTS = "bench producer and consumers";
    static final String RAW_WORKERS = "bench raw-chain workers";
    static final String OTHER_THREADS = "other java threads (flink runtime, rpc, checkpoints, ...)";
    static final String JVM_INTERNAL = "jvm internal (gc, jit) and ended threads";

    /**
     * CPU nanoseconds of the process and of every live thread (id -> name, nanos) at one instant, with the JVM's
     * cumulative garbage-collection and JIT-compilation times in milliseconds.
     */
    record Snapshot(
            long wallNanos,
            long processCpuNanos,
            Map<Long, String> names,
            Map<Long, Long> cpuNanos,
            long gcMillis,
            long jitMillis,
            double machineBusySeconds) {}

    /** CPU seconds by role and the busiest threads over an interval, with its wall time. */
    record Breakdown(
            double wallSeconds,
            double processCpuSeconds,
            Map<String, Double> cpuSecondsByRole,
            List<Map.Entry<String, Double>> topThreads,
            double gcSeconds,
            double jitSeconds,
            double otherProcessesSeconds) {

        /** Average cores used by other processes of the machine over the interval (NaN where /proc/stat is missing). */
        double otherProcessesCores() {
            return otherProcessesSeconds / wallSeconds;
        }

        /** Average busy cores of a role over the interval. */
        double cores(String role) {
            return cpuSecondsByRole.getOrDefault(role, 0.0) / wallSeconds;
        }
    }

    private ThreadCpu() {}

    static Snapshot take() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long[] ids = mx.getAllThreadIds();
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> cpu = new HashMap<>();
        ThreadInfo[] infos = mx.getThreadInfo(ids);
        for (int i = 0; i < ids.length; i++) {
            long nanos = mx.getThreadCpuTime(ids[i]);
            if (infos[i] != null && nanos >= 0) {
                names.put(ids[i], infos[i].getThreadName());
                cpu.put(ids[i], nanos);
            }
        }
        long gc = 0;
        for (var bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            gc += Math.max(0, bean.getCollectionTime());
        }
        var jit = ManagementFactory.getCompilationMXBean();
        long jitMillis = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
        return new Snapshot(System.nanoTime(), processCpuNanos(), names, cpu, gc, jitMillis, machineBusySeconds());
    }

    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** CPU seconds all processes of the machine spent busy since boot (from /proc/stat), NaN where unavailable. */
    static double machineBusySeconds() {
        try {
            String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat"))
                    .get(0)
                    .trim()
                    .split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5) { // idle, iowait
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy / 100.0; // USER_HZ
        } catch (java.io.IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    static Breakdown between(Snapshot start, Snapshot end) {
        Map<String, Double> byRole = new LinkedHashMap<>();
        for (String role : List.of(
                EMBED_TASK,
                OTHER_TASKS,
                SOURCE_FETCHERS,
                SINK_PRODUCERS,
                BROKER,
                BENCH_CLIENTS,
                RAW_WORKERS,
                OTHER_THREADS,
                JVM_INTERNAL)) {
            byRole.put(role, 0.0);
        }
        Map<String, Double> byThread = new HashMap<>();
        double threadsTotal = 0;
        for (Map.Entry<Long, Long> e : end.cpuNanos().entrySet()) {
            double seconds = (e.getValue() - start.cpuNanos().getOrDefault(e.getKey(), 0L)) / 1e9;
            String name = end.names().get(e.getKey());
            byRole.merge(role(name), seconds, Double::sum);
            byThread.merge(name, seconds, Double::sum);
            threadsTotal += seconds;
        }
        double process = (end.processCpuNanos() - start.processCpuNanos()) / 1e9;
        byRole.put(JVM_INTERNAL, Math.max(0, process - threadsTotal));
        List<Map.Entry<String, Double>> top = new ArrayList<>(byThread.entrySet());
        top.sort(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()));
        return new Breakdown(
                (end.wallNanos() - start.wallNanos()) / 1e9,
                process,
                byRole,
                List.copyOf(top.subList(0, Math.min(12, top.size()))),
                (end.gcMillis() - start.gcMillis()) / 1e3,
                (end.jitMillis() - start.jitMillis()) / 1e3,
                Math.max(0, end.machineBusySeconds() - start.machineBusySeconds() - process));
    }

    /** The role of a thread, from its name. */
    static String role(String name) {
        if (name.contains("embed-faces")) {
            return EMBED_TASK;
        }
        if (name.startsWith("Source Data Fetcher")) {
            return SOURCE_FETCHERS;
        }
        if (name.startsWith("kafka-producer-network-thread")) {
            return name.endsWith("| bench-producer") ? BENCH_CLIENTS : SINK_PRODUCERS;
        }
        if (name.startsWith("bench-raw")) {
            return RAW_WORKERS;
        }
        if (name.startsWith("bench-")) {
            return BENCH_CLIENTS;
        }
        if (name.matches(".*\\(\\d+/\\d+\\)#\\d+$")) {
            return OTHER_TASKS;
        }
        if (name.startsWith("data-plane-kafka")
                || name.startsWith("kafka-")
                || name.contains("raft")
                || name.startsWith("quorum-")
                || name.startsWith("broker-")
                || name.startsWith("controller-")
                || name.startsWith("ExpirationReaper")
                || name.startsWith("transaction-")
                || name.startsWith("group-")
                || name.startsWith("LogDirFailureHandler")
                || name.startsWith("executor-")
                || name.startsWith("TxnMarkerSenderThread")
                || name.startsWith("share-")
                || name.contains("kafka-request-handler")
                || name.contains("kafka-network-thread")) {
            return BROKER;
        }
        return OTHER_THREADS;
    }
}
