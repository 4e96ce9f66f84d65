import Model
import Redis

/// The Lua scripts behind every multi-step change to the queue; each runs atomically inside Redis.
enum QueueScripts {
    /// Gateway enqueue. Dedupe, backlog check and XADD happen together or not at all; a duplicate is recognised even
    /// above the backlog limit. Creates the `workers` group at id 0 with the stream, so events enqueued before any
    /// worker ran are read too. A duplicate rewrites its dedupe key as it is (`SET … KEEPTTL`: same value, same expiry):
    /// a write that replicates after the original, so a WAIT after it also covers the original enqueue, made perhaps on
    /// another connection.
    /// KEYS: events, seen key. ARGV: dedupe ttl s, max backlog, group, then field/value pairs.
    static let enqueue = RedisScript("""
        if redis.call('EXISTS', KEYS[1]) == 0 then
          redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[3], '0', 'MKSTREAM')
        end
        if redis.call('EXISTS', KEYS[2]) == 1 then
          redis.call('SET', KEYS[2], '1', 'KEEPTTL')
          return {'duplicate'}
        end
        if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then return {'backlog'} end
        redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
        return {'accepted', redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))}
        """)

    /// Acknowledge and delete applied entries in one step, so an applied entry never lingers in the backlog.
    /// KEYS: events. ARGV: group, ids...
    static let acknowledge = RedisScript("""
        local n = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
        redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
        return n
        """)

    /// Move a pending entry into the retry set. Does nothing (returns 0) when the entry is no longer pending, e.g.
    /// another worker reclaimed and settled it, so an event is never scheduled twice.
    /// KEYS: events, retry. ARGV: group, entry id, due ms, member.
    static let retry = RedisScript("""
        if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('XDEL', KEYS[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
        return 1
        """)

    /// Move a pending entry to the dead stream with its reason, then trim the dead stream to its most recent ARGV[3]
    /// entries (0: no bound). Returns {moved (0 when the entry is no longer pending), dead letters trimmed}.
    /// KEYS: events, dead. ARGV: group, entry id, max length, then the dead letter's field/value pairs.
    static let deadLetter = RedisScript("""
        if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return {0, 0} end
        redis.call('XDEL', KEYS[1], ARGV[2])
        redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
        local trimmed = 0
        if tonumber(ARGV[3]) > 0 then trimmed = redis.call('XTRIM', KEYS[2], 'MAXLEN', ARGV[3]) end
        return {1, trimmed}
        """)

    /// Move due retries back onto the events stream, oldest first, at most ARGV[2] of them. Each member is removed in
    /// the same step that re-adds it, so many workers promoting at once move every retry exactly once.
    /// Members are `<entry id>|` followed by length-prefixed fields (`<n>:<bytes>`), binary safe.
    /// KEYS: retry, events. ARGV: now ms, limit, group.
    static let promote = RedisScript("""
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        if #due > 0 and redis.call('EXISTS', KEYS[2]) == 0 then
          redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[3], '0', 'MKSTREAM')
        end
        for _, member in ipairs(due) do
          local fields = {}
          local i = string.find(member, '|', 1, true) + 1
          while i <= #member do
            local colon = string.find(member, ':', i, true)
            local n = tonumber(string.sub(member, i, colon - 1))
            fields[#fields + 1] = string.sub(member, colon + 1, colon + n)
            i = colon + n + 1
          end
          redis.call('XADD', KEYS[2], '*', unpack(fields))
          redis.call('ZREM', KEYS[1], member)
        end
        return #due
        """)

    /// The fields a replay leaves behind, as a Lua table constructor: the failure fields and the attempt count.
    static let replaySkippedFields = (DeadLetter.Field.allCases.map(\.rawValue) + [EventEnvelope.Field.attempt.rawValue])
        .map { "\($0) = true" }.joined(separator: ", ")

    /// Move one dead letter back onto the events stream with attempt 0 and without its failure fields; nil when the
    /// dead letter is gone (already replayed or purged). Add and delete are one step: never lost, never doubled.
    /// KEYS: dead, events. ARGV: dead entry id, group.
    static let replay = RedisScript("""
        local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
        if #entries == 0 then return false end
        local f = entries[1][2]
        local skip = {\(replaySkippedFields)}
        local out = {}
        for i = 1, #f, 2 do
          if not skip[f[i]] then
            out[#out + 1] = f[i]
            out[#out + 1] = f[i + 1]
          end
        end
        out[#out + 1] = '\(EventEnvelope.Field.attempt.rawValue)'
        out[#out + 1] = '0'
        if redis.call('EXISTS', KEYS[2]) == 0 then
          redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
        end
        local id = redis.call('XADD', KEYS[2], '*', unpack(out))
        redis.call('XDEL', KEYS[1], ARGV[1])
        return id
        """)
}
