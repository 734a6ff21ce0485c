package dev.offload.bitstream;

/** One verification of one stored binary: what was checked, the verdict, and what was found. */
public record Check(String name, Verdict verdict, String detail) {
    public enum Verdict { PASS, FAIL, SKIP }

    static Check pass(String name, String detail) { return new Check(name, Verdict.PASS, detail); }

    static Check fail(String name, String detail) { return new Check(name, Verdict.FAIL, detail); }

    static Check skip(String name, String detail) { return new Check(name, Verdict.SKIP, detail); }

    public boolean failed() { return verdict == Verdict.FAIL; }
}
