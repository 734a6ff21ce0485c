package dev.offload.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A bare TCP connection to the server, for what clients do badly: dribbled headers, stalled bodies, hang-ups mid-stream. */
final class RawConnection implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    RawConnection(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    /** Sends {@code text}; false when the server has closed the connection. */
    boolean send(String text) {
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
            return true;
        } catch (IOException closed) {
            return false;
        }
    }

    /** A POST with a JSON body, whole. */
    void post(String path, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        send("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n" + json);
    }

    /** Reads until what has arrived contains {@code marker}; returns everything so far. */
    String readUntil(String marker) throws IOException {
        byte[] buf = new byte[4096];
        while (!received.toString(StandardCharsets.UTF_8).contains(marker)) {
            int n = in.read(buf);
            if (n < 0) throw new IOException("closed before '" + marker + "'; got: " + received.toString(StandardCharsets.UTF_8));
            received.write(buf, 0, n);
        }
        return received.toString(StandardCharsets.UTF_8);
    }

    /** Whether the server closes the connection within {@code millis} (reading, and discarding, what it sends). */
    boolean closedByServerWithin(long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        byte[] buf = new byte[4096];
        while (System.currentTimeMillis() < deadline) {
            socket.setSoTimeout((int) Math.max(1, deadline - System.currentTimeMillis()));
            try {
                int n = in.read(buf);
                if (n < 0) return true;
                received.write(buf, 0, n);
            } catch (SocketTimeoutException stillOpen) {
                return false;
            } catch (IOException reset) {
                return true;
            }
        }
        return false;
    }

    String received() { return received.toString(StandardCharsets.UTF_8); }

    @Override
    public void close() throws IOException { socket.close(); }
}
