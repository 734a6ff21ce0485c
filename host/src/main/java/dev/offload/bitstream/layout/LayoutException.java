package dev.offload.bitstream.layout;

/** A program binary whose bytes break the rules of its format; the message says what and where. */
final class LayoutException extends RuntimeException {
    LayoutException(String message) { super(message); }
}
