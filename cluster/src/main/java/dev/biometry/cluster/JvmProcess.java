package dev.biometry.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A JVM the harness started: its name, process and log; killed with SIGKILL or stopped at the end. */
final class JvmProcess {

    final String name;
    final Process process;
    final Path output;
    private long lastPeakRssKb;

    private JvmProcess(String name, Process process, Path output) {
        this.name = name;
        this.process = process;
        this.output = output;
    }

    /** Starts {@code command} with stdout and stderr into {@code output}; records its pid in {@code pidFile}. */
    static JvmProcess start(String name, List<String> command, Path output, Path pidFile) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        Process p = pb.start();
        Files.writeString(pidFile, p.pid() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return new JvmProcess(name, p, output);
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Peak resident set size so far (VmHWM), in MB; the last value read once the process is gone. */
    long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
                if (line.startsWith("VmHWM:")) {
                    lastPeakRssKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone: keep the last reading.
        }
        return lastPeakRssKb / 1024;
    }

    /** {@code kill -9}: no shutdown hook, no clean close of sockets or files. */
    void kill9() throws InterruptedException {
        peakRssMb();
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL after {@code graceSeconds}. */
    void stop(int graceSeconds) throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        peakRssMb();
        process.destroy();
        if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
