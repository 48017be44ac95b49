package dev.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.redis.RedisServer;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's demo snippets, taken from README.md by their markers
 * ({@code <!-- sluice-readme-test: NAME ... -->} before a {@code ```sh} block) and run with bash
 * from the repository's root, as a reader would paste them, against the jar the build made and
 * a real redis-server this test starts. The only edits: the servers' ports and Redis's address
 * become free ones, so that the test never meets a server it did not start. Needs bash and curl.
 */
class ReadmeSnippetsIT {

  private static final Pattern JAR = Pattern.compile("^JAR=(\\S+)$", Pattern.MULTILINE);
  /** The output a snippet promises, in a comment: {@code # 200 200 429: why}. */
  private static final Pattern PROMISE =
      Pattern.compile("^# ((?:\\d{3} )+\\d{3}):", Pattern.MULTILINE);

  private static Path readme() {
    String p = System.getProperty("sluice.readme");
    assumeTrue(p != null && Files.isRegularFile(Path.of(p)), "README.md (system property"
        + " sluice.readme, set by the pom)");
    return Path.of(p);
  }

  /** The {@code ```sh} block after the marker {@code name}. */
  static String snippet(String readme, String name) {
    int marker = readme.indexOf("<!-- sluice-readme-test: " + name + " ");
    assertThat(marker).as("README marker " + name).isNotNegative();
    int start = readme.indexOf("```sh\n", marker);
    assertThat(start).as("a sh block after the marker " + name).isPositive();
    assertThat(readme.substring(marker, start).strip()).as("nothing between marker and block")
        .endsWith("-->");
    start += "```sh\n".length();
    int end = readme.indexOf("```", start);
    return readme.substring(start, end);
  }

  private static boolean onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  private static String replace(String text, String regex, String by) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as(regex + " in the snippet").isTrue();
    return m.replaceAll(Matcher.quoteReplacement(by));
  }

  /** bash running {@code script} from the repository's root, this JDK's java first on the PATH. */
  private static Process bash(Path root, String script, Path output) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(root.toFile())
        .redirectErrorStream(true).redirectOutput(output.toFile());
    pb.environment().keySet().removeIf(k -> k.equals("PORT") || k.startsWith("SLUICE_"));
    pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin")
        + File.pathSeparator + pb.environment().getOrDefault("PATH", ""));
    return pb.start();
  }

  /** Stops what the script left running (only its own descendants), then the script. */
  private static void stop(Process bash) {
    List<ProcessHandle> left = bash.descendants().toList();
    left.forEach(ProcessHandle::destroy);
    bash.destroy();
    for (ProcessHandle h : left) {
      try {
        h.onExit().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
  }

  @Test
  void twoServersOneLimit_pastedAsIs_printsWhatItPromises() throws Exception {
    assumeTrue(onPath("bash") && onPath("curl"), "needs bash and curl on the PATH");
    assumeTrue(RedisServer.canStart(), "needs a redis-server on the PATH or in embedded-redis");
    Path readme = readme();
    Path root = readme.getParent();
    String snippet = snippet(Files.readString(readme), "two-servers");

    Matcher jar = JAR.matcher(snippet);
    assertThat(jar.find()).as("JAR=… in the snippet").isTrue();
    assertThat(root.resolve(jar.group(1)).toRealPath())
        .as("the README's jar is the jar the build made").isEqualTo(DemoProcess.jar().toRealPath());
    Matcher promise = PROMISE.matcher(snippet);
    assertThat(promise.find()).as("the output promised, as '# 200 …: why'").isTrue();

    // A Redis call that misses its deadline (50 ms; a cold JVM on a loaded machine can) is
    // answered by the failure mode, as documented, and the output differs: the servers' backend
    // errors, read before the snippet stops them, tell that apart from a wrong snippet. Then it
    // runs again on a fresh Redis; a difference without backend errors fails at once.
    List<String> attempts = new ArrayList<>();
    for (int attempt = 1; attempt <= 3; attempt++) {
      Run run = runTwoServers(root, snippet, promise.group(1));
      if (run.printed()) {
        assertThat(run.ended()).as("it stops its servers: " + run.ran()).isTrue();
        assertThat(run.out()).as(run.ran()).contains("Sluice demo stopped cleanly in ");
        return;
      }
      assertThat(run.backendErrors()).as("the promised output, or backend errors to explain its"
          + " absence: " + run.ran()).isPositive();
      attempts.add(run.ran());
    }
    throw new AssertionError("three runs, each with backend errors:\n" + attempts);
  }

  /** One run of the two-servers snippet, on a fresh Redis and fresh ports. */
  private record Run(boolean printed, boolean ended, double backendErrors, String out,
      String ran) {}

  private static Run runTwoServers(Path root, String snippet, String promised) throws Exception {
    Path output = Files.createTempFile("sluice-readme-", ".log");
    try (RedisServer redis = RedisServer.start()) {
      int a = freePort();
      int b = freePort();
      String script = replace(snippet, "redis://localhost:6379", redis.uri());
      script = replace(script, "\\b8080\\b", Integer.toString(a));
      script = replace(script, "\\b8081\\b", Integer.toString(b));
      String scrape = "for p in " + a + " " + b + "; do curl -s localhost:$p/metrics"
          + " | grep '^sluice_backend_errors_total'; done\n";
      String instrumented = replace(script, "(?m)^kill ", scrape + "kill ");
      // wait for the servers the snippet stopped, so that none outlives the test
      Process bash = bash(root, instrumented + "\nwait\n", output);
      boolean ended;
      try {
        ended = bash.waitFor(180, TimeUnit.SECONDS);
      } finally {
        stop(bash);
      }
      String out = Files.readString(output, StandardCharsets.UTF_8);
      double errors = 0;
      Matcher m = Pattern.compile("(?m)^sluice_backend_errors_total\\{[^}]*\\} (\\S+)$")
          .matcher(out);
      while (m.find()) {
        errors += Double.parseDouble(m.group(1));
      }
      return new Run(out.contains(promised + "\n"), ended, errors, out,
          "the snippet, run as\n" + script + "\nprinted\n" + out);
    } finally {
      Files.deleteIfExists(output);
    }
  }

  @Test
  void demoCommand_javaJarHalf_startsTheDemoAsDescribed() throws Exception {
    assumeTrue(onPath("bash"), "needs bash on the PATH");
    Path readme = readme();
    Path root = readme.getParent();
    String block = snippet(Files.readString(readme), "demo-command");
    Matcher command = Pattern.compile("^mvn (.+) && (java -jar \\S+.*)$", Pattern.MULTILINE)
        .matcher(block);
    assertThat(command.find()).as("mvn … && java -jar … in\n" + block).isTrue();
    assertThat(command.group(1)).as("builds the demo without tests and docs")
        .contains("-pl sluice-examples -am package -Pquick");

    Path output = Files.createTempFile("sluice-readme-", ".log");
    // a later --port wins: port 0, so that it never meets a server it did not start
    Process bash = bash(root, "exec " + command.group(2) + " --port 0", output);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      String out = "";
      while (!out.contains("Open http://") && bash.isAlive()
          && System.nanoTime() - deadline < 0) {
        bash.waitFor(50, TimeUnit.MILLISECONDS);
        out = Files.readString(output, StandardCharsets.UTF_8);
      }
      out = Files.readString(output, StandardCharsets.UTF_8);
      assertThat(out).as("the banner of " + command.group(2))
          .contains("  Requests to /hello are limited to 10/s with bursts of 20 per client IP;");
      bash.destroy(); // exec: this is the demo's JVM, and SIGTERM stops it
      assertThat(bash.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(bash.exitValue()).isZero();
    } finally {
      stop(bash);
      Files.deleteIfExists(output);
    }
  }
}
