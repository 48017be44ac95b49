package dev.sluice.examples;

import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.redis.RedisStore;
import dev.sluice.http.HeaderGroup;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.Rule;
import dev.sluice.http.TrustedProxies;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
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
      "  anything else    404, not limited unless --paths says so",
      "  GET /            a page that shows your remaining permits and a live chart (exempt)",
      "  GET /api/status  your allowance and your key's last 60 s as JSON, taking no permit"
          + " (exempt)",
      "  GET /metrics     Prometheus metrics: decisions, latency, backend errors, keys (exempt)",
      "",
      "Options (environment variable in brackets; a flag wins):",
      "  --port N                 port to listen on, 0 = any free port     [PORT]           default 8080",
      "  --host ADDR              address to bind                           [SLUICE_HOST]    default 127.0.0.1",
      "  --limit N/UNIT           refill rate: 10/s, 100/min, 1000/h, 5/500ms, 5/30s, 1/d;",
      "                           units ms, s|sec|second|seconds, m|min|minute|minutes,",
      "                           h|hr|hour|hours, d|day|days              [SLUICE_LIMIT]   default 10/s",
      "  --burst N                bucket capacity                           [SLUICE_BURST]   default: N of --limit",
      "  --max-wait DURATION      queue an excess request for up to DURATION instead of",
      "                           refusing it at once (nginx limit_req without nodelay):",
      "                           0, 500ms, 2s, 1min, 1h (units as --limit) [SLUICE_MAX_WAIT] default 0",
      "  --key ip|header:NAME|bearer",
      "                           whose bucket a request uses               [SLUICE_KEY]     default ip",
      "  --trusted-proxies CIDRS  comma-separated proxies whose X-Forwarded-For is believed,",
      "                           e.g. 10.0.0.0/8,fd00::/8                  [SLUICE_TRUSTED_PROXIES]",
      "  --headers GROUPS         comma-separated header groups to send: xratelimit, ietf,",
      "                           retry-after; or none alone                [SLUICE_HEADERS] default all three",
      "  --paths PATTERNS         comma-separated paths to limit: /hello, /api/**, /users/*,",
      "                           /** (every path, 404s too); /, /api/status and /metrics",
      "                           are never limited                         [SLUICE_PATHS]   default /hello",
      "  --methods LIST           comma-separated methods to limit, e.g. GET,POST",
      "                                                                     [SLUICE_METHODS] default: all",
      "  --redis URI              keep the buckets in Redis, shared by every server using it:",
      "                           redis://host:6379, rediss://host:6380 (TLS),",
      "                           redis-cluster://host1:7000,host2:7001     [SLUICE_REDIS]   default: in memory",
      "  --redis-deadline DURATION  the longest a Redis call may take before the failure mode",
      "                           answers, 1ms to 60s                       [SLUICE_REDIS_DEADLINE] default 50ms",
      "  --redis-leasing DURATION lease a hot key's permits to this server for DURATION",
      "                           (10ms to 1min, units as --limit): served without a round",
      "                           trip, exact across servers; needs --redis [SLUICE_REDIS_LEASING] default off",
      "  --failure-mode MODE      what to answer while Redis is unreachable: open (admit,",
      "                           no rate-limit headers), closed (503), local (enforce the",
      "                           limit in this server's memory)            [SLUICE_FAILURE_MODE] default local",
      "  --help                   print this and exit",
      "");

  private static final Pattern DURATION = Pattern.compile("(\\d{1,15})([a-z]*)");

  private static final Pattern LIMIT = Pattern.compile("(\\d{1,15})/(\\d{0,15})([a-z]+)");

  /** Every spelling of a unit {@code --limit} accepts. */
  private static final Map<String, Duration> UNITS = new LinkedHashMap<>();

  /** The methods {@code --methods} accepts (RFC 9110 and PATCH). */
  private static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH",
      "DELETE", "OPTIONS", "TRACE", "CONNECT");

  /** What {@code --paths} is when not given: the demo's one limited route. */
  static final String DEFAULT_PATHS = "/hello";

  private static final Map<String, String> ENV = new LinkedHashMap<>();

  static {
    UNITS.put("ms", Duration.ofMillis(1));
    for (String u : new String[] {"s", "sec", "second", "seconds"}) {
      UNITS.put(u, Duration.ofSeconds(1));
    }
    for (String u : new String[] {"m", "min", "minute", "minutes"}) {
      UNITS.put(u, Duration.ofMinutes(1));
    }
    for (String u : new String[] {"h", "hr", "hour", "hours"}) {
      UNITS.put(u, Duration.ofHours(1));
    }
    for (String u : new String[] {"d", "day", "days"}) {
      UNITS.put(u, Duration.ofDays(1));
    }
    ENV.put("port", "PORT");
    ENV.put("host", "SLUICE_HOST");
    ENV.put("limit", "SLUICE_LIMIT");
    ENV.put("burst", "SLUICE_BURST");
    ENV.put("max-wait", "SLUICE_MAX_WAIT");
    ENV.put("key", "SLUICE_KEY");
    ENV.put("trusted-proxies", "SLUICE_TRUSTED_PROXIES");
    ENV.put("headers", "SLUICE_HEADERS");
    ENV.put("redis", "SLUICE_REDIS");
    ENV.put("redis-leasing", "SLUICE_REDIS_LEASING");
    ENV.put("failure-mode", "SLUICE_FAILURE_MODE");
    ENV.put("redis-deadline", "SLUICE_REDIS_DEADLINE");
    ENV.put("paths", "SLUICE_PATHS");
    ENV.put("methods", "SLUICE_METHODS");
  }

  final boolean help;
  final int port;
  final String host;
  final String limitText;
  final Limit limit;
  /** How long an excess request may wait for its permit; zero: refused at once. */
  final Duration maxWait;
  /** {@link #maxWait} as given ({@code 0} when not). */
  final String maxWaitText;
  final String keyText;
  final KeyResolver key;
  /** The header a client must send its key in, or null for {@code ip}. */
  final String keyHeader;
  final TrustedProxies trustedProxies;
  final Set<HeaderGroup> headers;
  /** The Redis URI as given, or null for buckets in memory. */
  final String redis;
  /** The life of a lease of a hot key's permits ({@code --redis-leasing}), or null: none. */
  final Duration redisLeasing;
  final FailureMode failureMode;
  /** The path patterns the rule limits, as given. */
  final List<String> paths;
  /** The methods the rule limits, upper-case; empty for every method. */
  final List<String> methods;
  /** The Redis store's deadline per call ({@code --redis-deadline}, default 50 ms). */
  final Duration redisDeadline;

  private DemoOptions(boolean help, int port, String host, String limitText, Limit limit,
      Duration maxWait, String maxWaitText, String keyText, KeyResolver key, String keyHeader, TrustedProxies trustedProxies,
      Set<HeaderGroup> headers, String redis, Duration redisLeasing, FailureMode failureMode,
      List<String> paths, List<String> methods, Duration redisDeadline) {
    this.help = help;
    this.port = port;
    this.host = host;
    this.limitText = limitText;
    this.limit = limit;
    this.maxWait = maxWait;
    this.maxWaitText = maxWaitText;
    this.keyText = keyText;
    this.key = key;
    this.keyHeader = keyHeader;
    this.trustedProxies = trustedProxies;
    this.headers = headers;
    this.redis = redis;
    this.redisLeasing = redisLeasing;
    this.failureMode = failureMode;
    this.paths = paths;
    this.methods = methods;
    this.redisDeadline = redisDeadline;
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
      int eq = a.indexOf('=');
      String name = eq > 0 ? a.substring(2, eq) : a.substring(2);
      if (!ENV.containsKey(name)) {
        throw new IllegalArgumentException("unknown option --" + name + " (see --help)");
      }
      String value;
      if (eq > 0) {
        value = a.substring(eq + 1);
      } else {
        // no value of ours starts with "--": that is the next option, this one has no value
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
          throw new IllegalArgumentException("--" + name + " needs a value (see --help)");
        }
        value = args[++i];
      }
      flags.put(name, value);
    }
    Map<String, String> fromEnv = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : ENV.entrySet()) {
      if (!flags.containsKey(e.getKey())) {
        String v = env.apply(e.getValue());
        if (v != null && !v.isBlank()) {
          flags.put(e.getKey(), v.strip());
          fromEnv.put(e.getKey(), e.getValue());
        }
      }
    }
    Values values = new Values(flags, fromEnv);
    int port = values.get("port", "8080", DemoOptions::parsePort);
    String host = values.get("host", "127.0.0.1", DemoOptions::parseHost);
    String limitText = flags.getOrDefault("limit", "10/s");
    Limit rate = values.get("limit", "10/s", DemoOptions::parseLimit);
    Limit limit = values.get("burst", null, b -> b == null ? rate : withBurst(rate, limitText, b));
    String maxWaitText = flags.getOrDefault("max-wait", "0").strip();
    Duration maxWait = values.get("max-wait", "0", DemoOptions::parseMaxWait);
    String keyText = flags.getOrDefault("key", "ip");
    TrustedProxies trusted = values.get("trusted-proxies", "", DemoOptions::parseProxies);
    String keyHeader = values.get("key", "ip", DemoOptions::keyHeader);
    KeyResolver key = keyText.equals("bearer") ? KeyResolver.bearerToken()
        : keyHeader == null ? KeyResolver.clientIp(trusted)
        : KeyResolver.header(keyHeader);
    Set<HeaderGroup> headers = values.get("headers", "xratelimit,ietf,retry-after",
        DemoOptions::parseHeaders);
    String redis = values.get("redis", null, r -> {
      if (r != null) {
        checkRedis(r);
      }
      return r;
    });
    Duration redisLeasing = values.get("redis-leasing", null, l -> {
      if (l == null) {
        return null;
      }
      if (redis == null) {
        throw new IllegalArgumentException("--redis-leasing needs --redis (leases are of Redis"
            + " buckets)");
      }
      return parseLeasing(l);
    });
    FailureMode failureMode = values.get("failure-mode", "local", DemoOptions::parseFailureMode);
    List<String> paths = values.get("paths", DEFAULT_PATHS, DemoOptions::parsePaths);
    List<String> methods = values.get("methods", null, DemoOptions::parseMethods);
    Duration redisDeadline = values.get("redis-deadline", "50ms", DemoOptions::parseRedisDeadline);
    return new DemoOptions(help, port, host, limitText, limit, maxWait, maxWaitText, keyText, key, keyHeader, trusted,
        headers, redis, redisLeasing, failureMode, paths, methods, redisDeadline);
  }

  /** Parses {@code --redis-leasing}: a count and a unit (as {@code --max-wait}), 10 ms to 1 min. */
  static Duration parseLeasing(String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    Duration life = null;
    if (m.matches() && UNITS.containsKey(m.group(2))) {
      try {
        life = UNITS.get(m.group(2)).multipliedBy(Long.parseLong(m.group(1)));
      } catch (ArithmeticException e) {
        life = null;
      }
    }
    if (life == null || life.compareTo(Duration.ofMillis(10)) < 0
        || life.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("--redis-leasing \"" + text
          + "\" must be a count and a unit from 10ms to 1min, like 500ms, 1s or 30s");
    }
    return life;
  }

  /**
   * The options' values, each parsed by its parser; a value taken from the environment that the
   * parser refuses is named with its variable too.
   */
  private static final class Values {
    private final Map<String, String> flags;
    private final Map<String, String> fromEnv;

    Values(Map<String, String> flags, Map<String, String> fromEnv) {
      this.flags = flags;
      this.fromEnv = fromEnv;
    }

    <T> T get(String name, String byDefault, Function<String, T> parser) {
      try {
        return parser.apply(flags.getOrDefault(name, byDefault));
      } catch (IllegalArgumentException e) {
        String variable = fromEnv.get(name);
        if (variable == null) {
          throw e;
        }
        throw new IllegalArgumentException(e.getMessage() + " (from the environment variable "
            + variable + ")", e);
      }
    }
  }

  private static Limit withBurst(Limit rate, String limitText, String burst) {
    long capacity = parseLong("--burst", burst, 1, Limit.MAX_CAPACITY);
    try {
      return rate.withCapacity(capacity);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException("--burst " + capacity + " with --limit " + limitText
          + ": " + e.getMessage(), e);
    }
  }

  private static String parseHost(String text) {
    if (text.isBlank() || text.chars().anyMatch(c -> c <= ' ' || c == '/')) {
      throw new IllegalArgumentException("--host \"" + text
          + "\" must be an address or host name to bind, e.g. 127.0.0.1, 0.0.0.0 or ::1");
    }
    return text.strip();
  }

  private static TrustedProxies parseProxies(String text) {
    List<String> proxies = split(text);
    try {
      return proxies.isEmpty() ? TrustedProxies.none() : TrustedProxies.of(proxies);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--trusted-proxies \"" + text + "\": " + e.getMessage(),
          e);
    }
  }

  /** The header a client sends its key in, null for {@code ip}; checks the header's name. */
  private static String keyHeader(String text) {
    if (text.equals("ip")) {
      return null;
    }
    if (text.equals("bearer")) {
      return "Authorization";
    }
    if (text.startsWith("header:") && text.length() > "header:".length()) {
      String name = text.substring("header:".length());
      try {
        KeyResolver.header(name);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--key \"" + text + "\": " + e.getMessage(), e);
      }
      return name;
    }
    throw new IllegalArgumentException(
        "--key \"" + text + "\" must be ip, header:<name> (e.g. header:X-API-Key) or bearer");
  }

  /** Path patterns as {@link Rule.Builder#paths} reads them; at least one. */
  private static List<String> parsePaths(String text) {
    List<String> paths = split(text);
    if (paths.isEmpty()) {
      throw new IllegalArgumentException("--paths \"" + text
          + "\" must list at least one path pattern, e.g. /hello or /api/**,/hello");
    }
    for (String p : paths) {
      try {
        Rule.builder("check", Limit.perSecond(1)).paths(p);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--paths \"" + text + "\": " + e.getMessage()
            + " (e.g. /hello, /api/**, /users/*/avatar, or /** for every path)", e);
      }
    }
    return List.copyOf(paths);
  }

  /** Methods from {@link #METHODS}, upper-case; empty (every method) when not given. */
  private static List<String> parseMethods(String text) {
    if (text == null) {
      return List.of();
    }
    List<String> methods = new ArrayList<>();
    for (String m : split(text)) {
      String upper = m.toUpperCase(Locale.ROOT);
      if (!METHODS.contains(upper)) {
        throw new IllegalArgumentException("--methods \"" + text + "\": unknown method \"" + m
            + "\" (choose from " + String.join(", ", METHODS)
            + "; leave --methods out to limit every method)");
      }
      if (!methods.contains(upper)) {
        methods.add(upper);
      }
    }
    if (methods.isEmpty()) {
      throw new IllegalArgumentException("--methods \"" + text
          + "\" must list at least one method, e.g. GET or GET,POST");
    }
    return List.copyOf(methods);
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

  /** Parses {@code --redis-deadline}: a count and a unit of {@link #UNITS}, 1 ms to 60 s. */
  static Duration parseRedisDeadline(String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    Duration d = null;
    if (m.matches() && UNITS.containsKey(m.group(2))) {
      try {
        d = UNITS.get(m.group(2)).multipliedBy(Long.parseLong(m.group(1)));
      } catch (ArithmeticException | NumberFormatException e) {
        d = null;
      }
    }
    if (d == null || d.compareTo(Duration.ofMillis(1)) < 0
        || d.compareTo(Duration.ofSeconds(60)) > 0) {
      throw new IllegalArgumentException("--redis-deadline \"" + text
          + "\" must be from 1ms to 60s, a count and a unit like 50ms or 2s");
    }
    return d;
  }

  /**
   * Parses {@code --max-wait}: {@code 0}, or a count and a unit of {@link #UNITS} as in
   * {@code --limit} ({@code 500ms}, {@code 2s}, {@code 1min}).
   */
  static Duration parseMaxWait(String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (m.matches() && m.group(2).isEmpty() && Long.parseLong(m.group(1)) == 0) {
      return Duration.ZERO;
    }
    if (!m.matches() || !UNITS.containsKey(m.group(2))) {
      throw new IllegalArgumentException("--max-wait \"" + text
          + "\" must be 0 or a count and a unit, like 500ms, 2s, 1min or 1h: the unit one of ms;"
          + " s, sec, second, seconds; m, min, minute, minutes; h, hr, hour, hours; d, day, days");
    }
    try {
      return UNITS.get(m.group(2)).multipliedBy(Long.parseLong(m.group(1)));
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("--max-wait \"" + text + "\": too long", e);
    }
  }

  /**
   * Parses {@code N/UNIT}: {@code N} permits per {@code UNIT}, optionally with a count
   * ({@code 5/500ms}, {@code 3/2min}); the units and their spellings are {@link #UNITS}. The
   * capacity is {@code N}.
   */
  static Limit parseLimit(String text) {
    Matcher m = LIMIT.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches() || !UNITS.containsKey(m.group(3))) {
      throw new IllegalArgumentException("--limit \"" + text
          + "\" must look like 10/s, 100/min, 1000/h, 5/500ms or 1/d: permits / [count] unit,"
          + " the unit one of ms; s, sec, second, seconds; m, min, minute, minutes;"
          + " h, hr, hour, hours; d, day, days");
    }
    long permits = Long.parseLong(m.group(1));
    long count = m.group(2).isEmpty() ? 1 : Long.parseLong(m.group(2));
    if (permits < 1 || count < 1) {
      throw new IllegalArgumentException("--limit \"" + text + "\": permits and count must be at least 1");
    }
    try {
      return Limit.of(permits, UNITS.get(m.group(3)).multipliedBy(count));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException("--limit \"" + text + "\": " + e.getMessage(), e);
    }
  }

  /** Header groups; {@code none} alone for none, never mixed with groups. */
  private static Set<HeaderGroup> parseHeaders(String text) {
    Set<HeaderGroup> groups = EnumSet.noneOf(HeaderGroup.class);
    List<String> names = split(text);
    if (names.isEmpty()) {
      throw new IllegalArgumentException("--headers \"" + text
          + "\" must be none, or one or more of xratelimit, ietf, retry-after (comma-separated)");
    }
    for (String g : names) {
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
          if (names.size() > 1) {
            throw new IllegalArgumentException("--headers \"" + text
                + "\": none cannot be combined with header groups (give none alone, or any of"
                + " xratelimit, ietf, retry-after)");
          }
          break;
        default:
          throw new IllegalArgumentException("--headers \"" + text + "\": unknown group \"" + g
              + "\" (choose from xratelimit, ietf, retry-after, or none alone)");
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

  /** What the rule limits, for people: {@code /hello}, or {@code /api/**, /hello (GET, POST)}. */
  String scopeText() {
    return String.join(", ", paths)
        + (methods.isEmpty() ? "" : " (" + String.join(", ", methods) + ")");
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
