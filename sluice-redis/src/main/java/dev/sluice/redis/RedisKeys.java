package dev.sluice.redis;

import dev.sluice.Limit;
import dev.sluice.Policy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The Redis keys of one limiter's buckets under one policy:
 * {@code {<namespace>:<limiter name>:<h>}:<p>}, where {@code h} is the SHA-256 of the key's bytes
 * and {@code p} the policy's {@linkplain #fingerprint fingerprint}, both in unpadded base64url (43
 * and 11 characters).
 *
 * <p>A bucket is stored under the policy it was written by: two policies of one limiter (two
 * plans, or the versions before and after a change, or two versions of an application during a
 * rolling deploy) never read each other's state as their own, whatever their limits (the state of
 * one limit read as two would fail every call). The hash tag does not include the policy, so the
 * buckets of one key under every policy share a Cluster slot, and one script can convert one into
 * another.
 *
 * <p>The part in braces is the hash tag, so a bucket sits in one Cluster slot, and a key of any size
 * or content (binary, {@code {}}, a megabyte) can neither escape its namespace nor choose its
 * slot: only the namespace and the name, both checked here against small alphabets without
 * braces, reach Redis as written. A key's bytes are its UTF-8 {@code toString()}, or the array
 * itself for a {@code byte[]}; keys equal by {@code equals} must have equal bytes (true of
 * strings and numbers).
 */
final class RedisKeys {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  /** Every key starts so: a brace, then the namespace and the name, each followed by a colon. */
  private final byte[] prefix;
  /** Every key ends so: the closing brace, a colon and the policy's fingerprint. */
  private final byte[] suffix;

  /** The keys of limiter {@code name} in {@code namespace}, both already checked, under {@code policy}. */
  RedisKeys(String namespace, String name, Policy policy) {
    this.prefix = ("{" + namespace + ":" + name + ":").getBytes(StandardCharsets.US_ASCII);
    this.suffix = ("}:" + fingerprint(policy)).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * The fingerprint of a policy: the first 64 bits of the SHA-256 of its limits in order (each
   * capacity, refill permits, refill period in nanoseconds and initial permits), in unpadded
   * base64url. Equal policies have equal fingerprints; different ones collide with probability
   * about 2<sup>-64</sup> per pair.
   */
  static String fingerprint(Policy policy) {
    StringBuilder text = new StringBuilder();
    for (Limit limit : policy.limits()) {
      text.append(limit.capacity()).append('/').append(limit.refillPermits()).append('/')
          .append(limit.refillPeriod().toNanos()).append('/').append(limit.initialPermits())
          .append(';');
    }
    byte[] digest = SHA256.get().digest(text.toString().getBytes(StandardCharsets.US_ASCII));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, 8));
  }

  /** The Redis key of {@code key}'s bucket. */
  byte[] of(Object key) {
    return withHash(hash(key));
  }

  /** The hashed part of {@code key}'s Redis keys, the same under every policy. */
  static byte[] hash(Object key) {
    byte[] bytes = key instanceof byte[] ? (byte[]) key
        : key.toString().getBytes(StandardCharsets.UTF_8);
    return Base64.getUrlEncoder().withoutPadding().encode(SHA256.get().digest(bytes));
  }

  /** The Redis key of the bucket whose key has {@link #hash} {@code hash}. */
  byte[] withHash(byte[] hash) {
    byte[] out = new byte[prefix.length + hash.length + suffix.length];
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    System.arraycopy(hash, 0, out, prefix.length, hash.length);
    System.arraycopy(suffix, 0, out, prefix.length + hash.length, suffix.length);
    return out;
  }

  /**
   * Checks a limiter name.
   *
   * @throws IllegalArgumentException unless it is 1 to 64 characters from {@code [A-Za-z0-9._-]}
   */
  static String checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name (\"" + name + "\") must be 1 to 64 characters from [A-Za-z0-9._-]");
    }
    return name;
  }

  /**
   * Checks a namespace.
   *
   * @throws IllegalArgumentException unless it is 1 to 64 characters from {@code [A-Za-z0-9._:-]}
   */
  static String checkNamespace(String namespace) {
    if (!NAMESPACE.matcher(namespace).matches()) {
      throw new IllegalArgumentException(
          "namespace (\"" + namespace + "\") must be 1 to 64 characters from [A-Za-z0-9._:-]");
    }
    return namespace;
  }
}
