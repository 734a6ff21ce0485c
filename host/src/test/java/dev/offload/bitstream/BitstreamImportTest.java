package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.DeviceType;
import dev.offload.kernels.KernelFamily;
import dev.offload.kernels.KernelSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Importing binaries built offline by vendor tools. */
class BitstreamImportTest {
    static final String SHELL = "xilinx_u250_gen3x16_xdma_shell_4_1";

    /** A saxpy .xclbin: XRT's container around the EMBEDDED_METADATA XML ({@link SyntheticBinaries#xclbin}). */
    static byte[] syntheticXclbin() {
        return SyntheticBinaries.xclbin(("""
                <?xml version="1.0" encoding="UTF-8"?>
                <project name="smoke">
                  <platform vendor="xilinx" boardid="u250" name="gen3x16"><device name="fpga0"><core name="OCL_REGION_0">
                    <kernel name="saxpy" language="c" vlnv="xilinx.com:hls:saxpy:1.0">
                      <arg name="a" addressQualifier="0" id="0" size="0x4" type="float"/>
                      <arg name="x" addressQualifier="1" id="1" port="M_AXI_GMEM" size="0x8" type="float*"/>
                      <arg name="y" addressQualifier="1" id="2" port="M_AXI_GMEM" size="0x8" type="float*"/>
                      <arg name="n" addressQualifier="0" id="3" size="0x4" type="int"/>
                      <instance name="saxpy_1"/>
                    </kernel>
                  </core></device></platform>
                </project>
                """).getBytes(StandardCharsets.UTF_8));
    }

    private static BitstreamImporter.Request request(Path file, String family, List<String> kernels) {
        return new BitstreamImporter.Request(file, SHELL, "Xilinx", null, null, null, null, family, kernels, "", null);
    }

    @Test
    void anXclbinIsImportedWithKernelsReadFromItsEmbeddedMetadata(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("saxpy.xclbin");
        byte[] bytes = syntheticXclbin();
        Files.write(file, bytes);
        BitstreamStore store = new BitstreamStore(tmp.resolve("store"));
        StoredBinary e = BitstreamImporter.importFile(store, request(file, null, List.of()));

        BitstreamManifest m = e.manifest();
        assertEquals("smoke", m.family(), "the family is inferred from the kernel names");
        assertEquals(KernelSource.load(KernelFamily.SMOKE).sha256(), m.sourceSha256());
        assertEquals("xclbin", m.binary().format());
        assertEquals("v++ (Xilinx Vitis), imported", m.builtBy());
        assertEquals(SHELL, m.target().boardName());
        assertEquals(null, m.target().driverVersion());
        assertEquals("saxpy(float, global float*, global float*, int)", ProgramBinaries.signature(m.kernel("saxpy")));
        assertEquals("smoke-" + SHELL.replace('_', '-') + "-e3b0c442.xclbin", m.binary().file());
        Files.exists(store.dir().resolve(m.binary().file()));

        StoredBinary reread = store.entries().getFirst();
        assertEquals(m, reread.manifest());
        assertEquals(Check.Verdict.PASS, BitstreamChecks.checksum(reread).verdict());

        DeviceTarget device = new DeviceTarget("Xilinx", "Xilinx", SHELL, "Xilinx", "2.16.204", "OpenCL 1.0", SHELL, "123456789abc");
        var request = new ProgramResolver.Request(KernelSource.load(KernelFamily.SMOKE), "", device, DeviceType.ACCELERATOR,
                KernelNames.required(KernelSource.load(KernelFamily.SMOKE).text(), ""), store.dir());
        var resolution = ProgramResolver.resolve(request, store.entries(KernelFamily.SMOKE, ""), Optional.empty());
        assertEquals(reread.manifestFile(), assertInstanceOf(ProgramResolver.Resolution.Load.class, resolution).entry().manifestFile());
    }

    @Test
    void anAocxNeedsItsKernelsOnTheCommandLine(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("saxpy.aocx");
        Files.write(file, SyntheticBinaries.elf64(new byte[] {9, 9, 9}));
        BitstreamStore store = new BitstreamStore(tmp.resolve("store"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BitstreamImporter.importFile(store, request(file, "smoke", List.of())));
        assertTrue(e.getMessage().contains("(aocx) cannot be read without the vendor SDK; give them with --kernels"), e.getMessage());
        assertEquals(List.of(), store.entries());

        StoredBinary ok = BitstreamImporter.importFile(store,
                request(file, "smoke", List.of("saxpy:float; global float*;global  float*;int")));
        assertEquals("aocx", ok.manifest().binary().format());
        assertEquals("saxpy(float, global float*, global float*, int)", ProgramBinaries.signature(ok.manifest().kernel("saxpy")));
        assertTrue(ok.manifest().binary().file().endsWith(".aocx"));
    }

    @Test
    void aBinaryWithoutTheFamilysKernelsIsNotImported(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("other.aocx");
        Files.write(file, SyntheticBinaries.elf64(new byte[] {1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BitstreamImporter.importFile(new BitstreamStore(tmp), request(file, "smoke", List.of("vadd"))));
        assertTrue(e.getMessage().contains("lacks kernel(s) [saxpy] of family smoke (it has [vadd])"), e.getMessage());
        IllegalArgumentException noFamily = assertThrows(IllegalArgumentException.class,
                () -> BitstreamImporter.importFile(new BitstreamStore(tmp), request(file, null, List.of("vadd"))));
        assertTrue(noFamily.getMessage().contains("give --family"), noFamily.getMessage());
    }

    @Test
    void anXclbinWithoutMetadataAsksForKernels(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("bare.xclbin");
        Files.write(file, SyntheticBinaries.xclbin(" no metadata here".getBytes(StandardCharsets.US_ASCII)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BitstreamImporter.importFile(new BitstreamStore(tmp), request(file, "smoke", List.of())));
        assertTrue(e.getMessage().contains("without readable EMBEDDED_METADATA kernels; give them with --kernels"), e.getMessage());
    }
}
