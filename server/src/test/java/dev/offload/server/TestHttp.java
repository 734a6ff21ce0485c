package dev.offload.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The tests' plain HTTP/1.1 client (the JDK's), for what a hand-written request shows best. */
final class TestHttp {
    /** A response: status, one header the tests look at, and the body. */
    record Reply(int status, String retryAfter, String contentType, String body) {
        JsonNode json() {
            try {
                return RequestFields.JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + body, e);
            }
        }
    }

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final String apiKey;

    TestHttp(OffloadServer server) { this(server.url(), null); }

    TestHttp(String base, String apiKey) {
        this.base = base;
        this.apiKey = apiKey;
    }

    TestHttp withKey(String key) { return new TestHttp(base, key); }

    Reply get(String path) { return send(HttpRequest.newBuilder(URI.create(base + path)).GET()); }

    Reply post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private Reply send(HttpRequest.Builder b) {
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        try {
            HttpResponse<String> r = client.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers().firstValue("Retry-After").orElse(null),
                    r.headers().firstValue("Content-Type").orElse(null), r.body());
        } catch (IOException e) {
            throw new AssertionError("request failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
