package dev.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The shaded jar started as a separate process, the way the README says ({@code java -jar
 * sluice-examples/target/sluice-examples-<version>.jar ...}), for the integration tests. Its
 * output goes to a file, not a pipe: {@link Process#destroy()} closes the pipes, and the lines
 * printed while stopping must still be read. Only this process is ever stopped, by its handle.
 */
final class DemoProcess implements AutoCloseable {

  static final String LISTENING = "Sluice demo listening on ";

  final Process process;
  final Path output;

  DemoProcess(Map<String, String> env, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar().toString()));
    cmd.addAll(List.of(args));
    output = Files.createTempFile("sluice-demo-", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(output.toFile());
    pb.environment().keySet().removeIf(k -> k.equals("PORT") || k.startsWith("SLUICE_"));
    pb.environment().putAll(env);
    process = pb.start();
  }

  /** The jar that {@code mvn package} built (system property {@code demo.jar}). */
  static Path jar() {
    String p = System.getProperty("demo.jar");
    assumeTrue(p != null && Files.isRegularFile(Path.of(p)),
        "the shaded jar (system property demo.jar) exists only after mvn package");
    return Path.of(p);
  }

  List<String> lines() throws IOException {
    return Files.readAllLines(output, StandardCharsets.UTF_8);
  }

  /** Waits (bounded) for a line starting with {@code prefix}; returns the first such line. */
  String await(String prefix) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      boolean exited = !process.isAlive();
      for (String line : lines()) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      if (exited || System.nanoTime() > deadline) {
        throw new AssertionError("no line starting with \"" + prefix + "\"; output: " + lines());
      }
      process.waitFor(50, TimeUnit.MILLISECONDS);
    }
  }

  /** The base URL from the banner, e.g. {@code http://127.0.0.1:40123}. */
  String baseUrl() throws IOException, InterruptedException {
    String line = await(LISTENING);
    String url = line.substring(LISTENING.length()).strip();
    assertThat(url).matches("http://127\\.0\\.0\\.1:[0-9]{2,5}/");
    return url.substring(0, url.length() - 1);
  }

  /** SIGTERM ({@link Process#destroy()} on Linux); waits (bounded) for the exit status. */
  int sigterm() throws InterruptedException {
    process.destroy();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
    return process.exitValue();
  }

  @Override
  public void close() throws IOException {
    if (process.isAlive()) {
      process.destroyForcibly();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (process.isAlive() && System.nanoTime() - deadline < 0) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
    }
    Files.deleteIfExists(output);
  }
}
