package dev.offload.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.HashMap;
import java.util.Map;

/** ONNX Runtime on a model file, graph optimizations off: the independent judge in accuracy tests. */
public final class OrtEncoder implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    public OrtEncoder(byte[] onnx) throws OrtException {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            o.setIntraOpNumThreads(2);
            session = env.createSession(onnx, o);
        }
    }

    /** last_hidden_state [B*S*H] for the batch exactly as given (padding included). */
    public float[] lastHiddenState(TokenBatch in) throws OrtException {
        long[] shape = {in.batch(), in.length()};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(in.ids()), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(in.mask()), shape));
            if (session.getInputNames().contains("token_type_ids")) {
                inputs.put("token_type_ids", OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(in.typeIds()), shape));
            }
            try (OrtSession.Result r = session.run(inputs)) {
                OnnxTensor out = (OnnxTensor) r.get(0);
                java.nio.FloatBuffer fb = out.getFloatBuffer();
                float[] v = new float[fb.remaining()];
                fb.get(v);
                return v;
            }
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public void close() throws OrtException { session.close(); }
}
