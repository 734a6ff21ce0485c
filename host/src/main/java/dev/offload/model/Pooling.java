package dev.offload.model;

/** How token states become one sentence embedding (then L2-normalized). */
public enum Pooling {
    /** Average of the states of real (attention-mask 1) tokens: sentence-transformers' mean pooling. */
    MEAN,
    /** The state of the first token ([CLS]). */
    CLS
}
