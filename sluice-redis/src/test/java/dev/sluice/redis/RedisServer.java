package dev.sluice.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * A real redis-server on 127.0.0.1 that this test JVM starts, kills and restarts: the
 * {@code redis-server} on the PATH if there is one, else the Linux binary that the
 * {@code embedded-redis} test dependency ships (extracted once to {@code target/redis-bin}).
 * Without either, {@link #external()} gives the server at {@code REDIS_URL}, which the tests can
 * use but must not kill. Every process started here is destroyed by a shutdown hook too, and
 * only those: by their {@link Process} handle. Public, and shipped in this module's test-jar,
 * for other modules' tests (the demo server's).
 */
public final class RedisServer implements AutoCloseable {

  private static final Set<Process> STARTED = ConcurrentHashMap.newKeySet();
  private static final String EMBEDDED = "redis-server-6.2.6-v5-linux-amd64";
  private static volatile Path binary;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (Process p : STARTED) {
        p.destroyForcibly();
      }
    }, "redis-server-reaper"));
  }

  final int port;
  private final List<String> extraArgs;
  private final Path dir;
  private volatile Process process;

  private RedisServer(int port, List<String> extraArgs, Path dir) {
    this.port = port;
    this.extraArgs = extraArgs;
    this.dir = dir;
  }

  /** Whether this machine can start servers (a binary exists). */
  public static boolean canStart() {
    return binary() != null;
  }

  /** The {@code REDIS_URL} environment variable, or null. */
  static String external() {
    String url = System.getenv("REDIS_URL");
    return url == null || url.isBlank() ? null : url;
  }

  /** Starts a server on a free port. */
  public static RedisServer start(String... extraArgs) {
    return start(freePort(false), extraArgs);
  }

  static RedisServer start(int port, String... extraArgs) {
    try {
      Path dir = Files.createTempDirectory("sluice-redis-" + port + "-");
      RedisServer s = new RedisServer(port, List.of(extraArgs), dir);
      s.launch();
      return s;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Starts (again) on the same port, with an empty data set; waits until it answers PING. */
  synchronized void launch() {
    Path bin = binary();
    if (bin == null) {
      throw new IllegalStateException("no redis-server on the PATH nor in the embedded-redis jar");
    }
    List<String> cmd = new ArrayList<>(List.of(bin.toString(),
        "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--daemonize", "no", "--dir", dir.toString(),
        "--loglevel", "warning", "--protected-mode", "no"));
    cmd.addAll(extraArgs);
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(dir.resolve("redis.log").toFile()).start();
      STARTED.add(p);
      process = p;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!answersPing()) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server on port " + port + " exited: " + log());
      }
      if (System.nanoTime() - end > 0) {
        throw new IllegalStateException("redis-server on port " + port + " did not start: " + log());
      }
      LockSupport.parkNanos(2_000_000L);
    }
  }

  /** Kills the server (SIGKILL, no shutdown) and waits for it to be gone. */
  public synchronized void kill() {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      STARTED.remove(p);
      process = null;
    }
  }

  boolean isRunning() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** Whether a server on the port answers PING now (a plain socket, no client library). */
  boolean answersPing() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[7];
      int n = in.readNBytes(buf, 0, 7);
      return n == 7 && new String(buf, StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  private String log() {
    try {
      return Files.readString(dir.resolve("redis.log"));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  @Override
  public void close() {
    kill();
  }

  /**
   * A free port on 127.0.0.1; with {@code clusterBus}, one whose cluster bus port (+10000) is
   * free too.
   */
  static int freePort(boolean clusterBus) {
    for (int attempt = 0; attempt < 100; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      if (!clusterBus) {
        return port;
      }
      if (port + 10_000 > 65_535) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(port + 10_000, 1, java.net.InetAddress.getLoopbackAddress())) {
        if (s.getLocalPort() == port + 10_000) {
          return port;
        }
      } catch (IOException e) {
        // bus port taken: try another
      }
    }
    throw new IllegalStateException("no free port pair for a cluster node");
  }

  /** The binary: redis-server on the PATH, else the one in the embedded-redis jar, else null. */
  static Path binary() {
    Path b = binary;
    if (b != null) {
      return b;
    }
    synchronized (RedisServer.class) {
      if (binary != null) {
        return binary;
      }
      String path = System.getenv("PATH");
      if (path != null) {
        for (String d : path.split(java.io.File.pathSeparator)) {
          Path p = Path.of(d, "redis-server");
          if (Files.isExecutable(p)) {
            binary = p;
            return p;
          }
        }
      }
      String os = System.getProperty("os.name", "").toLowerCase();
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
          tmp.toFile().setExecutable(true);
          Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        binary = target;
        return target;
      } catch (IOException e) {
        return null;
      }
    }
  }
}
