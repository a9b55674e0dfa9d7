package dev.biometry.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The cluster scenario (cluster/run.sh): a Kafka broker and a Flink standalone cluster (one JobManager, two
 * TaskManagers with one slot each) as separate processes; the cluster jar submitted through the REST API; analyses
 * produced at a steady rate while four failures are injected (TaskManager kill -9 and a replacement, broker kill -9
 * and restart on the same log directory and port, stop-with-savepoint and resubmission with another parallelism,
 * TaskManager kill -9 during a checkpoint); then every committed result is checked against a failure-free batch run
 * of the same requests, the webhook deliveries against the results, the Prometheus metrics for non-zero values.
 * Prints a summary; exits 1 when anything is lost, duplicated, wrong or missing.
 */
public final class ClusterScenario {

    private static final List<String> TOPICS = List.of(
            "biometry.media", "biometry.requests", "biometry.results", "biometry.folders", "biometry.dead-letter");

    private final Map<String, String> options;
    private final Path repo;
    private final Path work;
    private final List<String> failuresInjected = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final Map<String, Object> figures = new LinkedHashMap<>();
    private long restartsOfEarlierJobs;

    private ClusterScenario(Map<String, String> options) {
        this.options = options;
        this.repo = Path.of(options.getOrDefault("repo", ".")).toAbsolutePath().normalize();
        this.work = Path.of(options.getOrDefault(
                        "work",
                        repo.resolve("cluster/target/scenario-" + System.currentTimeMillis())
                                .toString()))
                .toAbsolutePath();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        if (args.length % 2 != 0) {
            throw new IllegalArgumentException(
                    "usage: ClusterScenario [--analyses 1000] [--rate 8] [--repo DIR] [--work DIR] [--job-args \"--option value ...\"]");
        }
        ClusterScenario scenario = new ClusterScenario(options);
        int code;
        try {
            code = scenario.run();
        } catch (Exception e) {
            // Still a summary: what ran, what was injected, and why it stopped (the logs are in the work dir).
            e.printStackTrace();
            scenario.problems.add("scenario aborted: " + e);
            scenario.printSummary();
            code = 1;
        }
        System.exit(code);
    }

    private static void log(String message) {
        System.out.println(Instant.now().toString().substring(11, 23) + " " + message);
        System.out.flush();
    }

