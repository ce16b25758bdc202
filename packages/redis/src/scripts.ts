/**
 * The Lua scripts that make every move between ready and in-flight atomic: a crash between two
 * commands can never leave a message in neither place (kombu's BRPOP-then-HSET gap).
 *
 * In-flight entries are kombu's: `unacked[tag] = [envelope, exchange, routing_key]` and
 * `unacked_index[tag] = score`. nori writes exchange '' and routing_key = the queue it claimed
 * from, so kombu's own restore (which re-routes by exchange and key) puts it back into exactly that
 * queue. The score is `lease expiry - visibility_timeout` (seconds): kombu's sweep restores entries
 * with score < now - visibility_timeout, which is then exactly "the lease lapsed".
 */

/**
 * Claim. KEYS: bucket lists (most urgent first), unacked, unacked_index, delayed.
 * ARGV: max, now (ms), score (s), queue, expires (ms, 0 = none). Delayed members are
 * `<bucket index>|<envelope>`.
 * Promotes due delayed messages first; returns the claimed envelopes.
 */
export const CLAIM = `
local nbuckets = #KEYS - 3
local unacked, index, delayed = KEYS[nbuckets + 1], KEYS[nbuckets + 2], KEYS[nbuckets + 3]
local max, now, score, queue, expires = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)
for _, member in ipairs(due) do
  local bar = string.find(member, '|', 1, true)
  local bucket = tonumber(string.sub(member, 1, bar - 1))
  redis.call('LPUSH', KEYS[bucket], string.sub(member, bar + 1))
  redis.call('ZREM', delayed, member)
end
local out = {}
local b = 1
while #out < max and b <= nbuckets do
  local item = redis.call('RPOP', KEYS[b])
  if item then
    local tag = cjson.decode(item)['properties']['delivery_tag']
    redis.call('HSET', unacked, tag, '[' .. item .. ',"",' .. cjson.encode(queue) .. ']')
    redis.call('ZADD', index, score, tag)
    out[#out + 1] = item
  else
    b = b + 1
  end
end
if expires > 0 then
  for i = 1, nbuckets do redis.call('PEXPIRE', KEYS[i], expires) end
end
return out
`;

/**
 * Restore in-flight messages to their queue. KEYS: unacked, unacked_index, then the bucket lists
 * of the queue. ARGV: 'front' | 'back', the priority steps as JSON, then the tags.
 * The envelope is edited as text, never re-encoded: Lua's cjson turns `[]` and `[null, null]`
 * (Celery's timelimit) into `{}`. Marks them redelivered; returns how many were restored.
 */
export const RESTORE = `
local unacked, index = KEYS[1], KEYS[2]
local front = ARGV[1] == 'front'
local steps = cjson.decode(ARGV[2])
local restored = 0
for i = 3, #ARGV do
  local tag = ARGV[i]
  local triple = redis.call('HGET', unacked, tag)
  local raw = triple and string.match(triple, '^%[(.*),%s*"[^"]*"%s*,%s*"[^"]*"%s*%]$')
  if raw then
    local message = cjson.decode(raw)
    local info = message['properties']['delivery_info']
    if type(info) == 'table' and info['redelivered'] ~= true then
      local at, stop = nil, 0
      repeat
        local s, e = string.find(raw, '"delivery_info"%s*:%s*{', stop + 1)
        if s then at, stop = e, e end
      until not s
      if at then
        local rest = string.sub(raw, at + 1)
        local sep = string.match(rest, '^%s*}') and '' or ','
        raw = string.sub(raw, 1, at) .. '"redelivered":true' .. sep .. rest
      end
    end
    local wire = tonumber(message['properties']['priority']) or 0
    local b = 1
    for s = 1, #steps do if steps[s] <= wire then b = s end end
    if front then redis.call('RPUSH', KEYS[2 + b], raw) else redis.call('LPUSH', KEYS[2 + b], raw) end
    redis.call('HDEL', unacked, tag)
    redis.call('ZREM', index, tag)
    restored = restored + 1
  end
end
return restored
`;

/**
 * Lapsed leases, for the sweep. KEYS: unacked, unacked_index. ARGV: cutoff score, limit.
 * Returns [tag, queue] pairs of nori-claimed entries (exchange ''), the ones nori restores itself.
 */
export const LAPSED = `
local tags = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, tag in ipairs(tags) do
  local triple = redis.call('HGET', KEYS[1], tag)
  if triple then
    local entry = cjson.decode(triple)
    if entry[2] == '' then
      out[#out + 1] = tag
      out[#out + 1] = entry[3]
    end
  else
    redis.call('ZREM', KEYS[2], tag)
  end
end
return out
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
