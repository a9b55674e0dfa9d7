package dev.biometry.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Analysis;
import dev.biometry.api.AnalysisParams;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.FolderRollUp;
import dev.biometry.api.InputParser;
import dev.biometry.api.Json;
import dev.biometry.api.MediaObject;
import dev.biometry.api.MediaType;
import dev.biometry.api.OzError;
import dev.biometry.api.ParseResult;
import dev.biometry.api.SourceRef;
import dev.biometry.media.ContentKind;
import dev.biometry.media.MediaSniffer;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Oz HTTP API on Javalin: authentication, folders with media uploads, analyses, polling, listing, the
 * single-request mode and the non-persistent instant mode (spec §2, §5). Stateless apart from its stores (the
 * database and the media directory), so several instances can serve behind a load balancer. Paths work with and
 * without the trailing slash; JSON bodies are read whatever their declared content type.
 */
public final class ApiServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    /** Every route: method and path, as registered and as {@code /api/openapi.json} describes them. */
    public static final List<String> ROUTES = List.of(
            "POST /api/authorize/auth",
            "POST /api/authorize/refresh",
            "POST /api/folders",
            "GET /api/folders",
            "GET /api/folders/{folder_id}",
            "POST /api/folders/{folder_id}/media",
            "GET /api/folders/{folder_id}/media",
            "POST /api/folders/{folder_id}/analyses",
            "GET /api/folders/{folder_id}/analyses",
            "GET /api/analyses/{analyse_id}",
            "GET /api/media/{media_id}/file",
            "POST /api/instant/folders",
            "GET /api/openapi.json");

    private final ApiConfig config;
    private final Store store;
    private final Auth auth;
    private final Pipeline pipeline;
    private final Views views;
    private final Javalin app;

    private ApiServer(ApiConfig config, Store store, Auth auth, Pipeline pipeline, Consumer<String> routeListener) {
        this.config = config;
        this.store = store;
        this.auth = auth;
        this.pipeline = pipeline;
        this.views = new Views(() -> config.publicUrl() != null
                ? config.publicUrl()
                : "http://" + (config.host().equals("0.0.0.0") ? "localhost" : config.host()) + ":" + port());
        this.app = Javalin.create(c -> {
            c.showJavalinBanner = false;
            c.router.ignoreTrailingSlashes = true;
            c.router.treatMultipleSlashesAsSingleSlash = true;
            c.http.prefer405over404 = true;
            c.http.maxRequestSize = 1024 * 1024;
            c.jetty.defaultHost = config.host();
            c.jetty.defaultPort = config.port();
            // Jetty refuses a part above this while reading; the exact limit is checked per file below.
            c.jetty.multipartConfig.maxFileSize(config.maxFileBytes() + 64 * 1024, SizeUnit.BYTES);
            c.jetty.multipartConfig.maxTotalRequestSize(
                    (config.maxFileBytes() + 64 * 1024) * (config.maxFilesPerFolder() + 1), SizeUnit.BYTES);
            c.jetty.multipartConfig.maxInMemoryFileSize(256 * 1024, SizeUnit.BYTES);
            c.events.handlerAdded(h -> routeListener.accept(h.getHttpMethod() + " " + h.getPath()));
        });
        app.post("/api/authorize/auth", this::login);
        app.post("/api/authorize/refresh", this::refresh);
        app.post("/api/folders", this::createFolder);
        app.get("/api/folders", this::listFolders);
        app.get("/api/folders/{folder_id}", this::getFolder);
        app.post("/api/folders/{folder_id}/media", this::addMedia);
        app.get("/api/folders/{folder_id}/media", this::listMedia);
        app.post("/api/folders/{folder_id}/analyses", this::startAnalyses);
        app.get("/api/folders/{folder_id}/analyses", this::listAnalyses);
        app.get("/api/analyses/{analyse_id}", this::getAnalysis);
        app.get("/api/media/{media_id}/file", this::mediaFile);
        app.post("/api/instant/folders", this::instant);
        app.get("/api/openapi.json", this::openApi);

        app.exception(ApiError.class, (e, ctx) -> error(ctx, e.code(), e.getMessage(), e.details()));
        app.exception(Store.StoreException.class, (e, ctx) -> {
            LOG.error("database failure on {} {}", ctx.method(), ctx.path(), e);
            error(ctx, OzError.UNKNOWN, "database unavailable", null);
        });
        app.exception(
                HttpResponseException.class,
                (e, ctx) -> error(
                        ctx,
                        e.getStatus() == 405
                                ? ApiError.NOT_ALLOWED
                                : e.getStatus() == 404
                                        ? OzError.NOT_EXIST
                                        : e.getStatus() == 413 ? OzError.INVALID_VALUE : OzError.INVALID_STRUCTURE,
                        e.getMessage(),
                        null));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("unexpected failure on {} {}", ctx.method(), ctx.path(), e);
            error(ctx, OzError.UNKNOWN, "Unknown server side error occurred", null);
        });
        app.error(404, ctx -> {
            if (ctx.result() == null || !ctx.result().contains("error_code")) {
                error(ctx, OzError.NOT_EXIST, "no such endpoint: " + ctx.method() + " " + ctx.path(), null);
            }
        });
        app.error(405, ctx -> {
            if (ctx.result() == null || !ctx.result().contains("error_code")) {
                error(ctx, ApiError.NOT_ALLOWED, "method not allowed: " + ctx.method() + " " + ctx.path(), null);
            }
        });
    }

    /** Opens the store, loads users, connects to Kafka and starts serving. */
    public static ApiServer start(ApiConfig config) throws IOException {
        return start(config, r -> {});
    }

    /** As {@link #start(ApiConfig)}, telling {@code routeListener} every route registered ("METHOD /path"). */
    public static ApiServer start(ApiConfig config, Consumer<String> routeListener) throws IOException {
        Files.createDirectories(config.mediaDir());
        Store store = Store.open(config.dbUrl(), config.dbUser(), config.dbPassword(), config.dbPoolSize());
        try {
            Auth auth = new Auth(store, config.sessionTtl(), config.serviceSessionTtl());
            if (config.usersFile() != null) {
                auth.loadUsers(config.usersFile());
            }
            if (config.demoUser()) {
                auth.addDemoUser();
            }
            Pipeline pipeline = new Pipeline(config, store);
            ApiServer server = new ApiServer(config, store, auth, pipeline, routeListener);
            server.app.start();
            return server;
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    public int port() {
        return app.port();
    }

    public Store store() {
        return store;
    }

    public Auth auth() {
        return auth;
    }

    // ---- authentication

    private void login(Context ctx) {
        ObjectNode body = Lenient.jsonObject(ctx.body());
        JsonNode credentials = body.has("credentials") ? body.get("credentials") : body;
        String email = credentials.path("email").asText("");
        String password = credentials.path("password").asText("");
        if (email.isBlank() || password.isEmpty()) {
            throw ApiError.structure("credentials.email and credentials.password are required", "credentials");
        }
        json(ctx, 200, auth.login(email, password));
    }

    private void refresh(Context ctx) {
        ObjectNode body = Lenient.jsonObject(ctx.body());
        String expireToken = body.path("expire_token").asText("");
        if (expireToken.isBlank()) {
            throw ApiError.structure("Could not locate field for key_path expire_token", "expire_token");
        }
        json(ctx, 200, auth.refresh(ctx.header(Auth.TOKEN_HEADER), expireToken));
    }

    private Auth.Principal principal(Context ctx) {
        return auth.authenticate(ctx.header(Auth.TOKEN_HEADER));
    }

    // ---- folders and media

    /** One uploaded file after the checks: part name, client file name, kind and where its bytes wait. */
    private record Upload(
            String part,
            String originalName,
            MediaType type,
            ContentKind kind,
            Path temp,
            long size,
            List<String> tags,
            JsonNode metaData) {}

    /** The multipart body: file parts and the parsed {@code payload} part. */
    private record Multipart(List<Upload> uploads, ObjectNode payload) {}

    private void createFolder(Context ctx) {
        Auth.Principal p = principal(ctx);
        Multipart body = readMultipart(ctx, 0);
        try {
            JsonNode analysesNode = body.payload().get("analyses");
            String folderId = UUID.randomUUID().toString();
            long now = System.currentTimeMillis();
            JsonNode folderMeta = objectOrEmpty(body.payload(), "folder:meta_data");
            List<Store.Media> media = storeFiles(folderId, body.uploads(), now, 0);
            Store.Folder folder = new Store.Folder(
                    folderId, p.companyId(), p.user().userId(), "INITIAL", folderMeta.toString(), null, now, now);
            PreparedRequest request;
            try {
                // Analyses are validated before anything is stored.
                request = analysesNode == null
                        ? null
                        : prepareAnalyses(folderId, wrap(analysesNode, body.payload()), media, now);
                store.insertFolder(folder, metaIndex(folderMeta), media);
                try {
                    publishMedia(media);
                } catch (RuntimeException e) {
                    store.deleteFolder(folderId);
                    throw e;
                }
            } catch (RuntimeException e) {
                deleteFiles(media);
                deleteQuietly(config.mediaDir().resolve(folderId));
                throw e;
            }
            if (request == null) {
                json(ctx, 201, views.folder(folder, media, null));
                return;
            }
            // Single-request mode: start the analyses and answer once they are finished (or at --sync-timeout).
            Map<String, JsonNode> finals =
                    runAndWait(folder, request, "INITIAL", !"false".equalsIgnoreCase(ctx.queryParam("wait")));
            json(ctx, 201, folderView(store.folder(folderId).orElseThrow(), true, finals));
        } finally {
            deleteTemps(body.uploads());
        }
    }

    private void addMedia(Context ctx) {
        Auth.Principal p = principal(ctx);
        Store.Folder folder = ownFolder(p, ctx.pathParam("folder_id"));
        int existing = store.mediaOfFolder(folder.folderId()).size();
        Multipart body = readMultipart(ctx, existing);
        try {
            long now = System.currentTimeMillis();
            List<Store.Media> media = storeFiles(folder.folderId(), body.uploads(), now, existing);
            try {
                if (!store.addMedia(folder.folderId(), media, config.maxFilesPerFolder(), now)) {
                    throw tooManyFiles();
                }
                try {
                    publishMedia(media);
                } catch (RuntimeException e) {
                    store.deleteMedia(media.stream().map(Store.Media::mediaId).toList());
                    throw e;
                }
            } catch (RuntimeException e) {
                deleteFiles(media);
                throw e;
            }
            ArrayNode out = Json.mapper().createArrayNode();
            media.forEach(m -> out.add(views.media(m, true)));
            json(ctx, 201, out);
        } finally {
            deleteTemps(body.uploads());
        }
    }

    private ApiError tooManyFiles() {
        return ApiError.value(
                "too many files: a folder holds at most " + config.maxFilesPerFolder() + " media",
                "max_files=" + config.maxFilesPerFolder());
    }

    private void listMedia(Context ctx) {
        Store.Folder folder = ownFolder(principal(ctx), ctx.pathParam("folder_id"));
        ArrayNode out = Json.mapper().createArrayNode();
        store.mediaOfFolder(folder.folderId()).forEach(m -> out.add(views.media(m, true)));
        json(ctx, 200, out);
    }

    private void mediaFile(Context ctx) throws IOException {
        Auth.Principal p = principal(ctx);
        Store.Media m = store.media(ctx.pathParam("media_id"))
                .orElseThrow(() -> ApiError.notExist("media", ctx.pathParam("media_id")));
        ownFolder(p, m.folderId());
        Path file = Path.of(m.filePath());
        ContentKind kind = MediaSniffer.sniff(file);
        ctx.contentType(
                switch (kind) {
                    case JPEG -> "image/jpeg";
                    case PNG -> "image/png";
                    case MP4 -> "video/mp4";
                    case WEBM -> "video/webm";
                    case AVI -> "video/x-msvideo";
                    case ZIP -> "application/zip";
                    default -> "application/octet-stream";
                });
        ctx.header("Content-Disposition", "attachment");
        ctx.result(Files.newInputStream(file));
    }

    private void getFolder(Context ctx) {
        Store.Folder folder = ownFolder(principal(ctx), ctx.pathParam("folder_id"));
        json(ctx, 200, folderView(folder, "true".equalsIgnoreCase(ctx.queryParam("with_analyses")), Map.of()));
    }

    private ObjectNode folderView(Store.Folder folder, boolean withAnalyses, Map<String, JsonNode> finals) {
        List<Store.Media> media = store.mediaOfFolder(folder.folderId());
        List<ObjectNode> analyses = null;
        String status = folder.resolutionStatus();
        if (withAnalyses || !finals.isEmpty()) {
            Map<String, ObjectNode> byId = views.mediaById(media);
            analyses = new ArrayList<>();
            for (Store.Analysis a : store.analysesOfFolder(folder.folderId())) {
                analyses.add(views.analysis(a, finals.get(a.analyseId()), byId));
            }
            if (!finals.isEmpty()) {
                status = rollUp(analyses);
            }
        }
        ObjectNode view = views.folder(folder, media, analyses);
        view.put("resolution_status", status);
        return view;
    }

    /** The job's folder roll-up rule ({@link FolderRollUp#status}) over the analyses' {@code state}. */
    private static String rollUp(List<ObjectNode> analyses) {
        return FolderRollUp.status(
                analyses.stream().map(a -> a.path("state").asText()).toList());
    }

    private void listFolders(Context ctx) {
        Auth.Principal p = principal(ctx);
        int limit = Lenient.intParam(ctx.queryParam("limit"), "limit", 100, 1, 1000);
        int offset = Lenient.intParam(ctx.queryParam("offset"), "offset", 0, 0, Integer.MAX_VALUE);
        List<String> statuses = new ArrayList<>();
        for (String s : ctx.queryParams("resolution_status")) {
            for (String v : s.split(",")) {
                if (!v.isBlank()) {
                    statuses.add(v.strip().toUpperCase(Locale.ROOT));
                }
            }
        }
        Map<String, String> metaEquals = new LinkedHashMap<>();
        Map<String, String> metaNotEquals = new LinkedHashMap<>();
        for (String filter : ctx.queryParams("meta_data")) {
            int ne = filter.indexOf("!=");
            int eq = filter.indexOf("==");
            if (ne > 0) {
                metaNotEquals.put(filter.substring(0, ne), filter.substring(ne + 2));
            } else if (eq > 0) {
                metaEquals.put(filter.substring(0, eq), filter.substring(eq + 2));
            } else {
                throw ApiError.value("meta_data filter must be key==value or key!=value", "meta_data");
            }
        }
        String sorting = ctx.queryParam("sorting") == null
                ? "time_created{desc}"
                : ctx.queryParam("sorting").strip().toLowerCase(Locale.ROOT);
        String column = sorting.startsWith("time_updated") ? "time_updated" : "time_created";
        if (!sorting.matches("-?(time_created|time_updated)(\\{(asc|desc)})?")) {
            throw ApiError.value("sorting must be time_created{asc|desc} or time_updated{asc|desc}", "sorting");
        }
        boolean ascending = sorting.endsWith("{asc}");
        var page = store.folders(new Store.FolderQuery(
                p.companyId(),
                Lenient.epochMillis(ctx.queryParam("time_created.min"), "time_created.min"),
                Lenient.epochMillis(ctx.queryParam("time_created.max"), "time_created.max"),
                Lenient.epochMillis(ctx.queryParam("time_updated.min"), "time_updated.min"),
                Lenient.epochMillis(ctx.queryParam("time_updated.max"), "time_updated.max"),
                statuses,
                metaEquals,
                metaNotEquals,
                column,
                ascending,
                offset,
                limit));
        boolean withAnalyses = "true".equalsIgnoreCase(ctx.queryParam("with_analyses"));
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("total_count", page.getKey());
        out.put("offset", offset);
        out.put("limit", limit);
        ArrayNode items = out.putArray("items");
        page.getValue().forEach(f -> items.add(folderView(f, withAnalyses, Map.of())));
        json(ctx, 200, out);
    }

    // ---- analyses

    /** A validated request message and the analysis rows it creates. */
    private record PreparedRequest(String message, List<Store.Analysis> analyses) {}

    private void startAnalyses(Context ctx) {
        Auth.Principal p = principal(ctx);
        Store.Folder folder = ownFolder(p, ctx.pathParam("folder_id"));
        ObjectNode body = Lenient.jsonObject(ctx.body());
        long now = System.currentTimeMillis();
        PreparedRequest request = prepareAnalyses(folder.folderId(), body, store.mediaOfFolder(folder.folderId()), now);
        Map<String, JsonNode> finals = runAndWait(folder, request, folder.resolutionStatus(), false);
        Map<String, ObjectNode> byId = views.mediaById(store.mediaOfFolder(folder.folderId()));
        ArrayNode out = Json.mapper().createArrayNode();
        for (Store.Analysis a : request.analyses()) {
            out.add(views.analysis(store.analysis(a.analyseId()).orElse(a), finals.get(a.analyseId()), byId));
        }
        json(ctx, 201, out);
    }

    private void listAnalyses(Context ctx) {
        Store.Folder folder = ownFolder(principal(ctx), ctx.pathParam("folder_id"));
        Map<String, ObjectNode> byId = views.mediaById(store.mediaOfFolder(folder.folderId()));
        ArrayNode out = Json.mapper().createArrayNode();
        store.analysesOfFolder(folder.folderId()).forEach(a -> out.add(views.analysis(a, null, byId)));
        json(ctx, 200, out);
    }

    private void getAnalysis(Context ctx) {
        Auth.Principal p = principal(ctx);
        var found = store.analysisWithCompany(ctx.pathParam("analyse_id"))
                .orElseThrow(() -> ApiError.notExist("analysis", ctx.pathParam("analyse_id")));
        if (!found.getValue().equals(p.companyId())) {
            throw ApiError.forbidden("You have no access to analysis " + ctx.pathParam("analyse_id"));
        }
        Store.Analysis a = found.getKey();
        json(ctx, 200, views.analysis(a, null, views.mediaById(store.mediaOfFolder(a.folderId()))));
    }

    /** {@code {"analyses": [...]}} from a payload's {@code analyses} (array or one object). */
    private static ObjectNode wrap(JsonNode analyses, ObjectNode payload) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.set("analyses", analyses);
        if (payload.has("resolution_endpoint")) {
            body.set("resolution_endpoint", payload.get("resolution_endpoint"));
        }
        return body;
    }

    /**
     * Builds the requests-topic message for {@code body}'s analyses on a folder and validates it with the job's own
     * parser, so that every request the API accepts is one the job accepts (unknown type: error 4, and so on).
     */
    private PreparedRequest prepareAnalyses(String folderId, ObjectNode body, List<Store.Media> media, long now) {
        JsonNode analyses = body.get("analyses");
        if (analyses != null && analyses.isObject()) {
            analyses = Json.mapper().createArrayNode().add(analyses);
        }
        if (analyses == null || !analyses.isArray() || analyses.isEmpty()) {
            throw ApiError.structure("analyses must be a non-empty array", "analyses");
        }
        Map<String, Store.Media> byId = new LinkedHashMap<>();
        media.forEach(m -> byId.put(m.mediaId(), m));
        ObjectNode message = Json.mapper().createObjectNode();
        message.put("folder_id", folderId);
        ArrayNode out = message.putArray("analyses");
        Set<String> inline = new LinkedHashSet<>();
        String endpoint = body.path("resolution_endpoint").isTextual()
                ? body.get("resolution_endpoint").asText()
                : null;
        List<String> ids = new ArrayList<>();
        List<List<String>> scopes = new ArrayList<>();
        for (int i = 0; i < analyses.size(); i++) {
            JsonNode a = analyses.get(i);
            if (!a.isObject()) {
                throw new ApiError(
                        OzError.INVALID_TYPE, "analyses[" + i + "] must be a JSON object", "analyses[" + i + "]");
            }
            ObjectNode copy = ((ObjectNode) a).deepCopy();
            String id = UUID.randomUUID().toString();
            copy.put("analyse_id", id);
            copy.remove("analysis_id");
            if (copy.path("type").isTextual()) {
                copy.put("type", copy.get("type").asText().toLowerCase(Locale.ROOT));
            }
            if (endpoint == null && copy.path("resolution_endpoint").isTextual()) {
                endpoint = copy.get("resolution_endpoint").asText();
            }
            copy.remove("resolution_endpoint");
            if (copy.path("params").isObject()) {
                ObjectNode params = (ObjectNode) copy.get("params");
                // Some clients send the upper bound as threshold_max (with threshold_min).
                if (!params.hasNonNull("threshold") && params.hasNonNull("threshold_max")) {
                    params.set("threshold", params.get("threshold_max"));
                }
            }
            List<String> scope = new ArrayList<>();
            JsonNode sourceMedia = copy.get("source_media");
            if (sourceMedia == null || sourceMedia.isNull()) {
                scope.addAll(byId.keySet());
            } else if (sourceMedia.isArray()) {
                for (JsonNode s : sourceMedia) {
                    String mediaId = s.isObject() ? s.path("media_id").asText() : s.asText();
                    if (!byId.containsKey(mediaId)) {
                        throw ApiError.value(
                                "analyses[" + i + "].source_media: media " + mediaId + " is not in folder " + folderId,
                                "analyses[" + i + "].source_media");
                    }
                    scope.add(mediaId);
                }
            }
            if (sourceMedia == null || sourceMedia.isNull() || sourceMedia.isArray()) {
                // Always explicit, and the media inline: the request is self-contained for the job.
                ArrayNode explicit = copy.putArray("source_media");
                scope.forEach(explicit::add);
                inline.addAll(scope);
            }
            ids.add(id);
            scopes.add(scope);
            out.add(copy);
        }
        if (endpoint != null) {
            message.put("resolution_endpoint", endpoint);
        }
        if (!inline.isEmpty()) {
            ArrayNode inlineMedia = message.putArray("media");
            inline.forEach(id -> inlineMedia.add(mediaMessage(byId.get(id))));
        }
        String text = message.toString();
        ParseResult<dev.biometry.api.RequestEnvelope> parsed = InputParser.parseRequest(
                text.getBytes(StandardCharsets.UTF_8), new SourceRef("http", -1, -1), now, () -> "unused");
        if (!parsed.isOk()) {
            throw fromDeadLetter(parsed.deadLetter());
        }
        List<Store.Analysis> rows = new ArrayList<>();
        var requests = parsed.value().analyses();
        for (int i = 0; i < requests.length; i++) {
            var r = requests[i];
            List<MediaObject> source =
                    scopes.get(i).stream().map(id -> mediaObject(byId.get(id))).toList();
            Analysis created = new Analysis(
                    ids.get(i),
                    folderId,
                    Analysis.TYPE_BIOMETRY,
                    Analysis.STATE_PROCESSING,
                    Analysis.STATE_PROCESSING,
                    Analysis.STATE_PROCESSING,
                    now / 1000.0,
                    now / 1000.0,
                    new AnalysisParams(r.threshold(), r.thresholdMin()),
                    source,
                    null,
                    null,
                    null,
                    null,
                    Json.parseOrNull(r.metaDataJson()));
            rows.add(new Store.Analysis(
                    ids.get(i),
                    folderId,
                    Analysis.TYPE_BIOMETRY,
                    Analysis.STATE_PROCESSING,
                    Analysis.STATE_PROCESSING,
                    Json.write(created),
                    null,
                    now,
                    now));
        }
        return new PreparedRequest(text, rows);
    }

    private static ApiError fromDeadLetter(DeadLetter d) {
        String message = d.errorMessage();
        // The parser prefixes its messages with the error's name, which error_code already carries.
        int colon = message.indexOf(": ");
        return new ApiError(d.errorCode(), colon > 0 ? message.substring(colon + 2) : message, d.details());
    }

    /**
     * Stores the analyses (unless the folder is not stored: instant mode), publishes the request and, when asked,
     * waits for their final records; returns the final records received.
     */
    private Map<String, JsonNode> runAndWait(
            Store.Folder folder, PreparedRequest request, String previousStatus, boolean wait) {
        List<String> ids =
                request.analyses().stream().map(Store.Analysis::analyseId).toList();
        Map<String, CompletableFuture<JsonNode>> futures = new LinkedHashMap<>();
        if (wait) {
            ids.forEach(id -> futures.put(id, pipeline.awaitFinal(id)));
        }
        try {
            if (folder != null) {
                store.insertAnalyses(folder.folderId(), request.analyses(), System.currentTimeMillis());
            }
            try {
                pipeline.publish(
                        config.requestsTopic(), request.analyses().get(0).folderId(), request.message());
            } catch (RuntimeException e) {
                if (folder != null) {
                    store.deleteAnalyses(folder.folderId(), ids, previousStatus);
                }
                throw e;
            }
            Map<String, JsonNode> finals = new HashMap<>();
            long deadline = System.nanoTime() + config.syncTimeout().toNanos();
            for (Map.Entry<String, CompletableFuture<JsonNode>> f : futures.entrySet()) {
                try {
                    finals.put(
                            f.getKey(),
                            f.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                } catch (TimeoutException e) {
                    LOG.info("analysis {} not finished within {}", f.getKey(), config.syncTimeout());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException(e);
                }
            }
            return finals;
        } finally {
            ids.forEach(pipeline::forget);
        }
    }

    // ---- instant (non-persistent) mode

    private void instant(Context ctx) {
        principal(ctx);
        Multipart body = readMultipart(ctx, 0);
        String folderId = UUID.randomUUID().toString();
        long now = System.currentTimeMillis();
        List<Store.Media> media = List.of();
        try {
            JsonNode analysesNode = body.payload().get("analyses");
            if (analysesNode == null) {
                ObjectNode biometry = Json.mapper().createObjectNode().put("type", "biometry");
                analysesNode = Json.mapper().createArrayNode().add(biometry);
            }
            media = storeFiles("instant/" + folderId, body.uploads(), now, 0).stream()
                    .map(m -> new Store.Media(
                            m.mediaId(),
                            folderId,
                            m.seq(),
                            m.mediaType(),
                            m.tags(),
                            m.originalName(),
                            m.metaData(),
                            m.filePath(),
                            m.sizeBytes(),
                            m.timeCreated()))
                    .toList();
            PreparedRequest request = prepareAnalyses(folderId, wrap(analysesNode, body.payload()), media, now);
            Map<String, JsonNode> finals = runAndWait(null, request, null, true);
            if (finals.size() < request.analyses().size()) {
                throw new ApiError(
                        OzError.EXTERNAL_SERVICE,
                        "the analyses did not finish within "
                                + config.syncTimeout().toSeconds() + " s",
                        folderId);
            }
            Map<String, ObjectNode> byId = new HashMap<>();
            media.forEach(m -> byId.put(m.mediaId(), views.media(m, false)));
            List<ObjectNode> analyses = new ArrayList<>();
            for (Store.Analysis a : request.analyses()) {
                analyses.add(views.analysis(a, finals.get(a.analyseId()), byId));
            }
            JsonNode folderMeta = objectOrEmpty(body.payload(), "folder:meta_data");
            Store.Folder folder = new Store.Folder(
                    folderId,
                    null,
                    null,
                    rollUp(analyses),
                    folderMeta.toString(),
                    null,
                    now,
                    System.currentTimeMillis());
            ObjectNode view = views.folder(folder, List.of(), analyses);
            view.remove(List.of("company_id", "user_id"));
            ArrayNode mediaOut = view.putArray("media");
            media.forEach(m -> mediaOut.add(views.media(m, false)));
            json(ctx, 200, view);
        } finally {
            deleteTemps(body.uploads());
            deleteFiles(media);
            try {
                Files.deleteIfExists(config.mediaDir().resolve("instant").resolve(folderId));
            } catch (IOException e) {
                LOG.warn("cannot remove instant folder {}: {}", folderId, e.toString());
            }
        }
    }

    // ---- uploads

    /**
     * Reads and checks a multipart upload without storing anything: at most {@code --max-files} files counting
     * {@code existing}, each at most {@code --max-file-size} bytes and a photo, video or ZIP shots set by content.
     */
    private Multipart readMultipart(Context ctx, int existing) {
        String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        if (!contentType.startsWith("multipart/form-data")) {
            throw ApiError.structure("multipart/form-data expected (file parts and a payload part)", "Content-Type");
        }
        Map<String, List<UploadedFile>> files;
        String payloadText;
        try {
            files = ctx.uploadedFileMap();
            payloadText = ctx.formParam("payload");
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("exceeds") || message.contains("too large") || message.contains("max")) {
                throw ApiError.value(
                        "file too large: at most " + config.maxFileBytes() + " bytes per file",
                        "max_file_size=" + config.maxFileBytes());
            }
            throw ApiError.structure("malformed multipart body: " + message, null);
        }
        Map<String, List<UploadedFile>> mediaParts = new LinkedHashMap<>(files);
        if (payloadText == null && mediaParts.containsKey("payload")) {
            payloadText = mediaParts.remove("payload").get(0).contentAndClose(in -> {
                try {
                    return new String(in.readNBytes(1024 * 1024), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        mediaParts.remove("payload");
        ObjectNode payload = Json.mapper().createObjectNode();
        if (payloadText != null && !payloadText.isBlank()) {
            JsonNode parsed = Lenient.parse(payloadText, "payload");
            if (!parsed.isObject()) {
                throw ApiError.structure("payload must be a JSON object", "payload");
            }
            payload = (ObjectNode) parsed;
        }
        JsonNode tags = objectOrEmpty(payload, "media:tags");
        JsonNode metaData = objectOrEmpty(payload, "media:meta_data");
        objectOrEmpty(payload, "folder:meta_data");
        int count = mediaParts.values().stream().mapToInt(List::size).sum();
        if (count == 0 && existing == 0 && ctx.path().contains("/media")) {
            throw ApiError.structure("no file parts in the upload", null);
        }
        if (existing + count > config.maxFilesPerFolder()) {
            throw tooManyFiles();
        }
        List<Upload> uploads = new ArrayList<>();
        try {
            for (Map.Entry<String, List<UploadedFile>> part : mediaParts.entrySet()) {
                for (UploadedFile f : part.getValue()) {
                    uploads.add(checkUpload(part.getKey(), f, tags, metaData));
                }
            }
        } catch (RuntimeException e) {
            deleteTemps(uploads);
            throw e;
        }
        return new Multipart(uploads, payload);
    }

    private Upload checkUpload(String part, UploadedFile f, JsonNode tags, JsonNode metaData) {
        if (f.size() > config.maxFileBytes()) {
            throw ApiError.value(
                    part + ": file of " + f.size() + " bytes is too large: at most " + config.maxFileBytes()
                            + " bytes per file",
                    part);
        }
        List<String> tagList = new ArrayList<>();
        JsonNode t = tags.get(part);
        if (t != null && !t.isNull()) {
            if (!t.isArray()) {
                throw new ApiError(
                        OzError.INVALID_TYPE,
                        "media:tags." + part + " must be an array of strings",
                        "media:tags." + part);
            }
            for (JsonNode tag : t) {
                if (!tag.isTextual()) {
                    throw new ApiError(
                            OzError.INVALID_TYPE,
                            "media:tags." + part + " must be an array of strings",
                            "media:tags." + part);
                }
                tagList.add(tag.asText().strip().toLowerCase(Locale.ROOT));
            }
        }
        JsonNode meta = metaData.get(part);
        if (meta != null && !meta.isNull() && !meta.isObject()) {
            throw new ApiError(
                    OzError.INVALID_TYPE,
                    "media:meta_data." + part + " must be a JSON object",
                    "media:meta_data." + part);
        }
        Path temp;
        try {
            temp = Files.createTempFile(config.mediaDir(), ".upload-", ".tmp");
            try (InputStream in = f.content()) {
                Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            long size = Files.size(temp);
            if (size > config.maxFileBytes()) {
                throw ApiError.value(
                        part + ": file too large: at most " + config.maxFileBytes() + " bytes per file", part);
            }
            ContentKind kind = MediaSniffer.sniff(temp);
            MediaType type = switch (kind) {
                case JPEG, PNG -> MediaType.IMAGE_FOLDER;
                case MP4, WEBM, AVI -> MediaType.VIDEO_FOLDER;
                case ZIP -> MediaType.SHOTS_SET;
                default ->
                    throw ApiError.value(
                            part + ": content is not a supported photo (JPEG, PNG), video (MP4,"
                                    + " MOV, WebM, AVI) or ZIP shots set"
                                    + (kind == ContentKind.UNKNOWN ? "" : " (" + kind + ")"),
                            part);
            };
            String name = f.filename() == null || f.filename().isBlank() ? part : f.filename();
            return new Upload(
                    part,
                    name.length() > 512 ? name.substring(0, 512) : name,
                    type,
                    kind,
                    temp,
                    size,
                    tagList,
                    meta == null || meta.isNull() ? null : meta);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            deleteQuietly(temp);
            throw e;
        }
    }

    /** Moves checked uploads into the media store: {@code <media-dir>/<folder>/<media_id>.<ext>}. */
    private List<Store.Media> storeFiles(String folderDir, List<Upload> uploads, long now, int firstSeq) {
        List<Store.Media> media = new ArrayList<>();
        try {
            Path dir = config.mediaDir().resolve(folderDir);
            Files.createDirectories(dir);
            int seq = firstSeq;
            for (Upload u : uploads) {
                String id = UUID.randomUUID().toString();
                Path target = dir.resolve(id + "." + extension(u.kind()));
                Files.move(u.temp(), target, StandardCopyOption.ATOMIC_MOVE);
                media.add(new Store.Media(
                        id,
                        folderDir,
                        seq++,
                        u.type().name(),
                        Json.write(u.tags()),
                        u.originalName(),
                        u.metaData() == null ? null : u.metaData().toString(),
                        target.toString(),
                        u.size(),
                        now));
            }
            return media;
        } catch (IOException e) {
            deleteFiles(media);
            throw new UncheckedIOException(e);
        }
    }

    private static String extension(ContentKind kind) {
        return switch (kind) {
            case JPEG -> "jpg";
            case PNG -> "png";
            case MP4 -> "mp4";
            case WEBM -> "webm";
            case AVI -> "avi";
            case ZIP -> "zip";
            default -> "bin";
        };
    }

    private void publishMedia(List<Store.Media> media) {
        for (Store.Media m : media) {
            String message = mediaMessage(m).toString();
            ParseResult<?> parsed =
                    InputParser.parseMedia(message.getBytes(StandardCharsets.UTF_8), new SourceRef("http", -1, -1));
            if (!parsed.isOk()) {
                throw fromDeadLetter(parsed.deadLetter());
            }
            pipeline.publish(config.mediaTopic(), m.folderId(), message);
        }
    }

    /** The media-topic record of a stored media (README "Topics and contracts"). */
    private static ObjectNode mediaMessage(Store.Media m) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("folder_id", m.folderId());
        o.put("media_id", m.mediaId());
        o.put("media_type", m.mediaType());
        o.set("tags", Json.parseOrNull(m.tags()));
        o.put("uri", Path.of(m.filePath()).toUri().toString());
        o.put("original_name", m.originalName());
        if (m.metaData() != null) {
            o.set("meta_data", Json.parseOrNull(m.metaData()));
        }
        return o;
    }

    private static MediaObject mediaObject(Store.Media m) {
        List<String> tags = new ArrayList<>();
        Json.parseOrNull(m.tags()).forEach(t -> tags.add(t.asText()));
        return new MediaObject(
                m.mediaId(),
                m.folderId(),
                MediaType.valueOf(m.mediaType()),
                tags,
                m.originalName(),
                Json.parseOrNull(m.metaData()));
    }

    private static void deleteTemps(List<Upload> uploads) {
        uploads.forEach(u -> deleteQuietly(u.temp()));
    }

    private static void deleteFiles(List<Store.Media> media) {
        media.forEach(m -> deleteQuietly(Path.of(m.filePath())));
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", p, e.toString());
        }
    }

    // ---- helpers

    /** The folder if the caller's company owns it: error 10 (404) when unknown, 9 (403) for another company's. */
    private Store.Folder ownFolder(Auth.Principal p, String folderId) {
        Store.Folder folder = store.folder(folderId).orElseThrow(() -> ApiError.notExist("folder", folderId));
        if (!folder.companyId().equals(p.companyId())) {
            throw ApiError.forbidden("You have no access to folder " + folderId);
        }
        return folder;
    }

    private static JsonNode objectOrEmpty(ObjectNode payload, String field) {
        JsonNode node = payload.get(field);
        if (node == null || node.isNull()) {
            return Json.mapper().createObjectNode();
        }
        if (!node.isObject()) {
            throw new ApiError(OzError.INVALID_TYPE, field + " must be a JSON object", field);
        }
        return node;
    }

    /** Top-level scalar meta_data entries, for meta_data=key==value filters. */
    private static Map<String, String> metaIndex(JsonNode metaData) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = metaData.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isValueNode()
                    && !e.getValue().isNull()
                    && e.getKey().length() <= 256
                    && e.getValue().asText().length() <= 1024) {
                out.put(e.getKey(), e.getValue().asText());
            }
        }
        return out;
    }

    private void openApi(Context ctx) throws IOException {
        try (InputStream in = ApiServer.class.getResourceAsStream("/openapi.json")) {
            ctx.contentType("application/json");
            ctx.result(in.readAllBytes());
        }
    }

    private static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status);
        ctx.contentType("application/json");
        ctx.result(body.toString());
    }

    private static void error(Context ctx, int code, String message, Object details) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("error_code", code);
        body.put("error_message", message);
        body.set("error_details", details == null ? null : Json.mapper().valueToTree(details));
        json(ctx, ApiError.httpStatus(code), body);
    }

    @Override
    public void close() throws Exception {
        app.stop();
        pipeline.close();
        store.close();
    }
}
