package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Policy;
import dev.sluice.RateLimitListener;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The strategy on its own, over a plain request view and a manual ticker: no server. */
class HttpLimiterTest {

  /** A request as a record. */
  record Req(String method, String path, Map<String, List<String>> headerMap, String remoteAddress,
      String principal) implements RequestView {

    static Req get(String path) {
      return new Req("GET", path, Map.of(), "192.0.2.1", null);
    }

    Req from(String address) {
      return new Req(method, path, headerMap, address, principal);
    }

    Req method(String m) {
      return new Req(m, path, headerMap, remoteAddress, principal);
    }

    Req header(String name, String value) {
      return new Req(method, path, Map.of(name.toLowerCase(), List.of(value)), remoteAddress,
          principal);
    }

    @Override
    public List<String> headers(String name) {
      return headerMap.getOrDefault(name.toLowerCase(), List.of());
    }
  }

  @Test
  void builtLimiters_takeTheFailureModeAndListener_andAreFoundByRule() {
    List<String> heard = new ArrayList<>();
    RateLimitListener listener = new RateLimitListener() {
      @Override
      public void onDecision(String limiter, boolean allowed, Decision.Source source, long nanos) {
        heard.add(limiter + ":" + allowed);
      }
    };
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(new ManualTicker())
        .failureMode(FailureMode.CLOSED).listener(listener)
        .rule(Rule.builder("a", Limit.perMinute(1)).build()).build()) {
      limiter.decide(Req.get("/x"));
      limiter.decide(Req.get("/x"));
      assertThat(heard).containsExactly("a:true", "a:false");
      assertThat(limiter.limiter("a").failureMode()).isEqualTo(FailureMode.CLOSED);
      assertThat(limiter.limiter("a").size()).isEqualTo(1);
      assertThatThrownBy(() -> limiter.limiter("b"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"b\"");
    }
  }

