package dev.offload.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;

/**
 * One request and its response as a route sees them: the body read with a size limit, a JSON answer, or a stream of
 * server-sent events. Writes block the request's (virtual) thread until the bytes are handed to the connection; a
 * write to a client that has gone away throws {@link IOException}.
 */
final class ApiExchange {
    private final Request request;
    private final Response response;
    private final long maxBody;
    private int status;

    ApiExchange(Request request, Response response, long maxBody) {
        this.request = request;
        this.response = response;
        this.maxBody = maxBody;
    }

    Request request() { return request; }

    /** The status written so far (0: nothing written yet). */
    int status() { return status; }

    boolean committed() { return response.isCommitted(); }

    /** The whole body, at most {@code maxBody} bytes (else a 413); read as it arrives, without a thread spinning on it. */
    RequestFields body() {
        long declared = request.getLength();
        if (declared > maxBody) throw ApiException.tooLarge(maxBody);
        byte[] bytes;
        try {
            bytes = Content.Source.asByteArrayAsync(request, (int) Math.min(Integer.MAX_VALUE - 8, maxBody)).get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            // Jetty fails the read with an IllegalStateException once the content passes the limit (a chunked body).
            if (cause instanceof IllegalStateException) throw ApiException.tooLarge(maxBody);
            if (cause instanceof TimeoutException) throw ApiException.http(408, "The request body did not arrive in time.");
            throw ApiException.http(400, "The request body could not be read: " + cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.internal("interrupted while reading the request body");
        }
        return RequestFields.parse(bytes);
    }

    /** Writes {@code body} as the whole JSON response. */
    void json(int status, JsonNode body) throws IOException {
        byte[] bytes;
        try {
            bytes = RequestFields.JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        whole(status, "application/json", bytes);
    }

    /** Writes an error in OpenAI's shape, with Retry-After where it says so. */
    void error(ApiException e) throws IOException {
        if (e.retryAfterSeconds() > 0) response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(e.retryAfterSeconds()));
        json(e.status(), e.body());
    }

    void text(int status, String contentType, String body) throws IOException {
        whole(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    private void whole(int status, String contentType, byte[] bytes) throws IOException {
        this.status = status;
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        write(true, bytes);
    }

    /** Starts a 200 stream of server-sent events. */
    void startEvents() {
        status = 200;
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
    }

    /** One event, {@code data: <json>}, sent at once. */
    void event(JsonNode data) throws IOException {
        try {
            event(RequestFields.JSON.writeValueAsString(data));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One event with raw data ({@code [DONE]}). */
    void event(String data) throws IOException { write(false, ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8)); }

    /** Ends the stream. */
    void endEvents() throws IOException { write(true, new byte[0]); }

    private void write(boolean last, byte[] bytes) throws IOException {
        try (Blocker.Callback done = Blocker.callback()) {
            response.write(last, ByteBuffer.wrap(bytes), done);
            done.block();
        }
    }
}
