package dev.sluice.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.async.RedisServerAsyncCommands;
import io.lettuce.core.api.async.RedisStringAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The connection behind the stores of one factory: one Lettuce connection (standalone or
 * Cluster) shared by every store the factory created, opened with the first store and closed
 * with the last (or when the factory is closed). A client the connector created from a URI is
 * its own, and shut down with the connection; a client the user passed in is never shut down.
 *
 * <p>If Redis cannot be reached, creating a store waits up to {@link #FIRST_CONNECT_WAIT} for the
 * first connection (the wait ends with the attempt: a refused connection or one past the connect
 * timeout ends it at once, so the full wait is spent only on a connection being made slowly, as
 * on a loaded machine), then goes on without one: calls fail at once (the limiter follows its
 * failure mode) and start a new attempt in the background, at most one at a time and one per
 * {@link #RETRY_INTERVAL}. Once connected, Lettuce reconnects by itself; the options below make
 * sure that it never replays a command after a reconnect and that commands sent while
 * disconnected fail at once.
 */
final class Connector {

  static final Duration FIRST_CONNECT_WAIT = Duration.ofSeconds(10);
  static final Duration RETRY_INTERVAL = Duration.ofMillis(100);
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  static final int REQUEST_QUEUE_SIZE = 16_384;

  /** Non-null when the connector makes (and owns) its client from a URI. */
  private final String uri;
  private final List<RedisURI> parsed;
  private final boolean clusterUri;
  private final String description;

  private RedisClient standalone;
  private RedisClusterClient cluster;
  private ClientResources ownedResources;
  private int stores;
  private boolean closed;
  private StatefulConnection<byte[], byte[]> connection;
  private volatile RedisScriptingAsyncCommands<byte[], byte[]> commands;
  /** The same connection's string and server commands, for {@link StateWatch}; null with it. */
  private volatile RedisStringAsyncCommands<byte[], byte[]> strings;
  private volatile RedisServerAsyncCommands<byte[], byte[]> server;
  private Thread attempt;
  private long lastAttempt;
  private Deadlines deadlines;
  private volatile ThreadPoolExecutor sender;

  private Connector(RedisClient standalone, RedisClusterClient cluster, String uri,
      List<RedisURI> parsed, boolean clusterUri, String description) {
    this.standalone = standalone;
    this.cluster = cluster;
    this.uri = uri;
    this.parsed = parsed;
    this.clusterUri = clusterUri;
    this.description = description;
  }

  static Connector of(RedisClient client) {
    return new Connector(client, null, null, null, false, "Redis");
  }

  static Connector of(RedisClusterClient client) {
    return new Connector(null, client, null, null, true, "Redis Cluster");
  }

  /**
   * A connector making its own client from {@code uri}: {@code redis://}, {@code rediss://} or
   * {@code redis-socket://} for one server, {@code redis-cluster://host:port[,host:port...]} (or
   * {@code rediss-cluster://}) for a Cluster given by its seed nodes. The URI is checked here; the
   * client is made when the first store is created, and shut down when the last is closed.
   */
  static Connector of(String uri) {
    int colon = uri.indexOf("://");
    if (colon < 0) {
      throw new IllegalArgumentException(
          "uri (\"" + uri + "\") must start with redis://, rediss://, redis-socket://,"
              + " redis-cluster:// or rediss-cluster://");
    }
    String scheme = uri.substring(0, colon);
    try {
      if (scheme.equals("redis-cluster") || scheme.equals("rediss-cluster")) {
        String plain = scheme.startsWith("rediss") ? "rediss" : "redis";
        List<RedisURI> seeds = seeds(plain, uri.substring(colon + 3));
        return new Connector(null, null, uri, seeds, true, "Redis Cluster " + hosts(seeds));
      }
      List<RedisURI> one = List.of(RedisURI.create(uri));
      return new Connector(null, null, uri, one, false, "Redis " + hosts(one));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("uri (\"" + uri + "\") is not a valid Redis URI: "
          + e.getMessage(), e);
    }
  }

  /** Makes the client from the URI; called with the lock held, when the first store arrives. */
  private void makeClient() {
    ownedResources = ClientResources.builder().reconnectDelay(reconnectDelay()).build();
    if (clusterUri) {
      cluster = RedisClusterClient.create(ownedResources, parsed);
      cluster.setOptions(clusterClientOptions());
    } else {
      standalone = RedisClient.create(ownedResources, parsed.get(0));
      standalone.setOptions(clientOptions());
    }
  }

  /**
   * The wait before each reconnection attempt: exponential backoff with full jitter, uniform in
   * {@code [0, min(RECONNECT_CAP, RECONNECT_BASE * 2^(attempt - 1))]} (0–100 ms, 0–200 ms, …,
   * then 0–1 s), so that the nodes of a fleet that lost Redis together do not retry in lockstep:
   * each draws its own waits, and a restarted server sees them arrive over up to a second
   * rather than all at once. The cost: a node reconnects up to {@link #RECONNECT_CAP} after
   * Redis is back (the failure mode answers meanwhile). Lettuce's own {@code Delay.fullJitter}
   * is not this: it waits at least half of the exponential step.
   */
  static Delay reconnectDelay() {
    return FullJitter.INSTANCE;
  }

  static final Duration RECONNECT_BASE = Duration.ofMillis(100);
  static final Duration RECONNECT_CAP = Duration.ofSeconds(1);

  /** {@link #reconnectDelay()}: stateless, one for every connection. */
  static final class FullJitter extends Delay {
    static final FullJitter INSTANCE = new FullJitter();

    private FullJitter() {}

    @Override
    public Duration createDelay(long attempt) {
      long cap = RECONNECT_CAP.toNanos();
      long upper = RECONNECT_BASE.toNanos();
      for (long i = 1; i < attempt && upper < cap; i++) {
        upper <<= 1;
      }
      upper = Math.min(upper, cap);
      return Duration.ofNanos(ThreadLocalRandom.current().nextLong(upper + 1));
    }
  }

  private static List<RedisURI> seeds(String scheme, String rest) {
    int end = rest.length();
    for (int i = 0; i < rest.length(); i++) {
      if (rest.charAt(i) == '/' || rest.charAt(i) == '?') {
        end = i;
        break;
      }
    }
    String authority = rest.substring(0, end);
    String tail = rest.substring(end);
    int at = authority.lastIndexOf('@');
    String userInfo = at < 0 ? "" : authority.substring(0, at + 1);
    List<RedisURI> seeds = new ArrayList<>();
    for (String host : authority.substring(at + 1).split(",")) {
      if (host.isEmpty()) {
        throw new IllegalArgumentException("a cluster URI lists an empty host: \"" + rest + "\"");
      }
      seeds.add(RedisURI.create(scheme + "://" + userInfo + host + tail));
    }
    return seeds;
  }

  private static String hosts(List<RedisURI> uris) {
    StringBuilder sb = new StringBuilder();
    for (RedisURI u : uris) {
      sb.append(sb.length() == 0 ? "" : ",").append(u.getHost()).append(':').append(u.getPort());
    }
    return sb.toString();
  }

  /** The options Sluice sets on a client it creates; see {@link RedisStore#clientOptions()}. */
  static ClientOptions clientOptions() {
    return ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .replayFilter(command -> true)
        .requestQueueSize(REQUEST_QUEUE_SIZE)
        .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).keepAlive(true).build())
        .build();
  }

  /**
   * The same for a Cluster client, with a topology refresh every 30 s besides the adaptive ones
   * (on redirects and reconnects), which Lettuce 7 enables by default. The replay filter is set
   * again: {@code ClusterClientOptions.builder(ClientOptions)} does not copy it, and without it a
   * Cluster client would replay every command in flight after a reconnect.
   */
  static ClusterClientOptions clusterClientOptions() {
    ClusterClientOptions.Builder b = ClusterClientOptions.builder(clientOptions())
        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
            .enablePeriodicRefresh(Duration.ofSeconds(30))
            .build());
    b.replayFilter(command -> true);
    return b.build();
  }

  boolean isCluster() {
    return clusterUri;
  }

  @Override
  public String toString() {
    return description;
  }

  /** Registers a store; the first one opens the connection (waiting a bounded time for it). */
  void acquire() {
    Thread started;
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the Redis store factory is closed");
      }
      if (stores++ == 0) {
        if (uri != null) {
          makeClient();
        }
        deadlines = new Deadlines();
        ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 0, TimeUnit.NANOSECONDS,
            new LinkedBlockingQueue<>(), r -> {
              Thread t = new Thread(r, "sluice-redis-sender");
              t.setDaemon(true);
              return t;
            });
        e.prestartAllCoreThreads();
        sender = e;
        lastAttempt = 0;
      }
      started = commands == null ? startAttempt() : null;
    }
    if (started != null) {
      long end = System.nanoTime() + FIRST_CONNECT_WAIT.toNanos();
      while (commands == null && started.isAlive() && end - System.nanoTime() > 0) {
        LockSupport.parkNanos(1_000_000L);
      }
    }
  }

  /** Unregisters a store; the last one closes the connection and what the connector owns. */
  void release() {
    synchronized (this) {
      if (stores == 0 || --stores > 0) {
        return;
      }
    }
    shutdown(false);
  }

  /** The string commands of the connection, or null when not connected. */
  RedisStringAsyncCommands<byte[], byte[]> strings() {
    return strings;
  }

  /** The server commands of the connection, or null when not connected. */
  RedisServerAsyncCommands<byte[], byte[]> server() {
    return server;
  }

  /** The command interface, or null when not connected (and then an attempt is started). */
  RedisScriptingAsyncCommands<byte[], byte[]> commands() {
    RedisScriptingAsyncCommands<byte[], byte[]> c = commands;
    if (c == null) {
      synchronized (this) {
        if (stores > 0 && commands == null) {
          startAttempt();
        }
      }
    }
    return c;
  }

  /**
   * Where work that sends commands runs when it is started on one of Lettuce's I/O threads (a
   * reply completing): one daemon thread of this connector, never an I/O thread. A command
   * written from an I/O thread goes out at once, ahead of the commands other threads handed to
   * it before; written from any other thread, it is queued behind them, in the order they were
   * written. Started with the first store, ended with the last; null when there is none.
   */
  Executor sender() {
    return sender;
  }

  /** The deadline watcher of asynchronous calls, or null once shut down. */
  Deadlines deadlines() {
    return deadlines;
  }

  /** Starts a connection attempt unless one is running or the last was too recent. */
  private Thread startAttempt() {
    long now = System.nanoTime();
    if ((attempt != null && attempt.isAlive())
        || (lastAttempt != 0 && now - lastAttempt < RETRY_INTERVAL.toNanos())) {
      return attempt;
    }
    lastAttempt = now;
    RedisClient s = standalone;
    RedisClusterClient c = cluster;
    Thread t = new Thread(() -> connect(s, c), "sluice-redis-connect");
    t.setDaemon(true);
    attempt = t;
    t.start();
    return t;
  }

  private void connect(RedisClient s, RedisClusterClient cc) {
    StatefulConnection<byte[], byte[]> c;
    RedisScriptingAsyncCommands<byte[], byte[]> async;
    RedisStringAsyncCommands<byte[], byte[]> str;
    RedisServerAsyncCommands<byte[], byte[]> srv;
    try {
      if (cc != null) {
        StatefulRedisClusterConnection<byte[], byte[]> conn = cc.connect(ByteArrayCodec.INSTANCE);
        c = conn;
        async = conn.async();
        str = conn.async();
        srv = conn.async();
        // Open the node connections now: with REJECT_COMMANDS, Lettuce rejects a command whose
        // node connection is still being opened, so lazy opening would fail the first calls.
        for (RedisClusterNode node : conn.getPartitions()) {
          if (node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
            try {
              conn.getConnection(node.getUri().getHost(), node.getUri().getPort());
            } catch (RuntimeException e) {
              // that node is down for now: its calls fail until Lettuce reconnects
            }
          }
        }
      } else {
        StatefulRedisConnection<byte[], byte[]> conn = s.connect(ByteArrayCodec.INSTANCE);
        c = conn;
        async = conn.async();
        str = conn.async();
        srv = conn.async();
      }
    } catch (RuntimeException e) {
      return;
    }
    synchronized (this) {
      if (stores > 0 && connection == null && s == standalone && cc == cluster) {
        connection = c;
        strings = str;
        server = srv;
        commands = async;
        return;
      }
    }
    c.closeAsync();
  }

  /** Closes everything for good: later stores cannot be created. Idempotent. */
  void close() {
    shutdown(true);
  }

  /** Closes the connection, the deadline thread, and the client if it is the connector's own. */
  private void shutdown(boolean forever) {
    StatefulConnection<byte[], byte[]> c;
    Deadlines t;
    ThreadPoolExecutor e;
    RedisClient s = null;
    RedisClusterClient cc = null;
    ClientResources r;
    synchronized (this) {
      if (forever) {
        if (closed) {
          return;
        }
        closed = true;
      }
      stores = 0;
      c = connection;
      t = deadlines;
      r = ownedResources;
      if (r != null) {
        s = standalone;
        cc = cluster;
        standalone = null;
        cluster = null;
        ownedResources = null;
      }
      connection = null;
      commands = null;
      strings = null;
      server = null;
      deadlines = null;
      e = sender;
      sender = null;
    }
    if (c != null) {
      c.close();
    }
    if (t != null) {
      t.stop();
    }
    if (e != null) {
      e.shutdown();
    }
    if (s != null) {
      s.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    if (cc != null) {
      cc.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    if (r != null) {
      r.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }
}