  @Test
  void getRule_headRequests_countedAsGets() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("r", Limit.perMinute(2)).methods("GET").build()).build()) {
      assertThat(limiter.decide(Req.get("/x")).allowed()).isTrue();
      assertThat(limiter.decide(Req.get("/x").method("HEAD")).allowed()).isTrue();
      assertThat(limiter.decide(Req.get("/x").method("HEAD")).allowed())
          .as("HEAD after the GET budget is spent").isFalse();
      assertThat(limiter.decide(Req.get("/x").method("POST")).allowed())
          .as("POST is not covered").isTrue();
    }
  }

  /**
   * The review's timeline: rules a and b, 1 per 10 s, drained at 0 and 1 ms; a request at 10 s
   * (a has refilled, b has not) must be refused without taking a's permit, so that at 10.001 s
   * both admit.
   */
  @Test
  void twoRules_secondRefusesAfterFirstRefilled_firstKeepsItsPermit() {
    ManualTicker t = new ManualTicker();
    RateLimiter<String> a = RateLimiter.builder(Limit.of(1, Duration.ofSeconds(10))).name("a")
        .ticker(t).build();
    RateLimiter<String> b = RateLimiter.builder(Limit.of(1, Duration.ofSeconds(10))).name("b")
        .ticker(t).build();
    try (a; b; HttpLimiter limiter = HttpLimiter.builder().ticker(t) // times the refund
        .rule(Rule.builder(a).paths("/a/**").build())
        .rule(Rule.builder(b).paths("/a/**", "/b").build())
        .build()) {
      String key = Keys.hash("ip:192.0.2.1");
      assertThat(a.tryAcquire(key)).isTrue(); // a drained at 0
      t.advance(Duration.ofMillis(1));
      assertThat(limiter.decide(Req.get("/b")).allowed()).isTrue(); // b drained at 1 ms
      t.advance(Duration.ofMillis(9_999));
      // at 10 s: a has its permit back, b is 1 ms short
      Verdict refused = limiter.decide(Req.get("/a/1"));
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.header("Retry-After")).isEqualTo("1");
      assertThat(refused.rejection().orElseThrow().rules()).containsExactly("b");
      assertThat(a.availablePermits(key)).as("a's permit is given back").isEqualTo(1);
      t.advance(Duration.ofMillis(1));
      assertThat(limiter.decide(Req.get("/a/1")).allowed())
          .as("at 10.001 s both rules have their permit").isTrue();
      assertThat(a.availablePermits(key)).isZero();
      assertThat(b.availablePermits(key)).isZero();
    }
  }

  @Test
  void twoRules_storeThatCannotRefund_underAdmitsNeverOver() {
    ManualTicker t = new ManualTicker();
    RateStoreFactory noRefund = new RateStoreFactory() {
      @Override
      public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
        return withoutRefund(dev.sluice.InMemoryStore.factory().create(name, policy, ticker),
            () -> { });
      }
    };
    RateLimiter<String> a = RateLimiter.builder(Limit.perMinute(5)).name("a").ticker(t)
        .store(noRefund).build();
    try (a; HttpLimiter limiter = HttpLimiter.builder().ticker(t).store(noRefund)
        .rule(Rule.builder(a).build())
        .rule(Rule.builder("b", Limit.perMinute(1)).build())
        .build()) {
      int admitted = 0;
      for (int i = 0; i < 10; i++) {
        admitted += limiter.decide(Req.get("/x")).allowed() ? 1 : 0;
      }
      assertThat(admitted).isEqualTo(1);
      assertThat(a.availablePermits(Keys.hash("ip:192.0.2.1")))
          .as("a keeps what b's refusals could not give back").isLessThan(4);
    }
  }

  @Test
  void ipv6Clients_oneBucketPerSlash64_ipv4PerAddress_mappedAsIpv4() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t).limit(Limit.perMinute(1))
        .build()) {
      assertThat(limiter.decide(Req.get("/").from("2001:db8:1:2::1")).allowed()).isTrue();
      assertThat(limiter.decide(Req.get("/").from("2001:db8:1:2:ffff::9")).allowed())
          .as("same /64").isFalse();
      assertThat(limiter.decide(Req.get("/").from("[2001:db8:1:2::77]")).allowed())
          .as("same /64, bracketed").isFalse();
      assertThat(limiter.decide(Req.get("/").from("2001:db8:1:3::1")).allowed())
          .as("next /64").isTrue();
      assertThat(limiter.decide(Req.get("/").from("198.51.100.7")).allowed()).isTrue();
      assertThat(limiter.decide(Req.get("/").from("::ffff:198.51.100.7")).allowed())
          .as("IPv4-mapped is the IPv4 address").isFalse();
      assertThat(limiter.decide(Req.get("/").from("198.51.100.8")).allowed())
          .as("IPv4 /32").isTrue();
    }
    assertThat(ClientIp.prefix(InetAddresses.parse("2001:db8:1:2:3:4:5:6"), 32, 64))
        .isEqualTo("2001:db8:1:2:0:0:0:0/64");
    assertThat(ClientIp.prefix(InetAddresses.parse("198.51.100.7"), 24, 64))
        .isEqualTo("198.51.100.0/24");
    assertThatThrownBy(() -> KeyResolver.clientIp(TrustedProxies.none(), 33, 64))
        .hasMessageContaining("/33").hasMessageContaining("/32");
    assertThatThrownBy(() -> KeyResolver.clientIp(TrustedProxies.none(), 32, 0))
        .hasMessageContaining("/0").hasMessageContaining("/128");
  }

  @Test
  void customResolver_emptyOrBlankKey_refusedAsMissingNeverShared() {
    for (String blank : new String[] {"", " ", "\t\n"}) {
      AtomicInteger calls = new AtomicInteger();
      KeyResolver resolver = r -> {
        calls.incrementAndGet();
        return Optional.of(blank);
      };
      try (HttpLimiter limiter = HttpLimiter.builder().key(resolver)
          .limit(Limit.perMinute(100)).build()) {
        Verdict v = limiter.decide(Req.get("/"));
        assertThat(v.allowed()).isFalse();
        assertThat(v.rejection().orElseThrow().status()).isEqualTo(403);
        assertThat(v.decision()).isEmpty();
        assertThat(calls).hasValue(1);
      }
      try (HttpLimiter limiter = HttpLimiter.builder().key(resolver)
          .onMissingKey(MissingKey.ALLOW).limit(Limit.perMinute(1)).build()) {
        for (int i = 0; i < 3; i++) {
          assertThat(limiter.decide(Req.get("/")).allowed()).as("not limited, never pooled")
              .isTrue();
        }
      }
    }
    // the built-in resolvers: a blank header value, principal or token is no key either
    Req blankHeader = Req.get("/").header("X-API-Key", "  ");
    assertThat(KeyResolver.header("X-API-Key").resolve(blankHeader)).isEmpty();
    assertThat(KeyResolver.bearerToken().resolve(Req.get("/").header("Authorization", "Bearer \t")))
        .isEmpty();
    Req blankPrincipal = new Req("GET", "/", Map.of(), "192.0.2.1", " ");
    assertThat(KeyResolver.principal().resolve(blankPrincipal)).isEmpty();
    try (HttpLimiter limiter = HttpLimiter.builder().key(KeyResolver.principal())
        .limit(Limit.perMinute(100)).build()) {
      assertThat(limiter.decide(blankPrincipal).rejection().orElseThrow().status()).isEqualTo(403);
    }
    // orElse falls back past a blank key
    KeyResolver blankThenIp = ((KeyResolver) r -> Optional.of(" ")).orElse(KeyResolver.clientIp());
    assertThat(Resolvers.present(blankThenIp.resolve(Req.get("/")))).contains("ip:192.0.2.1");
  }

  @Test
  void missingKey_problemNamesWhatTheKeyShouldBe() {
    try (HttpLimiter limiter = HttpLimiter.builder().key(KeyResolver.header("X-API-Key"))
        .limit(Limit.perMinute(1)).build()) {
      Rejection r = limiter.decide(Req.get("/")).rejection().orElseThrow();
      assertThat(r.wanted()).isEqualTo("header X-API-Key");
      assertThat(r.problemJson()).contains("it needs header X-API-Key");
    }
    try (HttpLimiter limiter = HttpLimiter.builder()
        .key(KeyResolver.bearerToken().orElse(KeyResolver.principal()))
        .limit(Limit.perMinute(1)).build()) {
      assertThat(limiter.decide(Req.get("/")).rejection().orElseThrow().problemJson())
          .contains("it needs an Authorization: Bearer token or an authenticated principal");
    }
  }

  @Test
  void severalLimits_ietfHeadersNameTheBindingLimit() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("api", Policy.of(Limit.perSecond(10), Limit.perMinute(12))).build())
        .build()) {
      Verdict first = limiter.decide(Req.get("/"));
      // 9 of 10 left in the second limit, 11 of 12 in the minute one: the first binds
      assertThat(first.header("RateLimit")).startsWith("\"api.1\";r=9;");
      assertThat(first.decision().orElseThrow().bindingIndex()).isZero();
      for (int i = 0; i < 9; i++) {
        limiter.decide(Req.get("/"));
      }
      t.advance(Duration.ofSeconds(1));
      // 10 back in the second limit, 2 left of the minute's: the second binds
      Verdict later = limiter.decide(Req.get("/"));
      assertThat(later.header("RateLimit")).startsWith("\"api.2\";r=1;");
      assertThat(later.header("X-RateLimit-Limit")).isEqualTo("12");
      assertThat(later.decision().orElseThrow().bindingLimit()).contains(Limit.perMinute(12));
    }
  }

  @Test
  void build_limiterCreationFails_closesTheOnesItCreated() {
    List<String> created = new ArrayList<>();
    List<String> closed = new ArrayList<>();
    RateStoreFactory failsOnThird = new RateStoreFactory() {
      @Override
      public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
        if (created.size() == 2) {
          throw new IllegalStateException("cannot connect for " + name);
        }
        created.add(name);
        return withoutRefund(dev.sluice.InMemoryStore.factory().create(name, policy, ticker),
            () -> closed.add(name));
      }
    };
    assertThatThrownBy(() -> HttpLimiter.builder().store(failsOnThird)
        .rule(Rule.builder("a", Limit.perMinute(1)).build())
        .rule(Rule.builder("b", Limit.perMinute(1)).build())
        .rule(Rule.builder("c", Limit.perMinute(1)).build())
        .build()).hasMessageContaining("cannot connect for c");
    assertThat(closed).containsExactly("a", "b");
  }

  /** {@code inner} without its refund (the SPI's default refuses), and a hook on close. */
  private static <K> RateStore<K> withoutRefund(RateStore<K> inner, Runnable onClose) {
    return new RateStore<>() {
      @Override
      public Decision decide(K key, dev.sluice.Policy policy, long permits) {
        return inner.decide(key, policy, permits);
      }

      @Override
      public long availablePermits(K key, dev.sluice.Policy policy) {
        return inner.availablePermits(key, policy);
      }

      @Override
      public long size() {
        return inner.size();
      }

      @Override
      public void close() {
        onClose.run();
        inner.close();
      }
    };
  }
}
