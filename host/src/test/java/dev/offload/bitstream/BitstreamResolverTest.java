package dev.offload.bitstream;

import dev.offload.hash.Sha256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.bitstream.ProgramResolver.Resolution;
import dev.offload.cl.DeviceType;
import dev.offload.kernels.KernelFamily;
import dev.offload.kernels.KernelSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Where a program comes from, decided without a device: the policy for accelerators, CPUs and GPUs. */
class BitstreamResolverTest {
    private static final KernelSource SMOKE = KernelSource.load(KernelFamily.SMOKE);
    private static final Path STORE = Path.of("/opt/bitstreams");
    private static final DeviceTarget FPGA = new DeviceTarget("Intel(R) FPGA SDK for OpenCL(TM)", "Intel(R) Corporation",
            "pac_a10 : Intel PAC Platform (pac_ee00000)", "Intel(R) Corporation", "2021.1", "OpenCL 1.0 Intel(R) FPGA SDK",
            "pac_a10", null);
    private static final DeviceTarget GPU = new DeviceTarget("NVIDIA CUDA", "NVIDIA Corporation", "NVIDIA H100",
            "NVIDIA Corporation", "550.54", "OpenCL 3.0 CUDA", null, "0a1b2c3d4e5f");

    private static ProgramResolver.Request request(DeviceTarget device, DeviceType type) {
        return new ProgramResolver.Request(SMOKE, "", device, type, KernelNames.required(SMOKE.text(), ""), STORE);
    }

    /** An entry for {@code target} built from the current smoke source, with consistent checksum. */
    private static StoredBinary entry(DeviceTarget target, String file, List<String> kernels) {
        byte[] bin = SyntheticBinaries.elf64(("binary for " + target.deviceName()).getBytes());
        BitstreamManifest m = new BitstreamManifest(BitstreamManifest.SCHEMA, "smoke", 1, SMOKE.sha256(), "", Sha256.of(""),
                "", target, new BitstreamManifest.BinaryFile(file + ".aocx", Sha256.of(bin), bin.length, "aocx"),
                kernels.stream().map(k -> new BitstreamManifest.KernelEntry(k, 4, null, null)).toList(),
                "aoc, imported", "2026-01-01T00:00:00Z");
        return new StoredBinary(STORE.resolve(file + ".json"), m, bin);
    }

    @Test
    void anAcceleratorWithoutABitstreamIsRefusedWithTheCommandsThatMakeOne() {
        Resolution r = ProgramResolver.resolve(request(FPGA, DeviceType.ACCELERATOR),
                List.of(entry(GPU, "smoke-gpu", List.of("saxpy"))), Optional.empty());
        String msg = assertInstanceOf(Resolution.Refuse.class, r).message();
        assertTrue(msg.contains("'pac_a10 : Intel PAC Platform (pac_ee00000)'"), msg);
        assertTrue(msg.contains("is an ACCELERATOR, which never compiles OpenCL source"), msg);
        assertTrue(msg.contains("kernel(s) [saxpy] of family smoke"), msg);
        assertTrue(msg.contains("(only for [NVIDIA H100])"), msg);
        assertTrue(msg.contains("./offload bitstreams build --device 'cl:name=pac_a10 : Intel PAC Platform (pac_ee00000)' --ops smoke --store /opt/bitstreams"), msg);
        assertTrue(msg.contains("./offload bitstreams import FILE.aocx|FILE.xclbin --device-name 'pac_a10 : Intel PAC Platform (pac_ee00000)' "
                + "--platform 'Intel(R) FPGA SDK for OpenCL(TM)' --family smoke"), msg);
    }

    @Test
    void anAcceleratorNeverCompilesEvenWithACacheEntry() {
        Resolution r = ProgramResolver.resolve(request(FPGA, DeviceType.ACCELERATOR), List.of(),
                Optional.of(entry(FPGA, "smoke-cache", List.of("saxpy"))));
        assertInstanceOf(Resolution.Refuse.class, r);
    }

    @Test
    void anAcceleratorLoadsTheMatchingBitstream() {
        StoredBinary other = entry(GPU, "smoke-gpu", List.of("saxpy"));
        StoredBinary mine = entry(FPGA, "smoke-pac", List.of("saxpy"));
        Resolution r = ProgramResolver.resolve(request(FPGA, DeviceType.ACCELERATOR), List.of(other, mine), Optional.empty());
        Resolution.Load load = assertInstanceOf(Resolution.Load.class, r);
        assertSame(mine, load.entry());
        assertEquals(ProgramOrigin.STORE, load.origin());
    }

    @Test
    void anImportWithoutADriverVersionMatchesAnyDriver() {
        DeviceTarget anyDriver = new DeviceTarget(FPGA.platformName(), null, FPGA.deviceName(), null, null, null, "pac_a10", null);
        Resolution r = ProgramResolver.resolve(request(FPGA, DeviceType.ACCELERATOR),
                List.of(entry(anyDriver, "smoke-pac", List.of("saxpy"))), Optional.empty());
        assertInstanceOf(Resolution.Load.class, r);
    }

