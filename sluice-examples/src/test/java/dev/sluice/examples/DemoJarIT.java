package dev.sluice.examples;

import static dev.sluice.examples.DemoServerTest.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar as a separate process, started the way the README says ({@code java -jar
 * sluice-examples/target/sluice-examples-<version>.jar ...}, here on port 0), driven over HTTP,
 * then stopped with SIGTERM ({@link Process#destroy()} on Linux). Runs in the integration-test
 * phase, after the jar is built.
 */
class DemoJarIT {

  private static final String LISTENING = "Sluice demo listening on ";

  private static Path jar() {
    String p = System.getProperty("demo.jar");
    assumeTrue(p != null && Files.isRegularFile(Path.of(p)),
        "the shaded jar (system property demo.jar) exists only after mvn package");
    return Path.of(p);
  }

  /**
   * A started jar. Its output goes to a file, not a pipe: {@link Process#destroy()} closes the
   * pipes, and the lines printed while stopping must still be read.
   */
  private static final class Demo implements AutoCloseable {
    final Process process;
    final Path output;

    Demo(Map<String, String> env, String... args) throws IOException {
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
        process.waitFor(100, TimeUnit.MILLISECONDS);
      }
    }

    String baseUrl() throws IOException, InterruptedException {
      String line = await(LISTENING);
      String url = line.substring(LISTENING.length()).strip();
      assertThat(url).matches("http://127\\.0\\.0\\.1:[0-9]{2,5}/");
      return url.substring(0, url.length() - 1);
    }

    int sigterm() throws InterruptedException {
      process.destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
      return process.exitValue();
    }

    @Override
    public void close() throws IOException {
      Files.deleteIfExists(output);
      if (process.isAlive()) {
        process.destroyForcibly();
        try {
          process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  @Test
  void jar_readmeFlags_servesLimitsAndStopsCleanlyOnSigterm() throws Exception {
    try (Demo demo = new Demo(Map.of(), "--port", "0", "--limit", "10/s", "--burst", "20")) {
      String base = demo.baseUrl();
      assertThat(demo.await("  curl -i ")).isEqualTo("  curl -i " + base + "/hello");
      HttpResponse<String> hello = get(base + "/hello");
      assertThat(hello.statusCode()).isEqualTo(200);
      assertThat(hello.body()).isEqualTo("Hello from Sluice!\n");
      assertThat(hello.headers().firstValue("X-RateLimit-Remaining")).hasValue("19");
      assertThat(get(base + "/").body()).contains("<svg id=\"chart\"");
      // at 10/s, a 21-request burst cannot all pass unless the requests take seconds
      HttpResponse<String> refused = null;
      for (int i = 0; i < 200 && refused == null; i++) {
        HttpResponse<String> r = get(base + "/hello");
        if (r.statusCode() == 429) {
          refused = r;
        } else {
          assertThat(r.statusCode()).isEqualTo(200);
        }
      }
      assertThat(refused).as("a 429 within 200 requests").isNotNull();
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");

      assertThat(demo.sigterm()).isZero();
      assertThat(demo.await("Sluice demo stopped")).isEqualTo("Sluice demo stopped cleanly.");
      assertThatThrownBy(() -> get(base + "/hello")).isInstanceOf(ConnectException.class);
    }
  }

  @Test
  void jar_environmentVariables_sameAsFlags() throws Exception {
    try (Demo demo = new Demo(Map.of("PORT", "0", "SLUICE_LIMIT", "1/h",
        "SLUICE_KEY", "header:X-API-Key", "SLUICE_HEADERS", "ietf"))) {
      String base = demo.baseUrl();
      assertThat(get(base + "/hello").statusCode()).isEqualTo(403);
      HttpResponse<String> ok = get(base + "/hello", "X-API-Key", "k");
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.headers().firstValue("RateLimit-Policy")).hasValue("\"api\";q=1;w=3600");
      assertThat(ok.headers().firstValue("X-RateLimit-Limit")).isEmpty();
      assertThat(get(base + "/hello", "X-API-Key", "k").statusCode()).isEqualTo(429);
      assertThat(demo.sigterm()).isZero();
    }
  }

  @Test
  void jar_helpAndBadFlags_usageAndExitStatus() throws Exception {
    try (Demo help = new Demo(Map.of(), "--help")) {
      assertThat(help.await("Usage: ")).startsWith("Usage: java -jar");
      assertThat(help.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(help.process.exitValue()).isZero();
    }
    try (Demo bad = new Demo(Map.of(), "--limit", "lots")) {
      assertThat(bad.await("sluice-demo: ")).contains("--limit \"lots\"");
      assertThat(bad.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(bad.process.exitValue()).isEqualTo(2);
    }
  }
}
