/**
 * The Lua scripts that make every move between ready and in-flight atomic: a crash between two
 * commands can never leave a message in neither place (kombu's BRPOP-then-HSET gap).
 *
 * In-flight entries are kombu's: `unacked[key] = [envelope, exchange, routing_key]` and
 * `unacked_index[key] = score`, where kombu's key is the delivery tag and nori's is a fresh key per
 * claim (see CLAIM). nori writes exchange '' and routing_key = the queue it claimed
 * from, so kombu's own restore (which re-routes by exchange and key) puts it back into exactly that
 * queue. The score is `lease expiry - visibility_timeout` (seconds): kombu's sweep restores entries
 * with score < now - visibility_timeout, which is then exactly "the lease lapsed".
 */

/**
 * Claim. KEYS: bucket lists (most urgent first), unacked, unacked_index, delayed.
 * ARGV: max, now (ms), score (s), the queue as a JSON string, expires (ms, 0 = none), token.
 * Delayed members are `<bucket index>|<envelope>`.
 *
 * Each claimed message is filed under its own key `<token>.<n>` (the claim's fencing token), so
 * a consumer whose lease lapsed cannot settle the claim that followed it (redelivery keeps the
 * delivery tag). Run twice with the same token (ioredis resends a command whose reply a dropped
 * connection lost), it answers the first run's claims again. Promotes due delayed messages
 * first; returns [key, envelope, key, envelope, ...].
 *
 * Text only, never cjson: nothing here can fail after a pop (a message nested too deep or not JSON
 * at all would make cjson raise, and Redis does not roll back), and a large envelope costs a copy,
 * not a parse. Memory is freed before it is taken (ZREM before LPUSH, RPOP before HSET): under
 * maxmemory + noeviction Redis refuses a script's first memory-taking write, never a later one.
 * Pops, HSETs and ZADDs go up to 1,000 messages a call (a call per message was most of the
 * script's time; 1,000 pairs stay far below Lua's limit of 8,000 unpacked values).
 *
 * A claim that got fewer than `max` emptied the buckets, so it also answers what READY would right
 * after it: one more element, the ms until the first delayed message is due (-1: none; 0: now).
 * The consumer's next wait takes it instead of a READY call of its own.
 */
export const CLAIM = `
local nbuckets = #KEYS - 3
local unacked, index, delayed = KEYS[nbuckets + 1], KEYS[nbuckets + 2], KEYS[nbuckets + 3]
local max, now, score, queue, expires, token = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
if redis.call('HEXISTS', unacked, token .. '.1') == 1 then
  -- This very call again: a client resends a command whose answer a dropped connection lost.
  -- Answer with what it claimed then; claiming afresh would file new messages over those keys.
  local out = {}
  local n = 1
  local entry = redis.call('HGET', unacked, token .. '.1')
  while entry do
    out[#out + 1] = token .. '.' .. n
    out[#out + 1] = string.sub(entry, 2, #entry - #queue - 5)
    n = n + 1
    entry = redis.call('HGET', unacked, token .. '.' .. n)
  end
  return out
end
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)
if #due > 0 then redis.call('ZREM', delayed, unpack(due)) end
for _, member in ipairs(due) do
  local bar = string.find(member, '|', 1, true)
  redis.call('LPUSH', KEYS[tonumber(string.sub(member, 1, bar - 1))], string.sub(member, bar + 1))
end
local out = {}
local n = 0
local b = 1
while n < max and b <= nbuckets do
  local want = math.min(max - n, 1000)
  local items = redis.call('RPOP', KEYS[b], want)
  if items then
    local entries, members = {}, {}
    for i, item in ipairs(items) do
      local key = token .. '.' .. (n + i)
      entries[2 * i - 1], entries[2 * i] = key, '[' .. item .. ',"",' .. queue .. ']'
      members[2 * i - 1], members[2 * i] = score, key
      out[#out + 1] = key
      out[#out + 1] = item
    end
    n = n + #items
    redis.call('HSET', unacked, unpack(entries))
    redis.call('ZADD', index, unpack(members))
    if #items < want then b = b + 1 end
  else
    b = b + 1
  end
end
if expires > 0 then
  for i = 1, nbuckets do redis.call('PEXPIRE', KEYS[i], expires) end
end
if n < max then
  local first = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
  local soonest = -1
  if first[2] then soonest = math.max(0, tonumber(first[2]) - now) end
  out[#out + 1] = tostring(soonest)
end
return out
`;

/**
 * Put claims back into their queue, each only if it is still held. KEYS: unacked, unacked_index,
 * then the bucket lists of the queue. ARGV: 'front' | 'back', a cutoff score ('' = none; the sweep
 * passes one, so a lease renewed since it looked stays), then (key, bucket index, envelope)
 * triples, the envelope already marked redelivered. Frees before it pushes. Returns how many were
 * restored.
 */
