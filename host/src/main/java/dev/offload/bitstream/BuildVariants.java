package dev.offload.bitstream;

import dev.offload.cl.DeviceInfo;
import dev.offload.device.KernelStyle;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.attention.AttentionProblem;
import dev.offload.ops.attention.FusedAttention;
import dev.offload.ops.attention.OnnxAttention;
import dev.offload.ops.attention.Storage;
import dev.offload.ops.blockq.BlockMatmul;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.quant.Quantize;
import dev.offload.ops.sparse.BsrLinear;
import dev.offload.ops.sparse.Spmm;
import dev.offload.ops.layers.LayersOpenCl;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.stream.Stream;

/**
 * The one place that lists each family's runtime build options for a device: it asks each op class through the
 * same public method the op uses to make its options, then adds the device's {@link KernelStyle} define as
 * {@code OpenClDevice.program} does, so that stored bitstreams and run-time requests agree. {@code
 * -cl-kernel-arg-info} is not listed: every kept build gets it ({@link ProgramBinaries#ARG_INFO}).
 *
 * <ul>
 *   <li>int8_gemm, int8_gemm_tiled: the device's {@link GemmConfig} (of one of the two families; the other gets
 *       none), its defines (direct: row blocks 1..mr) times every epilogue ({@link Int8Gemm#allBuildOptions}).</li>
 *   <li>attention: {@link FusedAttention#COMMON_HEAD_DIMS} with float32 storage, head-major (the attention command)
 *       and token-major (the graph runtime), attention_tiled where the device's configuration has a tile
 *       ({@link FusedAttention#tiledBuildOptions}), and the ONNX Runtime form ({@link OnnxAttention}, imported models).</li>
 *   <li>blockq: every format times the decode and prefill tiles, with and without bias and residual ({@link BlockMatmul#allBuildOptions}).</li>
 *   <li>bsr_linear: row blocks 1..MR times both block shapes ({@link BsrLinear#allBuildOptions}).</li>
 *   <li>spmm, quantize, layers, smoke: their single option string.</li>
 * </ul>
 */
public final class BuildVariants implements KernelVariants {
    public static final BuildVariants DEFAULT = new BuildVariants();

    @Override
    public List<String> optionsFor(KernelFamily family, DeviceInfo device) {
        KernelStyle style = KernelStyle.forDevice(device);
        List<String> options = switch (family) {
            case SMOKE -> List.of("");
            // The same configuration Int8Gemm.on picks: tuned or default for the portable style, FPGA defaults otherwise.
            // The family it picks is built; the other has no options for this device.
            case INT8_GEMM, INT8_GEMM_TILED -> {
                GemmConfig gemm = style == KernelStyle.FPGA ? GemmConfig.forDevice(device, style) : GemmConfig.resolve(device).config();
                yield gemm.family() == family ? Int8Gemm.allBuildOptions(gemm) : List.of();
            }
            case ATTENTION -> Stream.concat(FusedAttention.COMMON_HEAD_DIMS.stream()
                    .flatMap(d -> Stream.of(AttentionProblem.Layout.values()).map(l -> FusedAttention.buildOptions(d, Storage.FLOAT32, l))),
                    Stream.concat(FusedAttention.tiledBuildOptions(device, style).stream(), Stream.of(OnnxAttention.buildOptions()))).toList();
            case SPMM -> List.of(Spmm.buildOptions());
            case BSR_LINEAR -> BsrLinear.allBuildOptions(device, style);
            case QUANTIZE -> List.of(Quantize.buildOptions());
            case LAYERS -> List.of(LayersOpenCl.buildOptions());
            case BLOCKQ -> BlockMatmul.allBuildOptions(device, style);
        };
        List<String> styled = new ArrayList<>(new LinkedHashSet<>(options));
        styled.replaceAll(style::apply);
        return List.copyOf(styled);
    }
}
