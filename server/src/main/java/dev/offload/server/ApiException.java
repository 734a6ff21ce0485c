package dev.offload.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server refuses, answered with an HTTP status and OpenAI's error body
 * {@code {"error": {"message", "type", "param", "code"}}}, so that client libraries raise their usual exceptions.
 *
 * @param retryAfterSeconds the {@code Retry-After} header's value, or 0 for none
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final int retryAfterSeconds;

    private ApiException(int status, String type, String param, String code, String message, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** A field that is missing, of the wrong type or out of range. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message, 0);
    }

    /** A body that is not JSON. */
    public static ApiException malformedJson(String detail) {
        return new ApiException(400, "invalid_request_error", null, null,
                "We could not parse the JSON body of your request (" + detail + "). Send a JSON object.", 0);
    }

    /** An input longer than the model's context. */
    public static ApiException contextExceeded(String param, int tokens, int context) {
        return new ApiException(400, "invalid_request_error", param, "context_length_exceeded",
                "This model's maximum context length is " + context + " tokens, however you requested " + tokens
                        + " tokens. Please reduce the length of the input.", 0);
    }

    public static ApiException unauthorized() {
        return new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                "Incorrect or missing API key: send the header 'Authorization: Bearer KEY' with the server's --api-key.", 0);
    }

    public static ApiException modelNotFound(String model, java.util.Collection<String> served) {
        return new ApiException(404, "invalid_request_error", "model", "model_not_found",
                "The model '" + model + "' does not exist here; this server has: " + String.join(", ", served) + ".", 0);
    }

    public static ApiException notFound(String method, String path) {
        return new ApiException(404, "invalid_request_error", null, "unknown_url", "Unknown request URL: " + method + " " + path + ".", 0);
    }

    public static ApiException methodNotAllowed(String method, String path) {
        return new ApiException(405, "invalid_request_error", null, "method_not_allowed", method + " is not allowed on " + path + ".", 0);
    }

    public static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", null, "request_too_large",
                "The request body is larger than this server accepts (" + limit + " bytes; see --max-body).", 0);
    }

    public static ApiException queueFull(String model, int queued) {
        return new ApiException(429, "rate_limit_exceeded", null, "rate_limit_exceeded",
                "The server is busy: " + queued + " requests for '" + model + "' are already waiting (--max-queue). Retry later.", 1);
    }

    public static ApiException internal(String message) {
        return new ApiException(500, "server_error", null, null, message, 0);
    }

    /** Any HTTP-level failure Jetty answers itself (a bad request line, headers too large). */
    public static ApiException http(int status, String message) {
        return new ApiException(status, status >= 500 ? "server_error" : "invalid_request_error", null, null, message, 0);
    }

    public int status() { return status; }

    public int retryAfterSeconds() { return retryAfterSeconds; }

    /** OpenAI's error body. */
    public ObjectNode body() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }
}
