package dev.sluice.redis;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP proxy in front of a real Redis, on 127.0.0.1, that a test turns faulty: it reads each
 * command the client sends (RESP arrays of bulk strings, which is all Lettuce sends) and can
 * <ul>
 *   <li>hold every command for a fixed time before passing it on ({@link #delay}: Redis, or the
 *       network, slow by that much; the order of commands is kept),
 *   <li>replace the next script commands ({@code EVALSHA}/{@code EVAL}) by a script that answers
 *       a given error reply ({@link #injectError}: {@code WRONGTYPE}, {@code OOM}, {@code BUSY},
 *       {@code MOVED}… exactly as Redis would send it, in order with the other replies),
 *   <li>pass the next script command on and then cut the connection the moment Redis starts to
 *       answer, without forwarding the reply ({@link #loseNextScriptReply}): the command ran, the
 *       client never learns it,
 *   <li>accept connections and close them at once ({@link #refuse}, and {@link #dropAll} for
 *       those open): a server that is down, while every connection attempt is still seen.
 * </ul>
 * Every accepted connection is timestamped ({@link #accepts()}). Threads are daemons; {@link
 * #close()} ends them and every socket.
 */
final class ChaosProxy implements AutoCloseable {

  private final int upstreamPort;
  private final ServerSocket server;
  private final Thread acceptor;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<Long> accepts = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Long> served = new ConcurrentLinkedQueue<>();
  private final AtomicReference<String> injected = new AtomicReference<>();
  private final AtomicInteger injectCount = new AtomicInteger();
  private final AtomicInteger loseReplies = new AtomicInteger();
  private final AtomicLong held = new AtomicLong();
  private final AtomicLong maxHeld = new AtomicLong();
  private final AtomicLong scripts = new AtomicLong();
  private volatile long delayNanos;
  private volatile boolean refusing;
  private volatile boolean closed;

  ChaosProxy(int upstreamPort) {
    this.upstreamPort = upstreamPort;
    try {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    acceptor = daemon(this::acceptLoop, "chaos-accept");
  }

  /** A proxy in front of the server at {@code redis://127.0.0.1:port}. */
  static ChaosProxy to(String uri) {
    return new ChaosProxy(Integer.parseInt(uri.substring(uri.lastIndexOf(':') + 1)));
  }

  String uri() {
    return "redis://127.0.0.1:" + server.getLocalPort();
  }

  /** Holds every command this long before passing it on (0: none). */
  void delay(long nanos) {
    delayNanos = nanos;
  }

  /** The next {@code count} script commands get {@code errorReply} (without its "-") instead. */
  void injectError(String errorReply, int count) {
    injected.set(errorReply);
    injectCount.set(count);
  }

  /** The next script command runs in Redis, and its connection is cut before the reply. */
  void loseNextScriptReply() {
    loseReplies.set(1);
  }

  /** While on, every new connection is closed as soon as it is accepted. */
  void refuse(boolean on) {
    refusing = on;
  }

  /** Closes every connection open now (both sides). */
  void dropAll() {
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    sockets.clear();
  }

  /** When each connection was accepted, in {@link System#nanoTime()}. */
  List<Long> accepts() {
    return List.copyOf(accepts);
  }

  /** When each connection that was passed on to Redis was accepted (not those refused). */
  List<Long> served() {
    return List.copyOf(served);
  }

  /** Commands received and not yet passed on (held by {@link #delay}). */
  long held() {
    return held.get();
  }

  /** The most commands ever held at once. */
  long maxHeld() {
    return maxHeld.get();
  }

  /** Script commands ({@code EVALSHA}, {@code EVAL}) received so far. */
  long scripts() {
    return scripts.get();
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    dropAll();
    acceptor.interrupt();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      accepts.add(System.nanoTime());
      if (refusing) {
        closeQuietly(client);
        continue;
      }
      Socket upstream = new Socket();
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), upstreamPort), 1000);
      } catch (IOException e) {
        closeQuietly(client);
        closeQuietly(upstream);
        continue;
      }
      served.add(System.nanoTime());
      sockets.add(client);
      sockets.add(upstream);
      Connection c = new Connection(client, upstream);
      daemon(c::requests, "chaos-requests");
      daemon(c::sender, "chaos-sender");
      daemon(c::replies, "chaos-replies");
    }
  }

  /** A command on its way, due to be passed on at {@code due}. */
  private record Held(long due, byte[] bytes, boolean loseReply) {}

  private final class Connection {
    final Socket client;
    final Socket upstream;
    final LinkedBlockingQueue<Held> queue = new LinkedBlockingQueue<>();
    volatile boolean cutOnReply;

    Connection(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    /** Reads whole commands from the client, rewrites them if asked, and queues them. */
    void requests() {
      try (InputStream in = new BufferedInputStream(client.getInputStream())) {
        for (;;) {
          byte[][] args = readCommand(in);
          if (args == null) {
            break;
          }
          String name = new String(args[0], StandardCharsets.US_ASCII).toUpperCase(Locale.ROOT);
          boolean script = name.equals("EVALSHA") || name.equals("EVAL");
          boolean lose = false;
          if (script) {
            scripts.incrementAndGet();
            String error = injected.get();
            if (error != null && injectCount.getAndDecrement() > 0) {
              args = new byte[][] {bytes("EVAL"), bytes("return redis.error_reply(ARGV[1])"),
                  bytes("0"), bytes(error)};
            }
            lose = loseReplies.getAndSet(0) == 1;
          }
          long h = held.incrementAndGet();
          maxHeld.accumulateAndGet(h, Math::max);
          queue.add(new Held(System.nanoTime() + delayNanos, encode(args), lose));
        }
      } catch (IOException e) {
        // the client went away
      }
      closeBoth();
    }

    /** Passes queued commands on in order, each when it is due. */
    void sender() {
      try {
        OutputStream out = upstream.getOutputStream();
        while (!client.isClosed() && !closed) {
          Held c = queue.poll(100, TimeUnit.MILLISECONDS);
          if (c == null) {
            continue;
          }
          long wait;
          while ((wait = c.due() - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          if (c.loseReply()) {
            cutOnReply = true;
          }
          out.write(c.bytes());
          out.flush();
          held.decrementAndGet();
        }
      } catch (IOException | InterruptedException e) {
        // a side went away
      }
      held.addAndGet(-queue.size());
      queue.clear();
      closeBoth();
    }

    /** Copies Redis's replies back, or cuts the connection at the first byte of a lost one. */
    void replies() {
      byte[] buf = new byte[16 * 1024];
      try (InputStream in = upstream.getInputStream()) {
        OutputStream out = client.getOutputStream();
        int n;
        while ((n = in.read(buf)) > 0) {
          if (cutOnReply) {
            break;
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // a side went away
      }
      closeBoth();
    }

    void closeBoth() {
      closeQuietly(client);
      closeQuietly(upstream);
      sockets.remove(client);
      sockets.remove(upstream);
    }
  }

  /** One RESP array of bulk strings, or null at the end of the stream. */
  static byte[][] readCommand(InputStream in) throws IOException {
    String head = readLine(in);
    if (head == null) {
      return null;
    }
    if (head.isEmpty() || head.charAt(0) != '*') {
      throw new IOException("not a RESP array: " + head);
    }
    int n = Integer.parseInt(head.substring(1));
    byte[][] args = new byte[n][];
    for (int i = 0; i < n; i++) {
      String len = readLine(in);
      if (len == null || len.isEmpty() || len.charAt(0) != '$') {
        throw new IOException("not a bulk string: " + len);
      }
      byte[] arg = in.readNBytes(Integer.parseInt(len.substring(1)));
      in.readNBytes(2);
      args[i] = arg;
    }
    return args;
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\r') {
        in.read();
        return line.toString(StandardCharsets.US_ASCII);
      }
      line.write(b);
    }
    return null;
  }

  static byte[] encode(byte[][] args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes("*" + args.length + "\r\n"));
    for (byte[] a : args) {
      out.writeBytes(bytes("$" + a.length + "\r\n"));
      out.writeBytes(a);
      out.writeBytes(bytes("\r\n"));
    }
    return out.toByteArray();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing anyway
    }
  }
}
