package dev.sluice.servlet;

import dev.sluice.http.*;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Hostile key material over real HTTP. Whatever reaches a store is a 43-character hash; a key
 * header longer than 8,192 characters is no key (the work it costs is counted in
 * {@code HostileHeadersWorkTest}); what the container refuses (oversized headers, NUL, bare CR or
 * LF) never reaches the filter. CRLF,
 * NUL and invalid UTF-16 that a client cannot send are covered on the hashing and the walk
 * directly ({@link KeysTest}, {@link ClientIpTest}).
 */
class HostileHeadersTest {

  private static final int MIB = 1 << 20;
  /** The longest header value a built-in resolver takes as a key. */
  private static final int MAX_KEY = 8192;

  private static RateLimitFilter apiKeyFilter(RecordingStoreFactory store) {
    return RateLimitFilter.builder().limit(Limit.perHour(2)).key(KeyResolver.header("X-API-Key"))
        .ticker(new ManualTicker()).store(store).build();
  }

  private static byte[] apiKeyLine(byte... value) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes("X-API-Key: ".getBytes(StandardCharsets.ISO_8859_1));
    b.writeBytes(value);
    return b.toByteArray();
  }

  private static void assertOnlyHashedKeys(RecordingStoreFactory store) {
    assertThat(store.keys).isNotEmpty().allSatisfy(k ->
        assertThat((String) k).matches("[A-Za-z0-9_-]{43}"));
  }

  @Test
  void oneMibHeader_defaultJettyLimit_431AndTheFilterNeverSeesIt() throws Exception {
    RecordingStoreFactory store = new RecordingStoreFactory();
    try (TestServer server = TestServer.start(apiKeyFilter(store))) {
      HttpResponse<String> r = server.get("/hello", "X-API-Key", "k".repeat(MIB));
      assertThat(r.statusCode()).isEqualTo(431);
      assertThat(store.keys).isEmpty();
    }
  }

  @Test
  void longestKeyHeader_raisedJettyLimit_hashedToFixedLengthAndLimitedPerValue() throws Exception {
    RecordingStoreFactory store = new RecordingStoreFactory();
    String big = "k".repeat(MAX_KEY);
    String bigToo = "k".repeat(MAX_KEY - 1) + "j";
    try (TestServer server = TestServer.start(2 * MIB + 4096, apiKeyFilter(store))) {
      assertThat(server.get("/hello", "X-API-Key", big).statusCode()).isEqualTo(200);
      assertThat(server.get("/hello", "X-API-Key", big).statusCode()).isEqualTo(200);
      HttpResponse<String> refused = server.get("/hello", "X-API-Key", big);
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.body()).doesNotContain("kkkk");
      assertThat(server.get("/hello", "X-API-Key", bigToo).statusCode()).isEqualTo(200);
    }
    assertOnlyHashedKeys(store);
    assertThat(store.keys).hasSize(4);
    assertThat(store.keys.get(0)).isEqualTo(store.keys.get(2)).isNotEqualTo(store.keys.get(3));
  }

  @Test
  void oneMibKeyHeader_raisedJettyLimit_noKeyNotReadNorStored() throws Exception {
    RecordingStoreFactory store = new RecordingStoreFactory();
    try (TestServer server = TestServer.start(2 * MIB + 4096, apiKeyFilter(store))) {
      HttpResponse<String> r = server.get("/hello", "X-API-Key", "k".repeat(MIB));
      assertThat(r.statusCode()).as("longer than any key: no key").isEqualTo(403);
      assertThat(r.body()).doesNotContain("kkkk");
      assertThat(server.get("/hello", "X-API-Key", "k".repeat(MAX_KEY + 1)).statusCode())
          .isEqualTo(403);
    }
    assertThat(store.keys).isEmpty();
  }

  @Test
  void invalidUtf8Bytes_acceptedByJetty_eachByteSequenceItsOwnHashedBucket() throws Exception {
    RecordingStoreFactory store = new RecordingStoreFactory();
    byte[] c328 = TestServer.rawGet("/hello", apiKeyLine((byte) 0xC3, (byte) 0x28));
    byte[] fffe = TestServer.rawGet("/hello", apiKeyLine((byte) 0xFF, (byte) 0xFE));
    try (TestServer server = TestServer.start(apiKeyFilter(store))) {
      assertThat(server.raw("127.0.0.1", c328).headers()).containsEntry("x-ratelimit-remaining", "1");
      assertThat(server.raw("127.0.0.1", c328).headers()).containsEntry("x-ratelimit-remaining", "0");
      assertThat(server.raw("127.0.0.1", c328).status()).isEqualTo(429);
      assertThat(server.raw("127.0.0.1", fffe).headers()).containsEntry("x-ratelimit-remaining", "1");
    }
    assertOnlyHashedKeys(store);
  }

  @Test
  void controlCharactersInAHeader_refusedByJettyBeforeTheFilter() throws Exception {
    RecordingStoreFactory store = new RecordingStoreFactory();
    try (TestServer server = TestServer.start(apiKeyFilter(store))) {
      for (byte[] value : new byte[][] {
          {'a', 0, 'b'}, {'a', '\r', 'b'}, {'a', '\n', 'b'}, {'a', 0x7f, 'b'}}) {
        assertThat(server.raw("127.0.0.1", TestServer.rawGet("/hello", apiKeyLine(value)))
            .status()).isEqualTo(400);
      }
      assertThat(store.keys).isEmpty();
      // CRLF inside the value is just a second header line: a repeated key header has no key
      assertThat(server.raw("127.0.0.1", TestServer.rawGet("/hello",
          "X-API-Key: a\r\nX-API-Key: b".getBytes(StandardCharsets.ISO_8859_1))).status())
          .isEqualTo(403);
    }
  }

  @Test
  void hostileXForwardedForFromTrustedProxy_fallsBackToPeerOrReadsTheRightmostHop()
      throws Exception {
    RecordingStoreFactory store = new RecordingStoreFactory();
    RateLimitFilter filter = RateLimitFilter.builder().limit(Limit.perHour(2))
        .key(KeyResolver.clientIp(TrustedProxies.of("127.0.0.1")))
        .ticker(new ManualTicker()).store(store).build();
    String garbage = ",\"\\[]:%".repeat(100_000);
    try (TestServer server = TestServer.start(2 * MIB, filter)) {
      assertThat(server.get("/hello", "X-Forwarded-For", garbage + ", 203.0.113.7").statusCode())
          .isEqualTo(200);
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.7").statusCode())
          .isEqualTo(200);
      assertThat(server.get("/hello", "X-Forwarded-For", "203.0.113.7").statusCode())
          .isEqualTo(429);
      assertThat(server.get("/hello", "X-Forwarded-For", garbage).statusCode())
          .as("garbage rightmost: the peer's bucket").isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).isEqualTo(429);
    }
    assertOnlyHashedKeys(store);
  }
}
