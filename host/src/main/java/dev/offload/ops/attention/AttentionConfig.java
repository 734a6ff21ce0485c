package dev.offload.ops.attention;

import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.tuning.TunedEntry;
import dev.offload.tuning.TuningStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * How the fused attention kernel splits the keys when there are few query rows (decode, Sq &lt; 16): the
 * flash-decoding split that {@link FusedAttention#splitSize} computes from these.
 *
 * @param itemsPerComputeUnit   work-items wanted per compute unit; rows times splits aim for this many
 * @param minSplitKeys          no split shorter than this (partials and the merge cost more than the parallelism gains)
 * @param maxDecodeKeysPerItem  decode-sized queries (Sq &lt;= 4) are split so no work-item walks more keys than this
 */
public record AttentionConfig(int itemsPerComputeUnit, int minSplitKeys, int maxDecodeKeysPerItem) {
    /** The op's name in the tuning database and in {@code tune --ops}. */
    public static final String OP = "attention";

    public AttentionConfig {
        if (itemsPerComputeUnit < 1 || minSplitKeys < FusedAttention.KEY_BLOCK || maxDecodeKeysPerItem < FusedAttention.KEY_BLOCK) {
            throw new IllegalArgumentException("attention split parameters must be positive and at least one key block ("
                    + FusedAttention.KEY_BLOCK + " keys): items per compute unit " + itemsPerComputeUnit
                    + ", min split keys " + minSplitKeys + ", max decode keys per item " + maxDecodeKeysPerItem);
        }
    }

    /** CPUs: a few work-items per core; GPUs: hundreds per compute unit to hide memory latency. */
    public static AttentionConfig forDevice(DeviceInfo info) {
        return new AttentionConfig(info.type() == DeviceType.CPU ? 8 : 256, 256, 1024);
    }

    /** A configuration and where it came from (see {@link TuningStore.Source}). */
    public record Choice(AttentionConfig config, TuningStore.Source source) {
        public String describe() { return config.describe() + " [" + source.label() + "]"; }
    }

    /** The tuned entry for this device and driver (user cache, then the repository), else {@link #forDevice}. */
    public static Choice resolve(DeviceInfo info) { return resolve(info, TuningStore.standard()); }

    public static Choice resolve(DeviceInfo info, TuningStore store) {
        Optional<TuningStore.Found> found = store.find(OP, info.name(), info.driverVersion());
        if (found.isPresent()) {
            try {
                return new Choice(fromParams(found.get().entry()), found.get().source());
            } catch (IllegalArgumentException e) {
                LoggerFactory.getLogger(AttentionConfig.class).warn("ignoring tuned attention entry for {}: {}", info.name(), e.getMessage());
            }
        }
        return new Choice(forDevice(info), TuningStore.Source.DEFAULT);
    }

    public Map<String, Object> toParams() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("itemsPerComputeUnit", itemsPerComputeUnit);
        p.put("minSplitKeys", minSplitKeys);
        p.put("maxDecodeKeysPerItem", maxDecodeKeysPerItem);
        return p;
    }

    public static AttentionConfig fromParams(TunedEntry e) {
        return new AttentionConfig(e.intParam("itemsPerComputeUnit"), e.intParam("minSplitKeys"), e.intParam("maxDecodeKeysPerItem"));
    }

    public String brief() { return itemsPerComputeUnit + "/cu min" + minSplitKeys + " max" + maxDecodeKeysPerItem; }

    public String describe() {
        return "split keys for " + itemsPerComputeUnit + " work-items per compute unit, splits of at least " + minSplitKeys
                + " keys, decode at most " + maxDecodeKeysPerItem + " keys per work-item";
    }
}
