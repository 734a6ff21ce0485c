package dev.offload.bench;

import dev.offload.config.OffloadSettings;
import dev.offload.device.DeviceRegistry;
import dev.offload.model.EncoderModel;
import dev.offload.model.EncoderRunner;
import dev.offload.model.EncoderRunners;
import dev.offload.model.Pooling;
import dev.offload.runtime.DevicePool;
import java.util.Optional;

/**
 * The encoder runner {@code offload run --device SPEC} would use ({@link EncoderRunners}, the rule both share)
 * and the device pool it was opened on; closing it closes both.
 */
record OpenedRunner(EncoderRunner runner, DevicePool pool) implements AutoCloseable {

    /** The runner for {@code spec}, or empty (with the reason printed as a note) when it cannot be opened here. */
    static Optional<OpenedRunner> open(String spec, EncoderModel model) {
        DevicePool[] pool = {null};
        try {
            EncoderRunner r = EncoderRunners.open(model, Pooling.MEAN, null, spec,
                    () -> pool[0] = DevicePool.open(DeviceRegistry.discover(OffloadSettings.current())), false, null);
            return Optional.of(new OpenedRunner(r, pool[0]));
        } catch (RuntimeException e) {
            if (pool[0] != null) pool[0].close();
            Peer.note("no encoder runner for '" + spec + "' here (" + Peer.rootMessage(e) + ")");
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        runner.close();
        if (pool != null) pool.close();
    }
}
