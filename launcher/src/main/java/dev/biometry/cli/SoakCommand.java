package dev.biometry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.config.JobConfig;
import dev.biometry.face.FaceEngine;
import dev.biometry.local.EmbeddedKafkaBroker;
import dev.biometry.pipeline.BiometryJob;
import dev.biometry.pipeline.KafkaEndpoints;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code soak [--minutes 30] [--rate 4] [--hostile-every 4] [--report-every 60s] [job options]}: runs the whole job
 * (in-process broker, local Flink, exactly-once sinks) under a steady mixed load for a while: valid analyses with a
 * known verdict and, every few messages, a hostile input from {@link SoakInputs}. Every report interval it prints
 * results/s, heap, direct memory, RSS and open ONNX Runtime sessions; at the end it accounts for every input (each
 * must get its expected answer), reads the job's restarts, and checks that RSS stayed within a tolerance of its
 * level after the first five minutes. Exits 1 when anything was lost, answered wrongly, restarted or grew.
 */
final class SoakCommand {

    private static final Pattern MARKER = Pattern.compile("\"x_soak\"\\s*:\\s*\"(soak-[0-9a-f-]{36})\"");

    private SoakCommand() {}

    /** What an input got back: a final analysis (state, resolution, error code) or a dead letter. */
    record Answer(boolean deadLetter, String state, String resolution, int errorCode) {

        boolean satisfies(SoakInputs.Expect expect) {
            return switch (expect) {
                case SUCCESS -> !deadLetter && "FINISHED".equals(state) && "SUCCESS".equals(resolution);
                case DECLINED -> !deadLetter && "FINISHED".equals(state) && "DECLINED".equals(resolution);
                case FAILED -> !deadLetter && "FAILED".equals(state);
                case DEAD_LETTER -> deadLetter;
                case ANSWERED -> true;
            };
        }

        @Override
        public String toString() {
            return deadLetter
                    ? "dead letter " + errorCode
                    : state
                            + (resolution == null ? "" : " " + resolution)
                            + (errorCode < 0 ? "" : " error " + errorCode);
        }
    }

    /** One RSS reading, at {@code seconds} into the run. */
    record Sample(double seconds, long rssKb) {}

    /** The options of {@code soak}: its own, then the job options. */
    static CommandSpec spec() {
        CommandSpec spec = CommandArgs.command(
                "soak",
                "Steady mixed load with hostile inputs through the whole job; prints results/s, heap, direct memory,"
                        + " RSS and ORT sessions per interval; fails on a lost or wrong answer, a restart or RSS"
                        + " growth.");
        CommandArgs.value(spec, "minutes", "M", "30", "length of the run");
        CommandArgs.value(spec, "rate", "R", "4", "analyses per second");
        CommandArgs.value(spec, "hostile-every", "N", "4", "every N-th input is hostile");
        CommandArgs.value(spec, "report-every", "DURATION", "60s", "interval of the printed figures");
        CommandArgs.value(spec, "drain", "DURATION", "180s", "longest wait for the last answers");
        CommandArgs.value(spec, "rss-tolerance", "F", "0.10", "largest RSS growth allowed, as a fraction");
        CommandArgs.value(spec, "rss-baseline-minute", "M", "5", "minute of the run whose RSS is the baseline");
        return CommandArgs.jobOptions(spec, Map.of("checkpoint-interval", "5s"));
    }

    static int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception {
        double minutes = args.doubleOption("minutes", 30);
        double rate = args.doubleOption("rate", 4);
        int hostileEvery = args.intOption("hostile-every", 4);
        Duration reportEvery = BenchSettings.millis("report-every", args.option("report-every", "60s"));
        Duration drain = BenchSettings.millis("drain", args.option("drain", "180s"));
        double tolerance = args.doubleOption("rss-tolerance", 0.10);
        double baselineMinute = args.doubleOption("rss-baseline-minute", 5);
        if (minutes <= 0 || rate <= 0 || hostileEvery < 1 || tolerance <= 0 || reportEvery.isZero()) {
            throw new UsageException(
                    "--minutes, --rate, --rss-tolerance, --report-every must be > 0 and " + "--hostile-every >= 1");
        }
        Path models = ModelsLocator.locate(args.option("models"));
        Path work = Files.createTempDirectory("biometry-soak");
        try {
            return soak(
                    args,
                    models,
                    work,
                    minutes,
                    rate,
                    hostileEvery,
                    reportEvery,
                    drain,
                    tolerance,
                    baselineMinute,
                    out,
                    err);
        } finally {
            deleteTree(work);
        }
    }

