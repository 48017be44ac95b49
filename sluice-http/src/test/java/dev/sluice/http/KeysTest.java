package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Hashing of key material: fixed length, safe alphabet, injective on every string. */
class KeysTest {

  private static final List<String> HOSTILE = List.of(
      "",
      "a",
      "a\u0000",
      "a\r\nX-Injected: 1",
      "\r\n\r\n",
      "\uD800",                 // lone high surrogate
      "\uDC00",                 // lone low surrogate
      "\uD83D\uDE00",           // a valid pair
      "\u00C3\u0028",           // invalid UTF-8 bytes C3 28, decoded as ISO-8859-1
      "\uFFFD",                 // what a strict UTF-8 decoder turns them into
      "x".repeat(1 << 20),      // 1 MiB
      "x".repeat((1 << 20) - 1) + "y");

  @Test
  void hash_anyMaterial_43CharactersOfBase64Url() {
    for (String s : HOSTILE) {
      String k = Keys.hash(s);
      assertThat(k).hasSize(Keys.LENGTH).matches("[A-Za-z0-9_-]{43}");
    }
  }

  @Test
  void hash_distinctMaterial_distinctKeys() {
    Set<String> keys = new HashSet<>();
    for (String s : HOSTILE) {
      keys.add(Keys.hash(s));
    }
    assertThat(keys).hasSize(HOSTILE.size());
  }

  @Test
  void hash_isSha256OfUtf16CodeUnits_matchesJdkEncoder() throws Exception {
    for (String s : List.of("abc", "ip:203.0.113.7", "header:x-api-key:\u00e9\u0000",
        "x".repeat(5000))) {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(s.getBytes(StandardCharsets.UTF_16BE));
      assertThat(Keys.hash(s))
          .isEqualTo(Base64.getUrlEncoder().withoutPadding().encodeToString(digest));
    }
  }

  @Test
  void hash_sameMaterialTwice_sameKey() {
    assertThat(Keys.hash("bearer:t0k3n")).isEqualTo(Keys.hash("bearer:t0k3n"));
  }
}
