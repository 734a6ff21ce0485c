package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import dev.offload.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload bitstreams build|import|list|verify}, run in-process against a temporary store. */
class BitstreamsCommandTest {
    static CliRun offload(String... args) { return CliRun.of(args); }

    @Test
    void buildThenVerifyPassesAndACorruptedBinaryFailsVerify(@TempDir Path store) throws IOException {
        CliRun build = offload("bitstreams", "build", "--device", "cl:cpu", "--ops", "smoke", "--store", store.toString());
        assertEquals(0, build.exit(), build.out() + build.err());
        assertTrue(build.out().contains("saxpy"), build.out());
        List<Path> bins;
        try (Stream<Path> files = Files.list(store)) {
            bins = files.filter(p -> p.toString().endsWith(".bin")).toList();
        }
        assertEquals(1, bins.size());

        CliRun list = offload("bitstreams", "list", "--store", store.toString());
        assertEquals(0, list.exit());
        assertTrue(list.out().contains("family") && list.out().contains("smoke") && list.out().contains("saxpy")
                && list.out().contains("offload 0.1.0 via panama"), list.out());

        CliRun verify = offload("bitstreams", "verify", "--store", store.toString());
        assertEquals(0, verify.exit(), verify.out() + verify.err());
        assertTrue(verify.out().contains("all checks passed"), verify.out());
        assertTrue(verify.out().contains("load      PASS"), verify.out());

        byte[] b = Files.readAllBytes(bins.getFirst());
        b[100] ^= (byte) 0x80;
        Files.write(bins.getFirst(), b);
        CliRun broken = offload("bitstreams", "verify", "--store", store.toString());
        assertEquals(1, broken.exit(), broken.out());
        assertTrue(broken.out().contains("checksum  FAIL"), broken.out());
        assertTrue(broken.out().contains("1 check(s) failed"), broken.out());
    }

    /** Imports the synthetic Xilinx saxpy binary into a new store under {@code tmp}; returns the store. */
    private static Path importSyntheticXclbin(Path tmp) throws IOException {
        Path xclbin = Files.write(tmp.resolve("saxpy.xclbin"), BitstreamImportTest.syntheticXclbin());
        Path store = tmp.resolve("store");
        CliRun imp = offload("bitstreams", "import", xclbin.toString(), "--device-name", BitstreamImportTest.SHELL,
                "--platform", "Xilinx", "--store", store.toString());
        assertEquals(0, imp.exit(), imp.out() + imp.err());
        return store;
    }

    @Test
    void importedBinariesAreListedAndVerifiedWithoutTheirDevice(@TempDir Path tmp) throws IOException {
        Path store = importSyntheticXclbin(tmp);

        CliRun list = offload("bitstreams", "list", "--store", store.toString());
        assertTrue(list.out().contains(BitstreamImportTest.SHELL + " [Xilinx]") && list.out().contains("v++ (Xilinx Vitis), imported"),
                list.out());

        CliRun verify = offload("bitstreams", "verify", "--store", store.toString());
        assertEquals(0, verify.exit(), verify.out());
        assertTrue(verify.out().contains("target    SKIP"), verify.out());

        CliRun noKernels = offload("bitstreams", "import", tmp.resolve("missing.aocx").toString(),
                "--device-name", "x", "--platform", "y", "--store", store.toString());
        assertEquals(2, noKernels.exit());
        assertTrue(noKernels.err().contains("cannot read"), noKernels.err());
    }

    @Test
    void verifyAgainstAnExplicitDeviceFailsForAnotherDevicesBinary(@TempDir Path tmp) throws IOException {
        Path store = importSyntheticXclbin(tmp);
        CliRun verify = offload("bitstreams", "verify", "--device", "cl:cpu", "--store", store.toString());
        assertEquals(1, verify.exit(), verify.out());
        assertTrue(verify.out().contains("device name: built for '" + BitstreamImportTest.SHELL + "'"), verify.out());
    }
}
