package dev.offload.model.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.offload.model.EncoderModel;
import dev.offload.model.ModelCatalog;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.UnsupportedModelException;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.offload.model.onnx.proto.OnnxProtos.StringStringEntryProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import dev.offload.model.onnx.proto.OnnxProtos.ValueInfoProto;
import dev.offload.model.EncoderLayer;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;

class OnnxImportTest {

    static OnnxModel parse(ModelProto m) throws Exception {
        return OnnxModel.parse(new ByteArrayInputStream(m.toByteArray()), "test.onnx");
    }

    static ModelProto.Builder model(GraphProto.Builder g) {
        return ModelProto.newBuilder().setIrVersion(7).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g);
    }

    static GraphProto.Builder bertInputs() {
        GraphProto.Builder g = GraphProto.newBuilder();
        for (String n : new String[] {"input_ids", "attention_mask"}) g.addInput(ValueInfoProto.newBuilder().setName(n));
        return g;
    }

    @Test
    void tensorsDecodeFromRawDataAndFromTypedFields() throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder()
                .addInitializer(TensorProto.newBuilder().setName("f").addDims(2).setDataType(1)
                        .setRawData(ByteString.copyFrom(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, (byte) 0xc0})))
                .addInitializer(TensorProto.newBuilder().setName("l").addDims(3).setDataType(7).addInt64Data(-1).addInt64Data(5).addInt64Data(1L << 40))
                .addInitializer(TensorProto.newBuilder().setName("i8").addDims(2).setDataType(3).addInt32Data(-128).addInt32Data(127))
                .addInitializer(TensorProto.newBuilder().setName("u8").addDims(1).setDataType(2).setRawData(ByteString.copyFrom(new byte[] {(byte) 200})))
                .addInitializer(TensorProto.newBuilder().setName("tf").addDims(1).addDims(2).setDataType(1).addFloatData(0.5f).addFloatData(-3f));
        OnnxModel m = parse(model(g).build());
        assertArrayEquals(new float[] {1f, -2f}, m.constants().get("f").floats());
        assertArrayEquals(new long[] {-1, 5, 1L << 40}, m.constants().get("l").toLongs());
        assertArrayEquals(new long[] {-128, 127}, m.constants().get("i8").toLongs());
        assertEquals(200, m.constants().get("u8").uint8(0));
        assertArrayEquals(new float[] {0.5f, -3f}, m.constants().get("tf").floats());
        assertArrayEquals(new long[] {1, 2}, m.constants().get("tf").shape());
    }

    @Test
    void externalDataIsAClearError() {
        GraphProto.Builder g = GraphProto.newBuilder().addInitializer(TensorProto.newBuilder().setName("w").addDims(4).setDataType(1)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin")));
        var e = assertThrows(UnsupportedModelException.class, () -> parse(model(g).build()));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("weights.bin"), e.getMessage());
    }

    @Test
    void unsupportedDataTypeNamesTheTensorAndType() {
        GraphProto.Builder g = GraphProto.newBuilder().addInitializer(TensorProto.newBuilder().setName("h").addDims(1).setDataType(10)
                .setRawData(ByteString.copyFrom(new byte[2])));
        var e = assertThrows(UnsupportedModelException.class, () -> parse(model(g).build()));
        assertTrue(e.getMessage().contains("'h'") && e.getMessage().contains("FLOAT16"), e.getMessage());
    }

    @Test
    void anUnsupportedOperatorIsReportedWithNodeNameAndOpset() throws Exception {
        GraphProto.Builder g = bertInputs().addNode(NodeProto.newBuilder().setOpType("Attention").setDomain("com.microsoft")
                .setName("fused_attention_0").addInput("input_ids").addOutput("y"));
        OnnxModel m = parse(model(g).build());
        var e = assertThrows(UnsupportedModelException.class, () -> EncoderImporter.importModel(m));
        assertTrue(e.getMessage().contains("Attention") && e.getMessage().contains("fused_attention_0")
                && e.getMessage().contains("opset 13"), e.getMessage());
    }

    @Test
    void aGraphWithoutEncoderInputsIsRejected() throws Exception {
        OnnxModel m = parse(model(GraphProto.newBuilder().addInput(ValueInfoProto.newBuilder().setName("pixels"))).build());
        var e = assertThrows(UnsupportedModelException.class, () -> EncoderImporter.importModel(m));
        assertTrue(e.getMessage().contains("input_ids"), e.getMessage());
    }

    @Test
    void notAnOnnxFileIsAClearError() {
        var e = assertThrows(UnsupportedModelException.class,
                () -> OnnxModel.parse(new ByteArrayInputStream("hello, I am text".getBytes()), "notes.txt"));
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
    }

    @Test
    void realMiniLmQuantizedImportsWithPerColumnScalesAndTheFilesShape() {
        ModelCatalog c = ModelCatalog.ALL_MINILM_L6_V2_Q;
        EncoderModel m = EncoderImporter.importBytes(c.onnxBytes(), c.onnxEntry);
        assertEquals(6, m.layers().size());
        assertEquals(384, m.config().hidden());
        assertEquals(12, m.config().heads());
        assertEquals(1536, m.config().intermediate());
        assertEquals(30522, m.config().vocabSize());
        assertEquals((float) Math.sqrt(32), m.config().scoreDivisor(), 1e-6f);
        QuantizedLinear q = (QuantizedLinear) m.layers().getFirst().query();
        assertEquals(384, q.scale().length);
        assertTrue(q.scale()[0] != q.scale()[1], "scales are per output column in this file");
        assertNull(q.zeroPoint(), "the file's weight zero points are all 0");
    }

    @Test
    void aGraphWithAnExtraComputationIsNotSilentlyDropped() throws Exception {
        ModelCatalog c = ModelCatalog.ALL_MINILM_L6_V2_Q;
        ModelProto real = ModelProto.parseFrom(c.onnxBytes());
        // Append a node computing something nobody uses: the importer must refuse, not ignore it.
        ModelProto extra = real.toBuilder().setGraph(real.getGraph().toBuilder().addNode(NodeProto.newBuilder()
                .setOpType("Sqrt").setName("stray_sqrt").addInput("last_hidden_state").addOutput("stray"))).build();
        var e = assertThrows(UnsupportedModelException.class, () -> EncoderImporter.importModel(parse(extra)));
        assertTrue(e.getMessage().contains("stray_sqrt"), e.getMessage());
    }

    @Test
    void aMemoryMappedFileImportsToExactlyTheBundledBytesModel(@TempDir Path dir) throws Exception {
        ModelCatalog c = ModelCatalog.ALL_MINILM_L6_V2_Q;
        byte[] bytes = c.onnxBytes();
        Path file = Files.write(dir.resolve("minilm.onnx"), bytes);
        EncoderModel fromBytes = EncoderImporter.importBytes(bytes, c.onnxEntry);
        EncoderModel fromFile = EncoderImporter.importFile(file);
        assertEquals(fromBytes.config(), fromFile.config());
        assertArrayEquals(fromBytes.embeddings().word(), fromFile.embeddings().word());
        assertArrayEquals(fromBytes.embeddings().position(), fromFile.embeddings().position());
        for (int i = 0; i < fromBytes.layers().size(); i++) {
            EncoderLayer a = fromBytes.layers().get(i), b = fromFile.layers().get(i);
            for (var pair : List.of(List.of(a.query(), b.query()), List.of(a.intermediate(), b.intermediate()), List.of(a.output(), b.output()))) {
                QuantizedLinear x = (QuantizedLinear) pair.get(0), y = (QuantizedLinear) pair.get(1);
                assertArrayEquals(x.weight(), y.weight(), "layer " + i);
                assertArrayEquals(x.scale(), y.scale(), "layer " + i);
                assertArrayEquals(x.bias(), y.bias(), "layer " + i);
            }
            assertArrayEquals(a.outputNorm().gamma(), b.outputNorm().gamma(), "layer " + i);
        }
    }

    @Test
    void aFileThatIsNotOnnxIsAClearErrorNamingIt(@TempDir Path dir) throws Exception {
        Path notes = Files.writeString(dir.resolve("notes.onnx"), "hello, I am text");
        var e = assertThrows(UnsupportedModelException.class, () -> EncoderImporter.importFile(notes));
        assertTrue(e.getMessage().startsWith(notes + ": not an ONNX model file"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
