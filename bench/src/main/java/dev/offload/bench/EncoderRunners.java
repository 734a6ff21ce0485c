package dev.offload.bench;

import dev.offload.cli.RunCommand;
import dev.offload.model.EncoderModel;
import dev.offload.model.EncoderRunner;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Optional;
import picocli.CommandLine;

/**
 * Opens the encoder runner {@code offload run --device SPEC} would use, by asking {@link RunCommand} itself: the
 * bench then measures whatever runners the CLI has (the java reference today; the OpenCL graph runtime once it
 * is wired in) without a second copy of the device-to-runner rule. RunCommand's factory is package-private, so it
 * is called reflectively, on a command whose options picocli has parsed.
 */
final class EncoderRunners {
    private EncoderRunners() {}

    /** The runner for {@code spec}, or empty (with the reason in the note) when {@code run} refuses that device. */
    static Optional<EncoderRunner> open(String spec, EncoderModel model) {
        RunCommand command = new RunCommand();
        try {
            new CommandLine(command).parseArgs("--device", spec);
            Method factory = factory();
            factory.setAccessible(true);
            return Optional.of((EncoderRunner) factory.invoke(command, model));
        } catch (InvocationTargetException e) {
            Peer.note("run --device " + spec + " has no encoder runner here (" + Peer.rootMessage(e.getCause()) + ")");
            return Optional.empty();
        } catch (ReflectiveOperationException | RuntimeException e) {
            Peer.note("could not open the encoder runner of 'run --device " + spec + "' (" + Peer.rootMessage(e) + ")");
            return Optional.empty();
        }
    }

    /** RunCommand's method that turns its --device into a runner for a model. */
    private static Method factory() throws NoSuchMethodException {
        for (Method m : RunCommand.class.getDeclaredMethods()) {
            if (EncoderRunner.class.isAssignableFrom(m.getReturnType()) && m.getParameterCount() == 1
                    && m.getParameterTypes()[0] == EncoderModel.class) {
                return m;
            }
        }
        throw new NoSuchMethodException("RunCommand has no method (EncoderModel) -> EncoderRunner");
    }
}
