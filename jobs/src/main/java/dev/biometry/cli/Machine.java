package dev.biometry.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Describes the machine a benchmark ran on. */
final class Machine {

    private Machine() {}

    /** The CPU's widest SIMD extensions that matter to ONNX Runtime's kernels (int8 dot products above all). */
    static String simdFlags() {
        try {
            List<String> flags = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("flags"))
                    .map(l -> List.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+")))
                    .findFirst()
                    .orElse(List.of());
            List<String> shown = new ArrayList<>();
            for (String f : List.of("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")) {
                if (flags.contains(f)) {
                    shown.add(f);
                }
            }
            return shown.isEmpty() ? "no AVX2" : String.join(" ", shown);
        } catch (IOException e) {
            return "unknown flags";
        }
    }

    /** The 1, 5 and 15 minute load averages ({@code /proc/loadavg}), or "unknown". */
    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }
}
