package dev.offload.model;

import java.lang.reflect.Method;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime (Java API, graph optimizations off) as an independent judge for {@code offload run --check}.
 * ONNX Runtime is not a dependency of offload's runtime, so it is loaded by reflection when its jar is on the
 * class path (com.microsoft.onnxruntime:onnxruntime); otherwise {@link #load} says how to add it.
 */
public final class OrtCheck implements AutoCloseable {
    private final Object env, session;
    private final Class<?> tensorClass;
    private final Method createTensor, run;
    private final List<String> inputNames;

    private OrtCheck(byte[] onnx) throws ReflectiveOperationException {
        Class<?> envClass = Class.forName("ai.onnxruntime.OrtEnvironment");
        Class<?> optionsClass = Class.forName("ai.onnxruntime.OrtSession$SessionOptions");
        Class<?> optLevel = Class.forName("ai.onnxruntime.OrtSession$SessionOptions$OptLevel");
        Class<?> sessionClass = Class.forName("ai.onnxruntime.OrtSession");
        tensorClass = Class.forName("ai.onnxruntime.OnnxTensor");
        env = envClass.getMethod("getEnvironment").invoke(null);
        Object options = optionsClass.getConstructor().newInstance();
        optionsClass.getMethod("setOptimizationLevel", optLevel).invoke(options, optLevel.getField("NO_OPT").get(null));
        session = envClass.getMethod("createSession", byte[].class, optionsClass).invoke(env, onnx, options);
        createTensor = tensorClass.getMethod("createTensor", envClass, LongBuffer.class, long[].class);
        run = sessionClass.getMethod("run", Map.class);
        @SuppressWarnings("unchecked")
        var names = (java.util.Set<String>) sessionClass.getMethod("getInputNames").invoke(session);
        inputNames = List.copyOf(names);
    }

    /** ONNX Runtime on the model bytes, or an exception explaining that its jar is missing. */
    public static OrtCheck load(byte[] onnx) {
        try {
            return new OrtCheck(onnx);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("--check needs ONNX Runtime, which offload does not ship: run with its jar on"
                    + " the class path, e.g. java --enable-native-access=ALL-UNNAMED -cp host/target/offload.jar:"
                    + "$HOME/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.23.2/onnxruntime-1.23.2.jar"
                    + " dev.offload.cli.Main run --check");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("ONNX Runtime failed to load the model: " + rootMessage(e), e);
        }
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null) e = e.getCause();
        return e.toString();
    }

    /** last_hidden_state for the batch as given. */
    public float[] lastHiddenState(TokenBatch in) {
        long[] shape = {in.batch(), in.length()};
        Map<String, Object> inputs = new LinkedHashMap<>();
        try {
            inputs.put("input_ids", createTensor.invoke(null, env, LongBuffer.wrap(in.ids()), shape));
            inputs.put("attention_mask", createTensor.invoke(null, env, LongBuffer.wrap(in.mask()), shape));
            if (inputNames.contains("token_type_ids")) {
                inputs.put("token_type_ids", createTensor.invoke(null, env, LongBuffer.wrap(in.typeIds()), shape));
            }
            try (AutoCloseable result = (AutoCloseable) run.invoke(session, inputs)) {
                Object out = result.getClass().getMethod("get", int.class).invoke(result, 0);
                FloatBuffer fb = (FloatBuffer) tensorClass.getMethod("getFloatBuffer").invoke(out);
                float[] v = new float[fb.remaining()];
                fb.get(v);
                return v;
            }
        } catch (Exception e) {
            throw new IllegalStateException("ONNX Runtime failed: " + rootMessage(e), e);
        } finally {
            for (Object t : inputs.values()) {
                try { ((AutoCloseable) t).close(); } catch (Exception ignored) { /* closing native tensors cannot fail usefully */ }
            }
        }
    }

    @Override
    public void close() {
        try { ((AutoCloseable) session).close(); } catch (Exception ignored) { /* nothing to do */ }
    }
}
