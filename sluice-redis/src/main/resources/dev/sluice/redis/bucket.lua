-- Sluice: operations on token buckets, one per key and policy, each all-or-nothing over the
-- policy's limits. The model and why every value below is exact: see BucketMath's class comment.
--
-- ARGV[1]   L, the number of limits of the policy
-- ARGV[2]   the clock: '' to read Redis's TIME, else the caller's now in microseconds (see
--           Clocks; then keys do not expire, since Redis's clock would not agree with it)
-- ARGV[3]   the policy's fingerprint (see RedisKeys), written into the buckets it converts
-- ARGV[4..] per limit, 5 integers: den fillQ fillR initQ initR
--           (fill = time to fill an empty bucket, init = time to earn the initial permits;
--           each Q + R/den microseconds, 0 <= R < den)
-- then      per call, in order:
--             conv      '1' when the call carries a conversion (then 3 more: the source's value
--                       as read, the converted value, its time to live in ms), else '0'
--             m         how many other buckets of the same key (under other policies) follow
--                       the call's own key in KEYS; the call's keys are its own, then those m
--             op        '1' take: the time to earn the permits asked for; taken only if every
--                       limit has them
--                       '0' look: zeros; nothing changes
--                       '2' refund: the time to earn the permits given back (at most the fill
--                       time); each limit's empty instant moves back by it, but no earlier
--                       than full; a missing key is full already, and stays missing; a
--                       bucket with permits reserved for later (in debt) gives nothing back
--                       '3' reserve: the 2 L integers of a take, then the longest wait in µs;
--                       due at D = max(now, every limit's base + cost, rounded up to the µs);
--                       if D - now <= the wait, each limit is charged as if taken at D:
--                       emptyAt := max(emptyAt, D - fill) + cost. Returns 5, D - now,
--                       now .. ':' .. the value written .. the value before (or nothing);
--                       or 6, D - now, '' and writes nothing
--                       '4' cancel: 2 L zeros, then the value a reservation wrote, the value
--                       before it and its due instant (µs): while not due and the bucket still
--                       holds what it wrote, the value before is restored (1), else nothing (0)
--                       '5' take and lease: the 2 L integers of a take (the decision's n), then
--                       id k life, the 2 L integers of k's cost, rid, the 2 L integers of u's
--                       cost: first the lease rid (0: none) is given back with u unused permits
--                       (see 'leases' below), then n is taken as by '1', then, if admitted and
--                       k > 0, k more are leased (all or nothing) as lease id for life µs.
--                       Returns 7 for admitted and leased, else as '1'
--                       '6' give back: the 2 L integers of u's cost, then rid: the lease rid is
--                       given back with u unused (1 if it was still held, else 0)
--             2 L integers Q R per limit (a time, as above)
-- stored    per limit two little-endian doubles q, r: the instant at which the bucket is empty,
--           q + r/den microseconds since 2025-01-01T00:00:00Z; a missing key is a new bucket.
--           Or 'moved:' and a fingerprint: the state moved to the bucket of that policy.
--           Then leases: per lease 3 + 2 L doubles: id, k (permits held), x (expiry, µs), and per
--           limit the cost of k (Q R).
-- leases    The permits held by unexpired leases, H, count against every limit's capacity: the
--           refill of a bucket stops at C - H (its lowest base is now - fill + cost(H)), so
--           available + held <= C at every instant and refill comes only at the rate. A lease
--           expires at x by this clock: it is dropped, its permits forgotten, after clamping the
--           bucket at x under the capacity it had until then (so no refill beyond C - H is
--           kept). A give-back clamps the bucket at now, drops the lease, then returns u of it
--           (unless the bucket is in debt); a lease not held any more gives nothing back. The
--           key lives until full and until its last lease has expired plus the fill time.
-- returns   per call, 1 + 2 L values: applied (1 or 0: a take admitted, a refund found the key),
--           then per limit a, r: the empty instant after the operation (for a refused take, the
--           one it was measured against) as now - a + r/den (a look returns -H first, the
--           permits held by leases). Or, when the state to decide from
--           is in another policy's bucket: 3, j (which of the m), now .. ':' .. its value
--           (zeros after); when it moved to a policy not among the m: 4, 0, the tombstone.
--           Nothing is written for such a call: the caller converts and calls again.
--
-- A change of policy (BucketMath.convert, in exact integers, by the caller): the call finds its
-- own bucket missing or moved, and another's holding the state; the caller converts that value
-- and sends it back with the call, which writes it (if the source still holds what was read,
-- and its own bucket is still missing or moved), leaves 'moved:' in the source, and decides.
-- The state is thus in exactly one policy's bucket at a time, and every conversion is atomic.
--
-- Only additions, subtractions and comparisons of integers below 2^53: doubles are exact there.
-- redis.call('TIME') is the only clock, read once; a refusal writes nothing (but see the birth
-- of a bucket below); PX = time until full, so a full bucket is no key. Needs Redis 5+ or Valkey
-- (effects replication, the default there, lets a write follow TIME).
local L = tonumber(ARGV[1])
local head = 3 + 5 * L
local now
local fixed = ARGV[2] ~= ''
if fixed then
  now = tonumber(ARGV[2])
else
  local t = redis.call('TIME')
  now = (tonumber(t[1]) - 1735689600) * 1000000 + tonumber(t[2])
end
local moved = 'moved:' .. ARGV[3]
local den, fq, fr, iq, ir, lq, lr = {}, {}, {}, {}, {}, {}, {}
local partial = false
for i = 1, L do
  local a = 4 + 5 * (i - 1)
  den[i], fq[i], fr[i] = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  iq[i], ir[i] = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  if iq[i] < fq[i] or (iq[i] == fq[i] and ir[i] < fr[i]) then partial = true end
  -- the lowest base: now - fill
  if fr[i] > 0 then lq[i], lr[i] = now - fq[i] - 1, den[i] - fr[i] else lq[i], lr[i] = now - fq[i], 0 end
end
local fmt = string.rep('<d', 2 * L)
local rfmt = string.rep('<d', 3 + 2 * L)
local rlen = 8 * (3 + 2 * L)
-- exact fractions q + r/den[i] with 0 <= r < den[i]
local function addf(i, q, r, dq, dr)
  q, r = q + dq, r + dr
  if r >= den[i] then q, r = q + 1, r - den[i] end
  return q, r
end
local function subf(i, q, r, dq, dr)
  q, r = q - dq, r - dr
  if r < 0 then q, r = q - 1, r + den[i] end
  return q, r
end
local function lt(aq, ar, bq, br)
  return aq < bq or (aq == bq and ar < br)
end
-- the lowest base at instant t of limit i: t - fill
local function lowest(i, t)
  if fr[i] > 0 then return t - fq[i] - 1, den[i] - fr[i] end
  return t - fq[i], 0
end
-- the leases stored after the bucket in value v: a list of {id, k, x, q1, r1, ...}
local function leasesOf(v)
  local recs = {}
  local at = 16 * L + 1
  while at + rlen - 1 <= string.len(v) do
    local rec = {struct.unpack(rfmt, string.sub(v, at, at + rlen - 1))}
    rec[4 + 2 * L] = nil
    recs[#recs + 1] = rec
    at = at + rlen
  end
  return recs
end
-- Stores a bucket (its 2 L numbers in w) and its leases (recs, may be nil) under key, with PX =
-- time until full (emptyAt + fill - now per limit, the longest, rounded up to the microsecond
-- and then the millisecond), and at least the last lease's expiry plus the fill time: a full
-- bucket without leases is no key. With the caller's clock, no PX. Returns the value stored.
local function put(key, w, recs)
  local ttl = 0
  local tail = {}
  for j, rec in ipairs(recs or {}) do
    tail[j] = struct.pack(rfmt, unpack(rec, 1, 3 + 2 * L))
    for i = 1, L do
      local u = rec[3] + fq[i] + 1 - now
      if u > ttl then ttl = u end
    end
  end
  for i = 1, L do
    local q, r = w[2 * i - 1], w[2 * i]
    local u = q + fq[i] - now
    if r + fr[i] > den[i] then u = u + 2 elseif r + fr[i] > 0 then u = u + 1 end
    if u > ttl then ttl = u end
  end
  local value = struct.pack(fmt, unpack(w, 1, 2 * L)) .. table.concat(tail)
  if fixed then
    redis.call('SET', key, value)
  elseif ttl > 0 then
    local sub = math.fmod(ttl, 1000)
    local ms = (ttl - sub) / 1000
    if sub > 0 then ms = ms + 1 end
    redis.call('SET', key, value, 'PX', ms)
  else
    redis.call('DEL', key)
  end
  return value
end
local out = {}
local c = head + 1
local kc = 1
local function tombstone(v)
  return v and string.sub(v, 1, 6) == 'moved:'
end
while c <= #ARGV do
  local key = KEYS[kc]
  local conv = ARGV[c]
  local expect, value, pxc
  if conv == '1' then
    expect, value, pxc = ARGV[c + 1], ARGV[c + 2], tonumber(ARGV[c + 3])
    c = c + 3
  end
  local m = tonumber(ARGV[c + 1])
  local others = {}
  for j = 1, m do others[j] = KEYS[kc + j] end
  kc = kc + 1 + m
  local op = ARGV[c + 2]
  local at = c + 2 -- the op; its 2 L integers follow
  c = at + 2 * L + 1
  local maxw, wrote, before, dueAt
  local lid, lk, life, lc, rid, uc = 0, 0, 0, nil, 0, nil
  if op == '3' then
    maxw = tonumber(ARGV[c]); c = c + 1
  elseif op == '4' then
    wrote, before, dueAt = ARGV[c], ARGV[c + 1], tonumber(ARGV[c + 2]); c = c + 3
  elseif op == '5' then
    lid, lk, life = tonumber(ARGV[c]), tonumber(ARGV[c + 1]), tonumber(ARGV[c + 2])
    lc = c + 2 -- k's cost: ARGV[lc + 2 i - 1], ARGV[lc + 2 i]
    rid = tonumber(ARGV[c + 3 + 2 * L])
    uc = c + 3 + 2 * L -- u's cost, the same way
    c = c + 4 + 4 * L
  elseif op == '6' then
    uc = at
    rid = tonumber(ARGV[c]); c = c + 1
  end
  local saved = redis.call('GET', key)
  local stone = nil
  if tombstone(saved) then stone, saved = saved, nil end
  if not saved and conv == '1' and redis.call('GET', others[1]) == expect then
    -- the conversion the caller made from what it read: the source still holds it
    if fixed or pxc <= 0 then redis.call('SET', key, value) else redis.call('SET', key, value, 'PX', pxc) end
    if fixed or pxc <= 0 then redis.call('SET', others[1], moved) else redis.call('SET', others[1], moved, 'PX', pxc) end
    saved = value
  end
  local redirect = nil
  if not saved then
    for j = 1, m do
      local v = redis.call('GET', others[j])
      if v and not tombstone(v) then
        redirect = {3, j, string.format('%.0f', now) .. ':' .. v}
        break
      end
    end
    if not redirect and stone and stone ~= moved then redirect = {4, 0, stone} end
  end
  local s
  local recs = {}
  -- per limit: the cost of the permits held by unexpired leases, the lowest base (now - fill +
  -- held) and the fill time less held (the refill stops at C - H)
  local hq, hr, klq, klr, kfq, kfr = {}, {}, {}, {}, {}, {}
  local dirty = false
  for i = 1, L do hq[i], hr[i] = 0, 0 end
  if saved then
    local n = string.len(saved)
    if n < 16 * L or math.fmod(n - 16 * L, rlen) ~= 0 then
      return redis.error_reply('ERR sluice: a bucket of ' .. n .. ' bytes, expected ' .. 16 * L .. ' and leases of ' .. rlen)
    end
    s = {struct.unpack(fmt, saved)}
    for i = 1, L do
      if s[2 * i] >= den[i] then s[2 * i - 1], s[2 * i] = s[2 * i - 1] + 1, 0 end
    end
    if n > 16 * L then
      recs = leasesOf(saved)
      for _, rec in ipairs(recs) do
        for i = 1, L do hq[i], hr[i] = addf(i, hq[i], hr[i], rec[2 + 2 * i], rec[3 + 2 * i]) end
      end
      table.sort(recs, function(a, b) return a[3] < b[3] end)
      local live = {}
      for _, rec in ipairs(recs) do
        if rec[3] <= now then
          -- expired at x: clamp at x under the capacity until then, then drop it
          for i = 1, L do
            local bq, br = lowest(i, rec[3])
            bq, br = addf(i, bq, br, hq[i], hr[i])
            if lt(s[2 * i - 1], s[2 * i], bq, br) then s[2 * i - 1], s[2 * i] = bq, br end
            hq[i], hr[i] = subf(i, hq[i], hr[i], rec[2 + 2 * i], rec[3 + 2 * i])
          end
        else
          live[#live + 1] = rec
        end
      end
      recs = live
    end
  end
  for i = 1, L do
    klq[i], klr[i] = addf(i, lq[i], lr[i], hq[i], hr[i])
    kfq[i], kfr[i] = subf(i, fq[i], fr[i], hq[i], hr[i])
  end
  if (op == '5' or op == '6') and s and rid ~= 0 and not redirect then
    -- give back lease rid with u unused: clamp at now under the capacity with it, drop it, then
    -- return u (not into a bucket in debt: the reservations after it were decided on its state)
    local found = nil
    for j, rec in ipairs(recs) do
      if rec[1] == rid then found = j end
    end
    if found then
      local rec = table.remove(recs, found)
      dirty = true
      local debt = false
      for i = 1, L do
        if lt(s[2 * i - 1], s[2 * i], klq[i], klr[i]) then s[2 * i - 1], s[2 * i] = klq[i], klr[i] end
        if s[2 * i - 1] > now or (s[2 * i - 1] == now and s[2 * i] > 0) then debt = true end
        hq[i], hr[i] = subf(i, hq[i], hr[i], rec[2 + 2 * i], rec[3 + 2 * i])
        klq[i], klr[i] = subf(i, klq[i], klr[i], rec[2 + 2 * i], rec[3 + 2 * i])
        kfq[i], kfr[i] = addf(i, kfq[i], kfr[i], rec[2 + 2 * i], rec[3 + 2 * i])
      end
      if not debt then
        for i = 1, L do
          local q, r = subf(i, s[2 * i - 1], s[2 * i], tonumber(ARGV[uc + 2 * i - 1]), tonumber(ARGV[uc + 2 * i]))
          if lt(q, r, klq[i], klr[i]) then q, r = klq[i], klr[i] end
          s[2 * i - 1], s[2 * i] = q, r
        end
      end
    end
  end
  local o = #out
  if redirect then
    out[o + 1], out[o + 2], out[o + 3] = redirect[1], redirect[2], redirect[3]
    for i = 4, 1 + 2 * L do out[o + i] = 0 end
  elseif op == '3' or op == '4' then
    for i = 2, 1 + 2 * L do out[o + i] = 0 end
    if op == '4' then
      -- cancel: only while not due and still the latest write, back to the state before it
      out[o + 1] = 0
      if now < dueAt and saved == wrote then
        out[o + 1] = 1
        if before == '' then
          redis.call('DEL', key)
        else
          put(key, {struct.unpack(fmt, before)}, leasesOf(before))
        end
      end
    else
      -- reserve: due D = max(now, every limit's base + cost, rounded up to the microsecond);
      -- granted iff D - now <= maxWait, then each limit is charged as if taken at D:
      -- emptyAt := max(emptyAt, D - fill) + cost
      local e, D = {}, now
      for i = 1, L do
        local eq, er
        if s and s[2 * i] then
          eq, er = s[2 * i - 1], s[2 * i]
          if er >= den[i] then eq, er = eq + 1, 0 end
        elseif ir[i] == 0 then
          eq, er = now - iq[i], 0
        else
          eq, er = now - iq[i] - 1, den[i] - ir[i]
        end
        e[2 * i - 1], e[2 * i] = eq, er
        local bq, br = eq, er
        if bq < klq[i] or (bq == klq[i] and br < klr[i]) then bq, br = klq[i], klr[i] end
        local nq, nr = bq + tonumber(ARGV[at + 2 * i - 1]), br + tonumber(ARGV[at + 2 * i])
        if nr >= den[i] then nq, nr = nq + 1, nr - den[i] end
        if nr > 0 then nq = nq + 1 end
        if nq > D then D = nq end
      end
      local wait = D - now
      if wait > maxw then
        out[o + 1], out[o + 2], out[o + 3] = 6, wait, ''
      else
        local w = {}
        for i = 1, L do
          -- D - fill (less what leases hold), then the later of it and emptyAt, plus the cost
          local q, r = subf(i, D, 0, kfq[i], kfr[i])
          if e[2 * i - 1] > q or (e[2 * i - 1] == q and e[2 * i] > r) then q, r = e[2 * i - 1], e[2 * i] end
          q, r = q + tonumber(ARGV[at + 2 * i - 1]), r + tonumber(ARGV[at + 2 * i])
          if r >= den[i] then q, r = q + 1, r - den[i] end
          w[2 * i - 1], w[2 * i] = q, r
        end
        -- (never full: it holds the cost at least, so the key stays)
        local value = put(key, w, recs)
        out[o + 1], out[o + 2], out[o + 3] = 5, wait,
            string.format('%.0f', now) .. ':' .. string.len(value) .. ':' .. value .. (saved or '')
      end
    end
  else
  out[o + 1] = 0
  local nxt = {}
  local reserved = false
  local ok = op == '1' or op == '5'
  for i = 1, L do
    local eq, er
    if s and s[2 * i] then
      eq, er = s[2 * i - 1], s[2 * i]
      if er >= den[i] then eq, er = eq + 1, 0 end -- written under another denominator: round up
    elseif ir[i] == 0 then
      eq, er = now - iq[i], 0
    else
      eq, er = now - iq[i] - 1, den[i] - ir[i]
    end
    -- base = max(emptyAt, now - fill + held)
    if eq < klq[i] or (eq == klq[i] and er < klr[i]) then eq, er = klq[i], klr[i] end
    out[o + 2 * i] = now - eq
    out[o + 2 * i + 1] = er
    local q, r
    if op == '2' then
      -- a bucket in debt (permits reserved for later) gives nothing back: the reservations
      -- after it were decided on the state it has
      if eq > now or (eq == now and er > 0) then reserved = true end
      -- refund: max(base - back, now - fill), which is max(emptyAt - back, now - fill)
      q, r = eq - tonumber(ARGV[at + 2 * i - 1]), er - tonumber(ARGV[at + 2 * i])
      if r < 0 then q, r = q - 1, r + den[i] end
      if q < klq[i] or (q == klq[i] and r < klr[i]) then q, r = klq[i], klr[i] end
    else
      -- take: next = base + cost; admitted iff next <= now
      q, r = eq + tonumber(ARGV[at + 2 * i - 1]), er + tonumber(ARGV[at + 2 * i])
      if r >= den[i] then q, r = q + 1, r - den[i] end
      if q > now or (q == now and r > 0) then ok = false end
    end
    nxt[2 * i - 1], nxt[2 * i] = q, r
  end
  local write = nil
  if ok and op == '5' and lk > 0 then
    -- the lease: k more, all or nothing, held until now + life
    local w, rec, held = {}, {lid, lk, now + life}, true
    for i = 1, L do
      local dq, dr = tonumber(ARGV[lc + 2 * i - 1]), tonumber(ARGV[lc + 2 * i])
      local q, r = addf(i, nxt[2 * i - 1], nxt[2 * i], dq, dr)
      if q > now or (q == now and r > 0) then held = false end
      w[2 * i - 1], w[2 * i] = q, r
      rec[2 + 2 * i], rec[3 + 2 * i] = dq, dr
    end
    if held then
      nxt = w
      recs[#recs + 1] = rec
      out[o + 1] = 7
    end
  end
  if ok or (op == '2' and saved and not reserved) then
    write = nxt
    if out[o + 1] == 0 then out[o + 1] = 1 end
  elseif dirty then
    -- a lease given back, nothing taken: the bucket as it is now
    write = {}
    for i = 1, L do write[2 * i - 1], write[2 * i] = s[2 * i - 1], s[2 * i] end
    if op == '6' then out[o + 1] = 1 end
  elseif (op == '1' or op == '5') and partial and not saved then
    -- A refusal writes nothing, except the birth of a bucket that starts below its capacity:
    -- without it, a bucket that refuses its first requests would be new (and empty) forever.
    write = {}
    for i = 1, L do
      write[2 * i - 1], write[2 * i] = now - out[o + 2 * i], out[o + 2 * i + 1]
    end
  end
  if write then
    for i = 1, L do
      out[o + 2 * i] = now - write[2 * i - 1]
      out[o + 2 * i + 1] = write[2 * i]
    end
    put(key, write, recs) -- a refund that filled every limit leaves no key
  end
  if op == '0' then
    -- a look: the permits held by leases, negated (0 without leases)
    local held = 0
    for _, rec in ipairs(recs) do held = held + rec[2] end
    out[o + 1] = -held
  end
  end
end
return out