    @Test
    void aBitstreamForThisDeviceThatLacksAKernelIsRejectedNotBypassed() {
        Resolution r = ProgramResolver.resolve(request(FPGA, DeviceType.ACCELERATOR),
                List.of(entry(FPGA, "smoke-pac", List.of("other_kernel"))), Optional.empty());
        BitstreamMismatchException e = assertInstanceOf(Resolution.Reject.class, r).error();
        assertEquals(STORE.resolve("smoke-pac.json"), e.file());
        assertTrue(e.getMessage().contains("missing kernel(s) [saxpy] (the binary has [other_kernel])"), e.getMessage());
        assertTrue(e.getMessage().contains("./offload bitstreams import"), e.getMessage());
    }

    @Test
    void aBitstreamForAnotherBoardIsRejected() {
        DeviceTarget otherBoard = new DeviceTarget(FPGA.platformName(), null, FPGA.deviceName(), null, FPGA.driverVersion(),
                null, "pac_s10", null);
        Resolution r = ProgramResolver.resolve(request(FPGA, DeviceType.ACCELERATOR),
                List.of(entry(otherBoard, "smoke-s10", List.of("saxpy"))), Optional.empty());
        assertTrue(assertInstanceOf(Resolution.Reject.class, r).error().getMessage()
                .contains("board: built for 'pac_s10', this device is on 'pac_a10'"));
    }

    @Test
    void aGpuWithoutBitstreamUsesAValidCacheEntryElseCompiles() {
        StoredBinary cached = entry(GPU, "smoke-cachekey", List.of("saxpy"));
        Resolution hit = ProgramResolver.resolve(request(GPU, DeviceType.GPU), List.of(), Optional.of(cached));
        assertEquals(ProgramOrigin.CACHE, assertInstanceOf(Resolution.Load.class, hit).origin());

        Resolution miss = ProgramResolver.resolve(request(GPU, DeviceType.GPU), List.of(), Optional.empty());
        assertInstanceOf(Resolution.Compile.class, miss);
    }

    @Test
    void aStaleCacheEntryIsRecompiledNotAnError() {
        StoredBinary stale = entry(GPU, "smoke-cachekey", List.of("saxpy"));
        byte[] damaged = stale.binary().clone();
        damaged[0] ^= 1;
        StoredBinary entry = new StoredBinary(stale.manifestFile(), stale.manifest(), damaged);
        Resolution r = ProgramResolver.resolve(request(GPU, DeviceType.GPU), List.of(), Optional.of(entry));
        Resolution.Rebuild rebuild = assertInstanceOf(Resolution.Rebuild.class, r);
        assertTrue(rebuild.reason().contains("checksum"), rebuild.reason());
        assertSame(entry, rebuild.damaged());
    }

    /** A binary cut short whose manifest was written for the short bytes: the checksum agrees, the layout does not. */
    private static StoredBinary truncated(StoredBinary e) {
        byte[] cut = java.util.Arrays.copyOf(e.binary(), e.binary().length - 10);
        BitstreamManifest m = e.manifest();
        BitstreamManifest.BinaryFile f = m.binary();
        BitstreamManifest shortened = new BitstreamManifest(m.schema(), m.family(), m.familyVersion(), m.sourceSha256(), m.options(),
                m.optionsSha256(), m.compilerOptions(), m.target(), new BitstreamManifest.BinaryFile(f.file(), Sha256.of(cut), cut.length,
                f.format()), m.kernels(), m.builtBy(), m.builtAt());
        return new StoredBinary(e.manifestFile(), shortened, cut);
    }

    @Test
    void aTruncatedBinaryWithAMatchingChecksumIsRejectedFromTheStoreAndRebuiltFromTheCache() {
        StoredBinary stored = truncated(entry(FPGA, "smoke-a10", List.of("saxpy")));
        Resolution r = ProgramResolver.resolve(request(FPGA, DeviceType.ACCELERATOR), List.of(stored), Optional.empty());
        String msg = assertInstanceOf(Resolution.Reject.class, r).error().getMessage();
        assertTrue(msg.contains("layout ") && msg.contains("lies outside"), msg);

        StoredBinary cached = truncated(entry(GPU, "smoke-cachekey", List.of("saxpy")));
        Resolution rebuild = ProgramResolver.resolve(request(GPU, DeviceType.GPU), List.of(), Optional.of(cached));
        assertTrue(assertInstanceOf(Resolution.Rebuild.class, rebuild).reason().startsWith("layout "), rebuild.toString());
    }

    @Test
    void aStoredBinaryWinsOverTheCache() {
        StoredBinary stored = entry(GPU, "smoke-gpu", List.of("saxpy"));
        Resolution r = ProgramResolver.resolve(request(GPU, DeviceType.GPU), List.of(stored),
                Optional.of(entry(GPU, "smoke-cachekey", List.of("saxpy"))));
        assertSame(stored, assertInstanceOf(Resolution.Load.class, r).entry());
    }

    @Test
    void intelFpgaBoardNamesComeFromTheDeviceName() {
        assertEquals("pac_a10", DeviceTarget.boardName("Intel(R) FPGA SDK for OpenCL(TM)", "pac_a10 : Intel PAC Platform (pac_ee00000)"));
        assertEquals("xilinx_u250_gen3x16_xdma_shell_4_1", DeviceTarget.boardName("Xilinx", "xilinx_u250_gen3x16_xdma_shell_4_1"));
        assertEquals(null, DeviceTarget.boardName("Portable Computing Language", "pthread-skylake-avx512"));
    }
}
