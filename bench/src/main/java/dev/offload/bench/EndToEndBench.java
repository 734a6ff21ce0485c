package dev.offload.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.offload.model.ModelCatalog;
import dev.offload.model.TokenBatch;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.EncoderSource;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The quantized encoders end to end: sentences/s at a fixed sequence length (every sentence exactly {@link #LENGTH}
 * tokens, mask all ones) and batches of {@link #BATCHES} sentences, offload through the {@link EmbeddingSession}
 * {@code offload run --device SPEC} opens, against ONNX Runtime (all graph optimizations, the same threads) on the
 * same .onnx file and the same ids, timed in the same run, batch by batch.
 *
 * <p>Every offload row also says whether its output is still bit-identical to ONNX Runtime's: the judge is ONNX
 * Runtime without graph optimizations, each sentence alone (the judge of the encoder accuracy tests; the timed ONNX
 * Runtime quantizes a batch's activations as one tensor and fuses its float ops, so it is not the same computation).
 */
final class EndToEndBench {
    private EndToEndBench() {}

    static final int LENGTH = 128, BATCH = 32, JAVA_BATCH = 4, QUICK_BATCH = 2;
    static final List<ModelCatalog> MODELS = List.of(ModelCatalog.ALL_MINILM_L6_V2_Q, ModelCatalog.BGE_SMALL_EN_V15_Q);
    static final List<Integer> BATCHES = List.of(1, 8, BATCH);

    static final List<String> TEXTS = List.of(
            "A man is playing a guitar on stage.",
            "The stock market fell sharply this morning after the announcement.",
            "My cat sleeps on the windowsill all afternoon, ignoring the birds outside.",
            "Quantum computers use qubits instead of bits to represent information.",
            "Heavy rain flooded the streets of the old town overnight.",
            "She finished the marathon in under four hours despite the heat.");

    /** {@code --quick}: the first model at one small batch; otherwise every model at every batch. */
    static void run(Report report, String deviceSpec, boolean quick, int threads) {
        for (ModelCatalog model : quick ? MODELS.subList(0, 1) : MODELS) run(report, model, deviceSpec, quick, threads);
    }

    private static void run(Report report, ModelCatalog known, String deviceSpec, boolean quick, int threads) {
        byte[] onnx = known.onnxBytes();
        Optional<EmbeddingSession> runner = open(deviceSpec, known);
        String note = "";
        if (runner.isEmpty() && !deviceSpec.equals("java")) {
            runner = open("java", known);
            note = "; " + deviceSpec + " could not run the encoder: offload ran on the java reference";
        }
        boolean onJava = runner.isPresent() && runner.get().device().startsWith("java");
        WordPieceTokenizer tok = runner.isPresent() ? runner.get().tokenizer()
                : WordPieceTokenizer.fromJson(known.tokenizerBytes(), known.tokenizerEntry);
        List<Integer> batches = quick ? List.of(QUICK_BATCH) : onJava ? List.of(JAVA_BATCH) : BATCHES;
        if (onJava && !quick) note += ", batch " + JAVA_BATCH + " only (the java reference is slow)";
        if (!note.isEmpty()) Peer.note("e2e " + known.id + note);

        Optional<OrtEncoder> ort = Peer.open("ONNX Runtime (" + known.id + " session)", () -> new OrtEncoder(onnx, threads));
        Optional<OrtEncoder> judge = runner.isEmpty() ? Optional.empty()
                : Peer.open("ONNX Runtime without optimizations (" + known.id + " judge)", () -> OrtEncoder.unoptimized(onnx, threads));
        // Seven repetitions each: single runs on this shared 2-core machine vary by up to 1.5x.
        // Warm-up: one call, and a second's worth more outside --quick, for both peers (Timing.warmUp says why).
        int warmup = 1, reps = quick ? 1 : 7;
        double warmSeconds = quick ? 0 : 1;
        try {
            for (int batch : batches) {
                TokenBatch tb = batch(tok, batch);
                String name = known.id + " b" + batch + " s" + LENGTH;
                double offloadNs = Double.NaN, ortNs = Double.NaN;
                float[] ours = null, theirs = null;
                String device = "-", replay = "";
                if (runner.isPresent()) {
                    EmbeddingSession r = runner.get();
                    device = r.device();
                    float[][] last = new float[1][];
                    Timing.warmUp(warmSeconds, () -> r.lastHiddenState(tb));
                    offloadNs = Timing.medianNanos(warmup, reps, quick ? 5 : 30, Timing.wall(() -> last[0] = r.lastHiddenState(tb)));
                    ours = last[0];
                    replay = r.replayStatus(tb).map(status -> "; " + status).orElse("");
                }
                if (ort.isPresent()) {
                    OrtEncoder o = ort.get();
                    float[][] last = new float[1][];
                    Timing.warmUp(warmSeconds, () -> o.lastHiddenState(tb));
                    ortNs = Timing.medianNanos(warmup, quick ? 2 : reps, quick ? 5 : 30, Timing.wall(() -> last[0] = o.lastHiddenState(tb)));
                    theirs = last[0];
                }
                if (ours != null) {
                    float[] got = ours;
                    int h = got.length / (batch * LENGTH);
                    String agreement = judge.map(j -> "; " + Agreement.of(got, tb, h, j)).orElse("");
                    if (theirs != null) agreement += String.format(Locale.ROOT, "; sentence cosine vs the timed ONNX Runtime min %.5f",
                            minCosine(known.pooling.embed(ours, tb, h), known.pooling.embed(theirs, tb, h), h));
                    report.add(new BenchRow("e2e", name, "offload", shortDevice(device), offloadNs / 1e6, batch / (offloadNs / 1e9),
                            "sentences/s", ortNs / offloadNs, "ratio = ONNX Runtime time / offload time" + note + agreement + replay));
                }
                if (!Double.isNaN(ortNs)) {
                    report.add(new BenchRow("e2e", name, "onnxruntime", "cpu", ortNs / 1e6, batch / (ortNs / 1e9), "sentences/s",
                            Double.NaN, "all optimizations, " + threads + " intra-op threads, same ids"));
                }
            }
        } finally {
            runner.ifPresent(EmbeddingSession::close);
            ort.ifPresent(OrtEncoder::close);
            judge.ifPresent(OrtEncoder::close);
        }
    }

    /**
     * offload's last_hidden_state against the judge's (ONNX Runtime without graph optimizations, each sentence run
     * alone): how many values of real tokens have the same bits.
     */
    record Agreement(long identical, long values) {
        static Agreement of(float[] ours, TokenBatch batch, int h, OrtEncoder judge) {
            long identical = 0, values = 0;
            for (int b = 0; b < batch.batch(); b++) {
                TokenBatch one = batch.row(b);
                float[] want = judge.lastHiddenState(one);
                for (int i = 0; i < one.realTokens() * h; i++) {
                    if (Float.floatToIntBits(want[i]) == Float.floatToIntBits(ours[b * batch.length() * h + i])) identical++;
                    values++;
                }
            }
            return new Agreement(identical, values);
        }

        @Override public String toString() {
            return (identical == values ? "bit-identical to" : "NOT bit-identical to") + " ONNX Runtime (no graph optimizations, each sentence alone): "
                    + identical + " of " + values + " values";
        }
    }

    /** The session {@code offload run --device SPEC} opens, or empty (with the reason as a note) when it cannot open here. */
    private static Optional<EmbeddingSession> open(String spec, ModelCatalog model) {
        try {
            return Optional.of(EmbeddingSession.open(EmbeddingOptions.defaults().withModel(EncoderSource.known(model)).withPlacement(spec)));
        } catch (RuntimeException e) {
            Peer.note("no encoder session for '" + spec + "' here (" + Peer.rootMessage(e) + ")");
            return Optional.empty();
        }
    }

    /** {@code n} sentences of exactly {@link #LENGTH} tokens: texts repeated until long enough, then truncated. */
    static TokenBatch batch(WordPieceTokenizer tok, int n) {
        List<TokenBatch.Sequence> seqs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder text = new StringBuilder();
            for (int j = 0; text.length() < 8 * LENGTH; j++) text.append(TEXTS.get((i + j) % TEXTS.size())).append(' ');
            TokenBatch.Sequence s = tok.encode(text.toString(), LENGTH);
            if (s.ids().length != LENGTH) throw new IllegalStateException("sentence " + i + " has " + s.ids().length + " tokens, wanted " + LENGTH);
            seqs.add(s);
        }
        return TokenBatch.pad(seqs, tok.padId());
    }

    private static String shortDevice(String device) {
        int space = device.indexOf(' ');
        return space > 0 ? device.substring(0, space) : device;
    }

    private static double minCosine(float[] a, float[] b, int h) {
        double min = 1;
        for (int s = 0; s < a.length / h; s++) {
            double dot = 0, na = 0, nb = 0;
            for (int i = s * h; i < (s + 1) * h; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
            min = Math.min(min, dot / Math.sqrt(na * nb));
        }
        return min;
    }

    /** ONNX Runtime on the encoder file: last_hidden_state for a batch. */
    static final class OrtEncoder implements AutoCloseable {
        private final OrtEnvironment env = OrtEnvironment.getEnvironment();
        private final OrtSession session;

        /** ONNX Runtime at its best settings: all graph optimizations. */
        OrtEncoder(byte[] onnx, int threads) throws OrtException { this(onnx, threads, OrtSession.SessionOptions.OptLevel.ALL_OPT); }

        /** ONNX Runtime running the graph as exported (no fusions): the judge offload's float rounding follows. */
        static OrtEncoder unoptimized(byte[] onnx, int threads) throws OrtException {
            return new OrtEncoder(onnx, threads, OrtSession.SessionOptions.OptLevel.NO_OPT);
        }

        private OrtEncoder(byte[] onnx, int threads, OrtSession.SessionOptions.OptLevel level) throws OrtException {
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setIntraOpNumThreads(threads);
                options.setInterOpNumThreads(1);
                options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                options.setOptimizationLevel(level);
                session = env.createSession(onnx, options);
            }
        }

        float[] lastHiddenState(TokenBatch in) {
            long[] shape = {in.batch(), in.length()};
            Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
            try {
                inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(in.ids()), shape));
                inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(in.mask()), shape));
                if (session.getInputNames().contains("token_type_ids")) {
                    inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(in.typeIds()), shape));
                }
                try (OrtSession.Result r = session.run(inputs)) {
                    FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                    float[] v = new float[fb.remaining()];
                    fb.get(v);
                    return v;
                }
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed on the encoder: " + e.getMessage(), e);
            } finally {
                inputs.values().forEach(OnnxTensor::close);
            }
        }

        @Override
        public void close() {
            try {
                session.close();
            } catch (OrtException e) {
                throw new IllegalStateException("closing the ONNX Runtime session: " + e.getMessage(), e);
            }
        }
    }
}