export const RESTORE = `
local unacked, index = KEYS[1], KEYS[2]
local front = ARGV[1] == 'front'
local cutoff = tonumber(ARGV[2])
local restored = 0
for i = 3, #ARGV, 3 do
  local key = ARGV[i]
  local held = redis.call('HEXISTS', unacked, key) == 1
  if held and cutoff then
    local score = redis.call('ZSCORE', index, key)
    held = score and tonumber(score) < cutoff
  end
  if held then
    redis.call('HDEL', unacked, key)
    redis.call('ZREM', index, key)
    local bucket = KEYS[2 + tonumber(ARGV[i + 1])]
    if front then redis.call('RPUSH', bucket, ARGV[i + 2]) else redis.call('LPUSH', bucket, ARGV[i + 2]) end
    restored = restored + 1
  end
end
return restored
`;

/**
 * Lapsed leases, for the sweep. KEYS: unacked, unacked_index. ARGV: cutoff score, limit.
 * Returns [key, entry, ...]; drops index entries whose claim is gone.
 */
export const LAPSED = `
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, key in ipairs(keys) do
  local entry = redis.call('HGET', KEYS[1], key)
  if entry then
    out[#out + 1] = key
    out[#out + 1] = entry
  else
    redis.call('ZREM', KEYS[2], key)
  end
end
return out
`;

/**
 * Put into a queue with a length limit (queues without one take a plain LPUSH). KEYS: the bucket
 * lists (most urgent first), the delayed set. ARGV: maxLength, overflow ('drop-head' |
 * 'reject-publish'), queue expiry (ms, 0 = none), then per message (readyAt ms or 0 when ready now,
 * bucket index, envelope text). The length counts every bucket's ready messages (delayed ones count
 * once due, as they are not ready before). Each message, in order: refused when full and
 * reject-publish; else pushed, and beyond the limit the head (the next to be claimed: most urgent
 * bucket first) is popped. Returns {refused positions (0-based), dropped texts}.
 */
export const PUT_LIMITED = `
local nbuckets = #KEYS - 1
local max, reject, expires = tonumber(ARGV[1]), ARGV[2] == 'reject-publish', tonumber(ARGV[3])
local length = 0
for b = 1, nbuckets do length = length + redis.call('LLEN', KEYS[b]) end
local refused, dropped = {}, {}
for i = 4, #ARGV, 3 do
  local readyAt, bucket, text = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2]
  if readyAt > 0 then
    redis.call('ZADD', KEYS[nbuckets + 1], readyAt, bucket .. '|' .. text)
  elseif reject and length >= max then
    refused[#refused + 1] = (i - 4) / 3
  else
    redis.call('LPUSH', KEYS[tonumber(bucket)], text)
    length = length + 1
    local b = 1
    while length > max and b <= nbuckets do
      local head = redis.call('RPOP', KEYS[b])
      if head then
        dropped[#dropped + 1] = head
        length = length - 1
      else
        b = b + 1
      end
    end
  end
end
if expires > 0 then
  for b = 1, nbuckets do redis.call('PEXPIRE', KEYS[b], expires) end
end
return {refused, dropped}
`;

/** Purge. KEYS: the queue's bucket lists, then its delayed set. Returns how many messages were removed. */
export const PURGE = `
local n = 0
for i = 1, #KEYS - 1 do n = n + redis.call('LLEN', KEYS[i]) end
n = n + redis.call('ZCARD', KEYS[#KEYS])
redis.call('DEL', unpack(KEYS))
return n
`;

/**
 * Promote. KEYS: the queue's bucket lists (as in CLAIM), then its delayed set. ARGV: max.
 * Moves up to `max` delayed messages, the latest due first, to the front of their buckets (RPUSH:
 * consumed next), so calls repeated until fewer than `max` move leave the soonest due in front.
 * ZREM before RPUSH, as in CLAIM. Returns how many moved.
 */
export const PROMOTE = `
local delayed = KEYS[#KEYS]
local members = redis.call('ZREVRANGE', delayed, 0, tonumber(ARGV[1]) - 1)
if #members == 0 then return 0 end
redis.call('ZREM', delayed, unpack(members))
for _, member in ipairs(members) do
  local bar = string.find(member, '|', 1, true)
  redis.call('RPUSH', KEYS[tonumber(string.sub(member, 1, bar - 1))], string.sub(member, bar + 1))
end
return #members
`;

/** Release a mutex only if we still hold it. KEYS: mutex. ARGV: token. */
export const RELEASE_MUTEX = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Is anything ready? KEYS: every bucket of every waited queue, then their delayed sets.
 * ARGV: number of bucket keys, now (ms). Returns 0 if a bucket has messages, else the ms until
 * the first delayed message is due (-1 when none is).
 */
export const READY = `
local n = tonumber(ARGV[1])
for i = 1, n do
  if redis.call('LLEN', KEYS[i]) > 0 then return 0 end
end
local soonest = -1
for i = n + 1, #KEYS do
  local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if first[2] then
    local wait = math.max(0, tonumber(first[2]) - tonumber(ARGV[2]))
    if soonest < 0 or wait < soonest then soonest = wait end
  end
end
if soonest == 0 then return 0 end
return soonest
`;
