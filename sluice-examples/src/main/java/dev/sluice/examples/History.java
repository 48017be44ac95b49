package dev.sluice.examples;

import dev.sluice.Ticker;
import dev.sluice.http.KeyResolver;
import dev.sluice.servlet.RateLimitFilter;
import dev.sluice.servlet.RejectionHandler;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Each key's requests decided by the limiter, allowed and denied, per second over the last
 * {@value #SECONDS} seconds, whoever sent them (the page, {@code curl}, a load generator): what
 * the page's chart draws, from {@code /api/status}.
 *
 * <p>Memory is bounded: at most {@code maxKeys} keys (the least recently used is dropped to make
 * room), each two arrays of {@value #SECONDS} counts, about 0.7 KB with its name; key material
 * is hashed (SHA-256) before it is kept, so header values and tokens are never held here. Time
 * is the server's ticker, read once per call, in whole seconds since the history was made (so
 * the ticker may wrap past the ends of {@code long}); a reading earlier than one already seen
 * counts into the latest second seen. Thread-safe: one lock, which a demo's traffic does not notice.
 */
final class History {

  /** Seconds of history kept per key. */
  static final int SECONDS = 60;

  /** Keys kept by the demo server; about 0.7 MB at most. */
  static final int MAX_KEYS = 1_000;

  private static final long NANOS_PER_SECOND = 1_000_000_000L;
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  private final Ticker ticker;
  /** The ticker's reading when made; seconds count from it, so a wrapping ticker is harmless. */
  private final long origin;
  private final int maxKeys;
  private final Map<String, Series> series;

  History(Ticker ticker, int maxKeys) {
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    this.origin = ticker.read();
    if (maxKeys < 1) {
      throw new IllegalArgumentException("maxKeys (" + maxKeys + ") must be at least 1");
    }
    this.maxKeys = maxKeys;
    this.series = new LinkedHashMap<>(16, 0.75f, true) { // access order: eldest = least recent
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Series> eldest) {
        return size() > History.this.maxKeys;
      }
    };
  }

  /** Counts one decided request of the key whose material this is. */
  void record(String material, boolean allowed) {
    String key = hash(material);
    long now = second();
    synchronized (this) {
      series.computeIfAbsent(key, k -> new Series(now)).add(now, allowed);
    }
  }

  /** The key's counts, oldest second first, the current second last; zeros for an unknown key. */
  Snapshot snapshot(Optional<String> material) {
    int[] allowed = new int[SECONDS];
    int[] denied = new int[SECONDS];
    if (material.isPresent()) {
      String key = hash(material.get());
      long now = second();
      synchronized (this) {
        Series s = series.get(key);
        if (s != null) {
          s.copy(now, allowed, denied);
        }
      }
    }
    return new Snapshot(allowed, denied);
  }

  /** Keys held now, at most {@code maxKeys}. */
  synchronized int size() {
    return series.size();
  }

  private long second() {
    return Math.floorDiv(ticker.read() - origin, NANOS_PER_SECOND);
  }

  private static String hash(String material) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(material.getBytes(StandardCharsets.UTF_8));
      return BASE64URL.encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform provides SHA-256", e);
    }
  }

  /**
   * In the chain after the rate-limit filter: a request that gets here was admitted, and it was
   * decided by the limiter if the filter published a decision (exempt and unmatched paths were
   * not).
   */
  Filter admitted(KeyResolver key) {
    return new Filter() {
      @Override
      public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
          throws IOException, ServletException {
        if (DecisionSource.of(req) != null && req instanceof HttpServletRequest http) {
          key.resolve(RateLimitFilter.requestView(http)).ifPresent(m -> record(m, true));
        }
        chain.doFilter(req, res);
      }
    };
  }

  /**
   * Counts each refusal that carries a decision (over quota, or the store unavailable; not a
   * missing key), then hands it to {@code next}.
   */
  RejectionHandler denied(KeyResolver key, RejectionHandler next) {
    return (request, response, rejection) -> {
      if (rejection.decision().isPresent()) {
        key.resolve(RateLimitFilter.requestView(request)).ifPresent(m -> record(m, false));
      }
      next.reject(request, response, rejection);
    };
  }

  /** A key's counts per second, oldest first. */
  static final class Snapshot {
    private final int[] allowed;
    private final int[] denied;

    Snapshot(int[] allowed, int[] denied) {
      this.allowed = allowed;
      this.denied = denied;
    }

    int allowed(int secondsAgo) {
      return allowed[SECONDS - 1 - secondsAgo];
    }

    int denied(int secondsAgo) {
      return denied[SECONDS - 1 - secondsAgo];
    }

    /** {@code {"seconds":60,"allowed":[…],"denied":[…]}}, oldest second first. */
    String json() {
      return "{\"seconds\":" + SECONDS + ",\"allowed\":" + array(allowed) + ",\"denied\":"
          + array(denied) + "}";
    }

    private static String array(int[] counts) {
      StringBuilder b = new StringBuilder(2 * counts.length + 2).append('[');
      for (int i = 0; i < counts.length; i++) {
        b.append(i == 0 ? "" : ",").append(counts[i]);
      }
      return b.append(']').toString();
    }
  }

  /** One key's last {@value #SECONDS} seconds, in two rings indexed by second modulo SECONDS. */
  private static final class Series {
    private final int[] allowed = new int[SECONDS];
    private final int[] denied = new int[SECONDS];
    /** The latest second counted into; slots older than SECONDS before it are stale. */
    private long latest;

    Series(long now) {
      this.latest = now;
    }

    void add(long now, boolean ok) {
      if (now > latest) {
        long gap = Math.min(now - latest, SECONDS);
        for (long s = now - gap + 1; s <= now; s++) {
          allowed[slot(s)] = 0;
          denied[slot(s)] = 0;
        }
        latest = now;
      }
      int slot = slot(latest); // a reading behind the latest counts into the latest second
      if (ok) {
        allowed[slot]++;
      } else {
        denied[slot]++;
      }
    }

    void copy(long now, int[] allowedOut, int[] deniedOut) {
      long end = Math.max(now, latest);
      for (int i = 0; i < SECONDS; i++) {
        long s = end - (SECONDS - 1) + i;
        if (s <= latest && s > latest - SECONDS) {
          allowedOut[i] = allowed[slot(s)];
          deniedOut[i] = denied[slot(s)];
        }
      }
    }

    private static int slot(long second) {
      return (int) Math.floorMod(second, (long) SECONDS);
    }
  }
}
