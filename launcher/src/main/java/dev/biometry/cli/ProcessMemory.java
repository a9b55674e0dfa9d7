package dev.biometry.cli;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads this process's memory figures: resident set (now and peak, from /proc), Java heap in use, direct buffers. */
final class ProcessMemory {

    private ProcessMemory() {}

    /** Resident set size in KiB (VmRSS), or -1 where /proc is not available. */
    static long rssKilobytes() {
        return statusKilobytes("VmRSS:");
    }

    /** Peak resident set size in KiB (VmHWM), or -1 where /proc is not available. */
    static long peakRssKilobytes() {
        return statusKilobytes("VmHWM:");
    }

    /** Java heap in use, in bytes. */
    static long heapUsedBytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Memory held by direct and mapped NIO buffers, in bytes (native memory that ORT and Kafka also use). */
    static long directBufferBytes() {
        long total = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            total += Math.max(0, pool.getMemoryUsed());
        }
        return total;
    }

    private static long statusKilobytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }
}
