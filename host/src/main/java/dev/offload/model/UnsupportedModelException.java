package dev.offload.model;

/**
 * The model file uses something offload cannot run (an operator, a data type, a graph shape it does not
 * recognize). Always thrown instead of guessing: a model offload imports computes what the file says.
 */
public final class UnsupportedModelException extends RuntimeException {
    public UnsupportedModelException(String message) { super(message); }

    public UnsupportedModelException(String message, Throwable cause) { super(message, cause); }
}
