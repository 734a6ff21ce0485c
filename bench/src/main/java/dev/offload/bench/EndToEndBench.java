package dev.offload.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.offload.model.EncoderModel;
import dev.offload.model.EncoderReference;
import dev.offload.model.EncoderRunner;
import dev.offload.model.ModelCatalog;
import dev.offload.model.Pooling;
import dev.offload.model.TokenBatch;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * all-MiniLM-L6-v2-q end to end: sentences/s at a fixed batch and sequence length (every sentence exactly
 * {@link #LENGTH} tokens, mask all ones), offload through the runner {@code offload run --device SPEC} opens,
 * against ONNX Runtime (all graph optimizations, the same threads) on the same .onnx file and the same ids.
 */
final class EndToEndBench {
    private EndToEndBench() {}

    static final int LENGTH = 128, BATCH = 32, JAVA_BATCH = 4, QUICK_BATCH = 2;

    static final List<String> TEXTS = List.of(
            "A man is playing a guitar on stage.",
            "The stock market fell sharply this morning after the announcement.",
            "My cat sleeps on the windowsill all afternoon, ignoring the birds outside.",
            "Quantum computers use qubits instead of bits to represent information.",
            "Heavy rain flooded the streets of the old town overnight.",
            "She finished the marathon in under four hours despite the heat.");

    static void run(Report report, String deviceSpec, boolean quick, int threads) {
        ModelCatalog known = ModelCatalog.ALL_MINILM_L6_V2_Q;
        byte[] onnx = known.onnxBytes();
        EncoderModel model = EncoderImporter.importBytes(onnx, known.onnxEntry);
        WordPieceTokenizer tok = WordPieceTokenizer.fromJson(known.tokenizerBytes(), known.tokenizerEntry);

        Optional<OpenedRunner> runner = OpenedRunner.open(deviceSpec, model);
        String note = "";
        if (runner.isEmpty() && !deviceSpec.equals("java")) {
            runner = OpenedRunner.open("java", model);
            note = "; " + deviceSpec + " could not run the encoder: offload ran on the java reference";
        }
        boolean onJava = runner.isPresent() && runner.get().runner().device().startsWith("java");
        int batch = quick ? QUICK_BATCH : onJava ? JAVA_BATCH : BATCH;
        if (onJava && !quick) note += ", batch " + JAVA_BATCH + " (the java reference is slow)";
        if (!note.isEmpty()) Peer.note("e2e" + note);

        TokenBatch tb = batch(tok, batch);
        String name = known.id + " b" + batch + " s" + LENGTH;
        // Seven repetitions each: single runs on this shared 2-core machine vary by up to 1.5x.
        int warmup = 1, reps = quick ? 1 : 7;
        double offloadNs = Double.NaN;
        float[] ours = null;
        String device = "-";
        if (runner.isPresent()) {
            try (OpenedRunner opened = runner.get()) {
                EncoderRunner r = opened.runner();
                device = r.device();
                float[][] last = new float[1][];
                offloadNs = Timing.medianNanos(warmup, reps, quick ? 5 : 30, Timing.wall(() -> last[0] = r.lastHiddenState(tb)));
                ours = last[0];
            }
        }
        int h = model.config().hidden();

        Optional<OrtEncoder> ort = Peer.open("ONNX Runtime (MiniLM session)", () -> new OrtEncoder(onnx, threads));
        double ortNs = Double.NaN;
        String agreement = "";
        if (ort.isPresent()) {
            try (OrtEncoder o = ort.get()) {
                float[][] last = new float[1][];
                ortNs = Timing.medianNanos(warmup, quick ? 2 : reps, quick ? 5 : 30, Timing.wall(() -> last[0] = o.lastHiddenState(tb)));
                if (ours != null) agreement = String.format(Locale.ROOT, "; sentence-embedding cosine vs ONNX Runtime min %.5f",
                        minCosine(EncoderReference.pool(ours, tb, h, Pooling.MEAN), EncoderReference.pool(last[0], tb, h, Pooling.MEAN), h));
                if (!quick && batch != BATCH) {
                    String big = known.id + " b" + BATCH + " s" + LENGTH;
                    TokenBatch full = batch(tok, BATCH);
                    double ns = Timing.medianNanos(warmup, 5, 30, Timing.wall(() -> o.lastHiddenState(full)));
                    report.add(new BenchRow("e2e", big, "onnxruntime", "cpu", ns / 1e6, BATCH / (ns / 1e9), "sentences/s",
                            Double.NaN, "ONNX Runtime alone at the full batch, " + threads + " intra-op threads"));
                }
            }
        }
        if (!Double.isNaN(offloadNs)) {
            report.add(new BenchRow("e2e", name, "offload", shortDevice(device), offloadNs / 1e6, batch / (offloadNs / 1e9),
                    "sentences/s", ortNs / offloadNs, "ratio = ONNX Runtime time / offload time" + note + agreement));
        }
        if (!Double.isNaN(ortNs)) {
            report.add(new BenchRow("e2e", name, "onnxruntime", "cpu", ortNs / 1e6, batch / (ortNs / 1e9), "sentences/s",
                    Double.NaN, "all optimizations, " + threads + " intra-op threads, same ids"));
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

        OrtEncoder(byte[] onnx, int threads) throws OrtException {
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setIntraOpNumThreads(threads);
                options.setInterOpNumThreads(1);
                options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
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
