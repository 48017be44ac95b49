package dev.sluice.examples;

import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.redis.RedisStore;
import dev.sluice.http.HeaderGroup;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.TrustedProxies;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo server's options, from flags and environment variables (a flag wins over its
 * variable). See {@link #USAGE}.
 */
final class DemoOptions {

  static final String USAGE = String.join("\n",
      "Usage: java -jar sluice-examples.jar [options]",
      "",
      "Starts an HTTP API on embedded Jetty with the Sluice rate-limit filter in front of it:",
      "  GET /hello       plain text, rate limited (?delay=MS answers after MS ms, up to "
          + DemoServer.MAX_DELAY_MS + ")",
      "  GET /            a page that shows your remaining permits and a live chart (exempt)",
      "  GET /api/status  your current allowance as JSON, taking no permit (exempt)",
      "  GET /metrics     Prometheus metrics: decisions, latency, backend errors, keys (exempt)",
      "",
      "Options (environment variable in brackets; a flag wins):",
      "  --port N                 port to listen on, 0 = any free port     [PORT]           default 8080",
      "  --host ADDR              address to bind                           [SLUICE_HOST]    default 127.0.0.1",
      "  --limit N/UNIT           refill rate: 10/s, 100/m, 1000/h, 5/500ms, 1/d",
      "                                                                     [SLUICE_LIMIT]   default 10/s",
      "  --burst N                bucket capacity                           [SLUICE_BURST]   default: N of --limit",
      "  --key ip|header:NAME|bearer",
      "                           whose bucket a request uses               [SLUICE_KEY]     default ip",
      "  --trusted-proxies CIDRS  comma-separated proxies whose X-Forwarded-For is believed,",
      "                           e.g. 10.0.0.0/8,fd00::/8                  [SLUICE_TRUSTED_PROXIES]",
      "  --headers GROUPS         comma-separated header groups to send: xratelimit, ietf,",
      "                           retry-after, or none                      [SLUICE_HEADERS] default all three",
      "  --redis URI              keep the buckets in Redis, shared by every server using it:",
      "                           redis://host:6379, rediss://host:6380 (TLS),",
      "                           redis-cluster://host1:7000,host2:7001     [SLUICE_REDIS]   default: in memory",
      "  --failure-mode MODE      what to answer while Redis is unreachable: open (admit,",
      "                           no rate-limit headers), closed (503), local (enforce the",
      "                           limit in this server's memory)            [SLUICE_FAILURE_MODE] default local",
      "  --help                   print this and exit",
      "");

  private static final Pattern LIMIT = Pattern.compile("(\\d{1,15})/(\\d{0,15})(ms|s|m|h|d)");

  private static final Map<String, String> ENV = new LinkedHashMap<>();

  static {
    ENV.put("port", "PORT");
    ENV.put("host", "SLUICE_HOST");
    ENV.put("limit", "SLUICE_LIMIT");
    ENV.put("burst", "SLUICE_BURST");
    ENV.put("key", "SLUICE_KEY");
    ENV.put("trusted-proxies", "SLUICE_TRUSTED_PROXIES");
    ENV.put("headers", "SLUICE_HEADERS");
    ENV.put("redis", "SLUICE_REDIS");
    ENV.put("failure-mode", "SLUICE_FAILURE_MODE");
  }

  final boolean help;
  final int port;
  final String host;
  final String limitText;
  final Limit limit;
  final String keyText;
  final KeyResolver key;
  /** The header a client must send its key in, or null for {@code ip}. */
  final String keyHeader;
  final TrustedProxies trustedProxies;
  final Set<HeaderGroup> headers;
  /** The Redis URI as given, or null for buckets in memory. */
  final String redis;
  final FailureMode failureMode;

  private DemoOptions(boolean help, int port, String host, String limitText, Limit limit,
      String keyText, KeyResolver key, String keyHeader, TrustedProxies trustedProxies,
      Set<HeaderGroup> headers, String redis, FailureMode failureMode) {
    this.help = help;
    this.port = port;
    this.host = host;
    this.limitText = limitText;
    this.limit = limit;
    this.keyText = keyText;
    this.key = key;
    this.keyHeader = keyHeader;
    this.trustedProxies = trustedProxies;
    this.headers = headers;
    this.redis = redis;
    this.failureMode = failureMode;
  }

  /**
   * Parses flags ({@code --name value} or {@code --name=value}) over environment variables.
   *
   * @param args the command line
   * @param env the environment, e.g. {@code System::getenv}
   * @return the options
   * @throws IllegalArgumentException with a message naming the flag and the accepted values
   */
  static DemoOptions parse(String[] args, UnaryOperator<String> env) {
    Map<String, String> flags = new LinkedHashMap<>();
    boolean help = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        help = true;
        continue;
      }
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument \"" + a + "\" (see --help)");
      }
      String name;
      String value;
      int eq = a.indexOf('=');
      if (eq > 0) {
        name = a.substring(2, eq);
        value = a.substring(eq + 1);
      } else {
        name = a.substring(2);
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("--" + name + " needs a value (see --help)");
        }
        value = args[++i];
      }
      if (!ENV.containsKey(name)) {
        throw new IllegalArgumentException("unknown option --" + name + " (see --help)");
      }
      flags.put(name, value);
    }
    for (Map.Entry<String, String> e : ENV.entrySet()) {
      if (!flags.containsKey(e.getKey())) {
        String v = env.apply(e.getValue());
        if (v != null && !v.isBlank()) {
          flags.put(e.getKey(), v.strip());
        }
      }
    }
    int port = parsePort(flags.getOrDefault("port", "8080"));
    String host = flags.getOrDefault("host", "127.0.0.1");
    String limitText = flags.getOrDefault("limit", "10/s");
    Limit limit = parseLimit(limitText);
    if (flags.containsKey("burst")) {
      limit = limit.withCapacity(parseLong("--burst", flags.get("burst"), 1, Limit.MAX_CAPACITY));
    }
    String keyText = flags.getOrDefault("key", "ip");
    List<String> proxies = split(flags.getOrDefault("trusted-proxies", ""));
    TrustedProxies trusted = proxies.isEmpty() ? TrustedProxies.none() : TrustedProxies.of(proxies);
    KeyResolver key;
    String keyHeader = null;
    if (keyText.equals("ip")) {
      key = KeyResolver.clientIp(trusted);
    } else if (keyText.equals("bearer")) {
      key = KeyResolver.bearerToken();
      keyHeader = "Authorization";
    } else if (keyText.startsWith("header:") && keyText.length() > "header:".length()) {
      keyHeader = keyText.substring("header:".length());
      key = KeyResolver.header(keyHeader);
    } else {
      throw new IllegalArgumentException(
          "--key \"" + keyText + "\" must be ip, header:<name> (e.g. header:X-API-Key) or bearer");
    }
    Set<HeaderGroup> headers = parseHeaders(flags.getOrDefault("headers",
        "xratelimit,ietf,retry-after"));
    String redis = flags.get("redis");
    if (redis != null) {
      checkRedis(redis);
    }
    FailureMode failureMode = parseFailureMode(flags.getOrDefault("failure-mode", "local"));
    return new DemoOptions(help, port, host, limitText, limit, keyText, key, keyHeader, trusted,
        headers, redis, failureMode);
  }

  /** Checks the URI as the Redis store reads it; makes no connection. */
  private static void checkRedis(String uri) {
    try {
      RedisStore.factory(uri).close(); // parses only: the client is made with the first store
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--redis: " + e.getMessage()
          + " (e.g. redis://localhost:6379 or redis-cluster://h1:7000,h2:7001)", e);
    }
  }

  private static FailureMode parseFailureMode(String text) {
    switch (text.strip().toLowerCase(Locale.ROOT)) {
      case "open":
        return FailureMode.OPEN;
      case "closed":
        return FailureMode.CLOSED;
      case "local":
        return FailureMode.LOCAL;
      default:
        throw new IllegalArgumentException(
            "--failure-mode \"" + text + "\" must be open, closed or local");
    }
  }

  /**
   * Where the buckets live, for people: {@code memory}, or {@code Redis at host:port} with any
   * credentials in the URI left out.
   */
  String storeText() {
    if (redis == null) {
      return "memory";
    }
    int scheme = redis.indexOf("://");
    String rest = redis.substring(scheme + 3);
    if (redis.startsWith("redis-socket")) {
      int query = rest.indexOf('?');
      String path = rest.substring(rest.lastIndexOf('@') + 1, query < 0 ? rest.length() : query);
      return "Redis at " + path;
    }
    int end = rest.length();
    for (int i = 0; i < rest.length(); i++) {
      if (rest.charAt(i) == '/' || rest.charAt(i) == '?') {
        end = i;
        break;
      }
    }
    String hosts = rest.substring(rest.lastIndexOf('@', end - 1) + 1, end);
    String what = redis.startsWith("redis-cluster") || redis.startsWith("rediss-cluster")
        ? "Redis Cluster" : "Redis";
    return what + " at " + redis.substring(0, scheme + 3) + hosts;
  }

  /** The failure mode as the flag spells it. */
  String failureModeText() {
    return failureMode.name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code N/UNIT}: {@code N} permits per {@code UNIT}, where the unit is {@code ms},
   * {@code s}, {@code m}, {@code h} or {@code d}, optionally with a count ({@code 5/500ms}). The
   * capacity is {@code N}.
   */
  static Limit parseLimit(String text) {
    Matcher m = LIMIT.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("--limit \"" + text
          + "\" must look like 10/s, 100/m, 1000/h, 5/500ms or 1/d (permits / [count] unit)");
    }
    long permits = Long.parseLong(m.group(1));
    long count = m.group(2).isEmpty() ? 1 : Long.parseLong(m.group(2));
    if (permits < 1 || count < 1) {
      throw new IllegalArgumentException("--limit \"" + text + "\": permits and count must be at least 1");
    }
    Duration unit;
    switch (m.group(3)) {
      case "ms":
        unit = Duration.ofMillis(1);
        break;
      case "s":
        unit = Duration.ofSeconds(1);
        break;
      case "m":
        unit = Duration.ofMinutes(1);
        break;
      case "h":
        unit = Duration.ofHours(1);
        break;
      default:
        unit = Duration.ofDays(1);
    }
    try {
      return Limit.of(permits, unit.multipliedBy(count));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException("--limit \"" + text + "\": " + e.getMessage(), e);
    }
  }

  private static Set<HeaderGroup> parseHeaders(String text) {
    Set<HeaderGroup> groups = EnumSet.noneOf(HeaderGroup.class);
    for (String g : split(text)) {
      switch (g.toLowerCase(Locale.ROOT)) {
        case "xratelimit":
        case "x-ratelimit":
          groups.add(HeaderGroup.X_RATELIMIT);
          break;
        case "ietf":
          groups.add(HeaderGroup.IETF);
          break;
        case "retry-after":
          groups.add(HeaderGroup.RETRY_AFTER);
          break;
        case "none":
          break;
        default:
          throw new IllegalArgumentException("--headers: unknown group \"" + g
              + "\" (choose from xratelimit, ietf, retry-after, none)");
      }
    }
    return groups;
  }

  private static int parsePort(String text) {
    return (int) parseLong("--port", text, 0, 65535);
  }

  private static long parseLong(String flag, String text, long min, long max) {
    long v;
    try {
      v = Long.parseLong(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " \"" + text + "\" must be a number from " + min
          + " to " + max, e);
    }
    if (v < min || v > max) {
      throw new IllegalArgumentException(flag + " " + v + " must be from " + min + " to " + max);
    }
    return v;
  }

  private static List<String> split(String text) {
    List<String> out = new ArrayList<>();
    for (String s : text.split(",")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  /** Header groups as the flag spells them. */
  String headersText() {
    List<String> out = new ArrayList<>();
    if (headers.contains(HeaderGroup.X_RATELIMIT)) {
      out.add("xratelimit");
    }
    if (headers.contains(HeaderGroup.IETF)) {
      out.add("ietf");
    }
    if (headers.contains(HeaderGroup.RETRY_AFTER)) {
      out.add("retry-after");
    }
    return out.isEmpty() ? "none" : String.join(",", out);
  }
}
