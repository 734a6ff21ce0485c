package dev.offload.runtime;

import dev.offload.device.ComputeDevice;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Where each tensor of one micro-batch has copies during a run, and its KV cache. */
final class Residency {
    final int microBatch;
    final KvCache cache;
    final Map<String, Map<ComputeDevice, DeviceTensor>> copies = new HashMap<>();

    Residency(int microBatch, KvCache cache) {
        this.microBatch = microBatch;
        this.cache = cache;
    }

    Map<ComputeDevice, DeviceTensor> of(String tensor) { return copies.computeIfAbsent(tensor, k -> new LinkedHashMap<>()); }
}