    private static int soak(
            CommandArgs args,
            Path models,
            Path work,
            double minutes,
            double rate,
            int hostileEvery,
            Duration reportEvery,
            Duration drain,
            double tolerance,
            double baselineMinute,
            PrintStream out,
            PrintStream err)
            throws Exception {
        out.printf(
                Locale.ROOT,
                "machine    %d cores, %s, Java %s, max heap %d MB%n",
                Runtime.getRuntime().availableProcessors(),
                Machine.cpuModel(),
                System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20);
        Path media = Files.createDirectories(work.resolve("media"));
        SoakInputs inputs = SoakInputs.prepare(media, models);
        err.println("soak: starting an in-process Kafka broker");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            // The user's job options over the soak's defaults, then the run's own topics and media root.
            Map<String, String> given = new HashMap<>();
            given.put("models", models.toString());
            given.put("checkpoint-interval", "5s");
            given.put("checkpoint-dir", work.resolve("checkpoints").toUri().toString());
            args.putJobOptions(given);
            given.put("bootstrap-servers", broker.bootstrapServers());
            for (String topic : List.of("media", "requests", "results", "folders", "dead-letter")) {
                given.put(topic + "-topic", "soak." + topic);
            }
            given.put("starting-offsets", "earliest");
            given.put("media-roots", media.toString());
            JobConfig config;
            try {
                config = JobConfig.fromOptions(given);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            broker.createTopics(
                    config.parallelism(),
                    config.mediaTopic(),
                    config.requestsTopic(),
                    config.resultsTopic(),
                    config.foldersTopic(),
                    config.deadLetterTopic());

            int restPort = freePort();
            Configuration conf = new Configuration();
            conf.set(RestOptions.PORT, restPort);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
            BiometryJob.Durability durability = BiometryJob.configure(env, config, BiometryJob.Deployment.LOCAL);
            BiometryJob.build(env, config, KafkaEndpoints.of(config));
            JobClient job = env.executeAsync("biometry (soak)");
            try (Accounting accounting = new Accounting(config)) {
                out.printf(
                        Locale.ROOT,
                        "load       %.1f messages/s for %.1f min, every %d-th hostile (%d kinds: %s); "
                                + "parallelism %d; %s state, checkpoints every %s s in %s; dashboard http://localhost:%d%n",
                        rate,
                        minutes,
                        hostileEvery,
                        SoakInputs.HOSTILE_KINDS.size(),
                        String.join(", ", SoakInputs.HOSTILE_KINDS),
                        config.parallelism(),
                        durability.stateBackend(),
                        config.checkpointInterval().toSeconds(),
                        durability.checkpointDir(),
                        restPort);
                List<Sample> samples = drive(inputs, accounting, config, rate, hostileEvery, minutes, reportEvery, out);
                out.println("soak: load stopped; waiting up to " + drain.toSeconds() + " s for the last answers");
                accounting.awaitAllAnswered(drain);
                long restarts = restarts(restPort, job.getJobID().toString());
                return summary(accounting, samples, restarts, tolerance, baselineMinute, out);
            } finally {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** Sends the load at {@code rate} messages/s and prints a line every report interval; returns the RSS samples. */
    private static List<Sample> drive(
            SoakInputs inputs,
            Accounting accounting,
            JobConfig config,
            double rate,
            int hostileEvery,
            double minutes,
            Duration reportEvery,
            PrintStream out)
            throws Exception {
        out.println(
                "    time   sent  hostile  answered  results/s  dead letters  heap MB  direct MB  RSS MB  ORT sessions"
                        + "  largest record KB");
        List<Sample> samples = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + (long) (minutes * 60e9);
        long interval = (long) (1e9 / rate);
        long nextSend = start;
        long nextReport = start + reportEvery.toNanos();
        long sent = 0;
        long lastResults = 0;
        long lastReportNanos = start;
        while (System.nanoTime() < end) {
            long now = System.nanoTime();
            if (now >= nextSend) {
                List<SoakInputs.Message> batch =
                        sent % hostileEvery == hostileEvery - 1 ? inputs.nextHostile() : List.of(inputs.nextValid());
                for (SoakInputs.Message m : batch) {
                    accounting.send(m, config);
                }
                sent++;
                nextSend += interval;
            }
            if (now >= nextReport) {
                long results = accounting.finalResults();
                double perSecond = (results - lastResults) / ((now - lastReportNanos) / 1e9);
                lastResults = results;
                lastReportNanos = now;
                long rss = ProcessMemory.rssKilobytes();
                double seconds = (now - start) / 1e9;
                samples.add(new Sample(seconds, rss));
                out.printf(
                        Locale.ROOT,
                        "%8s  %5d  %7d  %8d  %9.2f  %12d  %7d  %9d  %6d  %12d  %17.1f%n",
                        clock(seconds),
                        accounting.sent(),
                        accounting.hostileSent(),
                        accounting.answered(),
                        perSecond,
                        accounting.deadLetters(),
                        ProcessMemory.heapUsedBytes() >> 20,
                        ProcessMemory.directBufferBytes() >> 20,
                        rss >> 10,
                        FaceEngine.openSessions(),
                        accounting.largestRecordBytes() / 1024.0);
                nextReport += reportEvery.toNanos();
            }
            long sleepNanos = Math.min(nextSend, nextReport) - System.nanoTime();
            if (sleepNanos > 0) {
                TimeUnit.NANOSECONDS.sleep(sleepNanos); // pacing the load, not waiting for a result
            }
        }
        accounting.flush();
        return samples;
    }

    private static int summary(
            Accounting accounting,
            List<Sample> samples,
            long restarts,
            double tolerance,
            double baselineMinute,
            PrintStream out) {
        out.println();
        out.println("kind                      sent  right  wrong  missing  (wrong or missing: first answer)");
        long wrong = 0;
        long missing = 0;
        for (Map.Entry<String, long[]> e : accounting.byKind().entrySet()) {
            long[] c = e.getValue();
            wrong += c[2];
            missing += c[3];
            out.printf(
                    Locale.ROOT,
                    "%-24s %5d  %5d  %5d  %7d  %s%n",
                    e.getKey(),
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    accounting.firstProblem(e.getKey()));
        }
        out.printf(
                Locale.ROOT,
                "inputs     %d sent, %d answered as expected, %d answered wrongly, %d never answered%n",
                accounting.sent(),
                accounting.sent() - wrong - missing,
                wrong,
                missing);
        out.printf(
                Locale.ROOT,
                "outputs    largest record %.1f KB (results, folders, dead letters)%n",
                accounting.largestRecordBytes() / 1024.0);
        out.printf(Locale.ROOT, "job        %s restarts%n", restarts < 0 ? "unknown" : String.valueOf(restarts));
        boolean rssOk = rssStable(samples, tolerance, baselineMinute, out);
        out.printf(
                Locale.ROOT,
                "peak RSS   %d MB (VmHWM); ORT sessions open at the end: %d%n",
                ProcessMemory.peakRssKilobytes() >> 10,
                FaceEngine.openSessions());
        boolean ok = wrong == 0 && missing == 0 && restarts == 0 && rssOk;
        out.println(ok ? "soak: PASSED" : "soak: FAILED");
        return ok ? 0 : 1;
    }

    /**
     * Whether every RSS sample after the baseline (the first one at or after {@code baselineMinute}, or at half
     * time in a shorter run) stays within {@code tolerance} of it.
     */
    static boolean rssStable(List<Sample> samples, double tolerance, double baselineMinute, PrintStream out) {
        if (samples.size() < 2) {
            out.println("RSS        too few samples to judge (run longer than two report intervals)");
            return true;
        }
        double runSeconds = samples.get(samples.size() - 1).seconds();
        double from = baselineMinute * 60 < runSeconds ? baselineMinute * 60 : runSeconds / 2;
        Sample base =
                samples.stream().filter(s -> s.seconds() >= from).findFirst().orElseThrow();
        double worst = 0;
        for (Sample s : samples) {
            if (s.seconds() >= base.seconds()) {
                worst = Math.max(worst, Math.abs(s.rssKb() - base.rssKb()) / (double) base.rssKb());
            }
        }
        boolean ok = worst <= tolerance;
        out.printf(
                Locale.ROOT,
                "RSS        %d MB at %s (baseline%s); largest deviation after it %.1f %% (limit %.0f %%): %s%n",
                base.rssKb() >> 10,
                clock(base.seconds()),
                from < baselineMinute * 60 ? ", half time: the run is shorter than " + baselineMinute + " min" : "",
                worst * 100,
                tolerance * 100,
                ok ? "stable" : "NOT stable");
        return ok;
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** The job's numRestarts metric from the local cluster's REST API (tried for 60 s), or -1 when it cannot be read. */
    private static long restarts(int restPort, String jobId) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long restarts = -1;
        while (restarts < 0 && System.nanoTime() < deadline) {
            restarts = restartsOnce(restPort, jobId);
            if (restarts < 0) {
                Thread.sleep(1_000);
            }
        }
        return restarts;
    }

    private static long restartsOnce(int restPort, String jobId) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://localhost:" + restPort + "/jobs/" + jobId
                                            + "/metrics?get=numRestarts"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            for (JsonNode metric : Json.mapper().readTree(response.body())) {
                if (metric.path("id").asText().equals("numRestarts")) {
                    return metric.path("value").asLong(-1);
                }
            }
        } catch (IOException e) {
            // reported as unknown
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return -1;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp folder left behind
        }
    }

    /**
     * Sends the inputs and reads back, with read_committed, the results (final records), the dead letters and
     * the folder records: which input got which answer, and the largest record written.
     */
    static final class Accounting implements AutoCloseable {
        private final KafkaProducer<String, byte[]> producer;
        private final Map<String, SoakInputs.Message> sentInputs = new ConcurrentHashMap<>();
        private final Map<String, Answer> answers = new ConcurrentHashMap<>();
        /** Each input's marker by its Kafka key (a new folder id per message). */
        private final Map<String, String> markersByFolder = new ConcurrentHashMap<>();

        private final AtomicLong hostile = new AtomicLong();
        private final AtomicLong deadLetters = new AtomicLong();
        private final AtomicLong finalResults = new AtomicLong();
        private final AtomicLong largest = new AtomicLong();
        private final List<KafkaConsumer<byte[], byte[]>> consumers = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean stopped;

        Accounting(JobConfig config) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
            p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(2 << 20));
            producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
            consume(config, config.resultsTopic(), this::onResult);
            consume(config, config.deadLetterTopic(), this::onDeadLetter);
            consume(config, config.foldersTopic(), r -> {});
        }

