package dev.sluice.spring.boot;

import dev.sluice.FailureMode;
import dev.sluice.http.HeaderGroup;
import dev.sluice.http.MissingKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code sluice.*} properties: the user-facing contract of the starter. Bound as given and
 * checked when the limiter is built ({@link Sluice}), where a bad value stops the application
 * with a message naming the property path and its bound.
 *
 * <pre>
 * sluice:
 *   plans:
 *     free: [ { permits: 2, per: 1s, burst: 3 }, { permits: 1000, per: 1h } ]
 *     pro:  [ { permits: 10, per: 1s } ]
 *   rules:
 *     - name: api
 *       paths: [/api/**]
 *       key: header:X-API-Key
 *       plan: "spel:#key.startsWith('pro-') ? 'pro' : 'free'"
 * </pre>
 *
 * @param enabled whether the starter wires anything (default true)
 * @param store where buckets live: {@code memory} (default) or {@code redis}
 * @param redis the Redis store's settings, for {@code store: redis}
 * @param failureMode what a rule answers when its store cannot decide: {@code open},
 *     {@code closed} or {@code local} (default: enforce in memory on this node)
 * @param headers the header groups written: {@code xratelimit}, {@code ietf},
 *     {@code retry-after} (default all three)
 * @param exempt path patterns never limited, without headers (such as {@code /actuator/**})
 * @param trustedProxies CIDRs of proxies whose {@code X-Forwarded-For}/{@code Forwarded} headers
 *     the {@code ip} key believes (default none: the socket peer)
 * @param missingKey what a request without a key gets: {@code deny} (403, default) or
 *     {@code allow} (the rule does not apply)
 * @param plans named policies, each a list of limits checked all-or-nothing
 * @param rules the rules, checked in order; each request takes from every rule it matches, or
 *     from none
 * @param filter the filter's settings (servlet or WebFlux)
 */
@ConfigurationProperties("sluice")
public record SluiceProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue("memory") Store store,
    @DefaultValue Redis redis,
    @DefaultValue("local") FailureMode failureMode,
    @DefaultValue({"xratelimit", "ietf", "retry-after"}) List<HeaderGroup> headers,
    List<String> exempt,
    List<String> trustedProxies,
    @DefaultValue("deny") MissingKey missingKey,
    Map<String, List<LimitProperties>> plans,
    List<RuleProperties> rules,
    @DefaultValue Filter filter) {

  /** Where buckets live. */
  public enum Store {
    /** In this JVM's memory: per node. */
    MEMORY,
    /** In Redis: shared by every node. */
    REDIS
  }

  /**
   * The Redis store's settings.
   *
   * @param uri the server ({@code redis://host:6379}, {@code rediss://…},
   *     {@code redis-cluster://…}); default: the application's Spring Data Redis (Lettuce)
   *     connection, if any
   * @param deadline the longest one call may take before the failure mode answers (default 50 ms)
   * @param namespace the first part of every key (default {@code sluice})
   * @param leasing the life of a hot key's lease, 10 ms to 1 min: a node then serves a hot key
   *     from permits leased in one round trip, exactly (Redis counts the leased permits against
   *     the capacity); default none, every decision a round trip
   */
  public record Redis(
      String uri,
      @DefaultValue("50ms") Duration deadline,
      @DefaultValue("sluice") String namespace,
      Duration leasing) {}

  /**
   * One limit: {@code permits} every {@code per}, holding up to {@code burst}.
   *
   * @param permits permits added every {@code per}, 1 to 10^15
   * @param per the refill period, positive
   * @param burst the most permits a bucket holds, 1 to 10^15 (default {@code permits})
   */
  public record LimitProperties(Long permits, Duration per, Long burst) {}

  /**
   * One rule.
   *
   * @param name 1 to 64 characters from {@code [A-Za-z0-9._-]}, unique
   * @param paths path patterns ({@code /api/**}); default every path
   * @param methods HTTP methods; default every method ({@code GET} covers {@code HEAD})
   * @param key whose bucket a request draws on: {@code ip} (default), {@code header:NAME},
   *     {@code bearer}, {@code principal} or {@code spel:EXPRESSION} (over {@code #request} and
   *     {@code #principal})
   * @param plan a plan's name, or {@code spel:EXPRESSION} giving one over {@code #key} (the key's
   *     value), {@code #request} and {@code #principal}; or use {@code limits}
   * @param limits the rule's own limits, instead of a plan
   * @param cost permits each request takes (default 1)
   * @param shadow decide and count, but refuse nothing (default false)
   * @param maxWait how long an excess request may wait for its permits before it is refused
   *     ({@code 0s}, the default: refused at once)
   * @param chargeOn the response statuses that keep their permits (default empty: every
   *     request is charged)
   */
  public record RuleProperties(
      String name,
      List<String> paths,
      List<String> methods,
      @DefaultValue("ip") String key,
      String plan,
      List<LimitProperties> limits,
      @DefaultValue("1") long cost,
      @DefaultValue("false") boolean shadow,
      @DefaultValue("0s") Duration maxWait,
      List<Integer> chargeOn) {}

  /**
   * The filter's settings (the servlet filter, or the WebFlux {@code WebFilter}).
   *
   * @param order the filter's order (default {@value Filter#DEFAULT_ORDER}: after Spring
   *     Security's chain at -100, servlet or WebFlux, so {@code principal} keys see the
   *     authenticated user)
   */
  public record Filter(@DefaultValue("-90") int order) {

    /** The default order, after Spring Security's filter chain (-100). */
    public static final int DEFAULT_ORDER = -90;
  }
}
