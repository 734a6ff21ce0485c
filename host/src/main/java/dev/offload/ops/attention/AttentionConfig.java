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
 * @param tiled                 the GPU-shaped kernel (attention_tiled) and its tile, or null: the CPU-shaped kernels
 *                              (attention_fused_rows, attention_fused with the splits above)
 */
public record AttentionConfig(int itemsPerComputeUnit, int minSplitKeys, int maxDecodeKeysPerItem, Tiled tiled) {
    /** The op's name in the tuning database and in {@code tune --ops}. */
    public static final String OP = "attention";

    public AttentionConfig {
        if (itemsPerComputeUnit < 1 || minSplitKeys < FusedAttention.KEY_BLOCK || maxDecodeKeysPerItem < FusedAttention.KEY_BLOCK) {
            throw new IllegalArgumentException("attention split parameters must be positive and at least one key block ("
                    + FusedAttention.KEY_BLOCK + " keys): items per compute unit " + itemsPerComputeUnit
                    + ", min split keys " + minSplitKeys + ", max decode keys per item " + maxDecodeKeysPerItem);
        }
    }

    /** The CPU-shaped kernels only (no tiled kernel). */
    public AttentionConfig(int itemsPerComputeUnit, int minSplitKeys, int maxDecodeKeysPerItem) {
        this(itemsPerComputeUnit, minSplitKeys, maxDecodeKeysPerItem, null);
    }

    /** This configuration with the tiled kernel (a test or a user forcing it, e.g. on PoCL), or null: without it. */
    public AttentionConfig withTiled(Tiled t) { return new AttentionConfig(itemsPerComputeUnit, minSplitKeys, maxDecodeKeysPerItem, t); }

    /**
     * The tile of attention_tiled (attention.cl): one work-group of {@code itemsPerRow x rows} work-items owns
     * {@code rows} query rows of one head and walks the keys in tiles of {@code keys}, staged in local memory.
     *
     * @param rows        query rows per work-group (TILED_BR)
     * @param keys        keys per tile (TILED_BC); a multiple of itemsPerRow, at most 64 (FLOAT32_BOUND's blocks)
     * @param itemsPerRow work-items per query row (TILED_TR): a power of two; the head dimension must be a multiple
     * @param subGroups   reduce a row's max and sum with sub-group functions (the kernel falls back to local-memory
     *                    trees where the device's sub-groups are not itemsPerRow wide)
     */
    public record Tiled(int rows, int keys, int itemsPerRow, boolean subGroups) {
        public Tiled {
            if (rows < 1 || itemsPerRow < 1 || Integer.bitCount(itemsPerRow) != 1 || keys < itemsPerRow || keys % itemsPerRow != 0
                    || keys > 64 || (long) rows * itemsPerRow > 1024) {
                throw new IllegalArgumentException("attention tile: rows " + rows + ", keys " + keys + ", items per row " + itemsPerRow
                        + " (items per row a power of two dividing keys, keys at most 64, at most 1024 work-items a group)");
            }
        }

        /**
         * GPUs: 16 rows, 32 keys, 16 items a row (256 work-items; Q, K/V and weights of a tile in 27 KiB of local
         * memory at D = 128), sub-groups where the device has them. Not measured on a GPU yet: a starting point
         * for {@code tune}.
         */
        public static Tiled forDevice(DeviceInfo info) {
            return new Tiled(16, 32, 16, info.hasExtension("cl_khr_subgroups") || info.hasExtension("cl_intel_subgroups"));
        }

        /** Bytes of local memory a work-group uses for a head dimension (attention_tiled's four arrays). */
        public long localBytes(int headDim) { return 4L * ((long) rows * headDim + (long) keys * headDim + (long) rows * keys + (long) rows * itemsPerRow); }

        /**
         * This tile for a head dimension on a device with {@code localMemBytes}: the key tile halved until it fits
         * (at D = 256 on 48 KiB: 16 keys), or null when the kernel does not apply (D not a multiple of itemsPerRow,
         * or no key tile fits): the caller takes attention_fused.
         */
        public Tiled fitted(int headDim, long localMemBytes) {
            if (headDim % itemsPerRow != 0) return null;
            for (int bc = keys; bc >= itemsPerRow; bc /= 2) {
                Tiled t = new Tiled(rows, bc, itemsPerRow, subGroups);
                if (t.localBytes(headDim) <= localMemBytes) return t;
                if (bc % 2 != 0 || (bc / 2) % itemsPerRow != 0) break;
            }
            return null;
        }

        /** The build defines. */
        String defines() {
            return "-DTILED_BR=" + rows + " -DTILED_BC=" + keys + " -DTILED_TR=" + itemsPerRow + " -DTILED_SUBGROUPS=" + (subGroups ? 1 : 0);
        }

        String brief() { return rows + "x" + keys + "/" + itemsPerRow + (subGroups ? " sg" : ""); }
    }

    /**
     * CPUs: a few work-items per core, the CPU-shaped kernels; GPUs: hundreds per compute unit to hide memory latency,
     * and the tiled kernel.
     */
    public static AttentionConfig forDevice(DeviceInfo info) {
        boolean cpu = info.type() == DeviceType.CPU;
        return new AttentionConfig(cpu ? 8 : 256, 256, 1024, cpu ? null : Tiled.forDevice(info));
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
                return new Choice(fromParams(found.get().entry(), info), found.get().source());
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
        p.put("tiled", tiled != null);
        if (tiled != null) {
            p.put("tiledRows", tiled.rows());
            p.put("tiledKeys", tiled.keys());
            p.put("tiledItemsPerRow", tiled.itemsPerRow());
            p.put("tiledSubGroups", tiled.subGroups());
        }
        return p;
    }

    /** An entry's configuration; entries made before the tiled kernel (no "tiled" key) get the device's default tile. */
    public static AttentionConfig fromParams(TunedEntry e, DeviceInfo info) {
        Tiled t;
        if (!e.params().containsKey("tiled")) t = forDevice(info).tiled();
        else if (!Boolean.parseBoolean(e.stringParam("tiled"))) t = null;
        else t = new Tiled(e.intParam("tiledRows"), e.intParam("tiledKeys"), e.intParam("tiledItemsPerRow"),
                Boolean.parseBoolean(e.stringParam("tiledSubGroups")));
        return new AttentionConfig(e.intParam("itemsPerComputeUnit"), e.intParam("minSplitKeys"), e.intParam("maxDecodeKeysPerItem"), t);
    }

    public String brief() {
        return itemsPerComputeUnit + "/cu min" + minSplitKeys + " max" + maxDecodeKeysPerItem + (tiled != null ? " tiled " + tiled.brief() : "");
    }

    public String describe() {
        return "split keys for " + itemsPerComputeUnit + " work-items per compute unit, splits of at least " + minSplitKeys
                + " keys, decode at most " + maxDecodeKeysPerItem + " keys per work-item"
                + (tiled != null ? "; tiled kernel: " + tiled.rows() + " query rows x " + tiled.keys() + " keys a tile, "
                + tiled.itemsPerRow() + " work-items a row" + (tiled.subGroups() ? ", sub-group reductions" : "") : "");
    }
}