        void send(SoakInputs.Message m, JobConfig config) {
            sentInputs.put(m.marker(), m);
            markersByFolder.put(m.key(), m.marker());
            if (!m.kind().equals("same-person") && !m.kind().equals("different-people")) {
                hostile.incrementAndGet();
            }
            String topic = m.topic().equals("media") ? config.mediaTopic() : config.requestsTopic();
            producer.send(new ProducerRecord<>(topic, m.key(), m.value()));
        }

        void flush() {
            producer.flush();
        }

        long sent() {
            return sentInputs.size();
        }

        long hostileSent() {
            return hostile.get();
        }

        long answered() {
            return answers.size();
        }

        long deadLetters() {
            return deadLetters.get();
        }

        long finalResults() {
            return finalResults.get();
        }

        long largestRecordBytes() {
            return largest.get();
        }

        /** Waits until every input sent has an answer, or {@code timeout}. */
        void awaitAllAnswered(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && !answers.keySet().containsAll(sentInputs.keySet())) {
                Thread.sleep(200);
            }
        }

        /** Per kind: sent, right, wrong, missing. */
        Map<String, long[]> byKind() {
            Map<String, long[]> counts = new TreeMap<>();
            for (SoakInputs.Message m : sentInputs.values()) {
                long[] c = counts.computeIfAbsent(m.kind(), k -> new long[4]);
                c[0]++;
                Answer a = answers.get(m.marker());
                c[a == null ? 3 : a.satisfies(m.expect()) ? 1 : 2]++;
            }
            return counts;
        }

        /** The first wrong or missing answer of {@code kind}, for the report. */
        String firstProblem(String kind) {
            for (SoakInputs.Message m : sentInputs.values()) {
                if (!m.kind().equals(kind)) {
                    continue;
                }
                Answer a = answers.get(m.marker());
                if (a == null) {
                    return "expected " + m.expect() + ", no answer (" + m.marker() + ")";
                }
                if (!a.satisfies(m.expect())) {
                    return "expected " + m.expect() + ", got " + a;
                }
            }
            return "";
        }

        private void onResult(ConsumerRecord<byte[], byte[]> r) throws IOException {
            JsonNode result = Json.mapper().readTree(r.value());
            String state = result.path("state").asText();
            if (state.equals("PROCESSING")) {
                return;
            }
            finalResults.incrementAndGet();
            // The request that ran is told by its folder (two requests may share an analyse_id).
            String id = markersByFolder.getOrDefault(
                    result.path("folder_id").asText(), result.path("analyse_id").asText());
            if (sentInputs.containsKey(id)) {
                answers.putIfAbsent(
                        id,
                        new Answer(
                                false,
                                state,
                                result.path("resolution_status").asText(null),
                                result.path("error_code").asInt(-1)));
            }
        }

        private void onDeadLetter(ConsumerRecord<byte[], byte[]> r) throws IOException {
            deadLetters.incrementAndGet();
            JsonNode letter = Json.mapper().readTree(r.value());
            String payload = letter.path("payload").asText("");
            if (letter.path("payload_encoding").asText().equals("base64")) {
                payload = new String(Base64.getDecoder().decode(payload), StandardCharsets.ISO_8859_1);
            }
            Matcher m = MARKER.matcher(payload);
            String marker = m.find() ? m.group(1) : null;
            if (marker == null && payload.startsWith("{")) {
                // A dead letter made from the parsed request (an analyse_id already running) names its folder only.
                try {
                    marker = markersByFolder.get(
                            Json.mapper().readTree(payload).path("folder_id").asText());
                } catch (IOException e) {
                    // a cut payload: no folder to read
                }
            }
            if (marker != null) {
                answers.putIfAbsent(
                        marker,
                        new Answer(true, null, null, letter.path("error_code").asInt(-1)));
            }
        }

        private interface RecordHandler {
            void handle(ConsumerRecord<byte[], byte[]> record) throws Exception;
        }

        private void consume(JobConfig config, String topic, RecordHandler handler) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            KafkaConsumer<byte[], byte[]> consumer =
                    new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            consumers.add(consumer);
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Thread t = new Thread(
                    () -> {
                        try {
                            while (!stopped) {
                                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                                    largest.accumulateAndGet(r.serializedValueSize(), Math::max);
                                    try {
                                        handler.handle(r);
                                    } catch (Exception e) {
                                        System.err.println("soak: unreadable record on " + topic + ": " + e);
                                    }
                                }
                            }
                        } catch (WakeupException e) {
                            // closing
                        } finally {
                            consumer.close(Duration.ofSeconds(2));
                        }
                    },
                    "soak-consumer-" + topic);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }

        @Override
        public void close() {
            stopped = true;
            consumers.forEach(KafkaConsumer::wakeup);
            for (Thread t : threads) {
                try {
                    t.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            producer.close(Duration.ofSeconds(5));
        }
    }
}
