package dev.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.redis.RedisServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Shutdown under load, measured: the jar as a real process, a steady load from several client
 * threads (half of them on {@code /hello?delay=}{@value #SLOW_MS}, so that requests are surely in
 * flight), SIGTERM in the middle of it. Every request must end in one of three ways: answered
 * 200 or 429; refused with 503 by the draining server (a request that arrived on an open
 * keep-alive connection after the stop began: answered, not lost); or refused at connect time
 * once the listener is closed. None may hang past {@link #HUNG}, none may be cut off (reset,
 * truncated, no response) after it was sent, and the process must exit 0 within the stop
 * timeout. A request decided by a limiter already closed would get the filter's 503
 * ({@code application/problem+json}: a closed limiter refuses in modes local and closed), which
 * is not accepted: the limiter must close after the drain. Prints the figures of each round
 * ({@code -Ddemo.shutdown.rounds=N}, default 2; every second one with the buckets in Redis).
 */
class DemoShutdownIT {

  private static final int SLOW_CLIENTS = 4;
  private static final int FAST_CLIENTS = 4;
  private static final int SLOW_MS = 400;
  /** A request without an answer after this long is hung. */
  private static final Duration HUNG = Duration.ofSeconds(10);
  private static final int ROUNDS = Integer.getInteger("demo.shutdown.rounds", 2);

  enum Kind { OK_200, LIMITED_429, DRAINING_503, REFUSED_AT_CONNECT, OTHER_STATUS, HUNG, BROKEN }

  /** One request: what happened, and when it started and ended (nanos, client clock). */
  record Sample(Kind kind, boolean slow, long start, long end, String detail) {}

  @Test
  void sigterm_underLoad_noRequestLostOrHung_exitsZeroWithinTheStopTimeout() throws Exception {
    List<String> figures = new ArrayList<>();
    for (int round = 1; round <= ROUNDS; round++) {
      if (round % 2 == 0 && RedisServer.canStart()) {
        // every second round with the buckets in Redis: its client is closed after the drain
        try (RedisServer redis = RedisServer.start()) {
          figures.add(round(round, redis.uri()));
        }
      } else {
        figures.add(round(round, null));
      }
    }
    System.out.println(String.join("\n", figures));
  }

  private static String round(int round, String redis) throws Exception {
    // each slow client its own bucket (never empty at 2.5/s), the fast ones one between them
    List<String> args = new ArrayList<>(List.of("--port", "0", "--limit", "500/s", "--burst",
        "500", "--key", "header:X-Client"));
    if (redis != null) {
      // local, not closed: a Redis call that misses its 50 ms deadline on a busy machine is then
      // answered by this node's buckets (200 or 429), while a limiter already closed still
      // refuses with the problem+json 503 this test looks for
      args.addAll(List.of("--redis", redis, "--failure-mode", "local"));
    }
    try (DemoProcess demo = new DemoProcess(Map.of(), args.toArray(new String[0]))) {
      String base = demo.baseUrl();
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      AtomicLong sigtermAt = new AtomicLong();
      Queue<Sample> samples = new ConcurrentLinkedQueue<>();
      CountDownLatch warm = new CountDownLatch(SLOW_CLIENTS);
      ExecutorService clients = Executors.newFixedThreadPool(SLOW_CLIENTS + FAST_CLIENTS);
      for (int c = 0; c < SLOW_CLIENTS + FAST_CLIENTS; c++) {
        boolean slow = c < SLOW_CLIENTS;
        URI uri = URI.create(base + (slow ? "/hello?delay=" + SLOW_MS : "/hello"));
        String key = slow ? "slow-" + c : "fast";
        long stagger = slow ? TimeUnit.MILLISECONDS.toNanos((long) SLOW_MS * c / SLOW_CLIENTS) : 0;
        clients.execute(() -> {
          LockSupport.parkNanos(stagger); // slow requests in flight at every phase
          int done = 0;
          while (true) {
            Sample s = send(client, uri, key, slow);
            samples.add(s);
            if (++done == 2 && slow) {
              warm.countDown();
            }
            long t = sigtermAt.get();
            // a client stops at its first refused connection after SIGTERM (the listener is
            // closed), or after 20 s in any case
            if (t != 0 && (s.kind == Kind.REFUSED_AT_CONNECT
                || System.nanoTime() - t > TimeUnit.SECONDS.toNanos(20))) {
              return;
            }
          }
        });
      }
      long t0;
      boolean exited;
      long exitNanos;
      try {
        assertThat(warm.await(60, TimeUnit.SECONDS)).as("load running").isTrue();
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300)); // mid-load, not at its start
        t0 = System.nanoTime();
        sigtermAt.set(t0);
        demo.process.destroy(); // SIGTERM
        exited = demo.process.waitFor(DemoServer.STOP_TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS);
        exitNanos = System.nanoTime() - t0;
      } finally {
        sigtermAt.compareAndSet(0, System.nanoTime()); // on failure too, the clients wind down
        clients.shutdown();
      }
      assertThat(clients.awaitTermination(HUNG.toSeconds() + 30, TimeUnit.SECONDS))
          .as("every client thread ended: none hung").isTrue();

      assertThat(exited).as("exited within the stop timeout + 5 s").isTrue();
      assertThat(demo.process.exitValue()).isZero();
      String stopped = demo.await("Sluice demo stopped");
      assertThat(stopped).matches("Sluice demo stopped cleanly in \\d+ ms\\.");

      Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
      int inFlightAtSigterm = 0;
      int drained = 0;
      long maxDrainedMs = 0;
      long lastAnswerMs = 0;
      List<Sample> bad = new ArrayList<>();
      for (Sample s : samples) {
        counts.merge(s.kind, 1, Integer::sum);
        if (s.start - t0 < 0 && s.end - t0 > 0) {
          inFlightAtSigterm++;
        }
        boolean answered = s.kind == Kind.OK_200 || s.kind == Kind.LIMITED_429;
        if (s.kind == Kind.OTHER_STATUS || s.kind == Kind.HUNG || s.kind == Kind.BROKEN
            || (s.kind == Kind.REFUSED_AT_CONNECT && s.end - t0 < 0)
            || (s.kind == Kind.DRAINING_503 && s.end - t0 < 0)) {
          bad.add(s);
        }
        if (answered && s.start - t0 < 0 && s.end - t0 > 0) {
          drained++;
          maxDrainedMs = Math.max(maxDrainedMs, (s.end - t0) / 1_000_000);
        }
        if (answered) {
          lastAnswerMs = Math.max(lastAnswerMs, (s.end - t0) / 1_000_000);
        }
      }
      assertThat(bad).as("requests lost, cut off, hung or refused early").isEmpty();
      assertThat(counts.getOrDefault(Kind.OK_200, 0)).isPositive();
      assertThat(drained).as("requests sent before SIGTERM and answered after it")
          .isPositive();
      long slowDrained = samples.stream().filter(s -> s.slow && s.kind == Kind.OK_200
          && s.start - t0 < 0 && s.end - t0 > 0).count();
      assertThat(slowDrained).as("slow requests in flight at SIGTERM completed").isPositive();
      assertThat(samples.stream().filter(s -> s.slow && s.kind == Kind.LIMITED_429))
          .as("a slow client's own bucket never runs dry").isEmpty();
      assertThat(counts.getOrDefault(Kind.REFUSED_AT_CONNECT, 0))
          .as("every client ends refused at connect").isEqualTo(SLOW_CLIENTS + FAST_CLIENTS);

      return String.format("round %d (%s): %d requests; in flight at SIGTERM %d, answered after"
              + " it %d (slow %d, last %d ms after SIGTERM); %s; process exit %d ms after SIGTERM"
              + " (%s)",
          round, redis == null ? "memory" : "Redis", samples.size(), inFlightAtSigterm, drained,
          slowDrained, lastAnswerMs, counts,
          exitNanos / 1_000_000, stopped);
    }
  }

  private static Sample send(HttpClient client, URI uri, String key, boolean slow) {
    HttpRequest request = HttpRequest.newBuilder(uri).header("X-Client", key).timeout(HUNG).build();
    long start = System.nanoTime();
    try {
      HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
      long end = System.nanoTime();
      switch (r.statusCode()) {
        case 200:
          return r.body().equals("Hello from Sluice!\n")
              ? new Sample(Kind.OK_200, slow, start, end, null)
              : new Sample(Kind.BROKEN, slow, start, end, "truncated body: " + r.body());
        case 429:
          return new Sample(Kind.LIMITED_429, slow, start, end, null);
        case 503:
          // Jetty's own 503 (draining); a problem+json 503 would come from a closed limiter
          return r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem")
              ? new Sample(Kind.OTHER_STATUS, slow, start, end, "503 " + r.body())
              : new Sample(Kind.DRAINING_503, slow, start, end, null);
        default:
          return new Sample(Kind.OTHER_STATUS, slow, start, end, r.statusCode() + " " + r.body());
      }
    } catch (ConnectException e) {
      return new Sample(Kind.REFUSED_AT_CONNECT, slow, start, System.nanoTime(), e.toString());
    } catch (HttpTimeoutException e) {
      return new Sample(Kind.HUNG, slow, start, System.nanoTime(), e.toString());
    } catch (IOException e) {
      return new Sample(Kind.BROKEN, slow, start, System.nanoTime(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Sample(Kind.BROKEN, slow, start, System.nanoTime(), e.toString());
    }
  }
}
