package dev.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.http.HeaderGroup;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DemoOptionsTest {

  private static DemoOptions parse(Map<String, String> env, String... args) {
    return DemoOptions.parse(args, env::get);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "10/s, 10, PT1S",
      "100/m, 100, PT1M",
      "1000/h, 1000, PT1H",
      "5/500ms, 5, PT0.5S",
      "1/d, 1, PT24H",
      "3/2s, 3, PT2S",
      "7/S, 7, PT1S",
      "10/sec, 10, PT1S",
      "10/second, 10, PT1S",
      "10/seconds, 10, PT1S",
      "10/min, 10, PT1M",
      "10/minute, 10, PT1M",
      "10/minutes, 10, PT1M",
      "10/MIN, 10, PT1M",
      "3/2min, 3, PT2M",
      "10/hr, 10, PT1H",
      "10/hour, 10, PT1H",
      "10/hours, 10, PT1H",
      "10/day, 10, PT24H",
      "10/days, 10, PT24H",
      "10/ms, 10, PT0.001S",
      "5/30seconds, 5, PT30S",
  })
  void parseLimit_acceptedForms_permitsPerPeriodWithCapacityN(String text, long n, String period) {
    Limit l = DemoOptions.parseLimit(text);
    assertThat(l).isEqualTo(Limit.of(n, Duration.parse(period)));
  }

  @Test
  void parseLimit_malformed_refusedNamingTheFlagAndForms() {
    for (String bad : new String[] {"10", "10/x", "/s", "0/s", "10/0s", "-1/s", "ten/s", "10/mins",
        "10/ seconds", "10/1.5s"}) {
      assertThatThrownBy(() -> DemoOptions.parseLimit(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--limit \"" + bad);
    }
    assertThatThrownBy(() -> DemoOptions.parseLimit("10/x")).hasMessage("--limit \"10/x\" must"
        + " look like 10/s, 100/min, 1000/h, 5/500ms or 1/d: permits / [count] unit, the unit one"
        + " of ms; s, sec, second, seconds; m, min, minute, minutes; h, hr, hour, hours; d, day,"
        + " days");
    assertThatThrownBy(() -> DemoOptions.parseLimit("2000000000/ms"))
        .hasMessageContaining("1 permit per nanosecond");
  }

  @Test
  void parse_defaults_port8080Loopback10PerSecondByIpAllHeaders() {
    DemoOptions o = parse(Map.of());
    assertThat(o.help).isFalse();
    assertThat(o.port).isEqualTo(8080);
    assertThat(o.host).isEqualTo("127.0.0.1");
    assertThat(o.limit).isEqualTo(Limit.perSecond(10));
    assertThat(o.keyText).isEqualTo("ip");
    assertThat(o.keyHeader).isNull();
    assertThat(o.trustedProxies.isEmpty()).isTrue();
    assertThat(o.headers).containsExactlyInAnyOrder(HeaderGroup.values());
    assertThat(o.redis).isNull();
    assertThat(o.storeText()).isEqualTo("memory");
    assertThat(o.failureMode).isEqualTo(FailureMode.LOCAL);
    assertThat(o.paths).containsExactly("/hello");
    assertThat(o.methods).isEmpty();
    assertThat(o.scopeText()).isEqualTo("/hello");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "redis://localhost:6379 | Redis at redis://localhost:6379",
      "redis://:s3cret@10.0.0.5:6380/2 | Redis at redis://10.0.0.5:6380",
      "rediss://user:pw@cache.internal:6380?timeout=2s | Redis at rediss://cache.internal:6380",
      "redis-cluster://h1:7000,h2:7001 | Redis Cluster at redis-cluster://h1:7000,h2:7001",
      "rediss-cluster://pw@h1:7000,h2:7001/0 | Redis Cluster at rediss-cluster://h1:7000,h2:7001",
      "redis-socket:///var/run/redis.sock | Redis at /var/run/redis.sock",
  })
  void parse_redisUris_acceptedAndShownWithoutCredentials(String uri, String shown) {
    DemoOptions o = parse(Map.of(), "--redis", uri);
    assertThat(o.redis).isEqualTo(uri);
    assertThat(o.storeText()).isEqualTo(shown).doesNotContain("s3cret").doesNotContain("pw");
  }

  @Test
  void parse_redisAndFailureMode_fromEnvironmentAndFlags() {
    Map<String, String> env = Map.of("SLUICE_REDIS", "redis://envhost:6379",
        "SLUICE_FAILURE_MODE", "closed");
    DemoOptions fromEnv = parse(env);
    assertThat(fromEnv.redis).isEqualTo("redis://envhost:6379");
    assertThat(fromEnv.failureMode).isEqualTo(FailureMode.CLOSED);
    assertThat(fromEnv.failureModeText()).isEqualTo("closed");
    DemoOptions flags = parse(env, "--redis=redis-cluster://a:7000", "--failure-mode", "OPEN");
    assertThat(flags.redis).isEqualTo("redis-cluster://a:7000");
    assertThat(flags.failureMode).isEqualTo(FailureMode.OPEN);
    assertThat(parse(Map.of(), "--failure-mode", "local").failureMode).isEqualTo(FailureMode.LOCAL);
  }

  @Test
  void parse_redisLeasing_needsRedisAndALifeFrom10msTo1min() {
    assertThat(parse(Map.of(), "--redis", "redis://localhost:6379").redisLeasing).isNull();
    assertThat(parse(Map.of(), "--redis", "redis://localhost:6379", "--redis-leasing", "1s")
        .redisLeasing).isEqualTo(Duration.ofSeconds(1));
    assertThat(parse(Map.of("SLUICE_REDIS", "redis://localhost:6379",
        "SLUICE_REDIS_LEASING", "500ms")).redisLeasing).isEqualTo(Duration.ofMillis(500));
    assertThatThrownBy(() -> parse(Map.of(), "--redis-leasing", "1s"))
        .hasMessageContaining("--redis-leasing needs --redis");
    assertThatThrownBy(() -> parse(Map.of(), "--redis", "redis://localhost:6379",
        "--redis-leasing", "5ms")).hasMessageContaining("from 10ms to 1min");
    assertThatThrownBy(() -> parse(Map.of(), "--redis", "redis://localhost:6379",
        "--redis-leasing", "2min")).hasMessageContaining("from 10ms to 1min");
    assertThat(DemoOptions.USAGE).contains("--redis-leasing DURATION")
        .contains("[SLUICE_REDIS_LEASING]");
  }

  @Test
  void parse_badRedisOrFailureMode_refusedWithTheFlagNamed() {
    assertThatThrownBy(() -> parse(Map.of(), "--failure-mode", "maybe"))
        .hasMessage("--failure-mode \"maybe\" must be open, closed or local");
    assertThatThrownBy(() -> parse(Map.of(), "--redis", "localhost:6379"))
        .hasMessageStartingWith("--redis: uri (\"localhost:6379\") must start with redis://")
        .hasMessageEndingWith("(e.g. redis://localhost:6379 or redis-cluster://h1:7000,h2:7001)");
    assertThatThrownBy(() -> parse(Map.of(), "--redis", "http://localhost:6379"))
        .hasMessageStartingWith("--redis: uri (\"http://localhost:6379\") is not a valid Redis URI");
    assertThatThrownBy(() -> parse(Map.of(), "--redis", "redis-cluster://h1:7000,,h2:7001"))
        .hasMessageContaining("empty host");
  }

  @Test
  void parse_flagsBothSpellings_andFlagsWinOverEnvironment() {
    Map<String, String> env = Map.of("PORT", "9000", "SLUICE_LIMIT", "100/m", "SLUICE_BURST", "7",
        "SLUICE_KEY", "bearer", "SLUICE_HEADERS", "ietf");
    DemoOptions fromEnv = parse(env);
    assertThat(fromEnv.port).isEqualTo(9000);
    assertThat(fromEnv.limit).isEqualTo(Limit.perMinute(100).withCapacity(7));
    assertThat(fromEnv.keyHeader).isEqualTo("Authorization");
    assertThat(fromEnv.headers).containsExactly(HeaderGroup.IETF);

    DemoOptions flags = parse(env, "--port", "0", "--limit=5/500ms", "--burst", "20",
        "--key", "header:X-API-Key", "--trusted-proxies", "10.0.0.0/8, 127.0.0.1",
        "--headers=xratelimit,retry-after");
    assertThat(flags.port).isZero();
    assertThat(flags.limit).isEqualTo(Limit.of(5, Duration.ofMillis(500)).withCapacity(20));
    assertThat(flags.keyHeader).isEqualTo("X-API-Key");
    assertThat(flags.trustedProxies.ranges()).containsExactly("10.0.0.0/8", "127.0.0.1");
    assertThat(flags.headers).containsExactlyInAnyOrder(HeaderGroup.X_RATELIMIT,
        HeaderGroup.RETRY_AFTER);
    assertThat(flags.headersText()).isEqualTo("xratelimit,retry-after");
    assertThat(parse(Map.of(), "--headers", "none").headers).isEmpty();
    assertThat(parse(Map.of(), "--help").help).isTrue();
  }

  @Test
  void parse_badFlags_refusedWithTheFlagNamed() {
    assertThatThrownBy(() -> parse(Map.of(), "--port", "70000"))
        .hasMessageContaining("--port 70000 must be from 0 to 65535");
    assertThatThrownBy(() -> parse(Map.of(), "--port", "http"))
        .hasMessageContaining("--port \"http\"");
    assertThatThrownBy(() -> parse(Map.of(), "--burst", "0")).hasMessageContaining("--burst 0");
    assertThatThrownBy(() -> parse(Map.of(), "--key", "cookie"))
        .hasMessageContaining("--key \"cookie\" must be ip, header:<name>");
    assertThatThrownBy(() -> parse(Map.of(), "--key", "header:bad name"))
        .hasMessageContaining("\"bad name\"");
    assertThatThrownBy(() -> parse(Map.of(), "--headers", "xratelimit,bogus"))
        .hasMessageContaining("unknown group \"bogus\"");
    assertThatThrownBy(() -> parse(Map.of(), "--trusted-proxies", "10.0.0.0/40"))
        .hasMessageContaining("exceeds 32");
    assertThatThrownBy(() -> parse(Map.of(), "--colour", "red"))
        .hasMessageContaining("unknown option --colour");
    assertThatThrownBy(() -> parse(Map.of(), "--port")).hasMessageContaining("--port needs a value");
    assertThatThrownBy(() -> parse(Map.of(), "8080")).hasMessageContaining("unexpected argument");
  }

  @Test
  void parse_unknownOptionWithoutValue_saysUnknownNotNeedsAValue() {
    assertThatThrownBy(() -> parse(Map.of(), "--bogus"))
        .hasMessage("unknown option --bogus (see --help)");
    assertThatThrownBy(() -> parse(Map.of(), "--limit", "5/s", "--bogus"))
        .hasMessage("unknown option --bogus (see --help)");
    assertThatThrownBy(() -> parse(Map.of(), "--bogus=1"))
        .hasMessage("unknown option --bogus (see --help)");
  }

  @Test
  void parse_optionFollowedByAnotherOption_needsAValue() {
    assertThatThrownBy(() -> parse(Map.of(), "--limit", "--burst", "5"))
        .hasMessage("--limit needs a value (see --help)");
  }

  @Test
  void parse_headersNoneMixedWithGroups_refused() {
    assertThatThrownBy(() -> parse(Map.of(), "--headers", "none,ietf"))
        .hasMessage("--headers \"none,ietf\": none cannot be combined with header groups (give"
            + " none alone, or any of xratelimit, ietf, retry-after)");
    assertThatThrownBy(() -> parse(Map.of(), "--headers", "ietf, NONE"))
        .hasMessageStartingWith("--headers \"ietf, NONE\": none cannot be combined");
    assertThatThrownBy(() -> parse(Map.of(), "--headers="))
        .hasMessage("--headers \"\" must be none, or one or more of xratelimit, ietf, retry-after"
            + " (comma-separated)");
    assertThat(parse(Map.of(), "--headers", "None").headersText()).isEqualTo("none");
  }

  @Test
  void parse_pathsAndMethods_fromFlagsAndEnvironment() {
    DemoOptions o = parse(Map.of(), "--paths", "/api/**, /hello", "--methods", "get,POST,get");
    assertThat(o.paths).containsExactly("/api/**", "/hello");
    assertThat(o.methods).containsExactly("GET", "POST");
    assertThat(o.scopeText()).isEqualTo("/api/**, /hello (GET, POST)");
    DemoOptions env = parse(Map.of("SLUICE_PATHS", "/**", "SLUICE_METHODS", "DELETE"));
    assertThat(env.paths).containsExactly("/**");
    assertThat(env.methods).containsExactly("DELETE");
  }

  @Test
  void parse_badPathsOrMethods_refusedNamingFlagValueAndWhatIsAllowed() {
    assertThatThrownBy(() -> parse(Map.of(), "--paths", "hello"))
        .hasMessage("--paths \"hello\": path pattern \"hello\" must start with '/'"
            + " (e.g. /hello, /api/**, /users/*/avatar, or /** for every path)");
    assertThatThrownBy(() -> parse(Map.of(), "--paths", "/a,/b/***"))
        .hasMessageStartingWith("--paths \"/a,/b/***\": path pattern \"/b/***\"");
    assertThatThrownBy(() -> parse(Map.of(), "--paths", ","))
        .hasMessage("--paths \",\" must list at least one path pattern, e.g. /hello or"
            + " /api/**,/hello");
    assertThatThrownBy(() -> parse(Map.of(), "--methods", "GET,FETCH"))
        .hasMessage("--methods \"GET,FETCH\": unknown method \"FETCH\" (choose from GET, HEAD,"
            + " POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT; leave --methods out to limit"
            + " every method)");
    assertThatThrownBy(() -> parse(Map.of(), "--methods", "all"))
        .hasMessageContaining("unknown method \"all\"");
    assertThatThrownBy(() -> parse(Map.of(), "--methods="))
        .hasMessage("--methods \"\" must list at least one method, e.g. GET or GET,POST");
  }

  @Test
  void parse_badValues_messagesNameTheFlagAndTheValue() {
    assertThatThrownBy(() -> parse(Map.of(), "--key", "header:bad name"))
        .hasMessage("--key \"header:bad name\": header name \"bad name\" must be 1 to 256 token"
            + " characters (RFC 9110)");
    assertThatThrownBy(() -> parse(Map.of(), "--trusted-proxies", "10.0.0.0/8,10.0.0.0/40"))
        .hasMessageStartingWith("--trusted-proxies \"10.0.0.0/8,10.0.0.0/40\": trusted proxy"
            + " range \"10.0.0.0/40\"");
    assertThatThrownBy(() -> parse(Map.of(), "--limit", "1/d", "--burst", "1000000000000000"))
        .hasMessageStartingWith("--burst 1000000000000000 with --limit 1/d: ");
    assertThatThrownBy(() -> parse(Map.of(), "--host", "local host"))
        .hasMessageStartingWith("--host \"local host\" must be an address or host name");
  }

  @Test
  void parse_badValueFromTheEnvironment_namesTheVariableToo() {
    assertThatThrownBy(() -> parse(Map.of("SLUICE_LIMIT", "10/fortnight")))
        .hasMessageStartingWith("--limit \"10/fortnight\" must look like")
        .hasMessageEndingWith(" (from the environment variable SLUICE_LIMIT)");
    assertThatThrownBy(() -> parse(Map.of("SLUICE_HEADERS", "none,ietf")))
        .hasMessageEndingWith(" (from the environment variable SLUICE_HEADERS)");
    assertThat(parse(Map.of("SLUICE_LIMIT", "10/fortnight"), "--limit", "1/s").limit)
        .as("a flag wins over its variable").isEqualTo(Limit.perSecond(1));
  }

  @Test
  void parse_maxWait_durationsAsInLimitZeroByDefaultFromFlagOrEnvironment() {
    assertThat(parse(Map.of()).maxWait).isEqualTo(Duration.ZERO);
    assertThat(parse(Map.of(), "--max-wait", "500ms").maxWait).isEqualTo(Duration.ofMillis(500));
    assertThat(parse(Map.of(), "--max-wait=2s").maxWait).isEqualTo(Duration.ofSeconds(2));
    assertThat(parse(Map.of(), "--max-wait", "1min").maxWait).isEqualTo(Duration.ofMinutes(1));
    assertThat(parse(Map.of(), "--max-wait", "0").maxWait).isEqualTo(Duration.ZERO);
    assertThat(parse(Map.of(), "--max-wait", "0s").maxWait).isEqualTo(Duration.ZERO);
    DemoOptions env = parse(Map.of("SLUICE_MAX_WAIT", "250ms"));
    assertThat(env.maxWait).isEqualTo(Duration.ofMillis(250));
    assertThat(env.maxWaitText).isEqualTo("250ms");
    assertThat(parse(Map.of("SLUICE_MAX_WAIT", "250ms"), "--max-wait", "1s").maxWait)
        .as("a flag wins over its variable").isEqualTo(Duration.ofSeconds(1));
    assertThat(DemoOptions.USAGE).contains("--max-wait DURATION").contains("[SLUICE_MAX_WAIT]");
  }

  @Test
  void parse_badMaxWait_refusedNamingTheFlagAndTheForms() {
    assertThatThrownBy(() -> parse(Map.of(), "--max-wait", "5"))
        .hasMessage("--max-wait \"5\" must be 0 or a count and a unit, like 500ms, 2s, 1min or 1h:"
            + " the unit one of ms; s, sec, second, seconds; m, min, minute, minutes; h, hr, hour,"
            + " hours; d, day, days");
    assertThatThrownBy(() -> parse(Map.of(), "--max-wait", "-1s"))
        .hasMessageStartingWith("--max-wait \"-1s\" must be 0 or a count and a unit");
    assertThatThrownBy(() -> parse(Map.of(), "--max-wait", "2fortnights"))
        .hasMessageStartingWith("--max-wait \"2fortnights\"");
    assertThatThrownBy(() -> parse(Map.of(), "--max-wait", "999999999999999d"))
        .hasMessage("--max-wait \"999999999999999d\": too long");
    assertThatThrownBy(() -> parse(Map.of("SLUICE_MAX_WAIT", "soon")))
        .hasMessageEndingWith(" (from the environment variable SLUICE_MAX_WAIT)");
  }
}
