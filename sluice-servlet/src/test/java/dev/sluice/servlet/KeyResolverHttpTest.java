package dev.sluice.servlet;

import dev.sluice.http.*;

import static dev.sluice.servlet.HeadersTimelineTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import org.junit.jupiter.api.Test;

/**
 * Key resolution over real HTTP: per client IP (two real peers, 127.0.0.1 and 127.0.0.2), behind
 * trusted and untrusted proxies, per API-key header, per bearer token, per principal, and what
 * happens without a key. Every limit is 2 per hour on a frozen ticker: 2 admitted, then 429.
 */
class KeyResolverHttpTest {

  private static RateLimitFilter.Builder twoPerHour() {
    return RateLimitFilter.builder().limit(Limit.perHour(2)).ticker(new ManualTicker());
  }

  private static byte[] line(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void clientIp_twoPeers_separateBuckets() throws Exception {
    try (TestServer server = TestServer.start(twoPerHour().build())) {
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).isEqualTo(429);
      TestServer.RawResponse other = server.raw("127.0.0.2", TestServer.rawGet("/hello"));
      assertThat(other.status()).isEqualTo(200);
      assertThat(other.headers()).containsEntry("x-ratelimit-remaining", "1");
    }
  }

  @Test
  void clientIp_untrustedPeerSpoofsXForwardedFor_ignored() throws Exception {
    RateLimitFilter filter = twoPerHour()
        .key(KeyResolver.clientIp(TrustedProxies.of("10.0.0.0/8"))).build();
    try (TestServer server = TestServer.start(filter)) {
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.1").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.2").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.3").statusCode()).isEqualTo(429);
      assertThat(server.get("/hello", "Forwarded", "for=203.0.113.4").statusCode()).isEqualTo(429);
    }
  }

  @Test
  void clientIp_trustedPeer_xForwardedForHonouredRightToLeft() throws Exception {
    RateLimitFilter filter = twoPerHour()
        .key(KeyResolver.clientIp(TrustedProxies.of("127.0.0.1/32", "10.0.0.0/8"))).build();
    try (TestServer server = TestServer.start(filter)) {
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.7").statusCode()).isEqualTo(200);
      // a spoofed entry left of the client, and a trusted hop right of it, change nothing
      assertThat(server.get("/hello", "X-Forwarded-For", "1.1.1.1, 203.0.113.7, 10.0.0.9")
          .statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-Forwarded-For", "9.9.9.9, 203.0.113.7").statusCode())
          .isEqualTo(429);
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.8").statusCode()).isEqualTo(200);
      // no header, a malformed one, and a Forwarded header (not the one these proxies write)
      // all fall back to the peer, 127.0.0.1: one bucket
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.9, bogus").statusCode())
          .isEqualTo(200);
      assertThat(server.get("/hello", "Forwarded", "for=203.0.113.10").statusCode())
          .isEqualTo(429);
    }
  }

  @Test
  void clientIp_trustedPeerWritingForwarded_honoured() throws Exception {
    TrustedProxies proxies = TrustedProxies.of("127.0.0.1")
        .header(TrustedProxies.Header.FORWARDED);
    try (TestServer server = TestServer.start(twoPerHour().key(KeyResolver.clientIp(proxies))
        .build())) {
      for (int i = 0; i < 2; i++) {
        assertThat(server.get("/hello", "Forwarded", "for=\"[2001:db8::7]:443\";proto=https")
            .statusCode()).isEqualTo(200);
      }
      assertThat(server.get("/hello", "Forwarded", "for=\"[2001:db8:0::7]\"").statusCode())
          .isEqualTo(429);
      assertThat(server.get("/hello", "Forwarded", "for=203.0.113.7").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.99").statusCode())
          .as("X-Forwarded-For is ignored: the peer's own bucket").isEqualTo(200);
    }
  }

  @Test
  void header_perApiKey_separateBucketsAndMissingKeyDenied() throws Exception {
    try (TestServer server = TestServer.start(twoPerHour().key(KeyResolver.header("X-API-Key"))
        .build())) {
      assertThat(server.get("/hello", "X-API-Key", "alpha").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-API-Key", "alpha").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-API-Key", "alpha").statusCode()).isEqualTo(429);
      assertThat(server.get("/hello", "x-api-key", "beta").statusCode()).isEqualTo(200);
      HttpResponse<String> none = server.get("/hello");
      assertThat(none.statusCode()).isEqualTo(403);
      assertThat(none.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(none.body()).isEqualTo("{\"type\":\"about:blank\",\"title\":\"Forbidden\","
          + "\"status\":403,\"detail\":\"The request carries no key for rate limit \\\"default\\\": "
          + "it needs header X-API-Key.\"}");
      assertThat(header(none, "X-RateLimit-Limit")).isEqualTo("-");
      assertThat(server.raw("127.0.0.1", TestServer.rawGet("/hello", line("X-API-Key:")))
          .status()).as("empty value").isEqualTo(403);
      assertThat(server.raw("127.0.0.1", TestServer.rawGet("/hello",
          line("X-API-Key: beta"), line("X-API-Key: gamma"))).status())
          .as("repeated header is ambiguous").isEqualTo(403);
    }
  }

  @Test
  void bearerToken_perToken_otherSchemesHaveNoKey() throws Exception {
    try (TestServer server = TestServer.start(twoPerHour().key(KeyResolver.bearerToken())
        .build())) {
      assertThat(server.get("/hello", "Authorization", "Bearer t1").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "Authorization", "bearer   t1").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "Authorization", "BEARER t1").statusCode()).isEqualTo(429);
      assertThat(server.get("/hello", "Authorization", "Bearer t2").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "Authorization", "Basic dTpw").statusCode()).isEqualTo(403);
      assertThat(server.get("/hello", "Authorization", "Bearer ").statusCode()).isEqualTo(403);
      assertThat(server.get("/hello").statusCode()).isEqualTo(403);
    }
  }

  @Test
  void principal_perUser_anonymousHasNoKey() throws Exception {
    try (TestServer server = TestServer.start(new HeaderAuthentication(),
        twoPerHour().key(KeyResolver.principal()).build())) {
      assertThat(server.get("/hello", "X-Test-User", "ann").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-Test-User", "ann").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-Test-User", "ann").statusCode()).isEqualTo(429);
      assertThat(server.get("/hello", "X-Test-User", "bob").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).isEqualTo(403);
    }
  }

  @Test
  void missingKeyAllow_keylessRequestsPassUnlimitedWithoutHeaders() throws Exception {
    RateLimitFilter filter = twoPerHour().key(KeyResolver.header("X-API-Key"))
        .onMissingKey(MissingKey.ALLOW).build();
    try (TestServer server = TestServer.start(filter)) {
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = server.get("/hello");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo("-");
      }
      assertThat(server.get("/hello", "X-API-Key", "k").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-API-Key", "k").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-API-Key", "k").statusCode()).isEqualTo(429);
    }
  }

  @Test
  void orElse_apiKeyElseClientIp_keylessRequestsShareTheirAddressBucket() throws Exception {
    RateLimitFilter filter = twoPerHour()
        .key(KeyResolver.header("X-API-Key").orElse(KeyResolver.clientIp())).build();
    try (TestServer server = TestServer.start(filter)) {
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).isEqualTo(429);
      assertThat(server.get("/hello", "X-API-Key", "k").statusCode()).isEqualTo(200);
      assertThat(server.raw("127.0.0.2", TestServer.rawGet("/hello")).status()).isEqualTo(200);
    }
  }

  @Test
  void and_apiKeyPerAddress_eachPairItsOwnBucket() throws Exception {
    RateLimitFilter filter = twoPerHour()
        .key(KeyResolver.header("X-API-Key").and(KeyResolver.clientIp())).build();
    byte[] withKey = TestServer.rawGet("/hello", line("X-API-Key: k"));
    try (TestServer server = TestServer.start(filter)) {
      assertThat(server.raw("127.0.0.1", withKey).status()).isEqualTo(200);
      assertThat(server.raw("127.0.0.1", withKey).status()).isEqualTo(200);
      assertThat(server.raw("127.0.0.1", withKey).status()).isEqualTo(429);
      assertThat(server.raw("127.0.0.2", withKey).status()).isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).as("no API key").isEqualTo(403);
    }
  }

  /**
   * Stands in for an authentication layer: the principal named by {@code X-Test-User}, if any.
   */
  static final class HeaderAuthentication implements Filter {
    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
        throws IOException, ServletException {
      HttpServletRequest http = (HttpServletRequest) req;
      String user = http.getHeader("X-Test-User");
      chain.doFilter(user == null ? req : new HttpServletRequestWrapper(http) {
        @Override
        public Principal getUserPrincipal() {
          return () -> user;
        }
      }, res);
    }
  }
}
