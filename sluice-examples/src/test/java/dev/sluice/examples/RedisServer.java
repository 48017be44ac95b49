package dev.sluice.examples;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server on 127.0.0.1 that a test starts and kills (a small copy of sluice-redis's
 * test helper): the {@code redis-server} on the PATH if there is one, else the Linux binary that
 * the {@code embedded-redis} test dependency ships (extracted once to {@code target/redis-bin}).
 * Without either, tests that must kill Redis are skipped; {@link #external()} gives the server at
 * {@code REDIS_URL} to tests that only use it. Only the process started here is ever stopped, by
 * its {@link Process} handle (and by a shutdown hook if a test forgot).
 */
final class RedisServer implements AutoCloseable {

  private static final String EMBEDDED = "redis-server-6.2.6-v5-linux-amd64";
  private static Path binary;

  final int port;
  private final Process process;
  private final Path dir;
  private final Thread reaper;

  private RedisServer(int port, Process process, Path dir) {
    this.port = port;
    this.process = process;
    this.dir = dir;
    this.reaper = new Thread(process::destroyForcibly, "redis-server-reaper-" + port);
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** Whether this machine can start a server (a binary exists). */
  static boolean canStart() {
    return binary() != null;
  }

  /** {@code REDIS_URL}, or null. */
  static String external() {
    String url = System.getenv("REDIS_URL");
    return url == null || url.isBlank() ? null : url;
  }

  /** Starts a server with no persistence on a free port; waits (bounded) until it answers PING. */
  static RedisServer start() throws IOException, InterruptedException {
    Path bin = binary();
    if (bin == null) {
      throw new IllegalStateException("no redis-server on the PATH nor in the embedded-redis jar");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path dir = Files.createTempDirectory("sluice-demo-redis-");
    Process p = new ProcessBuilder(List.of(bin.toString(), "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
        "--loglevel", "warning", "--protected-mode", "no"))
        .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
    RedisServer server = new RedisServer(port, p, dir);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!server.answersPing()) {
      if (!p.isAlive() || System.nanoTime() - deadline > 0) {
        server.close();
        throw new IllegalStateException("redis-server on port " + port + " did not start: "
            + Files.readString(dir.resolve("redis.log")));
      }
      p.waitFor(5, TimeUnit.MILLISECONDS);
    }
    return server;
  }

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Whether the server answers PING now (a plain socket, no client library). */
  boolean answersPing() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] reply = s.getInputStream().readNBytes(7);
      return new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  /** SIGKILL, no shutdown; returns once the process is gone. */
  void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("redis-server on port " + port + " survived SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    kill();
    try {
      Files.deleteIfExists(dir.resolve("redis.log"));
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a temp directory left behind
    }
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down; the hook runs anyway
    }
  }

  /** redis-server on the PATH, else the one in the embedded-redis jar, else null. */
  private static synchronized Path binary() {
    if (binary != null) {
      return binary;
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(File.pathSeparator)) {
        Path p = Path.of(d, "redis-server");
        if (Files.isExecutable(p)) {
          return binary = p;
        }
      }
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return null;
    }
    try (InputStream in = RedisServer.class.getClassLoader().getResourceAsStream(EMBEDDED)) {
      if (in == null) {
        return null;
      }
      Path dir = Path.of("target", "redis-bin");
      Files.createDirectories(dir);
      Path target = dir.resolve("redis-server").toAbsolutePath();
      if (!Files.isExecutable(target)) {
        Path tmp = Files.createTempFile(dir, "redis-server", ".tmp");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        if (!tmp.toFile().setExecutable(true)) {
          return null;
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
      return binary = target;
    } catch (IOException e) {
      return null;
    }
  }
}