    private int run() throws Exception {
        int analyses = Integer.parseInt(options.getOrDefault("analyses", "1000"));
        double rate = Double.parseDouble(options.getOrDefault("rate", "8"));
        Path jobJar = repo.resolve("jobs/target/biometry-job.jar");
        Path localJar = repo.resolve("launcher/target/biometry-local.jar");
        Path flinkLib = repo.resolve("cluster/flink/target/lib");
        Path models = repo.resolve("models");
        for (Path p : List.of(jobJar, localJar, flinkLib, models.resolve("fr_feature.onnx"))) {
            if (!Files.exists(p)) {
                throw new IllegalStateException(
                        p + " is missing: build first (bash models/fetch.sh && mvn -B -ntp -DskipTests package)");
            }
        }
        Files.createDirectories(work);
        log("work directory " + work);
        String tag = Long.toString(System.currentTimeMillis() % 100000, 36);
        byte[] secret = ("secret-" + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
        Path secretFile = work.resolve("webhook.secret");
        Files.write(secretFile, secret);

        try (WebhookReceiver receiver = new WebhookReceiver(secret, 7);
                LocalCluster cluster = new LocalCluster(work, flinkLib)) {
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
            Workload workload = Workload.create(tag, models.resolve("samples"), work.resolve("media"), receiver);

            cluster.formatKafka();
            cluster.startKafka();
            log("Kafka broker up on " + cluster.bootstrapServers() + " (pid "
                    + cluster.kafka().pid() + ")");
            createTopics(cluster.bootstrapServers(), 2);
            Path sharedConfig = repo.resolve("docker/flink/config.yaml");
            Map<String, String> overridden = cluster.writeFlinkConfig(sharedConfig);
            log("Flink config: " + sharedConfig + " with " + overridden.size() + " keys overridden for one machine ("
                    + cluster.configYaml() + ")");
            cluster.startJobManager();
            cluster.startTaskManager();
            cluster.startTaskManager();
            FlinkRest rest = new FlinkRest(cluster.restUrl());
            awaitCondition(
                    "2 TaskManagers registered",
                    Duration.ofMinutes(2),
                    () -> silently(
                            () -> rest.get("/taskmanagers").get("taskmanagers").size() >= 2));
            log("Flink cluster up: REST " + cluster.restUrl() + ", TaskManagers " + cluster.taskManagers.keySet());

            String jarId = rest.uploadJar(jobJar);
            List<String> jobArgs = new ArrayList<>(List.of(
                    "run",
                    "--bootstrap-servers",
                    cluster.bootstrapServers(),
                    "--checkpoint-interval",
                    "1s",
                    "--models",
                    models.toString(),
                    "--media-roots",
                    workload.mediaRoot.toString(),
                    "--webhook-allow-hosts",
                    "127.0.0.1",
                    "--webhook-allow-http",
                    "true",
                    "--webhook-allow-private",
                    "true",
                    "--webhook-secret-file",
                    secretFile.toString(),
                    "--webhook-initial-backoff",
                    "1s",
                    "--webhook-max-backoff",
                    "5s"));
            // More job options for this scenario, e.g. --job-args "--changelog-materialization 10s".
            String extra = options.getOrDefault("job-args", "").trim();
            if (!extra.isEmpty()) {
                jobArgs.addAll(List.of(extra.split("\\s+")));
                figures.put("job_args", extra);
            }
            String jobId = rest.runJar(jarId, withParallelism(jobArgs, 2), null);
            log("submitted " + jobJar.getFileName() + " through REST (jar " + jarId + "): job " + jobId
                    + ", parallelism 2");
            String running = jobId;
            awaitCondition("job running", Duration.ofMinutes(3), () -> silently(() -> rest.allTasksRunning(running)));

            KafkaProducer<String, String> producer = producer(cluster.bootstrapServers());
            // Bounded close: after a failed step the feeder may still wait for a broker that is gone.
            try (ResultsReader results = new ResultsReader(cluster.bootstrapServers(), "biometry.results");
                    AutoCloseable closeProducer = () -> producer.close(Duration.ofSeconds(10))) {
                AtomicInteger produced = new AtomicInteger();
                AtomicInteger sendErrors = new AtomicInteger();
                // The feeder produces at the steady rate up to `released`; each failure is injected once the
                // requests before it are out, and the next part is released right after the injection, so that
                // results are still to come after every failure whatever the machine's speed. The feeder only
                // pauses when a failure is due while the previous one has not recovered yet.
                AtomicInteger released = new AtomicInteger(analyses * 15 / 100);
                long start = System.nanoTime();
                Thread feeder = new Thread(
                        () -> {
                            long due = System.nanoTime();
                            while (produced.get() < analyses) {
                                while (produced.get() >= released.get()) {
                                    try {
                                        Thread.sleep(20);
                                    } catch (InterruptedException e) {
                                        return;
                                    }
                                    due = System.nanoTime();
                                }
                                Workload.Request r;
                                try {
                                    r = workload.next();
                                } catch (java.io.IOException e) {
                                    sendErrors.incrementAndGet();
                                    return;
                                }
                                due += (long) (1e9 / rate);
                                long wait = due - System.nanoTime();
                                if (wait > 0) {
                                    try {
                                        TimeUnit.NANOSECONDS.sleep(wait);
                                    } catch (InterruptedException e) {
                                        return;
                                    }
                                }
                                producer.send(
                                        new ProducerRecord<>("biometry.requests", r.folderId(), r.json()), (md, e) -> {
                                            if (e != null) {
                                                sendErrors.incrementAndGet();
                                            }
                                        });
                                produced.incrementAndGet();
                            }
                        },
                        "feeder");
                feeder.setDaemon(true);
                feeder.start();
                PrometheusScraper scraper = new PrometheusScraper();
                Thread scraping = new Thread(
                        () -> {
                            while (!Thread.currentThread().isInterrupted()) {
                                cluster.taskManagers.forEach((id, tm) -> {
                                    if (tm.alive()) {
                                        scraper.scrape(id, cluster.prometheusPorts.get(id));
                                        tm.peakRssMb();
                                    }
                                });
                                try {
                                    Thread.sleep(2000);
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        },
                        "prometheus-scraper");
                scraping.setDaemon(true);
                scraping.start();

                // (1) kill -9 of a TaskManager running tasks, then a replacement.
                awaitProduced(produced, released.get());
                String victim = rest.taskManagersOf(jobId).iterator().next();
                cluster.taskManagers.get(victim).kill9();
                released.set(analyses * 35 / 100);
                String replacement = cluster.startTaskManager();
                failure(
                        "kill -9 TaskManager " + victim + " (running tasks), replacement " + replacement,
                        results,
                        rest,
                        jobId);

                // (2) kill -9 of the broker, restart on the same log directory and port.
                awaitProduced(produced, released.get());
                cluster.kafka().kill9();
                released.set(analyses * 55 / 100);
                Thread.sleep(3000);
                cluster.startKafka();
                failure("kill -9 Kafka broker, restarted on the same log dir and port after 3 s", results, rest, jobId);

                // (3) stop-with-savepoint, resubmission from it with parallelism 1.
                awaitProduced(produced, released.get());
                long restartsBefore = rest.restarts(jobId);
                String savepoint = rest.stopWithSavepoint(jobId, cluster.savepointDir(), Duration.ofMinutes(3));
                restartsOfEarlierJobs += restartsBefore;
                released.set(analyses * 75 / 100);
                jobId = rest.runJar(jarId, withParallelism(jobArgs, 1), savepoint);
                failure(
                        "stop-with-savepoint ("
                                + Path.of(java.net.URI.create(savepoint)).getFileName()
                                + "), resubmitted through REST with parallelism 2 -> 1 as job " + jobId,
                        results,
                        rest,
                        jobId);

                // (4) kill -9 of the TaskManager running the job while a checkpoint is in progress.
                awaitProduced(produced, released.get());
                // Polling the checkpoint statistics for an in-progress one is a race (the REST cache holds them for
                // seconds and an idle job's checkpoint takes milliseconds): trigger one and kill while it is pending.
                victim = rest.taskManagersOf(jobId).iterator().next();
                String trigger = rest.triggerCheckpoint(jobId);
                cluster.taskManagers.get(victim).kill9();
                released.set(analyses);
                replacement = cluster.startTaskManager();
                failure(
                        "kill -9 TaskManager " + victim + " during a checkpoint, replacement " + replacement,
                        results,
                        rest,
                        jobId);
                String job = jobId;
                String[] outcome = {"IN_PROGRESS"};
                awaitQuietly(
                        Duration.ofMinutes(2),
                        () -> silently(() -> {
                            outcome[0] = rest.checkpointOutcome(job, trigger);
                            return !outcome[0].equals("IN_PROGRESS");
                        }));
                log("  the checkpoint triggered just before the kill: " + outcome[0]);
                figures.put("checkpoint_at_kill", outcome[0]);

                feeder.join();
                producer.flush();
                int total = produced.get();
                long producedAt = System.nanoTime();
                log("all " + total + " requests produced; waiting for their final results");
                awaitCondition(
                        "a final result for every analysis",
                        Duration.ofMinutes(10),
                        () -> results.analysesWithFinal() >= total,
                        1000);
                double seconds = (results.lastFinalNanos.get() - start) / 1e9;
                Set<String> expectedKeys = new TreeSet<>();
                for (Workload.Request r : workload.made()) {
                    List<JsonNode> f = results.finals.get(r.analysisId());
                    if (r.endpoint() != null && f != null) {
                        expectedKeys.add(
                                r.analysisId() + ":" + f.get(0).get("state").asText());
                    }
                }
                boolean delivered = awaitQuietly(
                        Duration.ofMinutes(3), () -> receiver.accepted.keySet().containsAll(expectedKeys));
                // Late duplicates would show up within a few checkpoints.
                Thread.sleep(5000);
                cluster.taskManagers.forEach((id, tm) -> {
                    if (tm.alive()) {
                        scraper.scrape(id, cluster.prometheusPorts.get(id));
                    }
                });
                scraping.interrupt();
                long restarts = restartsOfEarlierJobs + rest.restarts(jobId);
                String finalState = rest.state(jobId);
                rest.cancel(jobId);
                Map<String, Long> rss = new TreeMap<>();
                cluster.taskManagers.forEach((id, tm) -> rss.put(id, tm.peakRssMb()));
                long jobManagerRss = cluster.jobManager().peakRssMb();
                long kafkaRss = cluster.kafka().peakRssMb();
                cluster.close();

                // The failure-free run of exactly the requests produced, now that the cluster's CPU is free.
                Path requestsFile = work.resolve("requests.jsonl");
                workload.writeJsonLines(requestsFile);
                Map<String, JsonNode> reference = referenceRun(localJar, requestsFile, models, workload.mediaRoot);
                verify(workload, results, reference, receiver, expectedKeys, delivered, scraper, sendErrors.get());
                figures.put("analyses", total);
                figures.put("rate_produced_per_s", rate);
                figures.put("failures_injected", failuresInjected.size());
                figures.put("job_restarts_rest", restarts);
                figures.put("job_state_at_end", finalState);
                figures.put("throughput_analyses_per_s", Math.round(analyses / seconds * 100) / 100.0);
                figures.put("seconds_first_request_to_last_result", Math.round(seconds));
                figures.put(
                        "seconds_after_last_request", Math.round((results.lastFinalNanos.get() - producedAt) / 1e9));
                figures.put("peak_rss_mb_taskmanagers", rss);
                figures.put("peak_rss_mb_jobmanager", jobManagerRss);
                figures.put("peak_rss_mb_kafka", kafkaRss);
                figures.put("prometheus_mediaEmbedded_per_taskmanager", scraper.perTaskManager("mediaEmbedded"));
            }
        }
        printSummary();
        return problems.isEmpty() ? 0 : 1;
    }

    /** The failure-free run of the same requests: `batch` of the standalone jar in one JVM. */
    private Map<String, JsonNode> referenceRun(Path localJar, Path requests, Path models, Path mediaRoot)
            throws Exception {
        Path output = work.resolve("reference.jsonl");
        log("reference: failure-free `batch` run of the same " + requests.getFileName() + " (standalone jar)");
        long t0 = System.nanoTime();
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g",
                "-Djava.io.tmpdir=" + work.resolve("tmp"),
                "-Dorg.bytedeco.javacpp.cachedir=" + work.resolve("javacpp-cache"),
                "-jar",
                localJar.toString(),
                "batch",
                "--input",
                requests.toString(),
                "--output",
                output.toString(),
                "--models",
                models.toString(),
                "--media-roots",
                mediaRoot.toString(),
                "--parallelism",
                "2");
        Files.createDirectories(work.resolve("tmp"));
        Files.createDirectories(work.resolve("log"));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(work.resolve("log/reference.out").toFile())
                .start();
        if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("reference batch run failed; see " + work.resolve("log/reference.out"));
        }
        Map<String, JsonNode> byId = new HashMap<>();
        for (String line : Files.readAllLines(output)) {
            if (!line.isBlank()) {
                JsonNode n = FlinkRest.JSON.readTree(line);
                byId.put(n.get("analyse_id").asText(), n);
            }
        }
        figures.put("reference_seconds", Math.round((System.nanoTime() - t0) / 1e9));
        log("reference: " + byId.size() + " analyses in " + figures.get("reference_seconds") + " s");
        return byId;
    }

    private void verify(
            Workload workload,
            ResultsReader results,
            Map<String, JsonNode> reference,
            WebhookReceiver receiver,
            Set<String> expectedKeys,
            boolean delivered,
            PrometheusScraper scraper,
            int sendErrors) {
        int lost = 0;
        int duplicated = 0;
        int wrong = 0;
        Map<String, Integer> verdicts = new TreeMap<>();
        Set<String> ids = new TreeSet<>();
        for (Workload.Request r : workload.made()) {
            ids.add(r.analysisId());
            List<JsonNode> f = results.finals.get(r.analysisId());
            if (f == null || f.isEmpty()) {
                lost++;
                continue;
            }
            if (f.size() > 1) {
                duplicated++;
            }
            JsonNode got = f.get(0);
            JsonNode want = reference.get(r.analysisId());
            String verdict = got.path("state").asText() + "/"
                    + got.path("resolution_status").asText();
            verdicts.merge(verdict, 1, Integer::sum);
            if (want == null || !same(got, want)) {
                wrong++;
                if (wrong <= 5) {
                    problems.add("wrong result for " + r.analysisId() + ": got " + summary(got) + ", failure-free run: "
                            + (want == null ? "none" : summary(want)));
                }
            }
        }
        long foreign =
                results.finals.keySet().stream().filter(k -> !ids.contains(k)).count();
        figures.put(
                "final_records_read",
                results.finals.values().stream().mapToInt(List::size).sum());
        figures.put("processing_records_read", results.processingRecords.get());
        figures.put("lost", lost);
        figures.put("duplicated", duplicated);
        figures.put("wrong_verdicts", wrong);
        figures.put("verdicts", verdicts);
        if (lost > 0) {
            problems.add(lost + " analyses without a final record");
        }
        if (duplicated > 0) {
            problems.add(duplicated + " analyses with more than one final record");
        }
        if (wrong > 5) {
            problems.add(wrong + " analyses differ from the failure-free run in total");
        }
        if (foreign > 0) {
            problems.add(foreign + " final records for analysis ids never requested");
        }
        if (sendErrors > 0) {
            problems.add(sendErrors + " requests could not be produced");
        }
        if (results.unreadable.get() > 0) {
            problems.add(results.unreadable.get() + " unreadable result records");
        }

        int redeliveries =
                receiver.accepted.values().stream().mapToInt(a -> a.get() - 1).sum();
        Set<String> missing = new TreeSet<>(expectedKeys);
        missing.removeAll(receiver.accepted.keySet());
        Set<String> unexpected = new TreeSet<>(receiver.accepted.keySet());
        unexpected.removeAll(expectedKeys);
        figures.put("webhook_deliveries_expected", expectedKeys.size());
        figures.put("webhook_deliveries_received_unique", receiver.accepted.size());
        figures.put("webhook_attempts", receiver.attempts.get());
        figures.put("webhook_503_on_purpose_then_retried", receiver.refusedOnPurpose.get());
        figures.put("webhook_redeliveries_deduplicated_by_key", redeliveries);
        if (!delivered || !missing.isEmpty()) {
            problems.add(missing.size() + " webhook deliveries never received, e.g. "
                    + missing.stream().limit(3).toList());
        }
        if (!unexpected.isEmpty()) {
            problems.add(unexpected.size() + " webhook deliveries with unexpected keys, e.g. "
                    + unexpected.stream().limit(3).toList());
        }
        if (receiver.badSignatures.get() > 0) {
            problems.add(receiver.badSignatures.get() + " webhook attempts without a valid signature");
        }

        Map<String, Double> metrics = new LinkedHashMap<>();
        for (String m : List.of(
                "mediaEmbedded", "facesDetected", "embeddingLatencyMs", "embeddingCacheHits", "analysesSuccess")) {
            metrics.put(m, scraper.max(m));
            if (!(scraper.max(m) > 0)) {
                problems.add("Prometheus: no TaskManager reported a non-zero " + m);
            }
        }
        figures.put("prometheus_max", metrics);
        figures.put("prometheus_scrapes", new TreeMap<>(scraper.scrapes));
    }

    /** Same outcome as the failure-free run: state, resolution, confidences, per-media results. */
    private static boolean same(JsonNode got, JsonNode want) {
        if (!got.path("state").asText().equals(want.path("state").asText())
                || !got.path("resolution_status")
                        .asText()
                        .equals(want.path("resolution_status").asText())
                || got.path("error_code").asInt(-1) != want.path("error_code").asInt(-1)
                || got.path("results_media").size()
                        != want.path("results_media").size()) {
            return false;
        }
        for (String f : List.of("min_confidence", "max_confidence")) {
            JsonNode g = got.path("results_data").path(f);
            JsonNode w = want.path("results_data").path(f);
            if (g.isMissingNode() != w.isMissingNode() || Math.abs(g.asDouble() - w.asDouble()) > 1e-6) {
                return false;
            }
        }
        return true;
    }

    private static String summary(JsonNode n) {
        return n.path("state").asText() + " " + n.path("resolution_status").asText() + " " + n.path("results_data");
    }

    /**
     * Records a failure and waits until the job has recovered: all tasks running again and new final results
     * committed after the failure (so the TaskManagers embed faces again: their native libraries loaded).
     */
    private void failure(String what, ResultsReader results, FlinkRest rest, String jobId) throws Exception {
        long at = System.nanoTime();
        int before = results.analysesWithFinal();
        failuresInjected.add(what);
        log("failure " + failuresInjected.size() + ": " + what);
        awaitCondition(
                "job running again after failure " + failuresInjected.size(),
                Duration.ofMinutes(5),
                () -> silently(() -> rest.allTasksRunning(jobId)),
                250);
        awaitCondition(
                "new final results after failure " + failuresInjected.size(),
                Duration.ofMinutes(5),
                () -> results.analysesWithFinal() > before + 5 && results.lastFinalNanos.get() > at,
                250);
        long recovery = Math.round((System.nanoTime() - at) / 1e8) / 10;
        log("  recovered: tasks running and results flowing " + recovery + " s after the failure ("
                + results.analysesWithFinal() + " analyses final so far)");
        @SuppressWarnings("unchecked")
        Map<String, Long> recoveries =
                (Map<String, Long>) figures.computeIfAbsent("recovery_seconds", k -> new LinkedHashMap<String, Long>());
        recoveries.put("failure " + failuresInjected.size(), recovery);
    }

    private static List<String> withParallelism(List<String> args, int parallelism) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of("--parallelism", String.valueOf(parallelism)));
        return all;
    }

    private static void createTopics(String bootstrap, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(TOPICS.stream()
                            .map(t -> new NewTopic(t, partitions, (short) 1))
                            .toList())
                    .all()
                    .get(60, TimeUnit.SECONDS);
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // Keep retrying through the broker's outage: a request is never dropped by the feeder.
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "600000");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static void awaitProduced(AtomicInteger produced, int count) throws InterruptedException {
        while (produced.get() < count) {
            Thread.sleep(20);
        }
    }

    /** A condition that may throw (a REST call while the JobManager is busy) counts as not yet true. */
    interface Check {
        boolean test() throws Exception;
    }

    private static boolean silently(Check check) {
        try {
            return check.test();
        } catch (Exception e) {
            return false;
        }
    }

    private static void awaitCondition(String what, Duration timeout, BooleanSupplier condition)
            throws InterruptedException {
        awaitCondition(what, timeout, condition, 500);
    }

    private static void awaitCondition(String what, Duration timeout, BooleanSupplier condition, long pollMillis)
            throws InterruptedException {
        if (!awaitQuietly(timeout, condition, pollMillis)) {
            throw new IllegalStateException("timed out after " + timeout + " waiting for " + what);
        }
    }

    private static boolean awaitQuietly(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        return awaitQuietly(timeout, condition, 500);
    }

    private static boolean awaitQuietly(Duration timeout, BooleanSupplier condition, long pollMillis)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(pollMillis);
        }
        return true;
    }

    private void printSummary() throws Exception {
        ObjectNode json = FlinkRest.JSON.valueToTree(figures);
        json.putPOJO("failures", failuresInjected);
        json.putPOJO("problems", problems);
        Files.writeString(
                work.resolve("summary.json"),
                FlinkRest.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        System.out.println();
        System.out.println("=== cluster scenario summary (" + work.resolve("summary.json") + ") ===");
        figures.forEach((k, v) -> System.out.println(String.format("%-44s %s", k, v)));
        System.out.println("failures injected:");
        for (int i = 0; i < failuresInjected.size(); i++) {
            System.out.println("  " + (i + 1) + ". " + failuresInjected.get(i));
        }
        System.out.println(
                problems.isEmpty()
                        ? "RESULT: PASS (nothing lost, duplicated or wrong)"
                        : "RESULT: FAIL\n  " + String.join("\n  ", problems));
    }
}
