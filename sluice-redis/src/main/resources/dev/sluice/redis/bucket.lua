-- Sluice: one decision on one token bucket (all limits of a policy, all-or-nothing).
-- The model and why every value below is exact: see BucketMath's class comment.
--
-- KEYS[1]   the bucket
-- ARGV[1]   '1': take the permits if every limit has them; '0': only look
-- ARGV[2..] per limit, 7 integers: den fillQ fillR costQ costR initQ initR
--           (fill = time to fill an empty bucket, cost = time to earn the permits asked for,
--           init = time to earn the initial permits; each Q + R/den microseconds, 0 <= R < den)
-- stored    per limit two little-endian doubles q, r: the instant at which the bucket is empty,
--           q + r/den microseconds since 2025-01-01T00:00:00Z; a missing key is a new bucket
-- returns   {admitted, a1, r1, a2, r2, ...}: per limit the empty instant after the decision
--           (or, when refused, the one the request was measured against) as now - a + r/den
--
-- Only additions, subtractions and comparisons of integers below 2^53: doubles are exact there.
-- redis.call('TIME') is the only clock; a refusal writes nothing (but see the birth of a bucket
-- below); PX = time until full, so a full bucket is no key. Needs Redis 5+ or Valkey (effects
-- replication is the default, so TIME may precede a write).
local limits = math.floor((#ARGV - 1) / 7)
local now
local fixed = #ARGV > 1 + 7 * limits
if fixed then
  now = tonumber(ARGV[#ARGV]) -- tests only: a caller-supplied instant, and no expiry
else
  local t = redis.call('TIME')
  now = (tonumber(t[1]) - 1735689600) * 1000000 + tonumber(t[2])
end
local take = ARGV[1] == '1'
local saved = redis.call('GET', KEYS[1])
local s
if saved then s = {struct.unpack(string.rep('<d', 2 * limits), saved)} end
local out = {0}
local nxt = {}
local ok = take
local partial = false
for i = 0, limits - 1 do
  local a = 2 + 7 * i
  local den, fq, fr = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local eq, er
  if s and s[2 * i + 2] then
    eq, er = s[2 * i + 1], s[2 * i + 2]
    if er >= den then eq, er = eq + 1, 0 end -- written under another denominator: round up
  else
    local iq, ir = tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
    if iq < fq or (iq == fq and ir < fr) then partial = true end
    if ir == 0 then eq, er = now - iq, 0 else eq, er = now - iq - 1, den - ir end
  end
  -- base = max(E, now - fill)
  local lq, lr = now - fq, 0
  if fr > 0 then lq, lr = lq - 1, den - fr end
  if eq < lq or (eq == lq and er < lr) then eq, er = lq, lr end
  out[2 * i + 2] = now - eq
  out[2 * i + 3] = er
  -- next = base + cost; admitted iff next <= now
  local q, r = eq + tonumber(ARGV[a + 3]), er + tonumber(ARGV[a + 4])
  if r >= den then q, r = q + 1, r - den end
  if q > now or (q == now and r > 0) then ok = false end
  nxt[2 * i + 1] = q
  nxt[2 * i + 2] = r
end
local write = nil
if ok then
  write = nxt
  out[1] = 1
elseif take and partial and not saved then
  -- A refusal writes nothing, except the birth of a bucket that starts below its capacity:
  -- without it, a bucket that refuses its first requests would be new (and as empty) forever.
  write = {}
  for i = 0, limits - 1 do
    write[2 * i + 1] = now - out[2 * i + 2]
    write[2 * i + 2] = out[2 * i + 3]
  end
end
if write then
  local ttl = 0
  for i = 0, limits - 1 do
    local a = 2 + 7 * i
    local den, fq, fr = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local q, r = write[2 * i + 1], write[2 * i + 2]
    out[2 * i + 2] = now - q
    out[2 * i + 3] = r
    -- until full = E + fill - now, rounded up to a whole microsecond
    local until_full = q + fq - now
    if r + fr > den then until_full = until_full + 2 elseif r + fr > 0 then until_full = until_full + 1 end
    if until_full > ttl then ttl = until_full end
  end
  local value = struct.pack(string.rep('<d', 2 * limits), unpack(write))
  if fixed then
    redis.call('SET', KEYS[1], value)
  elseif ttl > 0 then
    local sub = math.fmod(ttl, 1000)
    local ms = (ttl - sub) / 1000
    if sub > 0 then ms = ms + 1 end
    redis.call('SET', KEYS[1], value, 'PX', ms)
  end
end
return out
