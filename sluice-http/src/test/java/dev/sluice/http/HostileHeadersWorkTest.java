package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.http.HttpLimiterTest.Req;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Row 18: the work a request costs does not grow with the size of its headers, counted, not
 * timed. The count is the HTTP layer's own ({@link Keys#reads()}): every character of key
 * material hashed and of a forwarding header walked, the only steps that read a value in full.
 * Whatever else touches a value (the blank check, the kind prefix) runs only after the length
 * check, on at most {@link Keys#MAX_VALUE} characters. Each case decides a request with a 1 KiB
 * header, then one with a 1 MiB header, and compares the characters read.
 */
class HostileHeadersWorkTest {

  private static final int KIB = 1 << 10;
  private static final int MIB = 1 << 20;

  /** The characters of request text {@code limiter} reads deciding {@code request}. */
  private static long readsDeciding(HttpLimiter limiter, Req request) {
    long before = Keys.reads();
    limiter.decide(request);
    return Keys.reads() - before;
  }

  private static HttpLimiter limiter(KeyResolver key) {
    return HttpLimiter.builder().ticker(new ManualTicker()).key(key)
        .limit(Limit.perHour(100)).build();
  }

  private static Req with(String name, String value) {
    return Req.get("/x").from("127.0.0.1").header(name, value);
  }

  @Test
  void apiKeyHeader_1MiBReadsNoMoreThan1KiB_andIsNoKey() {
    try (HttpLimiter limiter = limiter(KeyResolver.header("X-API-Key"))) {
      long small = readsDeciding(limiter, with("X-API-Key", "k".repeat(KIB)));
      long big = readsDeciding(limiter, with("X-API-Key", "k".repeat(MIB)));
      System.out.printf("WORK api key: 1 KiB %d characters read, 1 MiB %d%n", small, big);
      assertThat(small).as("the 1 KiB key is hashed whole").isGreaterThanOrEqualTo(KIB);
      assertThat(big).as("a 1 MiB key is not read").isLessThanOrEqualTo(small).isZero();
      assertThat(limiter.decide(with("X-API-Key", "k".repeat(MIB))).rejection().orElseThrow()
          .reason()).as("no key that long: refused as missing").isEqualTo(Rejection.Reason.MISSING_KEY);
      assertThat(limiter.decide(with("X-API-Key", "k".repeat(Keys.MAX_VALUE))).allowed())
          .as("8,192 characters are still a key").isTrue();
    }
  }

  @Test
  void apiKeyOrElseClientIp_1MiBKeyFallsBackToTheAddress_readingOnlyIt() {
    try (HttpLimiter limiter = limiter(KeyResolver.header("X-API-Key")
        .orElse(KeyResolver.clientIp()))) {
      long small = readsDeciding(limiter, with("X-API-Key", "k".repeat(KIB)));
      long big = readsDeciding(limiter, with("X-API-Key", "k".repeat(MIB)));
      long address = readsDeciding(limiter, Req.get("/x").from("127.0.0.1"));
      System.out.printf("WORK api key or address: 1 KiB %d, 1 MiB %d, none %d%n", small, big,
          address);
      assertThat(big).isLessThanOrEqualTo(small).isEqualTo(address);
    }
  }

  @Test
  void bearerToken_1MiBReadsNoMoreThan1KiB() {
    try (HttpLimiter limiter = limiter(KeyResolver.bearerToken())) {
      long small = readsDeciding(limiter, with("Authorization", "Bearer " + "t".repeat(KIB)));
      long big = readsDeciding(limiter, with("Authorization", "Bearer " + "t".repeat(MIB)));
      System.out.printf("WORK bearer: 1 KiB %d, 1 MiB %d%n", small, big);
      assertThat(small).isGreaterThanOrEqualTo(KIB);
      assertThat(big).isLessThanOrEqualTo(small).isZero();
    }
  }

  @Test
  void forwardingHeadersFromATrustedProxy_1MiBReadsWhat1KiBReads() {
    for (TrustedProxies.Header syntax : TrustedProxies.Header.values()) {
      TrustedProxies proxies = TrustedProxies.of("127.0.0.1").header(syntax);
      String name = syntax.fieldName();
      String hop = syntax == TrustedProxies.Header.FORWARDED ? "for=203.0.113.7" : "203.0.113.7";
      try (HttpLimiter limiter = limiter(KeyResolver.clientIp(proxies))) {
        // one element as long as the header: no comma for the walk to stop at
        long small = readsDeciding(limiter, with(name, "a".repeat(KIB)));
        long big = readsDeciding(limiter, with(name, "a".repeat(MIB)));
        // a megabyte of hostile text to the left of the client's hop
        String garbage = ",\"\\[]:%;=";
        long smallLeft = readsDeciding(limiter,
            with(name, garbage.repeat(KIB / garbage.length()) + ", " + hop));
        long bigLeft = readsDeciding(limiter,
            with(name, garbage.repeat(MIB / garbage.length()) + ", " + hop));
        System.out.printf("WORK %s: one element 1 KiB %d, 1 MiB %d; hostile text left of the"
            + " hop 1 KiB %d, 1 MiB %d%n", name, small, big, smallLeft, bigLeft);
        assertThat(big).as(name + ", one element").isEqualTo(small)
            .isLessThanOrEqualTo(ClientIp.MAX_ELEMENT + 2 + Keys.LENGTH);
        assertThat(bigLeft).as(name + ", hostile text to the left").isEqualTo(smallLeft);
      }
    }
  }

  @Test
  void aRepeatedOrHugeHeaderOfAnotherName_isNeverRead() {
    try (HttpLimiter limiter = limiter(KeyResolver.header("X-API-Key"))) {
      Req small = new Req("GET", "/x", Map.of("x-api-key", List.of("key"),
          "cookie", List.of("c".repeat(KIB))), "127.0.0.1", null);
      Req big = new Req("GET", "/x", Map.of("x-api-key", List.of("key"),
          "cookie", List.of("c".repeat(MIB))), "127.0.0.1", null);
      assertThat(readsDeciding(limiter, big)).isEqualTo(readsDeciding(limiter, small));
    }
  }
}
