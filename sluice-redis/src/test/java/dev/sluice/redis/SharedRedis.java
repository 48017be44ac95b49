package dev.sluice.redis;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Servers shared by the test classes of one JVM: a standalone server and a 3-master Cluster,
 * each started on first use and killed when the JVM exits (or the server at {@code REDIS_URL}
 * when no binary is available; there is no Cluster then, and its tests are skipped).
 */
final class SharedRedis {

  private static RedisServer standalone;
  private static String standaloneUri;
  private static List<RedisServer> cluster;
  private static final AtomicInteger NAMES = new AtomicInteger();

  private SharedRedis() {}

  /** A limiter name not used before in this JVM (so tests never share buckets). */
  static String uniqueName(String prefix) {
    return prefix + "-" + ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet();
  }

  /** The shared standalone server's URI; skips the test if there is none. */
  static synchronized String uri() {
    if (standaloneUri == null) {
      if (RedisServer.canStart()) {
        standalone = RedisServer.start();
        standaloneUri = standalone.uri();
      } else {
        standaloneUri = RedisServer.external();
      }
    }
    assumeTrue(standaloneUri != null, "no redis-server binary and no REDIS_URL");
    return standaloneUri;
  }

  /** The shared 3-master Cluster's URI ({@code redis-cluster://…}); skips if it cannot start. */
  static synchronized String clusterUri() {
    assumeTrue(RedisServer.canStart(), "no redis-server binary to start a Cluster with");
    if (cluster == null) {
      cluster = startCluster(3);
    }
    StringBuilder sb = new StringBuilder("redis-cluster://");
    for (int i = 0; i < cluster.size(); i++) {
      sb.append(i == 0 ? "" : ",").append("127.0.0.1:").append(cluster.get(i).port);
    }
    return sb.toString();
  }

  /** The ports of the shared Cluster's nodes. */
  static synchronized List<Integer> clusterPorts() {
    clusterUri();
    List<Integer> ports = new ArrayList<>();
    for (RedisServer s : cluster) {
      ports.add(s.port);
    }
    return ports;
  }

  /**
   * Starts {@code masters} nodes with {@code --cluster-enabled yes}, splits the 16384 slots
   * between them with {@code CLUSTER ADDSLOTS} (Redis 6.2 has no ADDSLOTSRANGE), joins them with
   * {@code CLUSTER MEET}, and waits (bounded) until every node reports {@code cluster_state:ok}.
   */
  static List<RedisServer> startCluster(int masters) {
    List<RedisServer> nodes = new ArrayList<>();
    for (int i = 0; i < masters; i++) {
      nodes.add(RedisServer.start(RedisServer.freePort(true), "--cluster-enabled", "yes",
          "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"));
    }
    List<RedisClient> clients = new ArrayList<>();
    try {
      List<RedisCommands<String, String>> cmds = new ArrayList<>();
      for (RedisServer n : nodes) {
        RedisClient c = RedisClient.create(n.uri());
        clients.add(c);
        StatefulRedisConnection<String, String> conn = c.connect();
        cmds.add(conn.sync());
      }
      int per = 16384 / masters;
      for (int i = 0; i < masters; i++) {
        int from = i * per;
        int to = i == masters - 1 ? 16383 : from + per - 1;
        int[] slots = new int[to - from + 1];
        for (int s = from; s <= to; s++) {
          slots[s - from] = s;
        }
        cmds.get(i).clusterAddSlots(slots);
      }
      for (int i = 1; i < masters; i++) {
        cmds.get(0).clusterMeet("127.0.0.1", nodes.get(i).port);
      }
      long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      for (RedisCommands<String, String> c : cmds) {
        while (!(c.clusterInfo().contains("cluster_state:ok")
            && c.clusterInfo().contains("cluster_known_nodes:" + masters))) {
          if (System.nanoTime() - end > 0) {
            throw new IllegalStateException("the cluster did not converge: " + c.clusterInfo());
          }
          LockSupport.parkNanos(20_000_000L);
        }
      }
      // every node must also see every other node's slots
      for (RedisCommands<String, String> c : cmds) {
        while (c.clusterSlots().size() < masters) {
          if (System.nanoTime() - end > 0) {
            throw new IllegalStateException("slots did not propagate: " + c.clusterSlots());
          }
          LockSupport.parkNanos(20_000_000L);
        }
      }
    } catch (RuntimeException e) {
      for (RedisServer n : nodes) {
        n.kill();
      }
      throw e;
    } finally {
      for (RedisClient c : clients) {
        c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
      }
    }
    return nodes;
  }
}
