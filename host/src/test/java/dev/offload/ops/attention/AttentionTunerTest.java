package dev.offload.ops.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.device.PoclCpuDevice;
import dev.offload.tuning.TunedEntry;
import dev.offload.tuning.TuningDb;
import dev.offload.tuning.TuningStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Attention's split parameters: they drive the split, the tuner checks and ranks them, the runtime reads them back. */
class AttentionTunerTest {
    @RegisterExtension static final PoclCpuDevice cpu = new PoclCpuDevice();

    @Test
    void theSplitFollowsTheConfiguration() {
        AttentionShape decode = new AttentionShape(1, 4, 2, 1, 4096, 64);
        assertEquals(4096, new FusedAttention(cpu.device(), new AttentionConfig(8, 4096, 4096)).splitSize(decode), "one split: min split = all keys");
        assertEquals(256, new FusedAttention(cpu.device(), new AttentionConfig(1, 64, 256)).splitSize(decode), "decode walk capped at 256 keys");
        int many = new FusedAttention(cpu.device(), new AttentionConfig(64, 64, 4096)).splitSize(decode);
        int few = new FusedAttention(cpu.device(), new AttentionConfig(2, 64, 4096)).splitSize(decode);
        assertTrue(many < few, "more work-items per compute unit, shorter splits: " + many + " vs " + few);
        assertEquals(0, many % FusedAttention.KEY_BLOCK);
    }

    @Test
    void quickTuningMeasuresCheckedCandidatesAndItsEntryIsWhatTheRuntimeReadsBack() {
        List<AttentionTuner.Outcome> heard = new ArrayList<>();
        AttentionTuner.Result r = new AttentionTuner(cpu.device(), new AttentionTuner.Options(true, Duration.ofSeconds(3), 1, 9)).tune(heard::add);
        assertEquals(r.outcomes(), heard);
        assertEquals(AttentionConfig.forDevice(cpu.device().info()), r.outcomes().getFirst().config());
        assertTrue(r.outcomes().stream().noneMatch(o -> o.status() == AttentionTuner.Status.WRONG), r.outcomes().toString());
        AttentionTuner.Outcome w = r.winner().orElseThrow();
        assertEquals(AttentionTuner.QUICK_SHAPES.size(), w.gflops().size());

        TunedEntry e = AttentionTuner.entry(r, w);
        AttentionConfig.Choice back = AttentionConfig.resolve(cpu.device().info(), new TuningStore(null, TuningDb.empty().with(e)));
        assertEquals(TuningStore.Source.DB, back.source());
        assertEquals(w.config(), back.config());
    }

    @Test
    void aWrongAnswerIsMeasuredAsAnInfiniteOrLargeError() {
        float[] want = {1f, -2f, 0.5f};
        assertEquals(0, AttentionTuner.relativeError(want, want.clone()));
        assertTrue(AttentionTuner.relativeError(want, new float[] {1f, -2f, Float.NaN}) == Double.POSITIVE_INFINITY);
        assertTrue(AttentionTuner.relativeError(want, new float[] {1f, -2f, 0.6f}) > AttentionReference.FLOAT32_BOUND);
    }
}
