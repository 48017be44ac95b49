package dev.sluice.spring.boot;

import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.http.HeaderGroup;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.MissingKey;
import dev.sluice.http.TrustedProxies;
import dev.sluice.spring.boot.SluiceProperties.LimitProperties;
import dev.sluice.spring.boot.SluiceProperties.RuleProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code sluice.*} properties checked and turned into Sluice's values. Every refusal is an
 * {@link IllegalArgumentException} whose message starts with the property's path and names the
 * bound and the value ({@code sluice.plans.free[0].burst must be from 1 to 10^15, was -1}).
 *
 * <p>Two settings are equal in {@link #shape()} when they differ in limits only: such a change
 * can be applied to a running limiter in place.
 */
final class Settings {

  private static final String NAME = "[A-Za-z0-9._-]{1,64}";

  /** A parsed rule: everything but its policies is its shape. */
  record RuleSettings(String name, List<String> paths, List<String> methods, String keyText,
      KeyResolver key, String keyPrefix, String planText, Expressions.Compiled planExpression,
      Map<String, Policy> policies, long cost, boolean shadow, int[] chargeOn,
      java.time.Duration maxWait) {

    String shape() {
      return name + " paths=" + paths + " methods=" + methods + " key=" + keyText + " plan="
          + planText + " plans=" + policies.keySet() + " cost=" + cost + " shadow=" + shadow
          + " charge-on=" + java.util.Arrays.toString(chargeOn) + " max-wait=" + maxWait;
    }
  }

  final SluiceProperties properties;
  final Map<String, Policy> plans;
  final List<RuleSettings> rules;
  final List<HeaderGroup> headers;
  final List<String> exempt;
  final MissingKey missingKey;

  private Settings(SluiceProperties p, Map<String, Policy> plans, List<RuleSettings> rules) {
    this.properties = p;
    this.plans = plans;
    this.rules = rules;
    this.headers = p.headers() == null ? List.of() : List.copyOf(p.headers());
    this.exempt = p.exempt() == null ? List.of() : List.copyOf(p.exempt());
    this.missingKey = p.missingKey();
  }

  /**
   * Whether {@code sluice-gateway} and Spring Cloud Gateway are on the class path: then the routes
   * may be the only limits, and {@code sluice.rules} may be empty.
   */
  static boolean gatewayPresent() {
    ClassLoader loader = Settings.class.getClassLoader();
    return org.springframework.util.ClassUtils.isPresent(
            "dev.sluice.gateway.SluiceRateLimiter", loader)
        && org.springframework.util.ClassUtils.isPresent(
            "org.springframework.cloud.gateway.config.GatewayAutoConfiguration", loader);
  }

  /**
   * Checks {@code p}.
   *
   * @throws IllegalArgumentException naming the first bad property
   */
  static Settings of(SluiceProperties p) {
    Objects.requireNonNull(p, "properties");
    Map<String, Policy> plans = new LinkedHashMap<>();
    if (p.plans() != null) {
      p.plans().forEach((name, limits) -> {
        String path = "sluice.plans." + name;
        if (!name.matches(NAME)) {
          throw new IllegalArgumentException(
              path + ": a plan's name must be 1 to 64 characters from [A-Za-z0-9._-], was \""
                  + name + "\"");
        }
        plans.put(name, policy(limits, path));
      });
    }
    List<RuleProperties> given = p.rules() == null ? List.of() : p.rules();
    if (given.isEmpty() && !gatewayPresent()) {
      throw new IllegalArgumentException(
          "sluice.rules must hold at least one rule (or set sluice.enabled=false), was empty");
    }
    TrustedProxies proxies;
    try {
      proxies = p.trustedProxies() == null ? TrustedProxies.none()
          : TrustedProxies.of(p.trustedProxies());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sluice.trusted-proxies: " + e.getMessage(), e);
    }
    List<RuleSettings> rules = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < given.size(); i++) {
      RuleSettings r = rule(given.get(i), "sluice.rules[" + i + "]", plans, proxies);
      if (names.contains(r.name())) {
        throw new IllegalArgumentException("sluice.rules[" + i + "].name must be unique, was \""
            + r.name() + "\" (also sluice.rules[" + names.indexOf(r.name()) + "])");
      }
      names.add(r.name());
      rules.add(r);
    }
    if (p.store() == SluiceProperties.Store.REDIS && p.redis() != null
        && p.redis().deadline() != null) {
      Duration d = p.redis().deadline();
      if (d.compareTo(Duration.ofMillis(1)) < 0 || d.compareTo(Duration.ofSeconds(60)) > 0) {
        throw new IllegalArgumentException(
            "sluice.redis.deadline must be from 1ms to 60s, was " + d);
      }
    }
    if (p.store() == SluiceProperties.Store.REDIS && p.redis() != null
        && p.redis().leasing() != null) {
      Duration l = p.redis().leasing();
      if (l.compareTo(Duration.ofMillis(10)) < 0 || l.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new IllegalArgumentException(
            "sluice.redis.leasing must be from 10ms to 1m, was " + l);
      }
    }
    return new Settings(p, java.util.Collections.unmodifiableMap(plans), List.copyOf(rules));
  }

  private static RuleSettings rule(RuleProperties r, String path, Map<String, Policy> plans,
      TrustedProxies proxies) {
    if (r.name() == null || !r.name().matches(NAME)) {
      throw new IllegalArgumentException(path
          + ".name must be 1 to 64 characters from [A-Za-z0-9._-], was "
          + (r.name() == null ? "missing" : "\"" + r.name() + "\""));
    }
    String keyText = r.key() == null ? "ip" : r.key().trim();
    KeyResolver key;
    String prefix;
    String lower = keyText.toLowerCase(Locale.ROOT);
    try {
      if (lower.equals("ip")) {
        key = KeyResolver.clientIp(proxies);
        prefix = "ip:";
      } else if (lower.startsWith("header:")) {
        String header = keyText.substring("header:".length()).trim();
        key = KeyResolver.header(header);
        prefix = "header:" + header.toLowerCase(Locale.ROOT) + ":";
      } else if (lower.equals("bearer")) {
        key = KeyResolver.bearerToken();
        prefix = "bearer:";
      } else if (lower.equals("principal")) {
        key = KeyResolver.principal();
        prefix = "principal:";
      } else if (lower.startsWith("spel:")) {
        key = Expressions.keyResolver(Expressions.compile(keyText.substring(5), path + ".key"));
        prefix = Expressions.KEY_PREFIX;
      } else {
        throw new IllegalArgumentException(path
            + ".key must be ip, header:NAME, bearer, principal or spel:EXPRESSION, was \""
            + keyText + "\"");
      }
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(path)) {
        throw e;
      }
      throw new IllegalArgumentException(path + ".key: " + e.getMessage(), e);
    }

    Map<String, Policy> policies = new LinkedHashMap<>();
    Expressions.Compiled planExpression = null;
    boolean hasLimits = r.limits() != null && !r.limits().isEmpty();
    if (r.plan() != null && hasLimits) {
      throw new IllegalArgumentException(
          path + " must set one of plan and limits, was both");
    }
    if (hasLimits) {
      policies.put(r.name(), policy(r.limits(), path + ".limits"));
    } else if (r.plan() == null || r.plan().isBlank()) {
      throw new IllegalArgumentException(
          path + " must set one of plan and limits, was neither");
    } else if (r.plan().startsWith("spel:")) {
      if (plans.isEmpty()) {
        throw new IllegalArgumentException(
            path + ".plan chooses among sluice.plans, but sluice.plans is empty");
      }
      planExpression = Expressions.compile(r.plan().substring(5), path + ".plan");
      policies.putAll(plans);
    } else {
      Policy plan = plans.get(r.plan());
      if (plan == null) {
        throw new IllegalArgumentException(path + ".plan must be one of sluice.plans "
            + plans.keySet() + " or spel:EXPRESSION, was \"" + r.plan() + "\"");
      }
      policies.put(r.plan(), plan);
    }

    if (r.cost() < 1 || r.cost() > Limit.MAX_CAPACITY) {
      throw new IllegalArgumentException(
          path + ".cost must be from 1 to 10^15, was " + r.cost());
    }
    java.time.Duration maxWait = r.maxWait() == null ? java.time.Duration.ZERO : r.maxWait();
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException(path + ".max-wait must be at least 0s, was " + maxWait);
    }
    List<String> paths = r.paths() == null ? List.of() : List.copyOf(r.paths());
    List<String> methods = r.methods() == null ? List.of()
        : r.methods().stream().map(m -> m.trim().toUpperCase(Locale.ROOT)).toList();
    int[] chargeOn = r.chargeOn() == null ? new int[0]
        : r.chargeOn().stream().mapToInt(s -> s == null ? -1 : s).toArray();
    for (int j = 0; j < chargeOn.length; j++) {
      if (chargeOn[j] < 100 || chargeOn[j] > 599) {
        throw new IllegalArgumentException(path + ".charge-on[" + j
            + "] must be from 100 to 599, was " + chargeOn[j]);
      }
    }
    return new RuleSettings(r.name(), paths, methods, keyText, key, prefix, r.plan(),
        planExpression, java.util.Collections.unmodifiableMap(policies), r.cost(), r.shadow(), chargeOn,
        maxWait);
  }

  private static Policy policy(List<LimitProperties> limits, String path) {
    if (limits == null || limits.isEmpty()) {
      throw new IllegalArgumentException(path + " must hold from 1 to " + Policy.MAX_LIMITS
          + " limits, was empty");
    }
    if (limits.size() > Policy.MAX_LIMITS) {
      throw new IllegalArgumentException(path + " must hold from 1 to " + Policy.MAX_LIMITS
          + " limits, was " + limits.size());
    }
    List<Limit> out = new ArrayList<>();
    for (int i = 0; i < limits.size(); i++) {
      out.add(limit(limits.get(i), path + "[" + i + "]"));
    }
    return new Policy(out);
  }

  static Limit limit(LimitProperties l, String path) {
    if (l == null || l.permits() == null) {
      throw new IllegalArgumentException(path + ".permits must be from 1 to 10^15, was missing");
    }
    long permits = range(path + ".permits", l.permits());
    if (l.per() == null) {
      throw new IllegalArgumentException(path + ".per must be a positive duration, was missing");
    }
    if (l.per().isNegative() || l.per().isZero()) {
      throw new IllegalArgumentException(
          path + ".per must be a positive duration, was " + l.per());
    }
    long burst = l.burst() == null ? permits : range(path + ".burst", l.burst());
    try {
      return new Limit(burst, permits, l.per(), burst);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
    }
  }

  private static long range(String path, long v) {
    if (v < 1 || v > Limit.MAX_CAPACITY) {
      throw new IllegalArgumentException(path + " must be from 1 to 10^15, was " + v);
    }
    return v;
  }

  /** A Redis URI without its credentials (user info), for logs and the actuator endpoint. */
  static String redact(String uri) {
    return uri.replaceFirst("//[^@/]*@", "//***@");
  }

  /** Everything a live change cannot alter in place: all but the limits. */
  String shape() {
    StringBuilder b = new StringBuilder();
    SluiceProperties.Redis redis = properties.redis();
    b.append("store=").append(properties.store())
        .append(" redis=").append(redis == null ? null
            : (redis.uri() == null ? null : redact(redis.uri())) + " deadline=" + redis.deadline()
                + " namespace=" + redis.namespace())
        .append(" failure-mode=").append(properties.failureMode())
        .append(" headers=").append(headers).append(" exempt=").append(exempt)
        .append(" trusted-proxies=").append(properties.trustedProxies())
        .append(" missing-key=").append(missingKey).append(" enabled=")
        .append(properties.enabled()).append(" filter=").append(properties.filter())
        .append(" plans=").append(plans.keySet());
    for (RuleSettings r : rules) {
      b.append("\n").append(r.shape());
    }
    return b.toString();
  }
}
