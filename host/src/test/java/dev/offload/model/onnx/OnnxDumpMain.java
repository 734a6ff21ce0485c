package dev.offload.model.onnx;

import dev.offload.model.EncoderModel;
import dev.offload.model.ModelCatalog;
import java.io.ByteArrayInputStream;

/** Development aid: prints a catalog model's node listing ("dump NAME") or its imported config ("import NAME"). */
public final class OnnxDumpMain {
    public static void main(String[] args) throws Exception {
        ModelCatalog m = ModelCatalog.byId(args[1]);
        OnnxModel onnx = OnnxModel.parse(new ByteArrayInputStream(m.onnxBytes()), m.onnxEntry);
        if (args[0].equals("dump")) {
            System.out.print(onnx.dump());
        } else {
            long t0 = System.nanoTime();
            EncoderModel model = EncoderImporter.importModel(onnx);
            System.out.printf("%s: %s quantized=%s in %.0f ms%n", m.id, model.config(), model.quantized(), (System.nanoTime() - t0) / 1e6);
            var q = model.layers().getFirst().query();
            if (q instanceof dev.offload.model.QuantizedLinear ql) {
                System.out.println("zero points: " + (ql.zeroPoint() == null ? "all 0" : java.util.Arrays.toString(ql.zeroPoint()).substring(0, 60))
                        + " scale[0..3]=" + ql.scale()[0] + "," + ql.scale()[1] + "," + ql.scale()[2]);
            }
        }
    }
}
